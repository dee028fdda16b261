#!/usr/bin/env bash
# test-verify.sh: alga-appliance verify passes the mini fixture profile, and
# each rule fails on a copy of it changed to break that rule, naming the
# rule and the object. Renders with Helm 4 (test-render.sh covers Helm 3).
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/appliance/lib.sh
. "$ROOT/tests/appliance/lib.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# broken NAME RULE WHERE EDIT...: copy the fixture, run EDIT in the copy's
# profile directory, render, verify; verify must fail naming RULE at WHERE.
broken() {
	local dir=$work/$1
	mini_copy "$dir"
	verify_broken "$1" "$2" "$3" "$dir/flux/profiles/mini" \
		"$dir/flux/profiles/mini" "$dir/out" "${@:4}"
}

# shellcheck disable=SC2317 # called through broken
add_values() {
	printf '%s\n' "$2" >>"values/$1.yaml"
}

mini_copy "$work/clean"
render_with "$HELM4" "$work/clean/flux/profiles/mini" "$work/clean/out"
is "the mini profile renders" "$RENDER_STATUS" 0
verify_dir "$work/clean/out"
is "the mini profile verifies clean" "$VERIFY_STATUS" 0
contains "verify says so" "$VERIFY_OUT" "no violations"
contains "verify prints the budget table" "$VERIFY_OUT" \
	"alga-core/StatefulSet/alga-core-postgres"
contains "the table has the total" "$VERIFY_OUT" "total"
contains "a skipped release is noted" "$VERIFY_OUT" \
	"release temporal was not rendered"
verify_dir "$work/clean/out" --rules "$work/clean/flux/profiles/mini/rules.yaml"
is "--rules names the same rules" "$VERIFY_STATUS" 0

broken worker-direct postgres-route \
	"workflow-worker/Deployment/workflow-worker/workflow-worker: env DB_HOST" \
	add_values workflow-worker 'dbHost: alga-core-postgres
dbPort: "5432"'
broken worker-elsewhere postgres-route \
	"workflow-worker/Deployment/workflow-worker: env: does not reach Postgres at all" \
	add_values workflow-worker 'dbHost: db.example.com'
broken worker-wrong-port postgres-route "env DB_PORT" \
	add_values workflow-worker 'dbPort: "5432"'
broken password-env no-inline-secrets \
	"alga-core/Deployment/alga-core-server/server: env SMTP_PASSWORD" \
	add_values alga-core 'server:
  extraEnv:
    - name: SMTP_PASSWORD
      value: correct-horse-battery'
broken two-replicas one-replica \
	"workflow-worker/Deployment/workflow-worker: spec.replicas" \
	add_values workflow-worker 'replicas: 2'
broken image-latest pinned-images \
	"workflow-worker/Deployment/workflow-worker/workflow-worker: image" \
	sed -i 's|worker:2.1|worker:latest|' values/workflow-worker.yaml
broken image-untagged pinned-images "has no tag" \
	sed -i 's|worker:2.1|worker|' values/workflow-worker.yaml
broken hook-on-job bootstrap "alga-core/Job/alga-core-bootstrap-" \
	add_values alga-core 'bootstrap:
  annotations:
    helm.sh/hook: post-install'
broken no-requests resources \
	"workflow-worker/Deployment/workflow-worker/workflow-worker: resources.requests.cpu" \
	add_values workflow-worker 'resources: null'
broken pvc-without-keep persistent-data \
	"alga-core/PersistentVolumeClaim/alga-core-files: metadata.annotations.helm.sh/resource-policy" \
	add_values alga-core 'filesKeep: false'
broken over-budget budget "appliance/budget/requests: memory" \
	sed -i 's/memory: 1Gi/memory: 300Mi/' rules.yaml
broken privileged-namespace pod-security "profile/Namespace/alga" \
	sed -i 's/enforce: restricted/enforce: privileged/' ../../base/namespace.yaml
broken restricted-broken pod-security "securityContext.runAsNonRoot" \
	sed -i 's/runAsNonRoot: true/runAsNonRoot: false/' \
	../../../charts/mini-worker/templates/deployment.yaml
broken wrong-release-name releases "temporal/HelmRelease/temporal: release" \
	sed -i 's/name: temporal$/name: temporal-server/' ../../base/releases.yaml
