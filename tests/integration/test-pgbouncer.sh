#!/usr/bin/env bash
# test-pgbouncer.sh: Debian's PgBouncer started with the pgbouncer.ini and the
# user list exactly as the pgbouncer chart renders them, in front of a real
# PostgreSQL that uses SCRAM.
#
# The chart is rendered with config.newerSettings=false (Debian bookworm ships
# PgBouncer 1.18, older than the pinned image) and a server pool of 5, so that
# pgbench can open ten times more clients than the pool. The user list is
# written by the chart's own start script, taken from the rendered ConfigMap
# and run with the init container's rendered arguments; only the directories
# of the Secret mount and the memory volume, the Postgres host and port and
# the listen address are moved to this machine.

# The helpers below run through ok/ok_here, which shellcheck cannot follow.
# shellcheck disable=SC2317
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$ROOT/tests/lib/servers.sh"
# shellcheck source=tests/lib/charts.sh
. "$ROOT/tests/lib/charts.sh"

POOL=5
CLIENTS=$((POOL * 10))
# What the password of app_user contains besides random characters: the
# quote the user list format escapes, and what a shell, SQL or another file
# format would treat specially (backslash, space, single quote, dollar).
ODD="q\"u\\o\"te\\ it's \$x"

# configmap_key RENDERED KEY: one key of the rendered ConfigMap.
configmap_key() {
	jq -r --arg key "$2" '.[] | select(.kind == "ConfigMap") | .data[$key]' \
		"$1.json"
}

