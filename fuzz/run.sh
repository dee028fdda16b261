#!/bin/sh
# run.sh: fuzz the YAML handling of alga-appliance with libFuzzer.
#
# Usage: fuzz/run.sh [SECONDS]   (default 60)
#
# Builds build/fuzz/fuzz_appliance with clang -fsanitize=fuzzer,address,
# undefined, seeds a corpus from the test fixtures (the first byte of each
# seed picks what the input stands for, see fuzz/fuzz_appliance.c) and runs
# for SECONDS on one core. A crash is written to build/fuzz/crash-*: copy it
# to tests/appliance/fuzz-regressions/ so that tests/appliance/test-fuzz.sh
# replays it from then on.
#
# Environment: CC (default clang), FUZZ_JOBS (parallel jobs, default 1).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
out=$root/build/fuzz
cc=${CC:-clang}

usage() {
	sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
}

case $seconds in
-h | --help) usage; exit 0 ;;
*[!0-9]* | '') usage >&2; exit 2 ;;
esac

mkdir -p "$out/corpus" "$out/seeds"
set -- "$root/fuzz/fuzz_appliance.c"
for f in "$root"/src/lib/*.c "$root"/src/appliance/*.c; do
	case $f in */main.c) ;; *) set -- "$@" "$f" ;; esac
done
"$cc" -std=c17 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$root/src" -o "$out/fuzz_appliance" "$@" -lyaml

# seed MODE FILE: one seed, the mode byte then the file.
seed() {
	name=$(printf '%s-%s' "$1" "$(basename "$2")")
	{ printf '%b' "\\0$(printf '%03o' "$1")"; cat "$2"; } >"$out/seeds/$name"
}
fixtures=$root/tests/appliance/fixtures
for f in "$fixtures"/mini/flux/base/*.yaml "$fixtures"/merge/flux/*.yaml; do
	seed 0 "$f"
done
for f in "$fixtures"/mini/flux/profiles/mini/values/*.yaml \
	"$fixtures"/merge/flux/a.yaml "$fixtures"/merge/flux/b.yaml; do
	seed 1 "$f"
done
seed 2 "$fixtures/mini/flux/profiles/mini/rules.yaml"
for f in "$fixtures"/mini/charts/*/templates/*.yaml; do
	seed 3 "$f"
done

cd "$out"
exec ./fuzz_appliance -max_total_time="$seconds" -max_len=8192 \
	-jobs="${FUZZ_JOBS:-1}" -workers="${FUZZ_JOBS:-1}" \
	-print_final_stats=1 corpus seeds
