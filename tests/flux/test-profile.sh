#!/usr/bin/env bash
# test-profile.sh: the Flux base and the talos-single-node profile build with
# kustomize, every object passes the Kubernetes and Flux schemas, and the
# releases are wired as the design says: chart paths that exist, the
# dependsOn graph (acyclic, pgbouncer independent of alga-core), wait on,
# retry in place, values from the generated ConfigMaps, pinned images.
# Offline: no cluster and no Temporal chart are needed.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
cd "$ROOT" || exit 1

profile=appliance/flux/profiles/talos-single-node
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

releases="alga-core pgbouncer temporal workflow-worker email-service temporal-worker"
our_charts="alga-core pgbouncer workflow-worker email-service temporal-worker"

# q JQ_FILTER: query the built profile (a JSON array of objects).
q() {
	jq -r "$1" "$work/profile.json"
}

# hr NAME JQ_FILTER: query one HelmRelease.
hr() {
	jq -r --arg n "$1" ".[] | select(.kind == \"HelmRelease\" and .metadata.name == \$n) | $2" \
		"$work/profile.json"
}

# --- the builds -------------------------------------------------------------
ok "kubectl kustomize builds the base" \
	"$KUBECTL" kustomize appliance/flux/base -o "$work/base.yaml"
ok "kubectl kustomize builds the profile" \
	"$KUBECTL" kustomize "$profile" -o "$work/profile.yaml"
ok "every object of the base is valid against the schemas" \
	validate_schemas "$work/base.yaml"
ok "every object of the profile is valid against the schemas" \
	validate_schemas "$work/profile.yaml"
node tools/yaml-to-json.mjs "$work/profile.yaml" >"$work/profile.json" ||
	echo '[]' >"$work/profile.json"

# --- the releases -----------------------------------------------------------
is "the six releases, and only they, are HelmReleases in namespace alga" \
	"$(q '[.[] | select(.kind == "HelmRelease") | "\(.metadata.namespace)/\(.metadata.name)"] | sort | join(" ")')" \
	"alga/alga-core alga/email-service alga/pgbouncer alga/temporal alga/temporal-worker alga/workflow-worker"
for r in $releases; do
	is "$r: releaseName and targetNamespace are fixed" \
		"$(hr "$r" '"\(.spec.releaseName) \(.spec.targetNamespace)"')" "$r alga"
	is "$r: Flux waits for it (no disableWait, no disableWaitForJobs)" \
		"$(hr "$r" '[.. | objects | (.disableWait, .disableWaitForJobs) | select(. == true)] | length')" "0"
	is "$r: install and upgrade retry in place (RetryOnFailure)" \
		"$(hr "$r" '"\(.spec.install.strategy.name) \(.spec.upgrade.strategy.name)"')" \
		"RetryOnFailure RetryOnFailure"
	is "$r: no remediation that uninstalls" \
		"$(hr "$r" '[.. | objects | .strategy? | select(. == "uninstall")] | length')" "0"
	minutes=$(hr "$r" '.spec.timeout // "" | if test("^[0-9]+m$") then rtrimstr("m") else "0" end')
	ok "$r: a timeout of at least 10 minutes for first image pulls (${minutes}m)" \
		test "$minutes" -ge 10
done
ok "alga-core's timeout is longer than its bootstrap Job's 45-minute deadline" \
	test "$(hr alga-core '.spec.timeout | rtrimstr("m")')" -gt 45

for r in $our_charts; do
	path=$(hr "$r" '.spec.chart.spec.chart')
	is "$r: chart ./charts/$r from GitRepository flux-system/alga-appliance" \
		"$(hr "$r" '"\(.spec.chart.spec.chart) \(.spec.chart.spec.sourceRef.kind) \(.spec.chart.spec.sourceRef.namespace)/\(.spec.chart.spec.sourceRef.name)"')" \
		"./charts/$r GitRepository flux-system/alga-appliance"
	is "$r: reconcileStrategy Revision (a template change reaches the cluster)" \
		"$(hr "$r" '.spec.chart.spec.reconcileStrategy')" "Revision"
	ok "$r: the chart path $path exists in this repository" \
		test -f "$ROOT/${path#./}/Chart.yaml"