broken wrong-namespace releases "spec.targetNamespace" \
	sed -i '0,/interval: 10m/s//interval: 10m\n  targetNamespace: other/' \
	../../base/releases.yaml
broken secret-in-configmap no-inline-secrets "data.plan.yaml line 3" \
	sed -i 's|passwordFile: .*|&\n    password: hunter2hunter2|' \
	../../../charts/mini-core/templates/bootstrap.yaml
broken secret-value-leak no-inline-secrets \
	"env GREETING: holds the value of Secret alga-core-db key app-password" \
	add_values alga-core 'appPassword: s3cret-value-123
server:
  extraEnv:
    - name: GREETING
      value: hello s3cret-value-123'
broken url-password-env no-inline-secrets \
	"workflow-worker/Deployment/workflow-worker/workflow-worker: env DATABASE_URL: a URL with a password in an env value" \
	add_values workflow-worker 'extraEnv:
  - name: DATABASE_URL
    value: postgres://app_user:hunter5@pgbouncer:6432/server'
broken url-encoded-password-env no-inline-secrets \
	"env REDIS_URL: a URL with a password in an env value" \
	add_values workflow-worker 'extraEnv:
  - {name: REDIS_URL, value: "redis://:%40hunter8@alga-core-redis:6379/0"}'
broken pass-env no-inline-secrets \
	"workflow-worker/Deployment/workflow-worker/workflow-worker: env DB_PASS: a secret as a plain env value" \
	add_values workflow-worker 'extraEnv:
  - {name: DB_PASS, value: hunter3}'
broken pwd-env no-inline-secrets \
	"alga-core/Deployment/alga-core-server/server: env SMTP_PWD: a secret as a plain env value" \
	add_values alga-core 'server:
  extraEnv:
    - {name: SMTP_PWD, value: hunter4}'
broken camel-pass-env no-inline-secrets "env smtpPass" \
	add_values alga-core 'server:
  extraEnv:
    - {name: smtpPass, value: hunter4}'
broken url-password-configmap no-inline-secrets \
	"alga-core/ConfigMap/alga-core-bootstrap-plan: data.plan.yaml line 3: a URL with a password in a ConfigMap" \
	sed -i 's|passwordFile: .*|&\n    mirror: https://deploy:tok3n@git.example/alga.git|' \
		../../../charts/mini-core/templates/bootstrap.yaml

# Names that only contain PASS or PWD inside a part, and URLs whose password
# is a $(VAR) reference or absent, are no secrets.
dir=$work/not-secrets
mini_copy "$dir"
# shellcheck disable=SC2016 # $(DB_PASSWORD) is for Kubernetes to expand
printf '%s\n' 'extraEnv:' '  - {name: BYPASS_CACHE, value: "yes"}' \
	'  - {name: COMPASS_HEADING, value: north}' \
	'  - {name: OLDPWD, value: app}' \
	'  - {name: PASSENGER_MODE, value: fast}' \
	'  - name: DATABASE_URL' \
	'    value: postgres://app_user:$(DB_PASSWORD)@pgbouncer:6432/server' \
	'  - {name: HEALTH_URL, value: "http://user@pgbouncer:6432/x?a=b:c@d"}' \
	'  - {name: URL_FORMAT, value: "postgres://%s:%s@%s/server"}' \
	>>"$dir/flux/profiles/mini/values/workflow-worker.yaml"
render_with "$HELM4" "$dir/flux/profiles/mini" "$dir/out"
verify_dir "$dir/out"
is "BYPASS, OLDPWD, a \$(VAR) URL password pass" "$VERIFY_STATUS" 0
[ "$VERIFY_STATUS" -eq 0 ] || printf '%s\n' "$VERIFY_OUT" | sed 's/^/#   /'

# shellcheck disable=SC2317 # called through broken
add_rules() {
	printf '%s\n' "$1" >>rules.yaml
}

