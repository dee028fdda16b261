#!/usr/bin/env bash
# test-fuzz.sh: every input kept in tests/appliance/fuzz-regressions/ (crashes
# the fuzzer found once, and hand-made nasty inputs) runs through the fuzz
# harness under ASan and UBSan without a crash. Built with cc and a small
# replay driver, so libFuzzer is not needed here; fuzz/run.sh fuzzes.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sources=("$ROOT/fuzz/fuzz_appliance.c" "$ROOT/fuzz/replay.c")
for f in "$ROOT"/src/lib/*.c "$ROOT"/src/appliance/*.c; do
	case $f in */main.c) ;; *) sources+=("$f") ;; esac
done
ok "the harness builds with ASan and UBSan" \
	cc -std=c17 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -g -O1 \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-I"$ROOT/src" -o "$work/replay" "${sources[@]}" -lyaml

for input in "$ROOT"/tests/appliance/fuzz-regressions/*; do
	ok "no crash on $(basename "$input")" "$work/replay" "$input"
done
done_testing