done

is "temporal: the official chart from HelmRepository temporal" \
	"$(hr temporal '"\(.spec.chart.spec.chart) \(.spec.chart.spec.sourceRef.kind)/\(.spec.chart.spec.sourceRef.name)"')" \
	"temporal HelmRepository/temporal"
ok "temporal: the chart version is pinned exactly ($(hr temporal '.spec.chart.spec.version'))" \
	grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' <<<"$(hr temporal '.spec.chart.spec.version')"
is "the Temporal HelmRepository is Temporal's official one" \
	"$(q '.[] | select(.kind == "HelmRepository" and .metadata.name == "temporal") | "\(.metadata.namespace) \(.spec.url)"')" \
	"alga https://go.temporal.io/helm-charts"
is "temporal: the schema Job is no Helm hook (set for every profile in the base)" \
	"$(hr temporal '.spec.values.schema.useHelmHooks')" "false"

# --- dependsOn: exactly the design's graph, and acyclic ----------------------
# shellcheck disable=SC2016 # $n is a jq variable
edges=$(q '[.[] | select(.kind == "HelmRelease") | .metadata.name as $n | (.spec.dependsOn // [])[] | "\($n)->\(.name)"] | sort | join(" ")')
is "dependsOn is exactly the design's graph" "$edges" \
	"email-service->alga-core email-service->pgbouncer temporal->alga-core temporal-worker->alga-core temporal-worker->pgbouncer temporal-worker->temporal workflow-worker->alga-core workflow-worker->pgbouncer"
is "pgbouncer depends on nothing (alga-core's server routes through it)" \
	"$(hr pgbouncer '.spec.dependsOn // [] | length')" "0"
is "every dependency names a release in the same namespace" \
	"$(q '[.[] | select(.kind == "HelmRelease") | (.spec.dependsOn // [])[] | select(.namespace != null and .namespace != "alga")] | length')" "0"
# acyclic EDGES: tsort fails on a loop ("a->b" means a waits for b).
# shellcheck disable=SC2317 # called through ok and not_ok
acyclic() {
	tr ' ' '\n' <<<"$1" | sed 's/->/ /' | awk 'NF { print $2, $1 }' | tsort
}
ok "the dependsOn graph has no cycle" acyclic "$edges"
not_ok "a graph with a cycle is caught (the check itself)" \
	acyclic "pgbouncer->alga-core alga-core->pgbouncer"

# --- values: generated ConfigMaps wired through valuesFrom -------------------
for r in $releases; do
	is "$r: valuesFrom is the ConfigMap $r-values, key values.yaml" \
		"$(hr "$r" '[.spec.valuesFrom[]? | "\(.kind)/\(.name):\(.valuesKey)"] | join(" ")')" \
		"ConfigMap/$r-values:values.yaml"
	is "$r: the profile generates ConfigMap alga/$r-values with key values.yaml" \
		"$(q '.[] | select(.kind == "ConfigMap" and .metadata.name == "'"$r"'-values") | "\(.metadata.namespace) \(.data | keys | join(","))"')" \
		"alga values.yaml"
	q ".[] | select(.kind == \"ConfigMap\" and .metadata.name == \"$r-values\") | .data[\"values.yaml\"]" \
		>"$work/$r-values.yaml"
	is "$r: its values file is one YAML mapping" \
		"$(node tools/yaml-to-json.mjs "$work/$r-values.yaml" 2>&1 | jq -r 'if length == 1 and (.[0] | type) == "object" then "mapping" else "not a mapping" end' 2>&1)" \
		"mapping"
done
is "the values ConfigMaps keep their names (no hash suffix) and are watched" \
	"$(q '[.[] | select(.kind == "ConfigMap" and (.metadata.name | endswith("-values"))) | .metadata.labels["reconcile.fluxcd.io/watch"]] | unique | join(" ")')" \
	"Enabled"

