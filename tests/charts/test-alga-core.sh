#!/usr/bin/env bash
# test-alga-core.sh: the alga-core chart renders, under Helm 3 and Helm 4
# alike, what the appliance needs: one plain bootstrap Job, the app routed
# through PgBouncer and the bootstrap straight to Postgres, kept Secrets and
# data volumes, no secret in an env value, the bootstrap plan's secret keys
# in the Secret mounted at its secrets_dir, Pod Security restricted, and
# clear failures for wrong values.
#
# Renders with the chart defaults, with charts/alga-core/ci/appliance-values.yaml
# and, when it exists, with the talos-single-node profile's alga-core values.
# The credential lookup needs a live API server; its offline half is here,
# the live half in tests/charts/test-alga-core-lookup.sh.
# jq filters bind $names inside single quotes on purpose.
# shellcheck disable=SC2016
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/charts.sh
. "$ROOT/tests/lib/charts.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

chart=$ROOT/charts/alga-core

value_sets="default ci"
profile_values=$ROOT/appliance/flux/profiles/talos-single-node/values/alga-core.yaml
[ -f "$profile_values" ] && value_sets="$value_sets profile"

# values_args SET: the helm arguments of one value set.
values_args() {
	case $1 in
	default) ;;
	ci) printf '%s\n' -f "$chart/ci/appliance-values.yaml" ;;
	profile) printf '%s\n' -f "$profile_values" ;;
	esac
}

# q FILE FILTER: jq -r over a rendered JSON array; a broken filter prints
# its error, so that no comparison with "" passes by accident.
q() {
	jq -r "$2" "$1" 2>&1 || echo "jq failed"
}

