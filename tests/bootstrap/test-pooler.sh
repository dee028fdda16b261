#!/usr/bin/env bash
# test-pooler.sh: a database set up by older tooling (data, no seed record)
# is adopted, not seeded over; alga-bootstrap refuses an admin connection
# through PgBouncer in transaction mode; `wait` works through it as
# app_user, and before the first run keeps waiting.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$ROOT/tests/lib/servers.sh"
# shellcheck source=tests/bootstrap/lib.sh
. "$ROOT/tests/bootstrap/lib.sh"

ok_here "postgres starts" bs_setup
ALGA_BOOTSTRAP_USER=app_user ALGA_BOOTSTRAP_DATABASE=server \
	ALGA_BOOTSTRAP_PASSWORD_FILE=$BS_SECRETS/app-password \
	bs_run wait "${BS_PLANS[@]}" --deadline 2
is "wait before any bootstrap exits 10 at its deadline" "$BS_CODE" 10
contains "and keeps saying why (the role does not exist yet)" "$BS_OUT" \
	'waiting: connection to server at "127.0.0.1"'

# Older tooling: the same migrations ran, a tenant was created by hand.
pg_sql "create database server" >/dev/null
PGPASSWORD=$(cat "$BS_SECRETS/postgres-password") PGHOST=127.0.0.1 \
	PGPORT=$PG_PORT PGUSER=postgres PGDATABASE=server \
	"$ROOT/appliance/demo/migrate.sh" >/dev/null
pg_sql -d server "insert into tenants (name) values ('Older Tooling MSP');
	insert into users (tenant, email, username)
	select tenant, 'admin@older.invalid', 'admin' from tenants" >/dev/null
bs_run run "${BS_PLANS[@]}"
is "a direct run exits 0" "$BS_CODE" 0
contains "data without a seed record is adopted" "$BS_OUT" \
	"the app's seed probe finds data but there is no seed record; recorded as seeded"
contains "and the seeds are skipped" "$BS_OUT" \
	"alga-bootstrap: seed seeds already present, skipping ("
is "the older tooling's tenant is still there" \
	"$(pg_sql -d server "select name from tenants")" "Older Tooling MSP"

pgbouncer_simple_ini "* = host=127.0.0.1 port=$PG_PORT" >/dev/null
bouncer_port=$BOUNCER_PORT
printf '"postgres" "%s"\n"app_user" "%s"\n' \
	"$(cat "$BS_SECRETS/postgres-password")" \
	"$(cat "$BS_SECRETS/app-password")" >"$SRV_DIR/userlist.txt"
chmod 600 "$SRV_DIR/userlist.txt"
srv_give "$SRV_DIR/userlist.txt"
ok_here "pgbouncer starts in transaction mode" pgbouncer_start "$SRV_DIR/pgbouncer.ini"

ALGA_BOOTSTRAP_PORT=$bouncer_port bs_run run "${BS_PLANS[@]}"
is "run through a transaction pooler exits 2" "$BS_CODE" 2
contains "and says why" "$BS_OUT" \
	"refusing to run: the connection to 127.0.0.1:$bouncer_port goes through a transaction pooler"
contains "and what to do" "$BS_OUT" "not at PgBouncer"
lacks "nothing was provisioned through it" "$BS_OUT" "provision"

# A PgBouncer without a wildcard entry answers "no such database" (08P01):
# final, like PostgreSQL's 3D000, not retried until the deadline.
strict_port=$(free_port)
sed -e "s/^\* = .*/server = host=127.0.0.1 port=$PG_PORT/" \
	-e "s/^listen_port = .*/listen_port = $strict_port/" \
	"$SRV_DIR/pgbouncer.ini" >"$SRV_DIR/pgbouncer-strict.ini"
ok_here "a second pgbouncer starts with only database server" \
	pgbouncer_start "$SRV_DIR/pgbouncer-strict.ini" "$SRV_DIR/pgbouncer-strict.log"
started=$SECONDS
ALGA_BOOTSTRAP_PORT=$strict_port bs_run run "${BS_PLANS[@]}" --deadline 20
is "PgBouncer's no such database exits 4" "$BS_CODE" 4
ok "at once, not at the deadline" test $((SECONDS - started)) -lt 10
contains "and names the database" "$BS_OUT" "database postgres does not exist"

ALGA_BOOTSTRAP_PORT=$bouncer_port ALGA_BOOTSTRAP_USER=app_user ALGA_BOOTSTRAP_DATABASE=server \
	ALGA_BOOTSTRAP_PASSWORD_FILE=$BS_SECRETS/app-password \
	bs_run wait --revision demo --deadline 5
is "wait as app_user through PgBouncer without a plan exits 0" "$BS_CODE" 0
contains "and names the completed run" "$BS_OUT" "bootstrap complete: run 1"
done_testing
