#!/usr/bin/env bash
# test-profile.sh: the Talos profile renders and verifies clean with Helm 3
# and Helm 4, and a copy of it broken for each rule fails naming that rule.
#
# Works on a copy of appliance/ and charts/ of the repository (or of
# APPLIANCE_REPO, to try a tree where the charts live elsewhere). Skips when
# the profile or its charts are not there yet.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/appliance/lib.sh
. "$ROOT/tests/appliance/lib.sh"
# shellcheck source=tests/lib/charts.sh
. "$ROOT/tests/lib/charts.sh"

repo=${APPLIANCE_REPO:-$ROOT}
profile=appliance/flux/profiles/talos-single-node

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# copy_repo DIR: the profile and the charts, to break them there.
copy_repo() {
	mkdir -p "$1"
	cp -R "$repo/appliance" "$repo/charts" "$1/"
	cp "$ROOT/$profile/rules.yaml" "$1/$profile/rules.yaml"
}

for h in $HELMS; do
	dir=$work/clean-$h
	copy_repo "$dir"
	render_with "$(helm_of "$h")" "$dir/$profile" "$dir/out"
	is "$h: the Talos profile renders" "$RENDER_STATUS" 0
	[ "$RENDER_STATUS" -eq 0 ] || printf '%s\n' "$RENDER_OUT" | sed 's/^/#   /'
	contains "$h: Temporal (a remote chart) is skipped in one line" \
		"$RENDER_OUT" "skipped temporal:"
	verify_dir "$dir/out"
	is "$h: and verifies clean" "$VERIFY_STATUS" 0
	[ "$VERIFY_STATUS" -eq 0 ] || printf '%s\n' "$VERIFY_OUT" | sed 's/^/#   /'
	contains "$h: with the budget table" "$VERIFY_OUT" "total"
done

# broken NAME RULE WHERE EDIT...: copy, run EDIT at the copy's root, render
# with Helm 4, verify; verify must fail naming RULE and WHERE.
broken() {
	local dir=$work/$1
	copy_repo "$dir"
	verify_broken "$1" "$2" "$3" "$dir" "$dir/$profile" "$dir/out" "${@:4}"
}

# values RELEASE TEXT: append TEXT to the profile's values of RELEASE.
# shellcheck disable=SC2317 # called through broken
values() {
	printf '%s\n' "$2" >>"$profile/values/$1.yaml"
}

broken worker-direct postgres-route \
	"workflow-worker/Deployment/workflow-worker/workflow-worker: env DB_HOST" \
	values workflow-worker 'database:
  host: alga-core-postgres
  port: 5432'
broken password-env no-inline-secrets \
	"alga-core/Deployment/alga-core-server/server: env SMTP_PASSWORD" \
	sed -i 's/^server:$/&\n  extraEnv:\n    - {name: SMTP_PASSWORD, value: correct-horse-battery}/' \
	"$profile/values/alga-core.yaml"
broken url-password-env no-inline-secrets \
	"workflow-worker/Deployment/workflow-worker/workflow-worker: env DATABASE_URL: a URL with a password" \
	values workflow-worker 'extraEnv:
  DATABASE_URL: "postgres://app_user:hunter5@pgbouncer:6432/server"'
broken pass-env no-inline-secrets \
	"workflow-worker/Deployment/workflow-worker/workflow-worker: env DB_PASS" \
	values workflow-worker 'extraEnv:
  DB_PASS: hunter3
  SMTP_PWD: hunter4'
broken two-replicas one-replica \
	"workflow-worker/Deployment/workflow-worker: spec.replicas" \
	values workflow-worker 'replicaCount: 2'
# The worker chart's schema refuses a latest tag and missing requests
# itself; these copies lose the schema first, to reach verify.
# shellcheck disable=SC2317 # called through broken
latest() {
	rm charts/workflow-worker/values.schema.json &&
		sed -i 's/tag: "a2cbb43"/tag: latest/' "$profile/values/workflow-worker.yaml"
}
# shellcheck disable=SC2317 # called through broken
no_requests() {
	rm charts/workflow-worker/values.schema.json &&
		values workflow-worker 'resources:
  requests: null'
}
broken image-latest pinned-images \
	"workflow-worker/Deployment/workflow-worker/workflow-worker: image" latest
broken hook-on-job bootstrap "alga-core/Job/alga-core-bootstrap-" \
	sed -i 's|^    alga-psa.io/bootstrap-revision:|    helm.sh/hook: post-install,post-upgrade\n&|' \
	charts/alga-core/templates/bootstrap.yaml
broken no-requests resources \
	"workflow-worker/Deployment/workflow-worker/workflow-worker: resources.requests" \
	no_requests
broken pvc-without-keep persistent-data \
	"alga-core/PersistentVolumeClaim/alga-core-file-storage: metadata.annotations.helm.sh/resource-policy" \
	sed -i '/Customer documents: never deleted/{n;s/keep/delete/}' \
	charts/alga-core/templates/server.yaml
done_testing
