#!/usr/bin/env bash
# test-alga-core-lookup.sh: the credential lookup of the alga-core chart,
# under Helm 3 and Helm 4, against a fake Kubernetes API server.
#
# `lookup` only answers during a real install or upgrade. Here
# `helm template --dry-run=server` talks to a small Node.js server on
# 127.0.0.1 that answers API discovery and GETs of the Secrets and PVCs the
# test puts in its state file. It shows that live keys are reused one by
# one, missing keys are generated, extra keys stay, and the lost-Secret
# guard fires exactly when the chart's Secret is gone but the Postgres
# volume is not. A real API server is still the final word on this.
# jq filters bind $names inside single quotes on purpose; cleanup runs from
# the EXIT trap.
# shellcheck disable=SC2016,SC2317
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/lib/charts.sh
. "$ROOT/tests/lib/charts.sh"

work=$(mktemp -d)
api_pid=""
cleanup() {
	[ -z "$api_pid" ] || kill "$api_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

chart=$ROOT/charts/alga-core

cat >"$work/fake-api.mjs" <<'JS'
// Answers API discovery, and GETs of the objects listed in the state file
// (re-read on every request); everything else is 404 Not Found.
import { createServer } from "node:http";
import { readFileSync, writeFileSync } from "node:fs";

const [stateFile, portFile] = process.argv.slice(2);
const groups = {
	"/api/v1": [["secrets", "Secret"], ["persistentvolumeclaims",
		"PersistentVolumeClaim"], ["configmaps", "ConfigMap"],
		["services", "Service"]],
	"/apis/apps/v1": [["statefulsets", "StatefulSet"],
		["deployments", "Deployment"]],
	"/apis/batch/v1": [["jobs", "Job"]],
};

function send(res, code, body) {
	res.writeHead(code, { "Content-Type": "application/json" });
	res.end(JSON.stringify(body));
}

function resourceList(path) {
	return {
		kind: "APIResourceList",
		groupVersion: path.replace(/^\/apis?\//, ""),
		resources: groups[path].map(([name, kind]) => ({
			name, kind, namespaced: true, singularName: "",
			verbs: ["get", "list", "create", "update", "patch", "delete"],
		})),
	};
}

function answer(path, state) {
	if (path === "/version")
		return [200, { major: "1", minor: "32", gitVersion: "v1.32.0" }];
	if (path === "/api")
		return [200, { kind: "APIVersions", versions: ["v1"] }];
	if (path === "/apis")
		return [200, { kind: "APIGroupList", groups: ["apps", "batch"]
			.map((name) => ({ name,
				versions: [{ groupVersion: `${name}/v1`, version: "v1" }],
				preferredVersion: { groupVersion: `${name}/v1`,
					version: "v1" } })) }];
	if (groups[path])
		return [200, resourceList(path)];
	const m = path.match(/^\/api\/v1\/namespaces\/([^/]+)\/([^/]+)\/?([^/]*)$/);
	if (m && !m[3])
		return [200, { kind: "List", metadata: {}, items: [] }];
	const found = m && (state[m[2]] || []).find((o) =>
		o.metadata.namespace === m[1] && o.metadata.name === m[3]);
	if (found)
		return [200, found];
	return [404, { kind: "Status", apiVersion: "v1", status: "Failure",
		reason: "NotFound", code: 404, message: `${path} not found` }];
}

const server = createServer((req, res) => {
	const state = JSON.parse(readFileSync(stateFile, "utf8"));
	const [code, body] = answer(new URL(req.url, "http://x").pathname, state);
	send(res, code, body);
});
server.listen(0, "127.0.0.1", () =>
	writeFileSync(portFile, String(server.address().port)));
process.on("SIGTERM", () => process.exit(0));
JS

echo '{}' >"$work/state.json"
node "$work/fake-api.mjs" "$work/state.json" "$work/port" &
api_pid=$!
for _ in $(seq 50); do
	[ -s "$work/port" ] && break
	sleep 0.1
done
if [ ! -s "$work/port" ]; then
	fail "the fake API server starts"
	done_testing
fi
cat >"$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: fake
    cluster:
      server: http://127.0.0.1:$(cat "$work/port")
contexts:
  - name: fake
    context: {cluster: fake, user: fake, namespace: alga}
current-context: fake
users:
  - name: fake
    user: {token: fake}
EOF
export KUBECONFIG=$work/kubeconfig

# secret NAME KEY=VALUE...: a live Secret as Helm left it (owned by the
# release, so that Helm 4 accepts it as its own).
secret() {
	local name=$1 pair data='{}'
	shift
	for pair in "$@"; do
		data=$(jq -c --arg k "${pair%%=*}" --arg v "${pair#*=}" \
			'. + {($k): ($v | @base64)}' <<<"$data")
	done
	jq -nc --arg name "$name" --argjson data "$data" '{apiVersion: "v1",
		kind: "Secret", type: "Opaque", data: $data, metadata: {name: $name,
		namespace: "alga", labels: {"app.kubernetes.io/managed-by": "Helm"},
		annotations: {"meta.helm.sh/release-name": "alga-core",
			"meta.helm.sh/release-namespace": "alga",
			"helm.sh/resource-policy": "keep"}}}'
}

pg_volume='{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
	"metadata": {"name": "data-alga-core-postgres-0", "namespace": "alga"}}'

