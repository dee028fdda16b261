#!/usr/bin/env bash
# test-demo.sh: `make demo` end to end, in a temporary directory on random
# ports: the first boot seeds, the restart does not, nothing is lost across
# reboots and reruns, the app role works through PgBouncer with its Secret's
# password, and a port in use stops the demo with a clear message and
# nothing left running.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$ROOT/tests/lib/servers.sh"

servers_init
DEMO_DIR=$SRV_DIR/demo
DEMO_PG_PORT=$(free_port)
DEMO_PGBOUNCER_PORT=$(free_port)
DEMO_REDIS_PORT=$(free_port)
export DEMO_DIR DEMO_PG_PORT DEMO_PGBOUNCER_PORT DEMO_REDIS_PORT
DEMO=$ROOT/scripts/demo.sh
# The demo leaves its servers running on success: stop them whatever happens.
trap '"$DEMO" --stop >/dev/null 2>&1; servers_cleanup' EXIT

admin_sql() {
	PGPASSWORD=$(cat "$DEMO_DIR/secrets/postgres-password") psql -X -q -A -t \
		-h 127.0.0.1 -p "$DEMO_PG_PORT" -U postgres -d server -c "$1"
}

app_sql() {
	PGPASSWORD=$1 psql -X -q -A -t -h 127.0.0.1 -p "$DEMO_PGBOUNCER_PORT" \
		-U app_user -d server -c "$2"
}

count_lines() {
	grep -c -- "$2" <<<"$1"
}

# ---- first make demo: first boot, reboot, restart ----
out=$("$DEMO" 2>&1)
status=$?
is "the demo exits 0" "$status" 0
[ "$status" -eq 0 ] || printf '%s\n' "$out" | tail -n 30 | sed 's/^/# /'
is "the seeds run once in the first demo" \
	"$(count_lines "$out" 'alga-bootstrap: seed running seeds')" 1
contains "the first boot says it ran the seeds" "$out" \
	"demo: first boot: running seeds"
contains "the restart says the seeds were skipped" "$out" \
	"demo: restart: seeds already present, skipping"
contains "the restart skips the migrations" "$out" "migrations unchanged"
contains "the app connects through PgBouncer" "$out" \
	"(PgBouncer :$DEMO_PGBOUNCER_PORT)"
contains "redis keeps its data across the reboot" "$out" \
	"redis:        kept its data across the restart"
lacks "no password appears in the output" "$out" \
	"$(cat "$DEMO_DIR/secrets/app-password")"
lacks "the admin password appears nowhere in the output" "$out" \
	"$(cat "$DEMO_DIR/secrets/postgres-password")"

ok "postgres is left running" port_in_use "$DEMO_PG_PORT"
ok "pgbouncer is left running" port_in_use "$DEMO_PGBOUNCER_PORT"
is "one tenant was seeded" "$(admin_sql "select count(*) from tenants")" 1
is "the bootstrap recorded one seed" \
	"$(admin_sql "select count(*) from alga_bootstrap.runs where seed = 'ran'" 2>&1)" 1

app_password=$(cat "$DEMO_DIR/secrets/app-password")
is "app_user reads the seeded ticket through PgBouncer" \
	"$(app_sql "$app_password" "select title from tickets")" \
	"Welcome to Alga PSA"
contains "Postgres sees the app's session as coming from PgBouncer" \
	"$(app_sql "$app_password" "select current_setting('application_name')")" \
	" - 127.0.0.1:"
not_ok "a wrong app password is rejected by PgBouncer" \
	app_sql "not-$app_password" "select 1"

# A customer's own data, written between two runs, must survive the next.
app_sql "$app_password" "insert into tickets (tenant, title)
	select tenant, 'customer ticket' from tenants" >/dev/null
