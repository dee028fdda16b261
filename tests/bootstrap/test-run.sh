#!/usr/bin/env bash
# test-run.sh: alga-bootstrap against a real PostgreSQL 15 (SCRAM over TCP),
# under ASan and UBSan: the first run provisions, migrates and seeds; the
# second skips both with the exact lines; passwords with special characters
# work and appear in no output and no server log; a changed app password
# file takes effect; status and wait report the runs.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$ROOT/tests/lib/servers.sh"
BS_BIN=${BS_BIN:-$ROOT/build/asan/bin/alga-bootstrap}
# shellcheck source=tests/bootstrap/lib.sh
. "$ROOT/tests/bootstrap/lib.sh"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99

ok_here "postgres starts" bs_setup

# A password with every character that breaks naive quoting, non-ASCII
# and a trailing newline (which the file reader strips).
special=$(printf '%s' "a'b\"c\\d e@f:g/h#i%j?k-é日本")
printf '%s\n' "$special" >"$BS_SECRETS/app-password"
printf '%s\r\n' "${special}-admin" >"$BS_SECRETS/admin-special"

bs_run run "${BS_PLANS[@]}"
first=$BS_OUT
is "first run exits 0" "$BS_CODE" 0
contains "first run creates app_user" "$first" "provision role app_user created"
contains "first run creates the server database" "$first" \
	"provision database server created, owner postgres"
contains "first run migrates" "$first" "alga-bootstrap: migrate migrations applied ("
contains "migration output is streamed with a prefix" "$first" \
	"alga-bootstrap: migrate | migrate: applying 001_tenants.sql"
contains "first run logs exactly 'running seeds'" "$first" \
	"alga-bootstrap: seed running seeds ("
contains "first run ends done" "$first" \
	"alga-bootstrap: done bootstrap complete for revision demo: migration ran, seed ran ("
contains "optional extension missing is a warning" "$first" \
	"warning: optional extension vector is not available"
for phase in wait lock provision migrate seed "done"; do
	contains "phase $phase is logged with milliseconds" "$first" \
		"alga-bootstrap: $phase "
done

bs_run run "${BS_PLANS[@]}"
second=$BS_OUT
is "second run exits 0" "$BS_CODE" 0
contains "second run skips the migration" "$second" \
	"alga-bootstrap: migrate migrations unchanged (fingerprint "
contains "second run logs exactly 'seeds already present, skipping'" \
	"$second" "alga-bootstrap: seed seeds already present, skipping ("
lacks "second run does not seed" "$second" "running seeds"
lacks "second run does not create anything" "$second" "created"
lacks "second run leaves an unchanged password alone" "$second" \
	"role hocuspocus_user: password updated"
contains "a non-ASCII password is set anew (no SASLprep here)" "$second" \
	"role app_user: password updated"
# Plans given by relative names: the scripts still run in their workdir.
BS_OUT=$(cd "$ROOT" && "$BS_BIN" run --force-migrate \
	--plan charts/alga-core/files/bootstrap-plan.yaml \
	--plan appliance/demo/plan.yaml --plan "$BS_DIR/overlay.yaml" 2>&1)
is "plans given by relative names run their scripts" "$?" 0
contains "the migration script ran" "$BS_OUT" \
	"alga-bootstrap: migrate | migrate: 0 migrations applied"
is "the demo data was seeded once" \
	"$(pg_sql -d server "select count(*) from tenants")" 1

is "app_user logs in with the special password" \
	"$(bs_login app_user "$BS_SECRETS/app-password")" app_user
is "app_user may read the bootstrap state" \
	"$(PGPASSWORD=$special psql -X -A -t -h 127.0.0.1 -p "$PG_PORT" \
		-U app_user -d server -c 'select count(*) > 0 from alga_bootstrap.runs')" t
is "app_user may read demo tables (grant after migration)" \
	"$(PGPASSWORD=$special psql -X -A -t -h 127.0.0.1 -p "$PG_PORT" \
		-U app_user -d server -c 'select count(*) from users')" 1
is "app_user may use the pgboss table a migration made (the Alga plan's grant)" \
	"$(PGPASSWORD=$special psql -X -A -t -h 127.0.0.1 -p "$PG_PORT" \
		-U app_user -d server -q -c "insert into pgboss.job (name) values ('demo') returning state")" created
is "the Alga plan's database setting applied" \
	"$(pg_sql -d server "show app.environment")" production