# The overlay names no value the base already sets (inline values win over
# valuesFrom, so a profile value there would be dead).
for r in $releases; do
	base_paths=$(jq -r --arg n "$r" '.[] | select(.kind == "HelmRelease" and .metadata.name == $n) | .spec.values // {} | paths(scalars) | map(tostring) | join(".")' \
		"$work/profile.json")
	profile_paths=$(node tools/yaml-to-json.mjs "$work/$r-values.yaml" 2>/dev/null |
		jq -r '.[0] // {} | paths(scalars) | map(tostring) | join(".")')
	is "$r: the profile's values repeat nothing the base sets inline" \
		"$(comm -12 <(sort <<<"$base_paths") <(sort <<<"$profile_paths") | sed '/^$/d' | tr '\n' ' ')" ""
done

# Every image tag of the profile is pinned; Temporal goes direct to Postgres,
# everything else of ours through PgBouncer.
tags=$(for f in "$profile"/values/*.yaml; do node tools/yaml-to-json.mjs "$f"; done 2>/dev/null |
	jq -r '.[] | .. | objects | select(has("repository") and has("tag")) | "\(.repository):\(.tag)"')
ok "the profile's values name at least the Temporal images" test -n "$tags"
is "every values file pins the same bootstrap image (the one alga-core runs)" \
	"$(for f in "$profile"/values/*.yaml; do node tools/yaml-to-json.mjs "$f"; done 2>/dev/null |
		jq -r '.[] | .bootstrap.image? // empty | "\(.repository):\(.tag)"' | sort -u)" \
	"$(node tools/yaml-to-json.mjs "$profile/values/alga-core.yaml" | jq -r '.[0].bootstrap.image | "\(.repository):\(.tag)"')"
lacks "no image tag in the profile's values is empty or latest" \
	"$(grep -E ':(latest)?$' <<<"$tags")" ":"
# direct_postgres: the values files of apps and workers that name alga-core's
# Postgres outside a comment (PgBouncer and Temporal are meant to).
direct_postgres() {
	local f
	for f in "$profile"/values/*.yaml; do
		case ${f##*/} in
		pgbouncer.yaml | temporal.yaml) continue ;;
		esac
		! grep -v '^[[:space:]]*#' "$f" | grep -q 'alga-core-postgres' || echo "$f"
	done
}
is "apps and workers name no direct Postgres address (they use PgBouncer)" \
	"$(direct_postgres)" ""
is "Temporal's two stores use alga-core-postgres:5432 with role temporal and Secret alga-core-db" \
	"$(node tools/yaml-to-json.mjs "$profile/values/temporal.yaml" | jq -r '[.[0].server.config.persistence.datastores[] | .sql | "\(.connectAddr) \(.user) \(.existingSecret)/\(.secretKey) \(.databaseName)"] | join(", ")')" \
	"alga-core-postgres:5432 temporal alga-core-db/temporal-password temporal, alga-core-postgres:5432 temporal alga-core-db/temporal-password temporal_visibility"
is "Temporal's numHistoryShards is small and set" \
	"$(node tools/yaml-to-json.mjs "$profile/values/temporal.yaml" | jq -r '.[0].server.config.persistence.numHistoryShards')" "4"
for image in $(q '.[] | select(.kind == "Deployment") | .spec.template.spec.containers[].image'); do
	ok "profile image $image is pinned to a tag" grep -Eq ':[A-Za-z0-9][A-Za-z0-9._-]*$' <<<"${image##*/}"
	lacks "profile image $image is not latest" "$image" ":latest"
done

