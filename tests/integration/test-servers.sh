#!/usr/bin/env bash
# test-servers.sh: the throwaway servers of tests/lib/servers.sh really run,
# on loopback, with SCRAM for TCP, and go away afterwards.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$ROOT/tests/lib/servers.sh"

servers_init
ok_here "postgres starts" pg_start
is "postgres listens on loopback only" \
	"$(pg_sql "show listen_addresses")" "127.0.0.1"
is "tcp logins use scram-sha-256" \
	"$(grep -E '^host' "$PG_DATA/pg_hba.conf" | awk '{print $5}' | sort -u)" \
	"scram-sha-256"
ok "superuser logs in over tcp with its password" \
	env PGPASSWORD="$(cat "$PG_SUPERUSER_PASSWORD_FILE")" \
	psql -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c 'select 1'
not_ok "a wrong password is rejected" \
	env PGPASSWORD=wrong psql -X -h 127.0.0.1 -p "$PG_PORT" -U postgres \
	-d postgres -c 'select 1'

pg_sql "create role app login password 'app-secret'" >/dev/null
pgbouncer_simple_ini "postgres = host=127.0.0.1 port=$PG_PORT dbname=postgres" >/dev/null
bouncer_port=$BOUNCER_PORT
printf '"app" "app-secret"\n' >"$SRV_DIR/userlist.txt"
ok_here "pgbouncer starts" pgbouncer_start "$SRV_DIR/pgbouncer.ini"
is "app connects through pgbouncer" \
	"$(PGPASSWORD=app-secret psql -X -A -t -h 127.0.0.1 -p "$bouncer_port" \
		-U app -d postgres -c 'select current_user')" "app"

ok_here "redis starts" redis_start
is "redis requires its password" \
	"$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>&1 | head -c 6)" \
	"NOAUTH"
is "redis answers with its password" \
	"$(REDISCLI_AUTH=$(cat "$REDIS_PASSWORD_FILE") redis-cli -h 127.0.0.1 \
		-p "$REDIS_PORT" ping)" "PONG"

pg_stop
ok_here "postgres starts again on the same data" pg_start
is "the role survives the restart" \
	"$(pg_sql "select count(*) from pg_roles where rolname = 'app'")" "1"

dir=$SRV_DIR
bouncer_pid=$PGB_PID
redis_pid=$REDIS_PID
servers_cleanup
not_ok "pgbouncer is stopped after cleanup" kill -0 "$bouncer_pid"
not_ok "redis is stopped after cleanup" kill -0 "$redis_pid"
not_ok "the temporary directory is gone after cleanup" test -e "$dir"
not_ok "postgres is stopped after cleanup" port_in_use "$PG_PORT"
done_testing
