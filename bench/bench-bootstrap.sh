#!/usr/bin/env bash
# bench-bootstrap.sh: the cost of a no-op restart of alga-bootstrap
# (everything already done), as the median of RUNS runs, next to the floor
# (bench/floor.c: one SCRAM connection and one query) and the shell path it
# replaces (psql wait loop, psql checks, the no-op migration command),
# interleaved in the same run against one throwaway PostgreSQL 15.
#
# Usage: bench/bench-bootstrap.sh
# Environment: RUNS (default 61, about 15 s; the medians of a noisy machine
# settle with more runs), TARGET (default 3): the no-op restart should take
# at most TARGET times the floor.
#
# A benchmark reports, it does not gate: the ratio line ends with `met` or
# `MISSED`, and the exit status is 0 either way; it is 1 only when the
# benchmark could not run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/common.sh
. "$here/../tests/lib/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$ROOT/tests/lib/servers.sh"
# shellcheck source=tests/bootstrap/lib.sh
. "$ROOT/tests/bootstrap/lib.sh"

RUNS=${RUNS:-61}
TARGET=${TARGET:-3}
FLOOR=$ROOT/build/bench/floor

die() {
	echo "bench-bootstrap: $*" >&2
	exit 1
}

# now_us: microseconds since the epoch.
now_us() {
	local ns
	ns=$(date +%s%N)
	echo $((ns / 1000))
}

# time_us COMMAND...: prints how long COMMAND took; fails when it failed.
time_us() {
	local start end
	start=$(now_us)
	"$@" >/dev/null 2>&1 || return 1
	end=$(now_us)
	echo $((end - start))
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# The path alga-bootstrap replaces: wait with psql, check with psql, run
# the (no-op) migration command.
shell_path() {
	local pw
	pw=$(cat "$BS_SECRETS/postgres-password")
	until PGPASSWORD=$pw psql -X -h 127.0.0.1 -p "$PG_PORT" -U postgres \
		-d postgres -c 'select 1' >/dev/null 2>&1; do
		sleep 1
	done
	PGPASSWORD=$pw psql -X -A -t -h 127.0.0.1 -p "$PG_PORT" -U postgres \
		-d postgres -c "select 1 from pg_roles where rolname = 'app_user'" |
		grep -q 1 || return 1
	PGPASSWORD=$pw psql -X -A -t -h 127.0.0.1 -p "$PG_PORT" -U postgres \
		-d server -c "select exists (select 1 from users)" | grep -q t ||
		return 1
	PGPASSWORD=$pw PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres \
		PGDATABASE=server DEMO_MIGRATIONS=$ROOT/appliance/demo/migrations \
		"$ROOT/appliance/demo/migrate.sh"
}

main() {
	local t boot=() floor=() shell=() mb mf ms
	case $RUNS in '' | *[!0-9]* | 0*) die "RUNS must be a whole number above 0: $RUNS" ;; esac
	[[ $TARGET =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "TARGET must be a number: $TARGET"
	mkdir -p "$(dirname "$FLOOR")"
	cc -O2 -I"$(pg_config --includedir)" -o "$FLOOR" "$ROOT/bench/floor.c" \
		-lpq || die "cannot build the floor program"
	bs_setup >/dev/null || die "postgres did not start"
	"$BS_BIN" run "${BS_PLANS[@]}" >/dev/null 2>&1 ||
		die "the first run failed"
	for _ in $(seq 1 "$RUNS"); do
		t=$(time_us "$BS_BIN" run "${BS_PLANS[@]}") || die "no-op run failed"
		boot+=("$t")
		t=$(time_us "$FLOOR" 127.0.0.1 "$PG_PORT" postgres postgres \
			"$BS_SECRETS/postgres-password") || die "floor failed"
		floor+=("$t")
		t=$(time_us shell_path) || die "shell path failed"
		shell+=("$t")
	done
	mb=$(printf '%s\n' "${boot[@]}" | median)
	mf=$(printf '%s\n' "${floor[@]}" | median)
	ms=$(printf '%s\n' "${shell[@]}" | median)
	printf 'bench-bootstrap: medians of %d runs (PostgreSQL 15, SCRAM over TCP)\n' "$RUNS"
	awk -v b="$mb" -v f="$mf" -v s="$ms" -v target="$TARGET" 'BEGIN {
		printf "  %-36s %8.1f ms\n", "floor (connect + one query)", f / 1000
		printf "  %-36s %8.1f ms\n", "alga-bootstrap run (no-op restart)", b / 1000
		printf "  %-36s %8.1f ms\n", "shell path (psql + no-op migration)", s / 1000
		printf "  no-op restart / floor:      %.2fx (target: within %sx): %s\n",
			b / f, target, b / f <= target ? "met" : "MISSED"
		printf "  shell path / no-op restart: %.2fx\n", s / b
	}'

}

main "$@"
