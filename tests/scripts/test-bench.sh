#!/usr/bin/env bash
# test-bench.sh: bench/bench-bootstrap.sh says whether the no-op restart met
# its target (`met` or `MISSED` on the ratio line) and exits 0 either way:
# a benchmark reports, it does not gate. Three runs each, against its own
# throwaway PostgreSQL; the targets are set so that the verdict does not
# depend on how fast this machine is (no timed assertion).
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

bench=$ROOT/bench/bench-bootstrap.sh

out=$(RUNS=3 TARGET=0.001 "$bench" 2>&1)
is "a missed target still exits 0" "$?" 0
contains "and says MISSED next to the target" "$out" \
	"(target: within 0.001x): MISSED"

out=$(RUNS=3 TARGET=100000 "$bench" 2>&1)
is "a met target exits 0" "$?" 0
contains "and says met next to the target" "$out" \
	"(target: within 100000x): met"
contains "over the runs asked for" "$out" "medians of 3 runs"

out=$(RUNS=0 "$bench" 2>&1)
is "RUNS=0 is refused" "$?" 1
contains "with a reason" "$out" "RUNS must be a whole number above 0"
done_testing
