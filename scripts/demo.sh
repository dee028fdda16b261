#!/usr/bin/env bash
# demo.sh: the local appliance. Renders the Talos single-node profile the way
# Flux would, runs its data tier (PostgreSQL, PgBouncer, Redis) on 127.0.0.1
# from the rendered objects, runs the bootstrap as the rendered Job would,
# reboots it once on the same data, and prints what happened.
#
# Usage: scripts/demo.sh [--stop | --clean | --help]
#
#   (no option)  boot, connect as the app, reboot, boot again, leave it running
#   --stop       stop the servers, keep the data
#   --clean      stop the servers and remove the demo's data and credentials
#                (only a directory this script made: it holds .alga-demo)
#
# A second run is a restart of the same appliance: the data and credentials
# under DEMO_DIR are reused and the seeds never run again.
#
# Environment:
#   DEMO_DIR             where everything lives (default: build/demo)
#   DEMO_PG_PORT         PostgreSQL port (default 25432)
#   DEMO_PGBOUNCER_PORT  PgBouncer port (default 26432)
#   DEMO_REDIS_PORT      Redis port (default 26379)
#   PROFILE              the profile to render
#                        (default: appliance/flux/profiles/talos-single-node)
#   HELM                 the Helm binary (default: Helm 4 from make tools)
#
# The Alga server image, which holds the real migrations and seeds, cannot
# run here: the demo plan in appliance/demo/ stands in for them (SQL files
# applied with psql), as an overlay on the rendered plan.
#
# As root, the servers run as the "postgres" system user (PostgreSQL and
# PgBouncer refuse to run as root).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO_DIR=$(realpath -m "${DEMO_DIR:-$ROOT/build/demo}")
# Below 32768, where Linux picks no ports for outgoing connections.
PG_PORT=${DEMO_PG_PORT:-25432}
PGB_PORT=${DEMO_PGBOUNCER_PORT:-26432}
REDIS_PORT=${DEMO_REDIS_PORT:-26379}
PROFILE=${PROFILE:-$ROOT/appliance/flux/profiles/talos-single-node}
# shellcheck source=scripts/lib/loopback.sh
. "$ROOT/scripts/lib/loopback.sh"

RENDER=$DEMO_DIR/render
SECRETS=$DEMO_DIR/secrets
# The mark of a directory this script made: --clean removes nothing else.
MARKER=$DEMO_DIR/.alga-demo
STARTED=$(date +%s%N)

say() {
	printf 'demo: %s\n' "$*"
}

die() {
	printf 'demo: %s\n' "$1" >&2
	[ $# -lt 2 ] || printf 'demo: %s\n' "$2" >&2
	exit 1
}

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
	exit "${1:-2}"
}

ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

load_tools() {
	[ -f "$ROOT/.tools/env" ] || die "tools are missing" "run: make tools"
	# shellcheck source=/dev/null
	. "$ROOT/.tools/env"
	HELM=${HELM:-$HELM4}
	PATH=$ROOT/build/bin:$PG_BINDIR:$PATH
	export HELM KUBECTL PATH
	local program
	for program in alga-bootstrap alga-appliance; do
		[ -x "$ROOT/build/bin/$program" ] ||
			die "build/bin/$program is missing" "run: make build"
	done
	for program in pgbouncer redis-server redis-cli psql jq node; do
		command -v "$program" >/dev/null ||
			die "$program is not installed" "run: make tools"
	done
}

# ---- the rendered objects ----

# rendered RELEASE JQ: query the release's rendered objects.
rendered() {
	jq -r "$2" "$RENDER/$1.json"
}

