#!/usr/bin/env bash
# test-alga-core-values.sh: how the alga-core chart answers its values,
# under Helm 3 and Helm 4: what renames the bootstrap Job (and what must
# not), PgBouncer on and off, Hocuspocus with an image, existing Secrets,
# wrong values failing with the key's name, and the chart README's values
# table agreeing with values.yaml and values.schema.json.
# jq filters bind $names inside single quotes on purpose.
# shellcheck disable=SC2016
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/charts.sh
. "$ROOT/tests/lib/charts.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A copy of the chart, so that the plan can be changed.
chart=$work/chart
cp -r "$ROOT/charts/alga-core" "$chart"

# q FILE FILTER: jq -r over a rendered JSON array (errors show up as text).
q() {
	jq -r "$2" "$1" 2>&1 || echo "jq failed"
}

# job_name HELM ARGS...: the bootstrap Job's name in one render.
job_name() {
	local h=$1
	shift
	render "$h" "$work/job.yaml" "$chart" alga-core "$@" || return 1
	q "$work/job.yaml.json" '.[] | select(.kind == "Job") | .metadata.name'
}

# env_of FILE DEPLOYMENT CONTAINER VAR: value or secretKeyRef name of one env.
env_of() {
	q "$1" "[.[] | select(.metadata.name == \"$2\")
		| .spec.template.spec | (.initContainers // []) + .containers | .[]
		| select(.name == \"$3\") | .env[] | select(.name == \"$4\")
		| .value // .valueFrom.secretKeyRef.name] | first // \"\""
}

# fails_naming WHAT KEY HELM ARGS...: the render fails and its message
# names KEY (Helm 4 writes schema paths as /a/b/c, Helm 3 as a.b.c).
fails_naming() {
	local what=$1 key=$2 h=$3 out
	shift 3
	if out=$("$(helm_of "$h")" template alga-core "$chart" --namespace alga \
		"$@" 2>&1); then
		fail "$what" "rendered although it should have failed"
		return
	fi
	contains "$what" "$(tr '/' '.' <<<"$out")" "$key"
}

for h in $HELMS; do
	base=$(job_name "$h")
	ok "$h: the Job has a name" test -n "$base"
	for change in server.url=https://other.example \
		redis.maxmemory=300mb server.resources.limits.memory=4Gi \
		postgres.settings.work_mem=16MB pgbouncer.enabled=false \
		hocuspocus.image.repository=example/hp,hocuspocus.image.tag=1.0 \
		postgres.persistence.size=80Gi; do
		is "$h: the Job name stays when $change" \
			"$(job_name "$h" --set "$change")" "$base"
	done
	for change in server.image.tag=0123abcd bootstrap.image.tag=9.9.9 \
		bootstrap.rerun=again; do
		name=$(job_name "$h" --set "$change")
		ok "$h: the Job name changes when $change ($name)" \
			test -n "$name" -a "$name" != "$base"
	done
	cp "$chart/files/bootstrap-plan.yaml" "$work/plan.orig"
	echo "# changed" >>"$chart/files/bootstrap-plan.yaml"
	name=$(job_name "$h")
	ok "$h: the Job name changes with the plan ($name)" \
		test -n "$name" -a "$name" != "$base"
	cp "$work/plan.orig" "$chart/files/bootstrap-plan.yaml"

	out=$work/$h-direct.yaml
	render "$h" "$out" "$chart" alga-core --set pgbouncer.enabled=false
	is "$h: without PgBouncer the server connects to Postgres" \
		"$(env_of "$out.json" alga-core-server server DB_HOST):$(
			env_of "$out.json" alga-core-server server DB_PORT)" \
		alga-core-postgres:5432
	is "$h: ... and waits for the bootstrap there" \
		"$(env_of "$out.json" alga-core-server wait-for-bootstrap \
			ALGA_BOOTSTRAP_HOST)" alga-core-postgres

	out=$work/$h-hocuspocus.yaml
	render "$h" "$out" "$chart" alga-core \
		--set hocuspocus.image.repository=registry.example/hocuspocus \
		--set hocuspocus.image.tag=1.2.3
	is "$h: Hocuspocus is rendered when its image is set" \
		"$(q "$out.json" '[.[] | select(.metadata.name
			== "alga-core-hocuspocus") | .kind] | sort | join(",")')" \
		Deployment,Service
	is "$h: Hocuspocus reaches its database through PgBouncer" \
		"$(env_of "$out.json" alga-core-hocuspocus hocuspocus DB_HOST):$(
			env_of "$out.json" alga-core-hocuspocus hocuspocus DB_PORT)" \
		pgbouncer:6432
	is "$h: Hocuspocus waits for the bootstrap" \
		"$(q "$out.json" '.[] | select(.metadata.name == "alga-core-hocuspocus"
			and .kind == "Deployment")
			| .spec.template.spec.initContainers[0].name')" \
		wait-for-bootstrap
	ok "$h: the Hocuspocus render matches the Kubernetes schemas" \
		validate_schemas "$out"
	render "$h" "$out" "$chart" alga-core
	is "$h: no Hocuspocus without an image" \
		"$(q "$out.json" '[.[] | select(.metadata.name
			| test("hocuspocus"))] | length')" 0

	out=$work/$h-existing.yaml
	render "$h" "$out" "$chart" alga-core \
		--set credentials.db.existingSecret=site-db \
		--set credentials.app.existingSecret=site-app \
		--set 'imagePullSecrets[0].name=site-registry'
	is "$h: existing Secrets are not rendered" \
		"$(q "$out.json" '[.[] | select(.kind == "Secret")] | length')" 0
	is "$h: the server reads the existing db Secret" \
		"$(env_of "$out.json" alga-core-server server DB_PASSWORD_SERVER)" \
		site-db
	is "$h: the server reads the existing app Secret" \
		"$(env_of "$out.json" alga-core-server server NEXTAUTH_SECRET)" \
		site-app
	is "$h: every secret volume uses the existing db Secret" \
		"$(q "$out.json" '[.. | objects | .secret? | objects
			| .secretName] | unique | join(",")')" site-db
	is "$h: every pod gets the image pull secret" \
		"$(q "$out.json" '[.[] | .spec.template.spec? // empty
			| .imagePullSecrets[0].name // "none"] | unique | join(",")')" \
		site-registry

	fails_naming "$h: a string where a number belongs names the key" \
		bootstrap.backoffLimit "$h" --set-string bootstrap.backoffLimit=three
	fails_naming "$h: a port that is not a number names the key" \
		pgbouncer.port "$h" --set-string pgbouncer.port=six
	fails_naming "$h: a missing server image tag names the key" \
		server.image.tag "$h" --set server.image.tag=
	fails_naming "$h: the tag latest is refused, naming the key" \
		server.image.tag "$h" --set server.image.tag=latest
	fails_naming "$h: a missing Hocuspocus tag names the key" \
		hocuspocus.image.tag "$h" --set hocuspocus.image.repository=x/hp
	fails_naming "$h: a size that is not a quantity names the key" \
		postgres.persistence.size "$h" --set postgres.persistence.size=big
	fails_naming "$h: max_connections must be a number" \
		postgres.settings.max_connections "$h" \
		--set-string postgres.settings.max_connections=many
	fails_naming "$h: an unknown key is named" \
		unknownKey "$h" --set unknownKey=1
	fails_naming "$h: extraEnv takes no secretKeyRef" \
		valueFrom "$h" --set server.extraEnv[0].name=X \
		--set server.extraEnv[0].value=y \
		--set server.extraEnv[0].valueFrom.secretKeyRef.name=s
	mv "$chart/files/bootstrap-plan.yaml" "$work/plan.orig"
	fails_naming "$h: a chart without its plan fails saying so" \
		bootstrap-plan.yaml "$h"
	mv "$work/plan.orig" "$chart/files/bootstrap-plan.yaml"
