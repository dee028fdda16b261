#!/usr/bin/env bash
# test-failures.sh: the exit codes and messages of what goes wrong before
# the work starts: usage and plan errors, a wrong admin password, a
# PostgreSQL that never answers, and one that starts late.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$ROOT/tests/lib/servers.sh"
# shellcheck source=tests/bootstrap/lib.sh
. "$ROOT/tests/bootstrap/lib.sh"

bs_run --help
is "--help exits 0" "$BS_CODE" 0
contains "--help lists the exit codes" "$BS_OUT" "8    partial seed found"
bs_run --version
contains "--version prints the version" "$BS_OUT" "alga-bootstrap "
bs_run frobnicate
is "an unknown command exits 2" "$BS_CODE" 2
bs_run run --reseed-partial --mark-seeded
is "--reseed-partial with --mark-seeded exits 2" "$BS_CODE" 2
contains "and says they exclude each other" "$BS_OUT" \
	"--reseed-partial and --mark-seeded exclude each other"
bs_run run
is "run without a plan exits 2" "$BS_CODE" 2
contains "and says how to give one" "$BS_OUT" "ALGA_BOOTSTRAP_PLAN"

ok_here "postgres starts" bs_setup

printf 'connection:\n  host: x\n  port: nope\n' >"$BS_DIR/bad-port.yaml"
bs_run run "${BS_PLANS[@]}" --plan "$BS_DIR/bad-port.yaml"
is "a bad plan value exits 2" "$BS_CODE" 2
contains "the error names file, line and key" "$BS_OUT" \
	"$BS_DIR/bad-port.yaml:3: connection.port: expected an integer"
long=$(printf 'r%.0s' $(seq 1 64))
printf 'roles:\n  - name: ok\n  - name: %s\n' "$long" >"$BS_DIR/long.yaml"
bs_run run "${BS_PLANS[@]}" --plan "$BS_DIR/long.yaml"
contains "a name over 63 bytes is refused with file:line" "$BS_OUT" \
	"$BS_DIR/long.yaml:3: roles[1].name: name is longer than 63 bytes"
printf 'seeds:\n  command: [x]\n' >"$BS_DIR/typo.yaml"
bs_run run "${BS_PLANS[@]}" --plan "$BS_DIR/typo.yaml"
contains "an unknown key is refused" "$BS_OUT" "$BS_DIR/typo.yaml:2: seeds: unknown key"
printf 'migrate: [\n' >"$BS_DIR/syntax.yaml"
bs_run run "${BS_PLANS[@]}" --plan "$BS_DIR/syntax.yaml"
contains "a YAML syntax error names the file" "$BS_OUT" "$BS_DIR/syntax.yaml:"
printf 'connection:\n  password_secret: postgres-password\n' >"$BS_DIR/no-dir.yaml"
bs_run run --plan "$BS_DIR/no-dir.yaml"
is "a secret named by key without secrets_dir exits 2" "$BS_CODE" 2
contains "and names file, line and key" "$BS_OUT" \
	"$BS_DIR/no-dir.yaml:2: connection.password_secret: names a secret by key, but the plan sets no secrets_dir"
printf 'roles:\n  - name: x\n    password_secret: ../postgres-password\n' \
	>"$BS_DIR/key-slash.yaml"
bs_run run "${BS_PLANS[@]}" --plan "$BS_DIR/key-slash.yaml"
contains "a secret key with a slash is refused with file:line" "$BS_OUT" \
	"$BS_DIR/key-slash.yaml:3: roles[0].password_secret: secret key \"../postgres-password\" is not a file name"
mkdir -p "$BS_DIR/other-secrets"
ALGA_BOOTSTRAP_SECRETS_DIR=$BS_DIR/other-secrets bs_run run "${BS_PLANS[@]}"
is "ALGA_BOOTSTRAP_SECRETS_DIR moves the secrets (none there: exit 2)" \
	"$BS_CODE" 2
contains "and the error names the plan key and the file in that directory" \
	"$BS_OUT" \
	"connection.password_secret: cannot read password file $BS_DIR/other-secrets/postgres-password"
: >"$BS_DIR/empty-password"
ALGA_BOOTSTRAP_PASSWORD_FILE=$BS_DIR/empty-password bs_run run "${BS_PLANS[@]}"
is "an empty password file exits 2" "$BS_CODE" 2
contains "and names the file" "$BS_OUT" "password file $BS_DIR/empty-password is empty"

# A short password would be found inside ordinary text (the path of its own
# file here): refused before anything is printed around it.
mkdir -p "$BS_DIR/wrong"
printf 'wrong\n' >"$BS_DIR/wrong/wrongpw"
ALGA_BOOTSTRAP_PASSWORD_FILE=$BS_DIR/wrong/wrongpw bs_run run "${BS_PLANS[@]}"
is "a password shorter than 8 bytes exits 2" "$BS_CODE" 2
contains "and says to set a longer one, naming the file whole" "$BS_OUT" \
	"password in $BS_DIR/wrong/wrongpw is shorter than 8 bytes: set a longer password"
