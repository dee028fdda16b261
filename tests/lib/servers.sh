# shellcheck shell=bash
# servers.sh: throwaway PostgreSQL, PgBouncer and Redis for integration tests.
#
# Every server listens on 127.0.0.1 on a free port, keeps its files in one
# temporary directory, and is stopped and removed when the test exits, also
# when it fails or is interrupted. As root the servers run as the "postgres"
# system user (PostgreSQL refuses root); the test itself stays root.
#
#   servers_init                create SRV_DIR and the cleanup trap
#   pg_start                    initdb on first call, then start; sets
#                               PG_HOST PG_PORT PG_DATA PG_SOCKET_DIR
#                               PG_SUPERUSER PG_SUPERUSER_PASSWORD_FILE PG_LOG
#   pg_stop                     stop PostgreSQL, keep its data
#   pg_sql [-d DB] SQL          run SQL as the superuser over the socket
#   pgbouncer_simple_ini DBLINE write a transaction-mode ini (BOUNCER_PORT)
#   pgbouncer_start INI [LOG]   start PgBouncer with INI; sets PGB_PID
#   pgbouncer_stop
#   redis_start                 sets REDIS_PORT REDIS_PASSWORD_FILE
#   redis_stop
#   srv_give PATH...            hand files to the server user
# and, from scripts/lib/loopback.sh: as_server_user, port_in_use, wait_port,
# free_port, random_password.
#
# Environment: KEEP_TMP=1 keeps SRV_DIR after the test, for debugging.

# shellcheck source=scripts/lib/loopback.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/loopback.sh"
SRV_PIDS=()

# server_spawn LOG COMMAND...: start a server in the background as the server
# user and record its pid in SPAWNED_PID. The command is started directly
# (setpriv and env exec into it), so the pid is the server's own and killing
# it stops the server, not a wrapper subshell.
server_spawn() {
	local log=$1
	shift
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="$SERVER_USER" --regid="$SERVER_USER" \
			--init-groups --reset-env -- env PATH="$PATH" "$@" \
			>"$log" 2>&1 &
	else
		"$@" >"$log" 2>&1 &
	fi
	SPAWNED_PID=$!
	SRV_PIDS+=("$SPAWNED_PID")
}

srv_give() {
	give_to_server_user "$@"
}