render_profile() {
	local started release files
	started=$(date +%s%N)
	rm -rf "$RENDER"
	alga-appliance render "$PROFILE" --out "$RENDER" --helm "$HELM" \
		>"$DEMO_DIR/render.log" 2>&1 ||
		die "rendering $PROFILE failed; its output:
$(tail -n 20 "$DEMO_DIR/render.log")" "fix the profile or the charts, then run make demo again"
	for release in alga-core pgbouncer; do
		[ -s "$RENDER/$release.yaml" ] ||
			die "the render has no release $release ($RENDER/$release.yaml)"
		node "$ROOT/tools/yaml-to-json.mjs" "$RENDER/$release.yaml" \
			>"$RENDER/$release.json"
	done
	files=("$RENDER"/*.yaml)
	say "render: ${#files[@]} releases of $(basename "$PROFILE") into ${RENDER#"$ROOT"/} ($(ms_since "$started") ms)"
}

# container_path WORD: WORD with the appliance pods' mount paths (alone or
# after "=", as in "app_user=/run/secrets/alga-db/app-password") mapped to
# where those files live here.
container_path() {
	sed -E -e "s#(^|=)/run/secrets/alga-db#\1$SECRETS#" \
		-e "s#(^|=)/etc/alga-bootstrap#\1$DEMO_DIR/bootstrap#" \
		-e "s#(^|=)/etc/pgbouncer#\1$DEMO_DIR/pgbouncer/config#" \
		-e "s#(^|=)/run/pgbouncer#\1$DEMO_DIR/pgbouncer/run#" \
		-e "s|^/alga-bootstrap/alga-bootstrap$|$ROOT/build/bin/alga-bootstrap|" <<<"$1"
}

# ---- credentials: generated once, like the chart's Secret ----

make_credentials() {
	local key
	mkdir -p "$SECRETS"
	chmod 700 "$SECRETS"
	for key in $(rendered alga-core '.[] | select(.kind == "Secret" and
			.metadata.name == "alga-core-db") | .data | keys[]'); do
		[ -s "$SECRETS/$key" ] && continue
		# The data directory keeps the superuser password it was made
		# with, like the postgres image's volume: a new one would lock
		# the bootstrap out.
		if [ "$key" = postgres-password ] &&
			[ -f "$DEMO_DIR/postgres/data/PG_VERSION" ]; then
			die "${SECRETS#"$ROOT"/}/postgres-password is missing, but the data in ${DEMO_DIR#"$ROOT"/}/postgres was made with it" \
				"restore that file, or start over with: make demo-clean && make demo"
		fi
		[ ! -f "$DEMO_DIR/postgres/data/PG_VERSION" ] ||
			say "credentials: ${SECRETS#"$ROOT"/}/$key was missing: a new one is generated, and the bootstrap sets it"
		(umask 077 && random_password 32 >"$SECRETS/$key")
	done
	[ -s "$SECRETS/postgres-password" ] ||
		die "the rendered Secret alga-core-db has no postgres-password key"
}

# ---- PostgreSQL ----

postgres_settings() {
	rendered alga-core '.[] | select(.kind == "StatefulSet" and
		.metadata.name == "alga-core-postgres") |
		.spec.template.spec.containers[0].args // [] |
		[.[] | select(. != "-c")] | .[]'
}

postgres_init() {
	local data=$DEMO_DIR/postgres/data initdb_args pwfile
	FIRST_BOOT_NAME="boot on the existing data"
	[ -f "$data/PG_VERSION" ] && return 0
	FIRST_BOOT_NAME="first boot"
	initdb_args=$(rendered alga-core '.[] | select(.kind == "StatefulSet" and
		.metadata.name == "alga-core-postgres") |
		.spec.template.spec.containers[0].env // [] | .[] |
		select(.name == "POSTGRES_INITDB_ARGS") | .value')
	mkdir -p "$DEMO_DIR/postgres"
	pwfile=$DEMO_DIR/postgres/initdb.pw
	cp "$SECRETS/postgres-password" "$pwfile"
	give_to_server_user "$DEMO_DIR/postgres"
	# The postgres image applies the password only to an empty data
	# directory; so does this: later boots keep the one in the volume.
	# shellcheck disable=SC2086 # the rendered arguments are words
	as_server_user initdb -D "$data" -U postgres --pwfile="$pwfile" \
		-E UTF8 --no-locale $initdb_args >"$DEMO_DIR/postgres/initdb.log" 2>&1 ||
		die "initdb failed: see $DEMO_DIR/postgres/initdb.log"
	rm -f "$pwfile"
	say "postgres: new data directory ${data#"$ROOT"/}"
}

postgres_configure() {
	local conf=$DEMO_DIR/postgres/data/appliance.conf setting
	{
		echo "# Written by scripts/demo.sh from the rendered StatefulSet."
		postgres_settings | while IFS= read -r setting; do
			echo "${setting%%=*} = '${setting#*=}'"
		done
		echo "# The demo's own: loopback only, TCP only, logs in the data."
		echo "listen_addresses = '127.0.0.1'"
		echo "port = $PG_PORT"
		echo "unix_socket_directories = ''"
	} >"$conf"
	grep -q "^include_if_exists = 'appliance.conf'" \
		"$DEMO_DIR/postgres/data/postgresql.conf" ||
		echo "include_if_exists = 'appliance.conf'" \
			>>"$DEMO_DIR/postgres/data/postgresql.conf"
	give_to_server_user "$DEMO_DIR/postgres"
}

postgres_start() {
	as_server_user pg_ctl -D "$DEMO_DIR/postgres/data" \
		-l "$DEMO_DIR/postgres/postgres.log" -w -t 60 start >/dev/null 9>&- ||
		die "postgres did not start; its log: ${DEMO_DIR#"$ROOT"/}/postgres/postgres.log
$(tail -n 5 "$DEMO_DIR/postgres/postgres.log")"
}

postgres_stop() {
	local data=$DEMO_DIR/postgres/data
	# A stale postmaster.pid goes too: PostgreSQL would refuse to start
	# while it names a live process, and pg_ctl would signal that process.
	own_pid postgres "$data/postmaster.pid" "$data" /postgres/data ||
		return 0
	as_server_user pg_ctl -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
		die "postgres (pid $OWN_PID) did not stop within 30 s" \
			"look at ${data#"$ROOT"/}/../postgres.log, then stop it by hand"
}

# ---- PgBouncer ----

pgbouncer_version_at_least() {
	local version
	version=$(pgbouncer --version | sed -n 's/^PgBouncer \([0-9.]*\).*/\1/p')
	[ "$(printf '%s\n%s\n' "$1" "$version" | sort -V | head -n 1)" = "$1" ]
}

# The rendered ini with this machine's addresses, ports and paths.
pgbouncer_configure() {
	local config=$DEMO_DIR/pgbouncer/config run=$DEMO_DIR/pgbouncer/run
	local drop=
	mkdir -p "$config" "$run"
	rendered pgbouncer '.[] | select(.kind == "ConfigMap") |
		.data["write-userlist.sh"] // empty' >"$config/write-userlist.sh"
	[ -s "$config/write-userlist.sh" ] ||
		die "the rendered pgbouncer ConfigMap has no write-userlist.sh"
	pgbouncer_version_at_least 1.21 || drop=max_prepared_statements
	rendered pgbouncer '.[] | select(.kind == "ConfigMap") |
		.data["pgbouncer.ini"]' |
		awk -v pg_port="$PG_PORT" -v port="$PGB_PORT" -v run="$run" \
			-v drop="$drop" '
		/^\[pgbouncer\]/ {
			print
			print "listen_addr = 127.0.0.1"
			print "listen_port = " port
			print "unix_socket_dir ="
			print "pidfile = " run "/pgbouncer.pid"
			print "logfile = " run "/pgbouncer.log"
			print "auth_file = " run "/userlist.txt"
			next
		}
		/^(listen_addr|listen_port|unix_socket_dir|pidfile|logfile|auth_file)[ =]/ { next }
		drop != "" && $1 == drop { next }
		{
			gsub(/host=alga-core-postgres/, "host=127.0.0.1")
			gsub(/port=5432/, "port=" pg_port)
			print
		}' >"$config/pgbouncer.ini"
	[ -z "$drop" ] ||
		say "pgbouncer: local $(pgbouncer --version | head -n 1) lacks $drop; left out here, kept in the rendered ConfigMap"
}

# Runs the pod's own init container command, with paths mapped here.
pgbouncer_userlist() {
	local word args=()
	while IFS= read -r word; do
		args+=("$(container_path "$word")")
	done < <(rendered pgbouncer '.[] | select(.kind == "Deployment") |
		.spec.template.spec.initContainers[] |
		select(.name == "write-userlist") | .command[]')
	[ ${#args[@]} -gt 2 ] ||
		die "the rendered pgbouncer Deployment has no write-userlist init container"
	(umask 077 && "${args[@]}") >/dev/null ||
		die "writing the PgBouncer user list failed"
	give_to_server_user "$DEMO_DIR/pgbouncer"
}

# daemon_listening PIDFILE TEXT PORT: true within 10 s once PIDFILE names
# a live process whose command line holds TEXT and PORT accepts. Daemons
# return before they listen (pgbouncer -d, redis with daemonize), so the
# port alone could be another program's.
daemon_listening() {
	local pid deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		pid=$(cat "$1" 2>/dev/null || true)
		if [ -n "$pid" ] && pid_runs "$pid" "$2" && port_in_use "$3"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

pgbouncer_start() {
	local ini=$DEMO_DIR/pgbouncer/config/pgbouncer.ini
	local run=$DEMO_DIR/pgbouncer/run
	as_server_user pgbouncer -d "$ini" >/dev/null 2>&1 9>&- ||
		die "pgbouncer did not start; its log: ${run#"$ROOT"/}/pgbouncer.log"
	daemon_listening "$run/pgbouncer.pid" "$ini" "$PGB_PORT" ||
		die "pgbouncer is not listening on $PGB_PORT; its log says:
$(tail -n 3 "$run/pgbouncer.log" 2>/dev/null)"
}

# ---- Redis ----

redis_configure() {
	local dir=$DEMO_DIR/redis
	mkdir -p "$dir/data"
	{
		rendered alga-core '.[] | select(.kind == "ConfigMap" and
			.metadata.name == "alga-core-redis") | .data["redis.conf"]' |
			grep -vE '^(bind|port|dir|daemonize|pidfile|logfile)[[:space:]]'
		echo "# The demo's own: loopback, this port, files under $dir."
		echo "bind 127.0.0.1"
		echo "port $REDIS_PORT"
		echo "dir $dir/data"
		echo "daemonize yes"
		echo "pidfile $dir/redis.pid"
		echo "logfile $dir/redis.log"
		# The config path in the process title lets a later run tell this
		# demo's Redis from any other process a stale pidfile may name.
		echo 'proc-title-template "{title} {listen-addr} {config-file}"'
		printf 'requirepass "%s"\n' "$(cat "$SECRETS/redis-password")"
	} >"$dir/redis.conf"
	chmod 600 "$dir/redis.conf"
	give_to_server_user "$dir"
}

redis_start() {
	local conf=$DEMO_DIR/redis/redis.conf
	as_server_user redis-server "$conf" 9>&- ||
		die "redis did not start; see ${DEMO_DIR#"$ROOT"/}/redis/redis.log"
	daemon_listening "$DEMO_DIR/redis/redis.pid" "$conf" "$REDIS_PORT" ||
		die "redis is not listening on $REDIS_PORT; see ${DEMO_DIR#"$ROOT"/}/redis/redis.log"
}

# ---- the whole data tier ----

# pid_runs PID TEXT: true when PID is alive and its command line holds
# TEXT (a path of this demo's). A pidfile left by a killed server or a
# reboot may name an unrelated process by now: that one is never signalled.
pid_runs() {
	[ -r "/proc/$1/cmdline" ] &&
		tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# own_pid NAME PIDFILE TEXT SUFFIX: true when PIDFILE names this demo's
# running server (its command line holds TEXT). A pidfile whose process is
# gone or is something else is stale: removed, with a note. A process whose
# command line holds SUFFIX under another directory is a demo server left
# running when DEMO_DIR was moved: it is neither signalled nor forgotten.
own_pid() {
	local name=$1 pidfile=$2 text=$3 suffix=$4 pid
	[ -f "$pidfile" ] || return 1
	pid=$(head -n 1 "$pidfile")
	if [[ $pid =~ ^[0-9]+$ ]] && pid_runs "$pid" "$text"; then
		OWN_PID=$pid
		return 0
	fi
	if [[ $pid =~ ^[0-9]+$ ]] && pid_runs "$pid" "$suffix"; then
		die "$name (pid $pid) runs from another directory: $(tr '\0' ' ' <"/proc/$pid/cmdline")" \
			"was the demo moved while it ran? stop that server by hand (kill $pid), then run the demo again"
	fi
	if [[ $pid =~ ^[0-9]+$ ]] && [ -d "/proc/$pid" ]; then
		say "$name: removing the stale ${pidfile#"$ROOT"/} (pid $pid is not this demo's $name)"
	else
		say "$name: removing the stale ${pidfile#"$ROOT"/} (pid ${pid:-?} no longer runs)"
	fi
	rm -f "$pidfile"
	return 1
}

# stop_server NAME PIDFILE TEXT SUFFIX: stop the demo's server whose pid is
# in PIDFILE (see own_pid), waiting up to 30 s.
stop_server() {
	local name=$1 text=$3 deadline
	own_pid "$@" || return 0
	kill "$OWN_PID" 2>/dev/null || true
	deadline=$((SECONDS + 30))
	while pid_runs "$OWN_PID" "$text"; do
		[ $SECONDS -lt $deadline ] ||
			die "$name (pid $OWN_PID) did not stop within 30 s" \
				"stop it by hand: kill -9 $OWN_PID"
		sleep 0.1
	done
	rm -f "$2"
}

stop_all() {
	stop_server pgbouncer "$DEMO_DIR/pgbouncer/run/pgbouncer.pid" \
		"$DEMO_DIR/pgbouncer/config/pgbouncer.ini" \
		/pgbouncer/config/pgbouncer.ini
	stop_server redis "$DEMO_DIR/redis/redis.pid" \
		"$DEMO_DIR/redis/redis.conf" /redis/redis.conf
	postgres_stop
}

# All three ports, checked before anything is rendered or initialised.
check_ports() {
	local entry port name variable busy=()
	for port in "$PG_PORT" "$PGB_PORT" "$REDIS_PORT"; do
		if ! [[ $port =~ ^[0-9]+$ ]] || [ "$port" -lt 1024 ] ||
			[ "$port" -gt 65535 ]; then
			die "the demo's ports must be numbers from 1024 to 65535, not \"$port\"" \
				"check DEMO_PG_PORT, DEMO_PGBOUNCER_PORT and DEMO_REDIS_PORT"
		fi
	done
	if [ "$PG_PORT" = "$PGB_PORT" ] || [ "$PG_PORT" = "$REDIS_PORT" ] ||
		[ "$PGB_PORT" = "$REDIS_PORT" ]; then
		die "the demo's ports must differ: postgres $PG_PORT, pgbouncer $PGB_PORT, redis $REDIS_PORT" \
			"set DEMO_PG_PORT, DEMO_PGBOUNCER_PORT and DEMO_REDIS_PORT to three different ports"
	fi
	for entry in "$PG_PORT:PostgreSQL:DEMO_PG_PORT" \
		"$PGB_PORT:PgBouncer:DEMO_PGBOUNCER_PORT" \
		"$REDIS_PORT:Redis:DEMO_REDIS_PORT"; do
		IFS=: read -r port name variable <<<"$entry"
		port_in_use "$port" || continue
		printf 'demo: port %s for %s is already in use on 127.0.0.1\n' \
			"$port" "$name" >&2
		busy+=("$variable=PORT")
	done
	[ ${#busy[@]} -eq 0 ] ||
		die "stop what listens there, or choose free ports: ${busy[*]} make demo"
}

check_reachable() {
	[ "$(id -u)" = 0 ] || return 0
	as_server_user test -x "$DEMO_DIR" ||
		die "the postgres system user cannot enter $DEMO_DIR" \
			"make its parent directories world-searchable (chmod o+x), or set DEMO_DIR to a directory it can enter"
}

start_all() {
	check_ports
	postgres_start
	redis_start
	pgbouncer_start
}

# ---- the bootstrap, as the rendered Job runs it ----

job_command() {
	rendered alga-core '.[] | select(.kind == "Job") |
		.spec.template.spec.containers[0].command[]'
}

# The Job's environment: plain values with the appliance's addresses mapped
# to this machine, Secret references read from the credential files.
job_environment() {
	local name value key
	while IFS=$'\t' read -r name value key; do
		if [ -n "$key" ]; then
			value=$(cat "$SECRETS/$key")
		fi
		case $value in
		alga-core-postgres) value=127.0.0.1 ;;
		5432) value=$PG_PORT ;;
		/*) value=$(container_path "$value") ;;
		esac
		printf '%s=%s\0' "$name" "$value"
	done < <(rendered alga-core '.[] | select(.kind == "Job") |
		.spec.template.spec.containers[0].env[] |
		[.name, (.value // ""), (.valueFrom.secretKeyRef.key // "")] | @tsv')
}

run_bootstrap() {
	local log=$1 word command=() environment=()
	mkdir -p "$DEMO_DIR/bootstrap"
	rendered alga-core '.[] | select(.kind == "ConfigMap" and
		.metadata.name == "alga-core-bootstrap-plan") |
		.data["plan.yaml"]' >"$DEMO_DIR/bootstrap/plan.yaml"
	while IFS= read -r word; do
		command+=("$(container_path "$word")")
	done < <(job_command)
	mapfile -d '' environment < <(job_environment)
	# The demo plan stands in for the Alga image's knex migrations and
	# seeds; the Secret's keys are the files in DEMO_DIR/secrets.
	command+=(--plan "$ROOT/appliance/demo/plan.yaml")
	environment+=("ALGA_BOOTSTRAP_SECRETS_DIR=$SECRETS")
	# On Ctrl-C the bootstrap reports that it was interrupted: tee and sed
	# ignore SIGINT so that its last lines still reach the log and screen.
	env "${environment[@]}" "${command[@]}" 2>&1 |
		(trap '' INT && exec tee "$log") |
		(trap '' INT && exec sed 's/^/    /')
	return "${PIPESTATUS[0]}"
}

# ---- the app's view, through PgBouncer ----

app_sql() {
	PGPASSWORD=$(cat "$SECRETS/app-password") psql -X -q -A -t \
		-v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGB_PORT" -U app_user \
		-d server -c "$1"
}

show_app_view() {
	local via tenants users tickets
	via=$(app_sql "select current_user || ' via ' || current_setting('application_name')")
	tenants=$(app_sql "select count(*) from tenants")
	users=$(app_sql "select count(*) from users")
	tickets=$(app_sql "select string_agg(title, ', ') from tickets")
	say "app: connected as $via (PgBouncer :$PGB_PORT)"
	say "app: $tenants tenant(s), $users user(s), tickets: $tickets"
	APP_VIEW="$tenants/$users/$tickets"
}

redis_cmd() {
	REDISCLI_AUTH=$(cat "$SECRETS/redis-password") redis-cli --no-auth-warning \
		-h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

# The first boot leaves a key in Redis; every later boot must find it there,
# read back from Redis's append-only file.
show_redis_view() {
	redis_cmd set alga-demo:first-boot "$(date -u +%FT%TZ)" NX >/dev/null
	REDIS_VIEW=$(redis_cmd get alga-demo:first-boot)
	say "redis: password accepted; first boot recorded at $REDIS_VIEW"
}

# boot NUMBER NAME: start the data tier, bootstrap, look as the app.
boot() {
	local name=$2 started log status
	started=$(date +%s%N)
	log=$DEMO_DIR/bootstrap-$1.log
	say "== $name"
	start_all
	say "servers: postgres :$PG_PORT, pgbouncer :$PGB_PORT, redis :$REDIS_PORT up ($(ms_since "$started") ms)"
	status=0
	run_bootstrap "$log" || status=$?
	case $status in
	0) ;;
	8) die "the bootstrap found a seed that an earlier demo started and never finished (exit 8); its log: ${log#"$ROOT"/}" \
		"the demo's data is only demo data: start over with make demo-clean && make demo" ;;
	*) die "the bootstrap failed with exit code $status; its log: ${log#"$ROOT"/}" \
		"'build/bin/alga-bootstrap --help' explains the exit codes; the data is left as it was" ;;
	esac
	show_app_view
	show_redis_view
	BOOT_MS=$(ms_since "$started")
	BOOT_SEED=$(grep -oE 'running seeds|seeds already present, skipping|partial seed detected' "$log" | head -n 1)
	say "$name: ${BOOT_SEED:-no seed line}; $BOOT_MS ms from the servers' start to the app's answer"
}

summary() {
	local again=scripts/demo.sh
	[ "$DEMO_DIR" = "$ROOT/build/demo" ] ||
		again="DEMO_DIR=$DEMO_DIR scripts/demo.sh"
	cat <<EOF

demo: summary
  rendered:     ${RENDER#"$ROOT"/}/*.yaml (what Flux would apply)
  boot 1:       $FIRST_BOOT_NAME: $FIRST_SEED ($FIRST_MS ms)
  boot 2:       restart after a reboot: $SECOND_SEED ($SECOND_MS ms)
  app data:     the same before and after the restart ($APP_VIEW)
  redis:        kept its data across the restart (first boot at $REDIS_VIEW)
  data:         ${DEMO_DIR#"$ROOT"/}/postgres, redis, pgbouncer; credentials in ${SECRETS#"$ROOT"/}
  connect:      PGPASSWORD=\$(cat ${SECRETS#"$ROOT"/}/app-password) psql -h 127.0.0.1 -p $PGB_PORT -U app_user server
  still running: stop with '$again --stop'; remove everything with '$again --clean'
  total:        $(ms_since "$STARTED") ms
EOF
}

on_exit() {
	local status=$?
	if [ "$status" -ne 0 ]; then
		stop_all
		printf 'demo: stopped; nothing is left running (exit %d)\n' "$status" >&2
	fi
}

# A demo made by root has files of root and of the postgres user, which
# another user can neither reuse nor remove: say so before failing on one.
check_owner() {
	local me foreign
	[ "$(id -u)" != 0 ] || return 0
	me=$(id -un)
	foreign=$(find "$DEMO_DIR" ! -user "$me" -print -quit 2>/dev/null)
	[ -z "$foreign" ] ||
		die "${foreign#"$ROOT"/} belongs to $(stat -c %U "$foreign"), not to $me: this demo was run by another user" \
			"run it as that user or as root, or give this one another DEMO_DIR"
}

# prepare_dir MODE: refuse a DEMO_DIR this script did not make, take the
# demo's lock (one demo at a time per directory), mark a new directory.
prepare_dir() {
	if [ -d "$DEMO_DIR" ] && [ ! -e "$MARKER" ] &&
		[ -n "$(ls -A "$DEMO_DIR")" ]; then
		die "$DEMO_DIR was not made by the demo (it has no .alga-demo): nothing in it is touched" \
			"set DEMO_DIR to a new or empty directory"
	fi
	if [ "$1" != run ] && [ ! -d "$DEMO_DIR" ]; then
		say "nothing to do: ${DEMO_DIR#"$ROOT"/} does not exist"
		exit 0
	fi
	mkdir -p "$DEMO_DIR"
	check_owner
	touch "$MARKER"
	# fd 9 holds the lock; the servers are started without it (9>&-), so
	# that the lock ends with this script, not with them.
	exec 9>"$DEMO_DIR/.lock"
	flock -n 9 ||
		die "another demo is running in ${DEMO_DIR#"$ROOT"/}" \
			"wait for it to end, or give this one another DEMO_DIR"
}

main() {
	local mode=run
	case ${1:-} in
	-h | --help) usage 0 ;;
	--stop) mode=stop ;;
	--clean) mode=clean ;;
	'') ;;
	*) usage 2 ;;
	esac
	prepare_dir "$mode"
	case $mode in
	stop)
		stop_all
		say "stopped; the data stays in ${DEMO_DIR#"$ROOT"/}"
		return 0
		;;
	clean)
		stop_all
		# The marker goes last: a clean that fails half-way can be
		# repeated.
		if ! find "$DEMO_DIR" -mindepth 1 -maxdepth 1 ! -name .alga-demo \
			-exec rm -rf {} + || ! rm -rf "$DEMO_DIR"; then
			die "could not remove all of ${DEMO_DIR#"$ROOT"/}" \
				"remove what is left as its owner or as root: rm -rf $DEMO_DIR"
		fi
		say "removed ${DEMO_DIR#"$ROOT"/}"
		return 0
		;;
	esac
	trap on_exit EXIT
	trap 'exit 130' INT TERM
	load_tools
	check_reachable
	# A demo still running from before: this run is its reboot.
	stop_all
	check_ports

	render_profile
	make_credentials
	postgres_init
	postgres_configure
	redis_configure
	pgbouncer_configure
	pgbouncer_userlist

	boot 1 "$FIRST_BOOT_NAME"
	FIRST_SEED=$BOOT_SEED FIRST_MS=$BOOT_MS
	local before=$APP_VIEW redis_before=$REDIS_VIEW
	say "== reboot: stopping every server, keeping the data"
	stop_all
	boot 2 "restart"
	SECOND_SEED=$BOOT_SEED SECOND_MS=$BOOT_MS
	[ "$APP_VIEW" = "$before" ] ||
		die "the app sees different data after the restart: $before before, $APP_VIEW after"
	[ "$REDIS_VIEW" = "$redis_before" ] ||
		die "redis lost its data in the restart: $redis_before before, $REDIS_VIEW after"
	summary
}

main "$@"
