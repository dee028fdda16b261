#!/usr/bin/env bash
# test-pgbouncer.sh: the pgbouncer chart renders the same under Helm 3 and
# Helm 4, with default and appliance values, into valid objects that hold the
# contract: Service pgbouncer on 6432, SCRAM, the three database entries, no
# secret in a ConfigMap or env, a user list in memory, TCP probes, a config
# checksum, Pod Security restricted, and a budget the render enforces.

# The helpers below run through ok/not_ok, which shellcheck cannot follow.
# shellcheck disable=SC2317
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/charts.sh
. "$ROOT/tests/lib/charts.sh"
# shellcheck source=tests/charts/values-docs.sh
. "$ROOT/tests/charts/values-docs.sh"

CHART=$ROOT/charts/pgbouncer
APPLIANCE=$CHART/ci/appliance-values.yaml
PROFILE=$ROOT/appliance/flux/profiles/talos-single-node/values/pgbouncer.yaml

# query JQ: jq over the default render.
query() {
	jq -r "$1" "$WORK/HELM4-default.yaml.json"
}

configmap_key() {
	query ".[] | select(.kind == \"ConfigMap\") | .data[\"$1\"]"
}

checksum_of() {
	"$HELM4" template pgbouncer "$CHART" --namespace alga "$@" |
		grep 'checksum/config'
}

# run_script DIR ARGS...: the rendered start script, run in DIR.
run_script() {
	local dir=$1
	shift
	(cd "$dir" && sh "$WORK/write-userlist.sh" "$@")
}

test_renders() {
	local h values
	for h in $HELMS; do
		ok "$h lint, default values" "$(helm_of "$h")" lint "$CHART"
		ok "$h lint, appliance values" "$(helm_of "$h")" lint "$CHART" \
			-f "$APPLIANCE"
		for values in default appliance; do
			if [ "$values" = default ]; then
				ok_here "$h renders with default values" \
					render "$h" "$WORK/$h-$values.yaml" "$CHART" pgbouncer
			else
				ok_here "$h renders with appliance values" \
					render "$h" "$WORK/$h-$values.yaml" "$CHART" pgbouncer \
					-f "$APPLIANCE"
			fi
			ok "$h $values render passes the schema check" \
				validate_schemas "$WORK/$h-$values.yaml"
		done
	done
	for values in default appliance; do
		ok "helm 3 and helm 4 render the $values values identically" \
			diff "$WORK/HELM3-$values.yaml" "$WORK/HELM4-$values.yaml"
	done
	if grep -q -v -e '^#' -e '^$' "$PROFILE" 2>/dev/null; then
		ok "the profile's values render" "$HELM4" template pgbouncer \
			"$CHART" -f "$PROFILE"
	else
		skip "the profile's values render" "$PROFILE is missing or still a placeholder"
	fi
}

test_contract() {
	local ini
	is "Service pgbouncer listens on 6432" \
		"$(query '.[] | select(.kind == "Service") | "\(.metadata.name):\(.spec.ports[0].port)"')" \
		"pgbouncer:6432"
	is "one replica" "$(query '.[] | select(.kind == "Deployment") | .spec.replicas')" 1
	ini=$(configmap_key pgbouncer.ini)
	contains "SCRAM authentication" "$ini" "auth_type = scram-sha-256"
	contains "the user list is read from the memory volume" "$ini" \
		"auth_file = /run/pgbouncer/userlist.txt"
	contains "entry server: transaction pool on database server" "$ini" \
		"server = host=alga-core-postgres port=5432 dbname=server pool_mode=transaction pool_size=20 max_db_connections=20"
	contains "entry server_session: session pool on database server" "$ini" \
		"server_session = host=alga-core-postgres port=5432 dbname=server pool_mode=session pool_size=5 max_db_connections=5"
	contains "entry hocuspocus: session pool on database hocuspocus" "$ini" \
		"hocuspocus = host=alga-core-postgres port=5432 dbname=hocuspocus pool_mode=session"
	contains "no reserve pool beyond the budget" "$ini" "reserve_pool_size = 0"
	contains "max_prepared_statements for the pinned image" "$ini" \
		"max_prepared_statements = 200"
	lacks "newerSettings=false leaves max_prepared_statements out" \
		"$("$HELM4" template pgbouncer "$CHART" --set config.newerSettings=false)" \
		"max_prepared_statements"
	is "no env in any container" \
		"$(query '[.[] | .spec.template.spec? // empty | (.containers + .initContainers)[] | .env // empty] | length')" 0
	lacks "no password in the ConfigMap" "$(query '.[] | select(.kind == "ConfigMap") | .data | tostring')" \
		"password ="
	is "the user list volume is memory-backed" \
		"$(query '.[] | select(.kind == "Deployment") | .spec.template.spec.volumes[] | select(.name == "userlist") | .emptyDir.medium')" \
		Memory
	is "the passwords come from Secret alga-core-db" \
		"$(query '.[] | select(.kind == "Deployment") | .spec.template.spec.volumes[] | select(.name == "credentials") | .secret.secretName')" \
		alga-core-db
	contains "the Secret name is configurable" \
		"$("$HELM4" template pgbouncer "$CHART" --set credentials.secretName=site-db)" \
		"secretName: site-db"
	is "readiness and liveness are TCP on the pgbouncer port" \
		"$(query '.[] | select(.kind == "Deployment") | .spec.template.spec.containers[0] | [.readinessProbe.tcpSocket.port, .livenessProbe.tcpSocket.port, (.ports[] | select(.name == "postgres") | .containerPort)] | map(tostring) | join(" ")')" \
		"postgres postgres 6432"
	ok "a config change changes the checksum annotation" test \
		"$(checksum_of)" != "$(checksum_of --set config.maxClientConnections=300)"
	is "the service account token is not mounted" \
		"$(query '[.[] | if .kind == "Deployment" then .spec.template.spec.automountServiceAccountToken elif .kind == "ServiceAccount" then .automountServiceAccountToken else empty end] | map(tostring) | join(" ")')" \
		"false false"
	is "pod security restricted: non-root, seccomp, no escalation, no capabilities" \
		"$(query '.[] | select(.kind == "Deployment") | .spec.template.spec | [.securityContext.runAsNonRoot, .securityContext.seccompProfile.type, ((.containers + .initContainers)[] | .securityContext | .allowPrivilegeEscalation, .capabilities.drop[0])] | map(tostring) | join(" ")')" \
		"true RuntimeDefault false ALL false ALL"
	is "every container has requests and limits" \
		"$(query '[.[] | .spec.template.spec? // empty | (.containers + .initContainers)[] | select(.resources.requests.cpu and .resources.requests.memory and .resources.limits.memory)] | length')" 2
	lacks "no Helm hooks" "$(cat "$WORK/HELM4-default.yaml")" "helm.sh/hook"
	lacks "the image is pinned" "$(query '.[] | .spec.template.spec? // empty | .containers[].image')" ":latest"
}