# cluster SECRETS_JSON_ARRAY PVCS_JSON_ARRAY: what the fake cluster holds.
cluster() {
	jq -n --argjson s "$1" --argjson p "$2" \
		'{secrets: $s, persistentvolumeclaims: $p}' >"$work/state.json"
}

# live_render HELM OUT [ARGS...]: render with lookup against the fake cluster.
live_render() {
	local h=$1 out=$2
	shift 2
	render "$h" "$out" "$chart" alga-core --dry-run=server \
		--disable-openapi-validation "$@"
}

# key OUT SECRET KEY: one decoded key of a rendered Secret.
key() {
	jq -r --arg s "$2" --arg k "$3" '.[] | select(.kind == "Secret"
		and .metadata.name == $s) | .data[$k] // "" | @base64d' "$1.json" \
		2>&1
}

db_live=$(secret alga-core-db postgres-password=pg-live \
	app-password=app-live hocuspocus-password=hp-live \
	redis-password=redis-live operator-note=kept)
app_live=$(secret alga-core-app nextauth-secret=na-live crypto-key=ck-live \
	token-secret-key=tk-live hocuspocus-jwt-secret=jwt-live)

for h in $HELMS; do
	out=$work/$h.yaml
	cluster "[$db_live, $app_live]" "[$pg_volume]"
	ok_here "$h: renders against the fake cluster" live_render "$h" "$out"
	is "$h: the live postgres password is reused" \
		"$(key "$out" alga-core-db postgres-password)" pg-live
	is "$h: the live app password is reused" \
		"$(key "$out" alga-core-db app-password)" app-live
	is "$h: the live redis password is reused" \
		"$(key "$out" alga-core-db redis-password)" redis-live
	is "$h: a key missing from the live Secret is generated" \
		"$(key "$out" alga-core-db temporal-password | tr -cd 'A-Za-z0-9' |
			wc -c)" 32
	is "$h: a key an operator added stays" \
		"$(key "$out" alga-core-db operator-note)" kept
	is "$h: the live app secrets are reused" \
		"$(key "$out" alga-core-app crypto-key) $(key "$out" alga-core-app \
			nextauth-secret)" "ck-live na-live"
	is "$h: a missing app key is generated" \
		"$(key "$out" alga-core-app alga-auth-key | wc -c)" 49
	live_render "$h" "$work/again.yaml"
	is "$h: with the Secrets live, two renders are identical except new keys" \
		"$(diff <(jq -S 'map(select(.kind != "Secret"))' "$out.json") \
			<(jq -S 'map(select(.kind != "Secret"))' \
				"$work/again.yaml.json") && echo same)" same

	cluster '[]' "[$pg_volume]"
	if msg=$(live_render "$h" "$out" 2>&1); then
		fail "$h: a lost Secret with the Postgres volume left fails the render"
	else
		pass "$h: a lost Secret with the Postgres volume left fails the render"
		contains "$h: ... naming the Secret" "$msg" "alga/alga-core-db"
		contains "$h: ... and the volume" "$msg" data-alga-core-postgres-0
		contains "$h: ... and how to restore it" "$msg" \
			"create -f alga-core-secrets-backup.json"
	fi
	cluster "[$db_live]" "[$pg_volume]"
	if msg=$(live_render "$h" "$out" 2>&1); then
		fail "$h: a lost app Secret fails the render too"
	else
		contains "$h: a lost app Secret fails the render too" "$msg" \
			"alga/alga-core-app"
	fi

	cluster '[]' '[]'
	ok_here "$h: a fresh install (no Secret, no volume) renders" \
		live_render "$h" "$out"
	is "$h: ... with generated passwords" \
		"$(key "$out" alga-core-db postgres-password | wc -c)" 33

	cluster '[]' "[$pg_volume]"
	ok_here "$h: existing Secrets skip the guard" live_render "$h" "$out" \
		--set credentials.db.existingSecret=site-db \
		--set credentials.app.existingSecret=site-app
done
done_testing
