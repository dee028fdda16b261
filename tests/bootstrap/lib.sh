# shellcheck shell=bash
# shellcheck disable=SC2034 # BS_* are read by the suites that source this
# lib.sh: what the alga-bootstrap suites share. Source after common.sh and
# servers.sh.
#
#   bs_setup            start PostgreSQL, write the secrets and the test
#                       overlay plan; sets BS_DIR, BS_SECRETS, BS_PLANS
#   bs_overlay          write the overlay plan of the tests
#   bs_run ARGS...      run the bootstrap; sets BS_OUT (stdout and stderr)
#                       and BS_CODE
#   bs_login ROLE PASSWORD_FILE   true when ROLE logs in over TCP
#
# Environment: BS_BIN, the binary to test (default build/bin/alga-bootstrap;
# the ASan suite uses build/asan/bin/alga-bootstrap).

BS_BIN=${BS_BIN:-$ROOT/build/bin/alga-bootstrap}

bs_secret() {
	random_password >"$BS_SECRETS/$1"
	chmod 600 "$BS_SECRETS/$1"
}

# The tests' own overlay moves the secrets and the port and shortens the
# deadlines; the Alga plan's roles, grants and databases run as they are.
bs_overlay() {
	cat >"$BS_DIR/overlay.yaml" <<YAML
secrets_dir: $BS_SECRETS
connection:
  host: 127.0.0.1
  port: $PG_PORT
deadlines: {connect: 10, lock: 60, wait: 10}
YAML
}

bs_setup() {
	servers_init
	pg_start || return 1
	BS_DIR=$SRV_DIR/bootstrap
	BS_SECRETS=$BS_DIR/secrets
	mkdir -p "$BS_SECRETS"
	cp "$PG_SUPERUSER_PASSWORD_FILE" "$BS_SECRETS/postgres-password"
	bs_secret app-password
	bs_secret hocuspocus-password
	bs_secret temporal-password
	bs_overlay
	BS_PLANS=(--plan "$ROOT/charts/alga-core/files/bootstrap-plan.yaml"
		--plan "$ROOT/appliance/demo/plan.yaml"
		--plan "$BS_DIR/overlay.yaml")
}

bs_run() {
	BS_OUT=$("$BS_BIN" "$@" 2>&1)
	BS_CODE=$?
}

bs_login() {
	PGPASSWORD=$(cat "$2") psql -X -A -t -h 127.0.0.1 -p "$PG_PORT" \
		-U "$1" -d server -c 'select current_user' 2>&1
}
