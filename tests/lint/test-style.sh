#!/usr/bin/env bash
# test-style.sh: the C sources match .clang-format, the shell scripts pass
# ShellCheck, and cppcheck finds nothing in the C sources.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
cd "$ROOT" || exit 1

mapfile -t c_files < <(git ls-files -co --exclude-standard \
	'src/*.c' 'src/*.h' 'tests/unit/*.c' 'tests/unit/*.h' 'bench/*.c')
mapfile -t shell_files < <(git ls-files -co --exclude-standard \
	'*.sh' 'tests/run' '.ci/run' 'scripts/*')

for file in "${c_files[@]}"; do
	ok "clang-format: $file" clang-format --dry-run --Werror "$file"
done
if [ ${#c_files[@]} -gt 0 ]; then
	ok "cppcheck: ${#c_files[@]} files" cppcheck --quiet --error-exitcode=1 \
		--enable=warning,portability,performance --std=c11 \
		--inline-suppr -Isrc "${c_files[@]}"
fi
for file in "${shell_files[@]}"; do
	ok "shellcheck: $file" shellcheck -x "$file"
done
done_testing
