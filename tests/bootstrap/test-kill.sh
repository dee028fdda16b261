#!/usr/bin/env bash
# test-kill.sh: alga-bootstrap killed with SIGKILL in the middle of the
# migration and of the seeds (as when its pod dies), and stopped with
# SIGTERM: the next run finishes the migration, clears the stale knex-style
# lock, never seeds twice and reports the partial seed; SIGTERM stops the
# child, releases the lock and exits 130.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$ROOT/tests/lib/servers.sh"
# shellcheck source=tests/bootstrap/lib.sh
. "$ROOT/tests/bootstrap/lib.sh"

# wait_line FILE TEXT: true once FILE contains TEXT (10 s at most).
# shellcheck disable=SC2317 # called through ok
wait_line() {
	local tries=0
	while [ "$tries" -lt 100 ]; do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		tries=$((tries + 1))
	done
	return 1
}

# group_gone PGID: true once no process is left in the group (10 s at most).
# shellcheck disable=SC2317 # called through ok
group_gone() {
	local tries=0
	while [ "$tries" -lt 100 ]; do
		pgrep -g "$1" >/dev/null || return 0
		sleep 0.1
		tries=$((tries + 1))
	done
	return 1
}

# child_of PID: the bootstrap's child that leads its own process group (the
# migration or seed command, not the guard).
child_of() {
	local c
	for c in $(pgrep -P "$1"); do
		[ "$(ps -o pgid= -p "$c" | tr -d ' ')" != "$c" ] || echo "$c"
	done
}

# kill_run PID: SIGKILL for the bootstrap alone, as when its pod dies; sets
# KILLED_GROUP to its child's process group, which must die with it.
kill_run() {
	KILLED_GROUP=$(child_of "$1")
	kill -KILL "$1"
	wait "$1" 2>/dev/null
	return 0
}