lacks "the path is not cut up by redaction" "$BS_OUT" "[redacted]"
cp "$BS_SECRETS/app-password" "$BS_DIR/app-password.saved"
printf 'a\n' >"$BS_SECRETS/app-password"
bs_run run "${BS_PLANS[@]}"
is "a one-byte role password exits 2, before connecting" "$BS_CODE" 2
contains "and is refused by plan key and file" "$BS_OUT" \
	"roles[0].password_secret: password in $BS_SECRETS/app-password is shorter than 8 bytes"
lacks "and no line is mangled" "$BS_OUT" "[redacted]"
cp "$BS_DIR/app-password.saved" "$BS_SECRETS/app-password"

mkdir -p "$BS_DIR/wrongpw12"
random_password >"$BS_DIR/wrongpw12/pw"
printf 'wrongpw12' >"$BS_DIR/wrongpw12/wrongpw12"
ALGA_BOOTSTRAP_PASSWORD_FILE=$BS_DIR/wrongpw12/wrongpw12 bs_run run "${BS_PLANS[@]}"
is "a wrong password that is part of its own path exits 4" "$BS_CODE" 4
contains "the hint prints the path whole" "$BS_OUT" \
	"the password comes from $BS_DIR/wrongpw12/wrongpw12;"

# What a step needs is checked on every run, before connecting: not only
# when the migrations change at the next upgrade.
# preflight NAME YAML EXPECTED: a plan overlay that must exit 2 with EXPECTED.
preflight() {
	printf '%s\n' "$2" >"$BS_DIR/$1.yaml"
	ALGA_BOOTSTRAP_PORT=$(free_port) bs_run run "${BS_PLANS[@]}" \
		--plan "$BS_DIR/$1.yaml" --deadline 30
	is "$1: exit 2 at once" "$BS_CODE" 2
	contains "$1: the message names the plan key" "$BS_OUT" "$3"
	lacks "$1: nothing is waited for" "$BS_OUT" "waiting for postgres"
}
preflight unknown-placeholder $'seed:\n  command: [x, "${nope}"]' \
	"$BS_DIR/unknown-placeholder.yaml:2: seed.command[1]: unknown placeholder \${nope}"
preflight unterminated $'migrate:\n  env: {X: "${host"}' \
	"$BS_DIR/unterminated.yaml:2: migrate.env.X: unterminated placeholder"
preflight env-name $'migrate:\n  env: {"A=B": x}' \
	"$BS_DIR/env-name.yaml:2: migrate.env.A=B: not an environment variable name"
preflight missing-key $'seed:\n  env_secrets: {X: no-such-key}' \
	"seed.env_secrets.X: cannot read password file $BS_SECRETS/no-such-key"
preflight missing-workdir $'migrate:\n  workdir: /nonexistent/alga' \
	"migrate.workdir: cannot use directory /nonexistent/alga"
preflight missing-program $'seed:\n  command: [alga-no-such-program]' \
	"seed.command[0]: alga-no-such-program not found in PATH"
mkdir -p "$BS_DIR/bin"
: >"$BS_DIR/bin/not-executable.sh"
preflight not-executable $'migrate:\n  command: [bin/not-executable.sh]' \
	"migrate.command[0]: $BS_DIR/bin/not-executable.sh is not an executable file"

random_password >"$BS_DIR/wrong-password"
started=$SECONDS
ALGA_BOOTSTRAP_PASSWORD_FILE=$BS_DIR/wrong-password bs_run run "${BS_PLANS[@]}"
is "a wrong admin password exits 4" "$BS_CODE" 4
ok "and fails at once, not at the deadline" test $((SECONDS - started)) -lt 5
contains "the message says what the server said" "$BS_OUT" \
	'password authentication failed for user "postgres"'
contains "the hint names the password file" "$BS_OUT" \
	"the password comes from $BS_DIR/wrong-password"
contains "the hint explains the reused volume" "$BS_OUT" \
	"a PostgreSQL volume that is reused keeps the password it was created with"

nobody=$(free_port)
ALGA_BOOTSTRAP_PORT=$nobody bs_run run "${BS_PLANS[@]}" --deadline 2
is "postgres never started: exit 3 at the deadline" "$BS_CODE" 3
contains "the retries say why" "$BS_OUT" "not ready: "
contains "the failure names the deadline" "$BS_OUT" \
	"postgres at 127.0.0.1:$nobody not reachable within 2 s"
ALGA_BOOTSTRAP_PORT=$nobody bs_run run "${BS_PLANS[@]}" --deadline 0
is "--deadline 0: exit 3" "$BS_CODE" 3
contains "with a reason" "$BS_OUT" \
	"not reachable within 0 s: the deadline left no time for an attempt"
ALGA_BOOTSTRAP_HOST=no-such-host.invalid bs_run run "${BS_PLANS[@]}" --deadline 1
is "an unresolvable host is retried until the deadline" "$BS_CODE" 3

pg_stop
"$BS_BIN" run "${BS_PLANS[@]}" --deadline 30 >"$BS_DIR/late.log" 2>&1 &
late=$!
sleep 2
ok_here "postgres starts late" pg_start
wait "$late"
is "a run started before postgres waits and succeeds" "$?" 0
late_log=$(cat "$BS_DIR/late.log")
contains "it logged its retries" "$late_log" "not ready: "
contains "and then ran the seeds" "$late_log" "alga-bootstrap: seed running seeds ("
done_testing