test_rejections() {
	not_ok "the schema rejects an unknown key" \
		"$HELM4" template pgbouncer "$CHART" --set bogus=1
	not_ok "the schema rejects a pool mode it does not know" \
		"$HELM4" template pgbouncer "$CHART" --set databases.server.poolMode=statement
	not_ok "the schema rejects a string replica count" \
		"$HELM4" template pgbouncer "$CHART" --set-string replicaCount=one
	not_ok "the schema rejects the latest tag" \
		"$HELM4" template pgbouncer "$CHART" --set image.tag=latest
	contains "pools over the budget fail the render with the reason" \
		"$("$HELM4" template pgbouncer "$CHART" --set databases.server.poolSize=21 2>&1)" \
		"the pools open up to 31 server connections (pool sizes x 1 replicas) but postgres.connectionBudget is 30"
	contains "two replicas count twice against the budget" \
		"$("$HELM3" template pgbouncer "$CHART" --set replicaCount=2 2>&1)" \
		"up to 60 server connections"
	is "every values key has a # -- comment" "$(undocumented_keys "$CHART/values.yaml")" ""
	is "the README's values table names every top-level key" \
		"$(keys_missing_from_readme "$CHART")" ""
}

test_start_script() {
	local dir=$WORK/script
	mkdir -p "$dir"
	configmap_key write-userlist.sh >"$WORK/write-userlist.sh"
	printf 'plain\n' >"$dir/a"
	printf 'has"quote\\and\\\\backslashes' >"$dir/b"
	ok "the start script writes two users" run_script "$dir" list a_user=a b_user=b
	is "each line is quoted, a quote doubled, backslashes kept" \
		"$(cat "$dir/list")" "\"a_user\" \"plain\"
\"b_user\" \"has\"\"quote\\and\\\\backslashes\""
	: >"$dir/empty"
	contains "an empty password stops the start, naming the file" \
		"$(run_script "$dir" list2 a_user=empty 2>&1)" "the password of a_user is empty: empty"
	printf 'line1\nsecret-line2\n' >"$dir/two-lines"
	local message
	message=$(run_script "$dir" list2 a_user=two-lines 2>&1)
	contains "a line break inside a password stops the start" "$message" \
		"contains a line break"
	lacks "the message does not show the password" "$message" "secret-line2"
	printf 'crlf-secret\r\n' >"$dir/crlf"
	printf 'mixed-secret\n\r\n\r' >"$dir/mixed"
	ok "a password file ending in CR LF is taken, as alga-bootstrap takes it" \
		run_script "$dir" list3 a_user=crlf b_user=mixed
	is "trailing CR and LF are stripped, nothing else" "$(cat "$dir/list3")" \
		"\"a_user\" \"crlf-secret\"
\"b_user\" \"mixed-secret\""
	printf 'nul\000secret\n' >"$dir/nul"
	message=$(run_script "$dir" list2 a_user=nul 2>&1)
	contains "a NUL byte stops the start, naming the user and the file" \
		"$message" "the password of a_user contains a NUL byte: nul"
	lacks "the message does not show the password" "$message" "secret"
	contains "a missing key stops the start" \
		"$(run_script "$dir" list2 a_user=absent 2>&1)" "cannot read the password of a_user: absent"
	not_ok "nothing is left behind after a failure" test -e "$dir/list2" -o -e "$dir/list2.tmp"
	not_ok "an argument without = is a usage error" run_script "$dir" list2 a_user
}

main() {
	WORK=$(mktemp -d /tmp/alga-chart-test.XXXXXX)
	trap 'rm -rf "$WORK"' EXIT
	test_renders
	test_contract
	test_rejections
	test_start_script
	done_testing
}

main "$@"