# shellcheck disable=SC2317 # called through broken and references
# plan_refs [PASSWORD_SECRET]: the fixture's bootstrap plan names keys of
# Secret alga-core-db the way the real plan does, and the rules allow that
# in the plan's ConfigMap alone. Run in the profile directory.
plan_refs() {
	sed -i "s|^    passwordFile: .*|&\\n    password_secret: ${1:-app-password}\\n    env_secrets:\\n      DB_PASSWORD_ADMIN: postgres-password|" \
		../../../charts/mini-core/templates/bootstrap.yaml
	printf '%s\n' 'secrets:' '  references:' \
		'    - match: alga-core/ConfigMap/alga-core-bootstrap-plan' \
		'      keys: [password_secret, env_secrets.*]' \
		'      why: the plan names keys of Secret alga-core-db' >>rules.yaml
}

# shellcheck disable=SC2317 # called through broken
# plan_refs_elsewhere: as plan_refs, and a second ConfigMap with the same
# keys, which the rules do not name.
plan_refs_elsewhere() {
	plan_refs
	printf '%s\n' '---' 'apiVersion: v1' 'kind: ConfigMap' 'metadata:' \
		'  name: {{ .Release.Name }}-settings' 'data:' \
		'  settings.yaml: |' '    password_secret: app-password' \
		>>../../../charts/mini-core/templates/bootstrap.yaml
}

# shellcheck disable=SC2317 # called through broken
# plan_refs_outside: a secret-named key of the plan outside env_secrets.
plan_refs_outside() {
	plan_refs
	sed -i 's|^    databases: .*|&\n    DB_PASSWORD_ADMIN: postgres-password|' \
		../../../charts/mini-core/templates/bootstrap.yaml
}

# shellcheck disable=SC2317 # called through broken
# plan_refs_holding: the plan's reference holds the app password itself,
# shorter than the length the text search looks for.
plan_refs_holding() {
	plan_refs hunter2
	add_values alga-core 'appPassword: hunter2'
}

dir=$work/references
mini_copy "$dir"
(cd "$dir/flux/profiles/mini" && plan_refs)
render_with "$HELM4" "$dir/flux/profiles/mini" "$dir/out"
verify_dir "$dir/out"
is "keys named in secrets.references pass" "$VERIFY_STATUS" 0
[ "$VERIFY_STATUS" -eq 0 ] || printf '%s\n' "$VERIFY_OUT" | sed 's/^/#   /'
broken references-elsewhere no-inline-secrets \
	"alga-core/ConfigMap/alga-core-settings: data.settings.yaml line 1: sets password_secret in a ConfigMap" \
	plan_refs_elsewhere
broken references-outside no-inline-secrets \
	"alga-core/ConfigMap/alga-core-bootstrap-plan: data.plan.yaml line 2: sets DB_PASSWORD_ADMIN in a ConfigMap" \
	plan_refs_outside
broken references-stale no-inline-secrets \
	"alga-core/ConfigMap/alga-core-gone: secrets.references: no object matches" \
	add_rules 'secrets:
  references:
    - {match: alga-core/ConfigMap/alga-core-gone, keys: [password_secret], why: gone}'
broken references-holding-secret no-inline-secrets \
	"data.plan.yaml line 3: sets password_secret to the value of Secret alga-core-db key app-password" \
	plan_refs_holding

# A hook the rules name under allowedHookObjects passes.
dir=$work/hook-allowed
mini_copy "$dir"
printf '%s\n' 'bootstrap:' '  annotations:' '    helm.sh/hook: post-install' \
	>>"$dir/flux/profiles/mini/values/alga-core.yaml"
sed -i 's|^  allowedHooks: \[test\]$|&\n  allowedHookObjects: [alga-core/Job/*]|' \
	"$dir/flux/profiles/mini/rules.yaml"
render_with "$HELM4" "$dir/flux/profiles/mini" "$dir/out"
verify_dir "$dir/out"
is "a hook named in allowedHookObjects passes" "$VERIFY_STATUS" 0

# The release build under valgrind: no leak, no bad read (ASan covers the
# rest of the suites).
if command -v valgrind >/dev/null 2>&1; then
	vg=(valgrind --leak-check=full --error-exitcode=9 -q)
	ok "valgrind: render" "${vg[@]}" "$ROOT/build/bin/alga-appliance" \
		render "$MINI/flux/profiles/mini" --out "$work/valgrind" \
		--helm "$HELM4" --kubectl "$KUBECTL"
	ok "valgrind: verify" "${vg[@]}" "$ROOT/build/bin/alga-appliance" \
		verify "$work/valgrind"
else
	skip "valgrind: render and verify" "valgrind is not installed"
fi
done_testing