secrets_before=$(cat "$DEMO_DIR"/secrets/* | sha256sum)

# ---- second make demo: a restart of the same appliance ----
out=$("$DEMO" 2>&1)
is "a second demo exits 0" "$?" 0
is "the second demo never seeds" \
	"$(count_lines "$out" 'alga-bootstrap: seed running seeds')" 0
is "both boots of the second demo skip the seeds" \
	"$(count_lines "$out" 'seeds already present, skipping;')" 2
is "the credentials are reused, not regenerated" \
	"$(cat "$DEMO_DIR"/secrets/* | sha256sum)" "$secrets_before"
is "the customer's ticket survived" \
	"$(app_sql "$app_password" "select count(*) from tickets where title = 'customer ticket'")" 1
is "still one tenant" "$(admin_sql "select count(*) from tenants")" 1

# ---- the directory moved while the demo ran ----
mv "$DEMO_DIR" "$SRV_DIR/moved"
out=$(DEMO_DIR=$SRV_DIR/moved "$DEMO" --stop 2>&1)
is "a demo whose servers run from the old path refuses to stop them" "$?" 1
contains "the message says the server runs from another directory" "$out" \
	"runs from another directory"
ok "the moved demo's postgres was not touched" port_in_use "$DEMO_PG_PORT"
ok "its postmaster.pid is kept" test -f "$SRV_DIR/moved/postgres/data/postmaster.pid"
mv "$SRV_DIR/moved" "$DEMO_DIR"

# ---- stop ----
ok "--stop stops the demo" "$DEMO" --stop
not_ok "postgres is stopped" port_in_use "$DEMO_PG_PORT"
not_ok "pgbouncer is stopped" port_in_use "$DEMO_PGBOUNCER_PORT"
not_ok "redis is stopped" port_in_use "$DEMO_REDIS_PORT"

# ---- a port in use ----
REDIS_PORT=$DEMO_PG_PORT
redis_start
out=$("$DEMO" 2>&1)
is "a port in use ends the demo with exit 1" "$?" 1
contains "the message names the port and the variable to change" "$out" \
	"port $DEMO_PG_PORT for PostgreSQL is already in use"
contains "the message says what to do" "$out" "DEMO_PG_PORT=PORT make demo"
not_ok "nothing else is left running: pgbouncer" port_in_use "$DEMO_PGBOUNCER_PORT"
not_ok "nothing else is left running: redis" port_in_use "$DEMO_REDIS_PORT"
redis_stop

# ---- stale pidfiles name processes that are not the demo's ----
sleep 300 &
bystander=$!
echo "$bystander" >"$DEMO_DIR/redis/redis.pid"
echo "$bystander" >"$DEMO_DIR/pgbouncer/run/pgbouncer.pid"
printf '%s\n' "$bystander" >"$DEMO_DIR/postgres/data/postmaster.pid"
out=$("$DEMO" --stop 2>&1)
is "--stop with stale pidfiles exits 0" "$?" 0
ok "a process named by a stale pidfile is never signalled" kill -0 "$bystander"
contains "the stale pidfile is reported" "$out" "removing the stale"
not_ok "the stale redis pidfile is gone" test -e "$DEMO_DIR/redis/redis.pid"
not_ok "the stale postmaster.pid is gone" \
	test -e "$DEMO_DIR/postgres/data/postmaster.pid"
kill "$bystander"

# ---- ports that collide, one demo per directory ----
out=$(DEMO_PGBOUNCER_PORT=$DEMO_PG_PORT "$DEMO" 2>&1)
is "two services on one port is refused" "$?" 1
contains "the message says the ports must differ" "$out" "ports must differ"
exec 8>"$DEMO_DIR/.lock"
flock -n 8
out=$("$DEMO" 2>&1)
is "a second demo in the same directory is refused" "$?" 1
contains "the message says another demo runs there" "$out" \
	"another demo is running"
exec 8>&-

# ---- a lost superuser password against existing data ----
mv "$DEMO_DIR/secrets/postgres-password" "$SRV_DIR/kept-password"
out=$("$DEMO" 2>&1)
is "a lost postgres password stops the demo" "$?" 1
contains "the message names the missing file" "$out" \
	"secrets/postgres-password is missing"
contains "the message says how to start over" "$out" \
	"make demo-clean && make demo"
not_ok "no new password was invented" \
	test -e "$DEMO_DIR/secrets/postgres-password"
mv "$SRV_DIR/kept-password" "$DEMO_DIR/secrets/postgres-password"

# ---- clean ----
ok "--clean removes the demo" "$DEMO" --clean
not_ok "the demo directory is gone" test -e "$DEMO_DIR"

mkdir -p "$SRV_DIR/precious"
echo data >"$SRV_DIR/precious/thesis.txt"
out=$(DEMO_DIR=$SRV_DIR/precious "$DEMO" --clean 2>&1)
is "--clean refuses a directory the demo did not make" "$?" 1
contains "the refusal says why" "$out" "was not made by the demo"
ok "its files are untouched" test -s "$SRV_DIR/precious/thesis.txt"
done_testing
