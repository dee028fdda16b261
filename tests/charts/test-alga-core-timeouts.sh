#!/usr/bin/env bash
# test-alga-core-timeouts.sh: one run of the bootstrap plan fits inside the
# bootstrap Job's activeDeadlineSeconds, under Helm 3 and Helm 4, with the
# chart's defaults and with the talos-single-node profile's values.
#
# The plan is read from the rendered ConfigMap (YAML inside
# data["plan.yaml"]), so what is checked is what the Job mounts. If the
# Job's deadline were shorter, Kubernetes would SIGTERM the bootstrap before
# the plan's own timeouts could fire, possibly in the middle of the seeds.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/charts.sh
. "$ROOT/tests/lib/charts.sh"

# The stop grace of each child (SIGTERM to SIGKILL), src/bootstrap/steps.c.
grace=10
chart=$ROOT/charts/alga-core
profile=$ROOT/appliance/flux/profiles/talos-single-node/values/alga-core.yaml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# plan_seconds PLAN_JSON: connect + lock + migrate + seed + the two graces,
# each with the bootstrap's default when the plan leaves it out.
plan_seconds() {
	jq --argjson grace "$grace" '(.deadlines.connect // 300)
		+ (.deadlines.lock // 600) + (.migrate.timeout // 3600)
		+ (.seed.timeout // 3600) + 2 * $grace' "$1"
}

for h in $HELMS; do
	for set in defaults profile; do
		args=()
		[ "$set" = defaults ] || args=(-f "$profile")
		[ "$set" = defaults ] || [ -f "$profile" ] || continue
		out=$work/$h-$set.yaml
		if ! ok_here "$h $set: renders" \
			render "$h" "$out" "$chart" alga-core "${args[@]}"; then
			continue
		fi
		jq -r '.[] | select(.kind == "ConfigMap"
			and .metadata.name == "alga-core-bootstrap-plan")
			| .data["plan.yaml"]' "$out.json" >"$work/plan.yaml"
		node "$ROOT/tools/yaml-to-json.mjs" "$work/plan.yaml" |
			jq '.[0]' >"$work/plan.json"
		deadline=$(jq '.[] | select(.kind == "Job")
			| .spec.activeDeadlineSeconds' "$out.json")
		run=$(plan_seconds "$work/plan.json")
		is "$h $set: the plan sets every timeout it relies on" \
			"$(jq '[.deadlines.connect, .deadlines.lock, .migrate.timeout,
				.seed.timeout] | map(type == "number") | all' \
				"$work/plan.json")" true
		ok "$h $set: Job deadline ${deadline} s > connect + lock + migrate + seed + grace (${run} s)" \
			test "${deadline:-0}" -gt "$run"
		ok "$h $set: with at least 5 minutes to spare for the pod start and provisioning" \
			test "${deadline:-0}" -ge $((run + 300))
	done
done
done_testing