for role in app_user hocuspocus_user temporal; do
	is "$role has the Alga plan's attributes" \
		"$(pg_sql "select rolcanlogin and not rolsuper and not rolcreatedb and not rolcreaterole from pg_roles where rolname = '$role'")" t
done
is "temporal owns temporal_visibility" \
	"$(pg_sql "select pg_get_userbyid(datdba) from pg_database where datname = 'temporal_visibility'")" \
	temporal
is "hocuspocus database owned by hocuspocus_user" \
	"$(pg_sql "select pg_get_userbyid(datdba) from pg_database where datname = 'hocuspocus'")" \
	hocuspocus_user

# The admin password too, set as a SCRAM verifier computed here (so that
# the test itself puts no password into the server log).
scram_verifier() {
	python3 - "$1" <<'PY'
import base64, hashlib, hmac, os, sys
pw = open(sys.argv[1], "rb").read().rstrip(b"\r\n")
salt = os.urandom(16)
salted = hashlib.pbkdf2_hmac("sha256", pw, salt, 4096)
client = hmac.new(salted, b"Client Key", "sha256").digest()
server = hmac.new(salted, b"Server Key", "sha256").digest()
b64 = lambda b: base64.b64encode(b).decode()
print("SCRAM-SHA-256$4096:%s$%s:%s" % (b64(salt),
      b64(hashlib.sha256(client).digest()), b64(server)))
PY
}
pg_sql "alter role postgres password '$(scram_verifier "$BS_SECRETS/admin-special")'" >/dev/null
BS_OUT=
all_output=$first$second$BS_OUT
cp "$BS_SECRETS/admin-special" "$BS_SECRETS/postgres-password"
bs_run run "${BS_PLANS[@]}" --force-migrate --log-format=json
is "run with the special admin password (and psql children) exits 0" \
	"$BS_CODE" 0
contains "forced migration runs the command" "$BS_OUT" "running migrations"
contains "json log lines" "$BS_OUT" '"phase":"seed","message":"seeds already present, skipping","elapsed_ms":'
all_output=$all_output$BS_OUT

# A rotated app password: the next run makes the new one work.
old_app=$(cat "$BS_SECRETS/app-password")
printf '%s\n' "rotated-$special" >"$BS_SECRETS/app-password"
bs_run run "${BS_PLANS[@]}"
is "run after rotating the app password exits 0" "$BS_CODE" 0
contains "the run says where the password came from" "$BS_OUT" \
	"role app_user: password updated from $BS_SECRETS/app-password"
is "app_user logs in with the rotated password" \
	"$(bs_login app_user "$BS_SECRETS/app-password")" app_user
all_output=$all_output$BS_OUT

bs_run status "${BS_PLANS[@]}"
status_text=$BS_OUT
is "status exits 0" "$BS_CODE" 0
contains "status lists the runs" "$status_text" "done"
bs_run status --json "${BS_PLANS[@]}"
contains "status --json has the seed record" "$BS_OUT" '"seed" : {"status" : "seeded"'
all_output=$all_output$status_text$BS_OUT

# wait, as the least-privileged app role.
export ALGA_BOOTSTRAP_USER=app_user ALGA_BOOTSTRAP_PASSWORD_FILE=$BS_SECRETS/app-password
bs_run wait "${BS_PLANS[@]}" --revision demo --deadline 5
is "wait for revision demo exits 0" "$BS_CODE" 0
contains "wait says the run it found" "$BS_OUT" "bootstrap complete: run "
bs_run wait "${BS_PLANS[@]}" --revision other --deadline 2
is "wait for an unknown revision exits 10 at its deadline" "$BS_CODE" 10
contains "wait shows progress" "$BS_OUT" \
	"waiting: no completed bootstrap for revision other yet"
all_output=$all_output$BS_OUT
unset ALGA_BOOTSTRAP_USER ALGA_BOOTSTRAP_PASSWORD_FILE

for secret in "$special" "${special}-admin" "rotated-$special" "$old_app" \
	"$(cat "$BS_SECRETS/hocuspocus-password")"; do
	lacks "no password in any output" "$all_output" "$secret"
	if grep -qF -- "$secret" "$PG_LOG"; then
		fail "no password in the server log (log_statement = all)"
	else
		pass "no password in the server log (log_statement = all)"
	fi
done
lacks "no password fragment in any output" "$all_output" "日本"
ok "the server log shows SCRAM verifiers, not passwords" \
	grep -q "PASSWORD 'SCRAM-SHA-256" "$PG_LOG"
lacks "ASan and UBSan found nothing" "$all_output" "Sanitizer"
done_testing