# env_of FILE KIND NAME CONTAINER VAR: the value: of one env entry.
env_of() {
	q "$1" "[.[] | select(.kind == \"$2\" and .metadata.name == \"$3\")
		| .spec.template.spec | (.initContainers // []) + .containers | .[]
		| select(.name == \"$4\") | .env[] | select(.name == \"$5\")
		| .value] | first // \"\""
}

# secret_values FILE: every decoded value of the rendered Secrets.
secret_values() {
	q "$1" '.[] | select(.kind == "Secret") | .data // {} | .[] | @base64d'
}

# check_plan_secrets TAG RENDER_JSON PLAN_JSON: the plan names its secrets
# by key in secrets_dir; that is where the Job mounts the database Secret,
# and every key the plan names is a key of that Secret (when rendered).
check_plan_secrets() {
	local tag=$1 out=$2 plan=$3 secret keys
	q "$out" '.[] | select(.kind == "ConfigMap"
		and (.metadata.name | endswith("-bootstrap-plan")))
		| .data["plan.yaml"]' | node "$ROOT/tools/yaml-to-json.mjs" >"$plan"
	[ "$(q "$plan" '.[0].secrets_dir // ""')" != "" ] || return 0
	is "$tag: the plan's secrets_dir is where the Job mounts the database Secret" \
		"$(q "$plan" '.[0].secrets_dir')" \
		"$(q "$out" '.[] | select(.kind == "Job") | .spec.template.spec
			| .containers[0].volumeMounts[]
			| select(.name == "db-secrets") | .mountPath')"
	secret=$(q "$out" '.[] | select(.kind == "Job") | .spec.template.spec
		| .volumes[] | select(.name == "db-secrets") | .secret.secretName')
	keys=$(jq -r --arg s "$secret" '.[] | select(.kind == "Secret"
		and .metadata.name == $s) | .data | keys | join(" ")' "$out")
	[ -n "$keys" ] || return 0
	is "$tag: every secret key of the plan is a key of Secret $secret" \
		"$(jq -r --arg keys "$keys" '[.[0] | .. | objects
			| (.password_secret // empty), (.env_secrets // {} | .[])]
			| unique - ($keys | split(" ")) | join(" ")' "$plan")" ""
}

# check_render HELM SET FILE: everything a single render must satisfy.
check_render() {
	local h=$1 set=$2 out=$3 tag="$1 $2" job value leaked

	ok "$tag: every object matches its Kubernetes schema" \
		validate_schemas "$out"
	is "$tag: exactly one Job" \
		"$(q "$out.json" '[.[] | select(.kind == "Job")] | length')" 1
	job=$(q "$out.json" '.[] | select(.kind == "Job") | .metadata.name')
	ok "$tag: the Job is named alga-core-bootstrap-<hash>" \
		grep -Eqx 'alga-core-bootstrap-[0-9a-f]{8}' <<<"$job"
	is "$tag: no object carries a Helm hook annotation" \
		"$(q "$out.json" '[.[] | .metadata.annotations // {} | keys[]
			| select(startswith("helm.sh/hook"))] | length')" 0
	is "$tag: no template named like a migration or seed hook" \
		"$(q "$out.json" '[.[] | .metadata.name
			| select(test("migrat|seed"))] | length')" 0
	is "$tag: the Job never expires (no ttlSecondsAfterFinished)" \
		"$(q "$out.json" '.[] | select(.kind == "Job")
			| .spec.ttlSecondsAfterFinished // "none"')" none
	is "$tag: the Job has a backoff limit and an active deadline" \
		"$(q "$out.json" '.[] | select(.kind == "Job")
			| [.spec.backoffLimit > 0, .spec.activeDeadlineSeconds >= 1800]
			| all')" true
	is "$tag: the Job runs alga-bootstrap run with the plan and a revision" \
		"$(q "$out.json" '.[] | select(.kind == "Job")
			| .spec.template.spec.containers[0].command[0:4] | join(" ")')" \
		"/alga-bootstrap/alga-bootstrap run --plan /etc/alga-bootstrap/plan.yaml"
	is "$tag: the Job runs the server image" \
		"$(q "$out.json" '.[] | select(.kind == "Job")
			| .spec.template.spec.containers[0].image')" \
		"$(q "$out.json" '.[] | select(.kind == "Deployment"
			and .metadata.name == "alga-core-server")
			| .spec.template.spec.containers[0].image')"
	is "$tag: the Job connects to the Postgres Service" \
		"$(env_of "$out.json" Job "$job" bootstrap ALGA_BOOTSTRAP_HOST):$(
			env_of "$out.json" Job "$job" bootstrap ALGA_BOOTSTRAP_PORT)" \
		"alga-core-postgres:5432"
	is "$tag: the server's database host is PgBouncer" \
		"$(env_of "$out.json" Deployment alga-core-server server DB_HOST):$(
			env_of "$out.json" Deployment alga-core-server server DB_PORT)" \
		"pgbouncer:6432"
	is "$tag: the server waits for the bootstrap through PgBouncer" \
		"$(env_of "$out.json" Deployment alga-core-server \
			wait-for-bootstrap ALGA_BOOTSTRAP_HOST)" pgbouncer
	is "$tag: the server waits for the Job's revision" \
		"$(env_of "$out.json" Deployment alga-core-server \
			wait-for-bootstrap ALGA_BOOTSTRAP_REVISION)" \
		"$(q "$out.json" '.[] | select(.kind == "Job")
			| .spec.template.spec.containers[0].command[5]')"
	is "$tag: the Postgres Service listens on 5432" \
		"$(q "$out.json" '.[] | select(.kind == "Service"
			and .metadata.name == "alga-core-postgres")
			| .spec.ports[0].port')" 5432

	check_plan_secrets "$tag" "$out.json" "$work/plan-$h-$set.json"

	is "$tag: no env value: names a secret" \
		"$(q "$out.json" '[.. | objects | select(has("env")) | .env[]?
			| select(has("value") and (.name
			| test("PASSWORD$|SECRET|_KEY$")))] | map(.name) | join(" ")')" ""
	leaked=""
	while IFS= read -r value; do
		[ -n "$value" ] || continue
		if q "$out.json" '[.[] | select(.kind != "Secret")] | tostring' |
			grep -qF -- "$value"; then
			leaked="$leaked x"
		fi
	done < <(secret_values "$out.json")
	is "$tag: no generated secret appears outside the Secrets" "$leaked" ""
	is "$tag: every Secret has the keep policy" \
		"$(q "$out.json" '[.[] | select(.kind == "Secret")
			| .metadata.annotations["helm.sh/resource-policy"]]
			| unique | join(",")')" keep
	is "$tag: every PVC has the keep policy" \
		"$(q "$out.json" '[(.[] | select(.kind == "PersistentVolumeClaim")),
			(.[] | .spec.volumeClaimTemplates[]?)
			| .metadata.annotations["helm.sh/resource-policy"]]
			| unique | join(",")')" keep
	is "$tag: StatefulSets retain their PVCs" \
		"$(q "$out.json" '[.[] | select(.kind == "StatefulSet")
			| .spec.persistentVolumeClaimRetentionPolicy
			| .whenDeleted, .whenScaled] | unique | join(",")')" Retain
	is "$tag: Postgres has a memory-backed /dev/shm" \
		"$(q "$out.json" '.[] | select(.kind == "StatefulSet"
			and .metadata.name == "alga-core-postgres")
			| .spec.template.spec as $p
			| $p.containers[0].volumeMounts[]
			| select(.mountPath == "/dev/shm") | .name as $v
			| $p.volumes[] | select(.name == $v) | .emptyDir.medium')" Memory

	is "$tag: every container has cpu and memory requests and limits" \
		"$(q "$out.json" '[.[] | .spec.template.spec? // empty
			| (.initContainers // []) + .containers | .[]
			| select([.resources.requests.cpu, .resources.requests.memory,
				.resources.limits.cpu, .resources.limits.memory]
				| any(. == null)) | .name] | join(" ")')" ""
	is "$tag: every container is Pod Security restricted" \
		"$(q "$out.json" "$(restricted_violations_filter)")" ""
	is "$tag: no pod template carries the chart or app version" \
		"$(q "$out.json" '[.[] | .spec.template.metadata.labels? // empty
			| keys[] | select(. == "helm.sh/chart"
				or . == "app.kubernetes.io/version")] | length')" 0
	is "$tag: pods mount no service account token" \
		"$(q "$out.json" '[.[] | .spec.template.spec? // empty
			| .automountServiceAccountToken] | unique | tostring')" \
		"[false]"
	is "$tag: every image is pinned by tag" \
		"$(q "$out.json" '[.[] | .spec.template.spec? // empty
			| (.initContainers // []) + .containers | .[] | .image
			| select((test(":[A-Za-z0-9_][A-Za-z0-9_.-]*$") | not)
				or test(":latest$"))] | join(" ")')" ""
}

