#!/usr/bin/env bash
# test-workers.sh: the three worker charts (workflow-worker, email-service,
# temporal-worker) render the same under Helm 3 and Helm 4, with default and
# appliance values, into valid objects: one replica, the database through
# PgBouncer and the superuser straight to Postgres, every secret through
# secretKeyRef, the bootstrap wait, health probes on the image's own
# endpoint, Pod Security restricted, autoscaling and disruption budget off
# unless asked for. The charts stay alike: their templates differ only in
# the chart name.

# The helpers below run through ok/not_ok, which shellcheck cannot follow.
# shellcheck disable=SC2317
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/charts.sh
. "$ROOT/tests/lib/charts.sh"
# shellcheck source=tests/charts/values-docs.sh
. "$ROOT/tests/charts/values-docs.sh"

PROFILE_DIR=$ROOT/appliance/flux/profiles/talos-single-node/values

# chart, health port, readiness path, whether it talks to Temporal.
WORKERS="workflow-worker:4000:/readyz:yes
email-service:8080:/health:no
temporal-worker:8080:/ready:yes"

# q JQ: jq over the default render of the current chart.
q() {
	jq -r "$1" "$WORK/$chart-HELM4-default.yaml.json"
}

# pod JQ: jq over the pod spec of the current chart's Deployment.
pod() {
	q ".[] | select(.kind == \"Deployment\") | .spec.template.spec | $1"
}

# env NAME: the plain value of NAME in the worker container.
env_value() {
	pod ".containers[0].env[] | select(.name == \"$1\") | .value"
}

template() {
	"$HELM4" template "$chart" "$ROOT/charts/$chart" --namespace alga "$@"
}

test_renders() {
	local h values dir=$ROOT/charts/$chart profile=$PROFILE_DIR/$chart.yaml
	for h in $HELMS; do
		ok "$chart: $h lint, default and appliance values" \
			"$(helm_of "$h")" lint "$dir" -f "$dir/ci/appliance-values.yaml"
		ok_here "$chart: $h renders default values" \
			render "$h" "$WORK/$chart-$h-default.yaml" "$dir" "$chart"
		ok_here "$chart: $h renders appliance values" \
			render "$h" "$WORK/$chart-$h-appliance.yaml" "$dir" "$chart" \
			-f "$dir/ci/appliance-values.yaml"
		for values in default appliance; do
			ok "$chart: $h $values render passes the schema check" \
				validate_schemas "$WORK/$chart-$h-$values.yaml"
		done
	done
	for values in default appliance; do
		ok "$chart: helm 3 and helm 4 render $values values identically" \
			diff "$WORK/$chart-HELM3-$values.yaml" "$WORK/$chart-HELM4-$values.yaml"
	done
	if grep -q -v -e '^#' -e '^$' "$profile" 2>/dev/null; then
		ok "$chart: the profile's values render" template -f "$profile"
	else
		skip "$chart: the profile's values render" "$profile is missing or still a placeholder"
	fi
	render HELM4 "$WORK/$chart-optional.yaml" "$dir" "$chart" \
		--set autoscaling.enabled=true --set podDisruptionBudget.enabled=true \
		--set service.enabled=true
	ok "$chart: HPA, PDB and Service pass the schema check when enabled" \
		validate_schemas "$WORK/$chart-optional.yaml"
	is "$chart: an HPA takes over the replica count" \
		"$(jq -r '[.[] | select(.kind == "Deployment") | .spec.replicas // "unset"] + [.[] | select(.kind == "HorizontalPodAutoscaler" or .kind == "PodDisruptionBudget" or .kind == "Service") | .kind] | sort | join(" ")' \
			"$WORK/$chart-optional.yaml.json")" \
		"HorizontalPodAutoscaler PodDisruptionBudget Service unset"
}

