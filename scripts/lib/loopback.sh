# shellcheck shell=bash
# loopback.sh: what the demo and the integration tests share to run servers
# on 127.0.0.1: the system user that runs them, and port probes.
#
#   as_server_user COMMAND...     run COMMAND as SERVER_USER when root
#   give_to_server_user PATH...   chown PATH to SERVER_USER when root
#   port_in_use PORT              true when something accepts on 127.0.0.1:PORT
#   wait_port PORT SECONDS        true once something accepts on PORT
#   free_port                     print a port nothing listens on
#   random_password [LENGTH]      print random alphanumeric characters
#
# As root, servers run as SERVER_USER (default "postgres", the Debian
# package's system user): PostgreSQL and PgBouncer refuse to run as root.

SERVER_USER=${SERVER_USER:-postgres}

as_server_user() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="$SERVER_USER" --regid="$SERVER_USER" \
			--init-groups --reset-env -- env PATH="$PATH" "$@"
	else
		"$@"
	fi
}

give_to_server_user() {
	[ "$(id -u)" = 0 ] || return 0
	chown -R "$SERVER_USER:" "$@"
}

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_port() {
	local port=$1 deadline=$((SECONDS + $2))
	while [ $SECONDS -lt $deadline ]; do
		port_in_use "$port" && return 0
		sleep 0.1
	done
	return 1
}

# Below 32768: Linux takes the ports of outgoing connections from 32768 up,
# so a port that is free now could be taken by one before the server binds.
free_port() {
	local port tries=0
	while [ $tries -lt 50 ]; do
		port=$((20000 + RANDOM % 12000))
		if ! port_in_use "$port"; then
			echo "$port"
			return 0
		fi
		tries=$((tries + 1))
	done
	echo "loopback: no free port found" >&2
	return 1
}

# tr ends on SIGPIPE once head has enough: not a failure, even under
# pipefail, hence the subshell.
random_password() {
	(set +o pipefail && LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom |
		head -c "${1:-24}")
}