# restricted_violations_filter: jq that lists containers breaking Pod
# Security restricted (pod-level settings count for every container).
restricted_violations_filter() {
	cat <<'JQ'
[.[] | .metadata.name as $obj | .spec.template.spec? // empty
 | select(.hostNetwork or .hostPID or .hostIPC
	or ((.volumes // []) | any(has("hostPath")))
	or (.securityContext.sysctls // [] | length > 0))
 | "\($obj): host namespaces, hostPath or sysctls"]
+
[.[] | .metadata.name as $obj | .spec.template.spec? // empty
 | . as $pod
 | (.initContainers // []) + .containers | .[]
 | select(
	(.securityContext.privileged == true)
	or (.securityContext.allowPrivilegeEscalation != false)
	or ((.securityContext.capabilities.drop // []) | index("ALL") | not)
	or ((.securityContext.capabilities.add // []) | length > 0)
	or (((.securityContext.runAsNonRoot // $pod.securityContext.runAsNonRoot)
		== true) | not)
	or ((.securityContext.runAsUser // $pod.securityContext.runAsUser // 1)
		== 0)
	or (((.securityContext.seccompProfile.type
		// $pod.securityContext.seccompProfile.type)
		| IN("RuntimeDefault", "Localhost")) | not))
 | "\($obj)/\(.name)"]
| join(" ")
JQ
}

for h in $HELMS; do
	helm=$(helm_of "$h")
	ok "$h: helm lint with the defaults" \
		"$helm" lint --strict "$chart" --namespace alga
	ok "$h: helm lint with the appliance values" \
		"$helm" lint --strict "$chart" --namespace alga \
		-f "$chart/ci/appliance-values.yaml"
	if [ -f "$profile_values" ]; then
		ok "$h: helm lint with the profile's values" \
			"$helm" lint --strict "$chart" --namespace alga \
			-f "$profile_values"
	fi
	for set in $value_sets; do
		mapfile -t args < <(values_args "$set")
		out=$work/$h-$set.yaml
		if ok_here "$h $set: helm template" \
			render "$h" "$out" "$chart" alga-core "${args[@]}"; then
			check_render "$h" "$set" "$out"
		fi
	done
done

# strip_secrets FILE.json: the render with every Secret value blanked.
strip_secrets() {
	jq -S '[.[] | if .kind == "Secret"
		then .data |= map_values("x") else . end]' "$1"
}

for set in $value_sets; do
	is "$set: Helm 3 and Helm 4 render the same objects" \
		"$(diff <(strip_secrets "$work/HELM3-$set.yaml.json") \
			<(strip_secrets "$work/HELM4-$set.yaml.json") && echo same)" \
		same
done

for h in $HELMS; do
	render "$h" "$work/again.yaml" "$chart" alga-core
	is "$h: two renders differ only in generated secret values" \
		"$(diff <(strip_secrets "$work/$h-default.yaml.json") \
			<(strip_secrets "$work/again.yaml.json") && echo same)" same
	is "$h: ... and the generated values do differ (offline: no lookup)" \
		"$(cmp -s <(secret_values "$work/$h-default.yaml.json") \
			<(secret_values "$work/again.yaml.json") && echo equal)" ""
done

done_testing
