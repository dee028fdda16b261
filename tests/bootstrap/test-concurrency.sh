#!/usr/bin/env bash
# test-concurrency.sh: eight alga-bootstrap runs started together on an
# empty cluster all succeed, exactly one seeds, and the others name the
# holder of the lock while they wait.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$ROOT/tests/lib/servers.sh"
# shellcheck source=tests/bootstrap/lib.sh
. "$ROOT/tests/bootstrap/lib.sh"

ok_here "postgres starts" bs_setup

pids=()
for i in 1 2 3 4 5 6 7 8; do
	"$BS_BIN" run "${BS_PLANS[@]}" >"$BS_DIR/run-$i.log" 2>&1 &
	pids+=($!)
done
codes=
for pid in "${pids[@]}"; do
	wait "$pid"
	codes="$codes$? "
done
is "all eight runs exit 0" "$codes" "0 0 0 0 0 0 0 0 "
logs=$(cat "$BS_DIR"/run-*.log)
is "exactly one run seeds" \
	"$(grep -c 'alga-bootstrap: seed running seeds (' <<<"$logs")" 1
is "the seven others skip the seeds" \
	"$(grep -c 'alga-bootstrap: seed seeds already present, skipping (' <<<"$logs")" 7
is "exactly one run migrates" \
	"$(grep -c 'alga-bootstrap: migrate migrations applied (' <<<"$logs")" 1
contains "waiting runs name the holder" "$logs" \
	"waiting for the bootstrap lock ("
contains "the holder line has pid, application and age" "$logs" \
	'): held by pid '
contains "the holder is a bootstrap" "$logs" '(application "alga-bootstrap", connected '
is "the demo data exists once" \
	"$(pg_sql -d server "select count(*) from tenants")" 1
is "eight runs recorded as done" \
	"$(pg_sql -d server "select count(*) from alga_bootstrap.runs where outcome = 'done'")" 8
is "no advisory lock is left" \
	"$(pg_sql "select count(*) from pg_locks where locktype = 'advisory'")" 0
done_testing