servers_cleanup() {
	local pid
	if [ -n "${PG_DATA:-}" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
		as_server_user pg_ctl -D "$PG_DATA" -m immediate -w stop \
			>/dev/null 2>&1
	fi
	for pid in "${SRV_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${SRV_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	SRV_PIDS=()
	if [ -n "${SRV_DIR:-}" ] && [ "${KEEP_TMP:-0}" != 1 ]; then
		rm -rf "$SRV_DIR"
	fi
}

servers_init() {
	SRV_DIR=$(mktemp -d /tmp/alga-test.XXXXXX)
	chmod 755 "$SRV_DIR"
	srv_give "$SRV_DIR"
	trap servers_cleanup EXIT
	trap 'exit 130' INT TERM
}

pg_sql() {
	local db=postgres
	if [ "$1" = -d ]; then
		db=$2
		shift 2
	fi
	psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" \
		-U "$PG_SUPERUSER" -d "$db" -c "$1"
}

pg_init() {
	local pwfile=$SRV_DIR/pg/initdb.pw
	mkdir -p "$SRV_DIR/pg"
	PG_DATA=$SRV_DIR/pg/data
	PG_SOCKET_DIR=$SRV_DIR/pg
	PG_LOG=$SRV_DIR/pg/postgres.log
	PG_SUPERUSER=postgres
	PG_SUPERUSER_PASSWORD_FILE=$SRV_DIR/pg/superuser.password
	random_password >"$PG_SUPERUSER_PASSWORD_FILE"
	chmod 600 "$PG_SUPERUSER_PASSWORD_FILE"
	cp "$PG_SUPERUSER_PASSWORD_FILE" "$pwfile"
	srv_give "$SRV_DIR/pg"
	as_server_user initdb -D "$PG_DATA" -U "$PG_SUPERUSER" \
		--pwfile="$pwfile" --auth-local=trust \
		--auth-host=scram-sha-256 --no-locale -E UTF8 \
		>"$SRV_DIR/pg/initdb.log" 2>&1 || {
		cat "$SRV_DIR/pg/initdb.log" >&2
		return 1
	}
	rm -f "$pwfile"
	chown root: "$PG_SUPERUSER_PASSWORD_FILE" 2>/dev/null || true
	cat >>"$PG_DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_SOCKET_DIR'
password_encryption = scram-sha-256
max_connections = 100
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_connections = on
log_statement = 'all'
CONF
}

pg_start() {
	local tries=0
	PG_HOST=127.0.0.1
	[ -n "${PG_DATA:-}" ] || pg_init || return 1
	while [ $tries -lt 5 ]; do
		[ -n "${PG_PORT:-}" ] || PG_PORT=$(free_port)
		if as_server_user pg_ctl -D "$PG_DATA" -l "$PG_LOG" -w -t 30 \
			-o "-p $PG_PORT" start >/dev/null 2>&1; then
			export PG_HOST PG_PORT
			return 0
		fi
		# The port was taken between the probe and the start.
		PG_PORT=
		tries=$((tries + 1))
	done
	echo "servers: postgres did not start; log: $PG_LOG" >&2
	tail -n 20 "$PG_LOG" >&2
	return 1
}

pg_stop() {
	as_server_user pg_ctl -D "$PG_DATA" -m fast -w stop >/dev/null
}

# pgbouncer_simple_ini DATABASES_LINE: a transaction-pooling PgBouncer on a
# free port (BOUNCER_PORT) with SCRAM and the user list SRV_DIR/userlist.txt;
# prints the ini's path.
pgbouncer_simple_ini() {
	BOUNCER_PORT=$(free_port)
	cat >"$SRV_DIR/pgbouncer.ini" <<INI
[databases]
$1
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $SRV_DIR/userlist.txt
pool_mode = transaction
INI
	echo "$SRV_DIR/pgbouncer.ini"
}

pgbouncer_start() {
	local ini=$1 log=${2:-$SRV_DIR/pgbouncer.log} port
	port=$(sed -n 's/^[[:space:]]*listen_port[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' "$ini" | tail -n 1)
	srv_give "$ini"
	server_spawn "$log" pgbouncer "$ini"
	PGB_PID=$SPAWNED_PID
	if ! wait_port "${port:-6432}" 10; then
		echo "servers: pgbouncer did not listen on ${port:-6432}; log: $log" >&2
		tail -n 20 "$log" >&2
		return 1
	fi
}

pgbouncer_stop() {
	kill "$PGB_PID" 2>/dev/null
	wait "$PGB_PID" 2>/dev/null
	return 0
}

redis_start() {
	local dir=$SRV_DIR/redis
	mkdir -p "$dir"
	[ -n "${REDIS_PORT:-}" ] || REDIS_PORT=$(free_port)
	REDIS_PASSWORD_FILE=$dir/password
	[ -f "$REDIS_PASSWORD_FILE" ] || random_password >"$REDIS_PASSWORD_FILE"
	cat >"$dir/redis.conf" <<CONF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
dir $dir
appendonly yes
daemonize no
requirepass $(cat "$REDIS_PASSWORD_FILE")
CONF
	chmod 600 "$dir/redis.conf"
	srv_give "$dir"
	server_spawn "$dir/redis.log" redis-server "$dir/redis.conf"
	REDIS_PID=$SPAWNED_PID
	wait_port "$REDIS_PORT" 10 || {
		echo "servers: redis did not start; log: $dir/redis.log" >&2
		return 1
	}
	export REDIS_PORT REDIS_PASSWORD_FILE
}

redis_stop() {
	kill "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	return 0
}