ok_here "postgres starts" bs_setup
mkdir -p "$BS_DIR/migrations" "$BS_DIR/seeds"
cp "$ROOT"/appliance/demo/migrations/*.sql "$BS_DIR/migrations/"
cp "$ROOT"/appliance/demo/seeds/*.sql "$BS_DIR/seeds/"
# Longer than group_gone waits, so that an orphan would be seen.
echo "select pg_sleep(30);" >"$BS_DIR/migrations/003_slow.sql"
echo "select pg_sleep(30);" >"$BS_DIR/seeds/003_slow.sql"
cat >"$BS_DIR/slow.yaml" <<YAML
migrate:
  directory: $BS_DIR/migrations
seed:
  env:
    DEMO_SEEDS: $BS_DIR/seeds
YAML
plans=("${BS_PLANS[@]}" --plan "$BS_DIR/slow.yaml")

"$BS_BIN" run "${plans[@]}" >"$BS_DIR/a.log" 2>&1 &
run=$!
ok "run A reaches the slow migration" wait_line "$BS_DIR/a.log" "applying 003_slow.sql"
kill_run "$run"
ok "the migration child's whole group dies with the bootstrap" \
	group_gone "$KILLED_GROUP"
is "the migration tool's lock row is left set" \
	"$(pg_sql -d server "select max(is_locked) from knex_migrations_lock")" 1
echo "select pg_sleep(4);" >"$BS_DIR/migrations/003_slow.sql"

"$BS_BIN" run "${plans[@]}" >"$BS_DIR/b.log" 2>&1 &
run=$!
ok "run B reaches the slow seed" wait_line "$BS_DIR/b.log" "running 003_slow.sql"
b_log=$(cat "$BS_DIR/b.log")
contains "run B clears the stale migration lock with a warning" "$b_log" \
	"warning: cleared a stale lock in server.public.knex_migrations_lock"
contains "run B finishes the migration" "$b_log" "migrations applied"
contains "run B starts the seeds" "$b_log" "alga-bootstrap: seed running seeds ("
kill_run "$run"
ok "the seed child's whole group dies with the bootstrap" \
	group_gone "$KILLED_GROUP"
is "the seeds got as far as the demo tenant" \
	"$(pg_sql -d server "select count(*) from tenants")" 1

bs_run run "${plans[@]}"
is "run C after the killed seed exits 8" "$BS_CODE" 8
contains "run C skips the finished migration" "$BS_OUT" "migrations unchanged"
contains "run C reports the partial seed" "$BS_OUT" \
	"error: partial seed detected: seeding started "
contains "run C says what to do" "$BS_OUT" "--mark-seeded"
lacks "run C does not seed again" "$BS_OUT" "running seeds"
is "run C marks the abandoned runs" \
	"$(pg_sql -d server "select count(*) from alga_bootstrap.runs where outcome = 'abandoned'")" 2

ALGA_BOOTSTRAP_USER=app_user ALGA_BOOTSTRAP_DATABASE=server \
	ALGA_BOOTSTRAP_PASSWORD_FILE=$BS_SECRETS/app-password \
	ALGA_BOOTSTRAP_HOST=127.0.0.1 ALGA_BOOTSTRAP_PORT=$PG_PORT \
	bs_run wait --deadline 1
is "wait after the partial seed exits 10 at its deadline" "$BS_CODE" 10
contains "and says the last run ended with a partial seed" "$BS_OUT" \
	"ended with a partial seed; an operator must check the data"

bs_run run "${plans[@]}" --mark-seeded
is "--mark-seeded exits 0" "$BS_CODE" 0
contains "and skips the seeds" "$BS_OUT" "seeds already present, skipping"
is "the data was never seeded twice" \
	"$(pg_sql -d server "select count(*) from tenants")" 1

echo "select pg_sleep(20);" >"$BS_DIR/migrations/004_slower.sql"
"$BS_BIN" run "${plans[@]}" >"$BS_DIR/e.log" 2>&1 &
run=$!
ok "run E reaches the slower migration" wait_line "$BS_DIR/e.log" "applying 004_slower.sql"
child=$(child_of "$run")
kill -TERM "$run"
wait "$run"
is "SIGTERM: exit 130" "$?" 130
not_ok "SIGTERM: the migration child is gone" kill -0 "$child"
is "SIGTERM: the advisory lock is released" \
	"$(pg_sql "select count(*) from pg_locks where locktype = 'advisory'")" 0
contains "SIGTERM: the log says so" "$(cat "$BS_DIR/e.log")" "interrupted by signal 15"
is "SIGTERM: the run is recorded as interrupted" \
	"$(pg_sql -d server "select outcome from alga_bootstrap.runs order by id desc limit 1")" \
	interrupted

printf 'migrate:\n  timeout: 1\n' >"$BS_DIR/timeout.yaml"
bs_run run "${plans[@]}" --plan "$BS_DIR/timeout.yaml"
is "a migration over its timeout: exit 6" "$BS_CODE" 6
contains "the timeout is named" "$BS_OUT" \
	"error: the migration command timed out after 1 s and was stopped"

# A password file may be a FIFO that nobody writes: SIGTERM still ends the
# run with 130, for the admin password (before connecting) and a role's
# (during provisioning).
mkfifo "$BS_DIR/admin-fifo"
ALGA_BOOTSTRAP_PASSWORD_FILE=$BS_DIR/admin-fifo \
	"$BS_BIN" run "${plans[@]}" >"$BS_DIR/f.log" 2>&1 &
run=$!
sleep 1
kill -TERM "$run"
wait "$run"
is "SIGTERM while reading a FIFO admin password: exit 130" "$?" 130
lacks "and no system call error" "$(cat "$BS_DIR/f.log")" "Interrupted system call"
mv "$BS_SECRETS/hocuspocus-password" "$BS_DIR/hocuspocus-password.saved"
mkfifo "$BS_SECRETS/hocuspocus-password"
"$BS_BIN" run "${plans[@]}" >"$BS_DIR/g.log" 2>&1 &
run=$!
ok "the run reaches provisioning" wait_line "$BS_DIR/g.log" "bootstrap lock acquired"
sleep 1
kill -TERM "$run"
wait "$run"
is "SIGTERM while reading a FIFO role password: exit 130" "$?" 130
lacks "and no system call error" "$(cat "$BS_DIR/g.log")" "Interrupted system call"
rm -f "$BS_SECRETS/hocuspocus-password"
mv "$BS_DIR/hocuspocus-password.saved" "$BS_SECRETS/hocuspocus-password"

echo "select 1;" >"$BS_DIR/migrations/004_slower.sql"
bs_run run "${plans[@]}"
is "the run after SIGTERM exits 0" "$BS_CODE" 0
contains "and finishes the migration" "$BS_OUT" "migrations applied"
done_testing