# --- our charts rendered with the profile's values ---------------------------
# What Flux would install, offline: each chart of ours with its ConfigMap's
# values. ALGA_TEST_CHARTS_DIR may point at another charts/ directory (to
# try charts that are not merged yet); by default it is this repository's.
charts_dir=${ALGA_TEST_CHARTS_DIR:-$ROOT/charts}
for r in $our_charts; do
	if [ ! -f "$charts_dir/$r/Chart.yaml" ]; then
		skip "$r: renders with the profile's values" "no chart at $charts_dir/$r yet"
		continue
	fi
	out=$work/render-$r.yaml
	if ! "$HELM4" template "$r" "$charts_dir/$r" --namespace alga \
		-f "$work/$r-values.yaml" >"$out" 2>"$out.err"; then
		fail "$r: renders with the profile's values" "$(cat "$out.err")"
		continue
	fi
	pass "$r: renders with the profile's values"
	ok "$r: every rendered object is valid against the schemas" validate_schemas "$out"
	node tools/yaml-to-json.mjs "$out" >"$out.json"
	is "$r: every PVC (and claim template) uses local-path-retain" \
		"$(jq -r '[.. | objects | select(.kind? == "PersistentVolumeClaim" or has("volumeClaimTemplates")) | (.spec.storageClassName // (.volumeClaimTemplates[]?.spec.storageClassName)) // "unset"] | map(select(. != "local-path-retain")) | join(" ")' "$out.json")" ""
	is "$r: one replica of every workload" \
		"$(jq -r '[.[] | select(.kind == "Deployment" or .kind == "StatefulSet") | select((.spec.replicas // 1) != 1) | .metadata.name] | join(" ")' "$out.json")" ""
	# The namespace enforces Pod Security restricted: a pod short of it is
	# rejected at admission, so check the four things restricted asks of
	# every container (pod-level settings count for runAsNonRoot/seccomp).
	is "$r: every container meets Pod Security restricted" \
		"$(jq -r '[.[] | .. | objects | select(has("containers")) | .securityContext as $pod | (.initContainers // []) + .containers | .[] | .securityContext as $c | select(
			(($c.runAsNonRoot // $pod.runAsNonRoot) != true)
			or ($c.allowPrivilegeEscalation != false)
			or ((($c.capabilities.drop // []) | index("ALL")) == null)
			or (($c.seccompProfile.type // $pod.seccompProfile.type) != "RuntimeDefault")) | .name] | join(" ")' "$out.json")" ""
	is "$r: every DB_HOST outside the bootstrap Job is pgbouncer, port 6432" \
		"$(jq -r '[.[] | select(.kind != "Job") | .. | objects | select(has("containers")) | (.initContainers // []) + .containers | .[] | (.env // []) as $e | [$e[] | select(.name == "DB_HOST" or .name == "DB_PORT") | "\(.name)=\(.value)"] | select(length > 0) | join(",")] | unique | map(select(. != "DB_HOST=pgbouncer,DB_PORT=6432")) | join(" ")' "$out.json")" ""
done

# Temporal's chart is remote and CI cannot fetch it. ALGA_TEST_TEMPORAL_CHART
# may name a local copy of the pinned version (an unpacked chart directory):
# then it is rendered with the base's inline values and the profile's.
temporal_chart=${ALGA_TEST_TEMPORAL_CHART:-}
if [ -z "$temporal_chart" ]; then
	skip "temporal: renders with the profile's values" "no local copy of the chart (set ALGA_TEST_TEMPORAL_CHART)"
else
	out=$work/render-temporal.yaml
	hr temporal '.spec.values' >"$work/temporal-inline.json"
	if "$HELM4" template temporal "$temporal_chart" --namespace alga \
		-f "$work/temporal-values.yaml" -f "$work/temporal-inline.json" >"$out" 2>"$out.err"; then
		pass "temporal: renders with the profile's values"
	else
		fail "temporal: renders with the profile's values" "$(cat "$out.err")"
	fi
	ok "temporal: every rendered object is valid against the schemas" validate_schemas "$out"
	node tools/yaml-to-json.mjs "$out" >"$out.json"
	is "temporal: no Helm hook but the chart's test pod (schema and namespace Jobs are plain)" \
		"$(jq -r '[.[] | select(.metadata.annotations["helm.sh/hook"] != null and .metadata.annotations["helm.sh/hook"] != "test") | .metadata.name] | join(" ")' "$out.json")" ""
	is "temporal: every container meets Pod Security restricted" \
		"$(jq -r '[.[] | select(.kind != "Pod") | .. | objects | select(has("containers")) | .securityContext as $pod | (.initContainers // []) + .containers | .[] | .securityContext as $c | select(
			(($c.runAsNonRoot // $pod.runAsNonRoot) != true)
			or ($c.allowPrivilegeEscalation != false)
			or ((($c.capabilities.drop // []) | index("ALL")) == null)
			or (($c.seccompProfile.type // $pod.seccompProfile.type) != "RuntimeDefault")) | .name] | join(" ")' "$out.json")" ""
	is "temporal: one replica of every Deployment" \
		"$(jq -r '[.[] | select(.kind == "Deployment" and .spec.replicas != 1) | .metadata.name] | join(" ")' "$out.json")" ""
	contains "temporal: its stores talk to alga-core-postgres:5432 directly" \
		"$(jq -r '.[] | select(.kind == "ConfigMap" and .metadata.name == "temporal-config") | .data["config_template.yaml"]' "$out.json")" \
		"connectAddr: alga-core-postgres:5432"
fi

# --- namespaces and storage -------------------------------------------------
is "namespace alga enforces Pod Security restricted" \
	"$(q '.[] | select(.kind == "Namespace" and .metadata.name == "alga") | .metadata.labels["pod-security.kubernetes.io/enforce"]')" \
	"restricted"
is "the provisioner's namespace is labelled privileged for its helper pods" \
	"$(q '.[] | select(.kind == "Namespace" and .metadata.name == "local-path-storage") | .metadata.labels["pod-security.kubernetes.io/enforce"]')" \
	"privileged"
is "Flux never prunes the namespace alga or the StorageClass" \
	"$(q '[.[] | select((.kind == "Namespace" and .metadata.name == "alga") or .kind == "StorageClass") | .metadata.annotations["kustomize.toolkit.fluxcd.io/prune"]] | unique | join(" ")')" \
	"disabled"
is "StorageClass local-path-retain keeps volumes (Retain) and waits for the pod" \
	"$(q '.[] | select(.kind == "StorageClass") | "\(.metadata.name) \(.reclaimPolicy) \(.volumeBindingMode)"')" \
	"local-path-retain Retain WaitForFirstConsumer"
contains "the provisioner stores volumes under /var (Talos's /opt is read-only)" \
	"$(q '.[] | select(.kind == "ConfigMap" and .metadata.name == "local-path-config") | .data["config.json"]')" \
	'"/var/local-path-provisioner"'

# --- the Talos patch agrees with the profile --------------------------------
talos=$(node tools/yaml-to-json.mjs appliance/talos/single-node.yaml 2>&1)
is "the Talos patch lets workloads onto the single control-plane node" \
	"$(jq -r '.[0].cluster.allowSchedulingOnControlPlanes' <<<"$talos")" "true"
storage_root=$(q '.[] | select(.kind == "ConfigMap" and .metadata.name == "local-path-config") | .data["config.json"]' |
	jq -r '.nodePathMap[0].paths[0]')
is "the Talos patch binds the provisioner's storage root into the kubelet, shared" \
	"$(jq -r --arg p "$storage_root" '.[0].machine.kubelet.extraMounts[] | select(.destination == $p and .source == $p) | .options | sort | join(",")' <<<"$talos")" \
	"bind,rshared,rw"
is "the Talos patch sets Redis's overcommit sysctl on the node" \
	"$(jq -r '.[0].machine.sysctls["vm.overcommit_memory"]' <<<"$talos")" "1"

# --- file habits -------------------------------------------------------------
while IFS= read -r file; do
	case $file in
	"$profile"/values/*) continue ;;
	esac
	is "$file starts with a yaml-language-server schema comment" \
		"$(head -n 1 "$file" | cut -c1-32)" "# yaml-language-server: \$schema="
done < <(find appliance/flux appliance/talos -name '*.yaml' ! -name rules.yaml | sort)

done_testing