# write_userlist RENDERED SECRET_DIR OUT: run the chart's start script the way
# the init container does, with its mount paths moved under this test.
write_userlist() {
	local rendered=$1 secrets=$2 out=$3 script arg args=()
	script=$work/write-userlist.sh
	configmap_key "$rendered" write-userlist.sh >"$script"
	while IFS= read -r arg; do
		arg=${arg//\/run\/secrets\/alga-db/$secrets}
		args+=("${arg//\/run\/pgbouncer\/userlist.txt/$out}")
	done < <(jq -r '.[] | select(.kind == "Deployment")
		| .spec.template.spec.initContainers[]
		| select(.name == "write-userlist") | .command[2:][]' \
		"$rendered.json")
	sh "$script" "${args[@]}"
}

# local_ini RENDERED OUT: the rendered pgbouncer.ini on loopback.
local_ini() {
	configmap_key "$1" pgbouncer.ini | sed \
		-e "s/host=alga-core-postgres port=5432 /host=127.0.0.1 port=$PG_PORT /" \
		-e "s/^listen_addr = .*/listen_addr = 127.0.0.1/" \
		-e "s/^listen_port = .*/listen_port = $BOUNCER_PORT/" \
		-e "s|^auth_file = .*|auth_file = $work/run/userlist.txt|" >"$2"
}

# through USER PASSWORD DB SQL: run SQL through PgBouncer.
through() {
	PGPASSWORD=$2 PGCONNECT_TIMEOUT=5 psql -X -q -A -t -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$BOUNCER_PORT" -U "$1" -d "$3" -c "$4" 2>&1
}

# set_password ROLE PASSWORD: the role's password, quoted by psql itself.
set_password() {
	printf "alter role %s password :'pw';\n" "$1" |
		psql -X -q -v ON_ERROR_STOP=1 -v pw="$2" -h "$PG_SOCKET_DIR" \
			-p "$PG_PORT" -U "$PG_SUPERUSER" -d postgres
}

# server_connections: app_user's backends in database server right now.
server_connections() {
	pg_sql "select count(*) from pg_stat_activity
		where datname = 'server' and usename = 'app_user'"
}

# sample_connections OUT: write the highest count seen to OUT until killed.
sample_connections() {
	local most=0 now
	trap 'echo "$most" >"$1"; exit 0' TERM
	while :; do
		now=$(server_connections) || now=0
		[ "$now" -gt "$most" ] && most=$now
		sleep 0.05
	done
}

setup_postgres() {
	pg_start || return 1
	pg_sql "create role app_user login" &&
		pg_sql "create role hocuspocus_user login" &&
		pg_sql "create database server" &&
		pg_sql "create database hocuspocus owner hocuspocus_user" &&
		pg_sql -d server "create table ledger (id int primary key, balance int not null);
			insert into ledger select g, 0 from generate_series(1, 100) g;
			grant select, insert, update, delete on ledger to app_user" &&
		set_password app_user "$APP_PASSWORD" &&
		set_password hocuspocus_user "$HOCUSPOCUS_PASSWORD"
}

main() {
	local rendered pgbench_out most sampler
	servers_init
	work=$SRV_DIR/pgbouncer
	mkdir -p "$work/secret" "$work/run"
	APP_PASSWORD="$(random_password)$ODD"
	HOCUSPOCUS_PASSWORD=$(random_password)
	printf '%s\n' "$APP_PASSWORD" >"$work/secret/app-password"
	printf '%s' "$HOCUSPOCUS_PASSWORD" >"$work/secret/hocuspocus-password"
	BOUNCER_PORT=$(free_port)

	rendered=$work/chart.yaml
	ok_here "the chart renders for PgBouncer 1.18 with a pool of $POOL" \
		render HELM4 "$rendered" "$ROOT/charts/pgbouncer" pgbouncer \
		--set config.newerSettings=false \
		--set "databases.server.poolSize=$POOL"
	ok_here "postgres with SCRAM starts and has the roles" setup_postgres
	ok "the chart's start script writes the user list" \
		write_userlist "$rendered" "$work/secret" "$work/run/userlist.txt"
	is "the user list is readable by its owner only" \
		"$(stat -c %a "$work/run/userlist.txt")" 600
	contains "a double quote in a password is written twice" \
		"$(cat "$work/run/userlist.txt")" "q\"\"u\\o\"\"te\\ it's \$x\""
	lacks "the password's trailing newline is not in the user list" \
		"$(cat "$work/run/userlist.txt")" "$ODD
\""

	local_ini "$rendered" "$work/pgbouncer.ini"
	srv_give "$work"
	ok_here "debian's pgbouncer starts with the rendered pgbouncer.ini" \
		pgbouncer_start "$work/pgbouncer.ini" "$work/pgbouncer.log"

	is "app_user runs a transaction through the transaction pool" \
		"$(through app_user "$APP_PASSWORD" server \
			'begin; update ledger set balance = balance + 1 where id = 1;
			 select current_user, balance from ledger where id = 1; commit;')" \
		"app_user|1"
	printf '%s\n' '\set id random(1, 100)' 'begin;' \
		'update ledger set balance = balance + 1 where id = :id;' \
		'select pg_sleep(0.01);' 'commit;' >"$work/bench.sql"
	# Before any other entry is used: every app_user connection to database
	# server that Postgres sees now belongs to the transaction pool.
	most=$work/most-connections
	sample_connections "$most" &
	sampler=$!
	pgbench_out=$(PGPASSWORD=$APP_PASSWORD pgbench -n -c "$CLIENTS" -j 2 \
		-t 10 -f "$work/bench.sql" -h 127.0.0.1 -p "$BOUNCER_PORT" \
		-U app_user server 2>&1)
	kill -TERM "$sampler"
	wait "$sampler"
	contains "pgbench with $CLIENTS clients completes every transaction" \
		"$pgbench_out" \
		"number of transactions actually processed: $((CLIENTS * 10))/$((CLIENTS * 10))"
	is "every transaction's update reached postgres" \
		"$(pg_sql -d server 'select sum(balance) from ledger')" \
		"$((CLIENTS * 10 + 1))"
	ok "postgres never saw more than $POOL app_user connections (most: $(cat "$most"))" \
		test "$(cat "$most")" -le "$POOL" -a "$(cat "$most")" -ge 1

	is "server_session reaches database server" \
		"$(through app_user "$APP_PASSWORD" server_session \
			'select current_database()')" server
	is "hocuspocus_user reaches its database" \
		"$(through hocuspocus_user "$HOCUSPOCUS_PASSWORD" hocuspocus \
			'select current_user || current_database()')" \
		"hocuspocus_userhocuspocus"
	contains "a wrong password is rejected" \
		"$(through app_user "${APP_PASSWORD}x" server 'select 1')" \
		"authentication failed"
	contains "the password without its special characters is rejected" \
		"$(through app_user "${APP_PASSWORD%"$ODD"}" server 'select 1')" \
		"authentication failed"
	contains "a user not in the list (the superuser) is rejected" \
		"$(through postgres "$(cat "$PG_SUPERUSER_PASSWORD_FILE")" server \
			'select 1')" "authentication failed"

	pg_stop
	ok "with postgres down pgbouncer still accepts TCP (what its probes see)" \
		port_in_use "$BOUNCER_PORT"

	pgbouncer_stop
	render HELM4 "$work/default.yaml" "$ROOT/charts/pgbouncer" pgbouncer &&
		local_ini "$work/default.yaml" "$work/default.ini"
	srv_give "$work/default.ini"
	contains "pgbouncer 1.18 refuses the default config: newerSettings guards it" \
		"$(as_server_user timeout 10 pgbouncer "$work/default.ini" 2>&1)" \
		"unknown parameter: pgbouncer/max_prepared_statements"
	done_testing
}

main "$@"