done

# The README's values table, the schema and values.yaml list the same keys.
readme=$ROOT/charts/alga-core/README.md
schema=$ROOT/charts/alga-core/values.schema.json
values=$ROOT/charts/alga-core/values.yaml
# A documented key is a schema property that has no properties of its own
# (resources, settings and the like are one row each).
schema_keys=$(jq -r 'def walk_keys($prefix):
		.properties // {} | to_entries[] | select(.key != "global")
		| ($prefix + .key) as $k
		| if (.value.properties and (.value."$ref" | not)
			and (.value.additionalProperties == false))
		  then .value | walk_keys($k + ".")
		  else $k end;
	walk_keys("")' "$schema" | sort)
readme_keys=$(sed -n 's/^| `\([^`]*\)` |.*/\1/p' "$readme" | sort)
is "README values table lists exactly the schema's keys" \
	"$(diff <(echo "$schema_keys") <(echo "$readme_keys"))" ""
values_keys=$(node "$ROOT/tools/yaml-to-json.mjs" "$values" | jq -r \
	--argjson keys "$(jq -R . <<<"$schema_keys" | jq -s .)" \
	'.[0] | [paths | map(tostring) | join(".")] as $all
	| $keys[] | select(. as $k | $all | index($k))' | sort)
is "values.yaml has every documented key" \
	"$(diff <(echo "$schema_keys") <(echo "$values_keys"))" ""
# Every key line of values.yaml, down to the documented ones, has a "# --"
# comment right above it (after any further comment lines).
undocumented=$(awk -v keys="$schema_keys" '
	BEGIN { n = split(keys, k, "\n"); for (i = 1; i <= n; i++) {
		doc[k[i]] = 1; p = k[i]
		while (sub(/\.[^.]*$/, "", p)) doc[p] = 1 } }
	/^ *#/ { if ($0 ~ /^ *# --/) seen = 1; next }
	/^ *[A-Za-z_][A-Za-z0-9_]*:/ {
		match($0, /^ */); depth = RLENGTH / 2
		key = $0; sub(/^ */, "", key); sub(/:.*/, "", key)
		path[depth] = key; full = path[0]
		for (i = 1; i <= depth; i++) full = full "." path[i]
		if ((full in doc) && !seen) print full
		seen = 0; next }
	{ seen = 0 }' "$values")
is "every documented key in values.yaml has a # -- line" "$undocumented" ""
types=$(jq -r 'def walk_keys($prefix):
		.properties // {} | to_entries[] | select(.key != "global")
		| ($prefix + .key) as $k
		| if (.value.properties and (.value."$ref" | not)
			and (.value.additionalProperties == false))
		  then .value | walk_keys($k + ".")
		  else "\($k) \(.value.type // "object")" end;
	walk_keys("")' "$schema" | sort)
readme_types=$(sed -n 's/^| `\([^`]*\)` | \([a-z]*\) |.*/\1 \2/p' "$readme" |
	sort)
is "README types agree with the schema" \
	"$(diff <(echo "$types") <(echo "$readme_types"))" ""

done_testing