test_contract() {
	local port=$1 path=$2 temporal=$3 tag
	tag=$(sed -n 's/^appVersion: "\(.*\)"/\1/p' "$ROOT/charts/$chart/Chart.yaml")
	is "$chart: default objects are a ServiceAccount and a Deployment" \
		"$(q '[.[].kind] | join(" ")')" "ServiceAccount Deployment"
	is "$chart: one replica" "$(q '.[] | select(.kind == "Deployment") | .spec.replicas')" 1
	is "$chart: the image is pinned to the chart's appVersion" \
		"$(pod '.containers[0].image')" "ghcr.io/nine-minds/$chart:$tag"
	is "$chart: no service account token" \
		"$(q '[.[] | if .kind == "Deployment" then .spec.template.spec.automountServiceAccountToken elif .kind == "ServiceAccount" then .automountServiceAccountToken else empty end] | map(tostring) | join(" ")')" \
		"false false"
	is "$chart: the app's database is PgBouncer's transaction pool" \
		"$(env_value DB_HOST):$(env_value DB_PORT)/$(env_value DB_NAME_SERVER) as $(env_value DB_USER_SERVER)" \
		"pgbouncer:6432/server as app_user"
	is "$chart: the superuser goes straight to Postgres with a small pool" \
		"$(env_value DB_HOST_ADMIN):$(env_value DB_PORT_ADMIN) as $(env_value DB_USER_ADMIN), pool $(env_value DB_POOL_MAX)" \
		"alga-core-postgres:5432 as postgres, pool 2"
	is "$chart: Redis of alga-core" "$(env_value REDIS_HOST):$(env_value REDIS_PORT)" \
		"alga-core-redis:6379"
	if [ "$temporal" = yes ]; then
		is "$chart: Temporal frontend" "$(env_value TEMPORAL_ADDRESS)" \
			"temporal-frontend:7233"
	else
		is "$chart: no Temporal address" "$(env_value TEMPORAL_ADDRESS)" ""
	fi
	is "$chart: no secret-looking variable has a plain value" \
		"$(pod '[(.containers + .initContainers)[] | .env[]? | select(.value != null) | select(.name | test("PASSWORD|SECRET|TOKEN|KEY")) | select(.name != "ALGA_BOOTSTRAP_PASSWORD_FILE") | .name] | join(" ")')" ""
	is "$chart: passwords come from the alga-core Secrets" \
		"$(pod '[.containers[0].env[] | select(.valueFrom and (.name | test("^(DB|REDIS)_PASSWORD"))) | "\(.name)=\(.valueFrom.secretKeyRef.name)/\(.valueFrom.secretKeyRef.key)"] | join(" ")')" \
		"DB_PASSWORD_ADMIN=alga-core-db/postgres-password DB_PASSWORD_SERVER=alga-core-db/app-password REDIS_PASSWORD=alga-core-db/redis-password"
	is "$chart: the Secret names are configurable" \
		"$(template --set secrets.db=site-db | grep -c -E 'name: site-db|secretName: site-db')" \
		"$(grep -c -E 'name: alga-core-db|secretName: alga-core-db' "$WORK/$chart-HELM4-default.yaml")"
	is "$chart: waits for the bootstrap as app_user through PgBouncer" \
		"$(pod '.initContainers[0] | "\(.name): \(.command | join(" ")) " + ([.env[] | "\(.name)=\(.value)"] | join(" "))')" \
		"wait-for-bootstrap: /usr/local/bin/alga-bootstrap wait ALGA_BOOTSTRAP_HOST=pgbouncer ALGA_BOOTSTRAP_PORT=6432 ALGA_BOOTSTRAP_USER=app_user ALGA_BOOTSTRAP_DATABASE=server ALGA_BOOTSTRAP_PASSWORD_FILE=/run/secrets/alga-db/app-password"
	is "$chart: startup and readiness ask the health endpoint on $port$path" \
		"$(pod '.containers[0] | "\(.startupProbe.httpGet.path) \(.readinessProbe.httpGet.path) \(.readinessProbe.httpGet.port) \(.ports[] | select(.name == "health") | .containerPort)"')" \
		"$path $path health $port"
	ok "$chart: liveness asks the health endpoint too" \
		test "$(pod '.containers[0].livenessProbe.httpGet.port')" = health
	is "$chart: the image is told the health port" \
		"$(pod ".containers[0].env[] | select(.value == \"$port\") | .name" | grep -c -E '^(PORT|HEALTH_CHECK_PORT)$')" 1
	is "$chart: pod security restricted" \
		"$(pod '[.securityContext.runAsNonRoot, .securityContext.seccompProfile.type, ((.containers + .initContainers)[] | .securityContext | .allowPrivilegeEscalation, .capabilities.drop[0])] | map(tostring) | join(" ")')" \
		"true RuntimeDefault false ALL false ALL"
	is "$chart: every container has requests and limits" \
		"$(pod '[(.containers + .initContainers)[] | select(.resources.requests.cpu and .resources.requests.memory and .resources.limits.memory)] | length')" 2
	lacks "$chart: no Helm hooks" "$(cat "$WORK/$chart-HELM4-default.yaml")" "helm.sh/hook"
}

test_rejections() {
	not_ok "$chart: the schema rejects an unknown key" template --set bogus=1
	not_ok "$chart: the schema rejects the latest tag" template --set image.tag=latest
	not_ok "$chart: the schema rejects a string port" \
		template --set-string database.port=six
	contains "$chart: a secret-looking extraEnv fails the render" \
		"$(template --set extraEnv.CRYPTO_KEY=x 2>&1)" \
		"extraEnv.CRYPTO_KEY looks like a secret"
	contains "$chart: extraEnv cannot reroute the database" \
		"$(template --set extraEnv.DB_HOST=alga-core-postgres 2>&1)" \
		"extraEnv.DB_HOST is set by the chart itself"
	is "$chart: every values key has a # -- comment" \
		"$(undocumented_keys "$ROOT/charts/$chart/values.yaml")" ""
}

# The three charts are kept alike by hand instead of through a library
# chart (see charts/workflow-worker/README.md): hold them to it.
test_alike() {
	local file other
	for other in email-service temporal-worker; do
		for file in "$ROOT"/charts/workflow-worker/templates/*; do
			ok "$other: templates/$(basename "$file") is workflow-worker's but for the name" \
				diff <(sed "s/workflow-worker/$other/g" "$file") \
				"$ROOT/charts/$other/templates/$(basename "$file")"
		done
		ok "$other: values.schema.json is workflow-worker's" \
			diff "$ROOT/charts/workflow-worker/values.schema.json" \
			"$ROOT/charts/$other/values.schema.json"
		is "$other: no template of its own" \
			"$(find "$ROOT/charts/$other/templates" -type f | wc -l)" \
			"$(find "$ROOT/charts/workflow-worker/templates" -type f | wc -l)"
	done
}

main() {
	local port path temporal
	WORK=$(mktemp -d /tmp/alga-chart-test.XXXXXX)
	trap 'rm -rf "$WORK"' EXIT
	while IFS=: read -r chart port path temporal; do
		test_renders
		test_contract "$port" "$path" "$temporal"
		test_rejections
	done <<<"$WORKERS"
	is "workflow-worker: the README's values table names every top-level key" \
		"$(keys_missing_from_readme "$ROOT/charts/workflow-worker")" ""
	test_alike
	done_testing
}

main "$@"
