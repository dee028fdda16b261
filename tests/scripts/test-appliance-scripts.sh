#!/usr/bin/env bash
# test-appliance-scripts.sh: the operator scripts in appliance/scripts.
#
# --help, usage errors (exit 2), --dry-run output valid against the Flux
# schemas, ShellCheck; then the waiting and the status table against stand-in
# kubectl and flux commands that answer from files. No cluster is ever
# contacted: KUBECTL and FLUX always point at the stand-ins or at nothing.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
cd "$ROOT" || exit 1

scripts=appliance/scripts
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
url=https://git.example.invalid/alga-appliance.git

# --- the stand-ins ------------------------------------------------------------
# kubectl: answers what the scripts ask from $STUB (a directory). The
# HelmReleases of step N are the lines of hr-N ("name status reason message
# [generation observedGeneration]", tab-separated; the last file repeats),
# and each listing of them moves one step on. They are turned into objects,
# and the script's own jsonpath is evaluated on them by the real kubectl
# offline (patch --local), so a wrong jsonpath fails here as it would on a
# cluster. Anything unexpected fails.
cat >"$work/bin/kubectl" <<'STUB'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$STUB/calls"
args=" $* "
jsonpath=""
prev=""
for a in "$@"; do
	[ "$prev" != -o ] || jsonpath=${a#jsonpath=}
	prev=$a
done

# evaluate FILE: the jsonpath on the objects of FILE (a JSON List), one at a
# time, as kubectl get would print them ({range .items[*]} handled here).
evaluate() {
	local path=$jsonpath
	path=${path#'{range .items[*]}'}
	[ "$path" = "$jsonpath" ] || path=${path%'{end}'}
	KUBECONFIG=/dev/null "$REAL_KUBECTL" patch --local -f "$1" --type merge -p '{}' \
		-o "jsonpath=$path"
}

# releases FILE: HelmRelease objects from the tab-separated lines of FILE.
releases() {
	jq -R -s '{apiVersion: "v1", kind: "List", items: [split("\n")[] | select(length > 0) | split("\t") |
		{apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease",
		 metadata: {name: .[0], namespace: "alga", generation: ((.[4] // "1") | tonumber)},
		 spec: {interval: "10m"},
		 status: {observedGeneration: ((.[5] // "1") | tonumber), lastAttemptedRevision: "0.1.0+0123abc",
			conditions: [{type: "Ready", status: .[1], reason: .[2], message: .[3]}]}}]}' "$1"
}

case $args in
*" version "*)
	[ ! -f "$STUB/version-error" ] && exit 0
	cat "$STUB/version-error" >&2
	exit 1
	;;
*" get crd "*)
	# crd-error: what kubectl says when it fails (unreachable, NotFound).
	if [ -f "$STUB/crd-error" ]; then
		cat "$STUB/crd-error" >&2
		exit 1
	fi
	echo "            - RetryOnFailure"
	;;
*" config current-context "*) echo admin@appliance ;;
*" get deployment "*) [ ! -f "$STUB/no-flux" ]; exit ;;
*" apply -f - "*) cat >"$STUB/applied.yaml"; exit 0 ;;
*" get gitrepository."* | *" get kustomization."*)
	kind=${args#* get }
	kind=${kind%%.*}
	jq -n --arg kind "$kind" '{apiVersion: "v1", kind: "List", items: [{
		apiVersion: (if $kind == "gitrepository" then "source.toolkit.fluxcd.io/v1" else "kustomize.toolkit.fluxcd.io/v1" end),
		kind: (if $kind == "gitrepository" then "GitRepository" else "Kustomization" end),
		metadata: {name: "alga-appliance", namespace: "flux-system"},
		status: {artifact: (if $kind == "gitrepository" then {revision: "main@sha1:0123abc"} else null end),
			lastAppliedRevision: (if $kind == "kustomization" then "main@sha1:0123abc" else null end),
			conditions: [{type: "Ready", status: "True", reason: "Succeeded", message: "up to date"}]}}]}' \
		>"$STUB/source.json"
	evaluate "$STUB/source.json"
	;;
*" get helmreleases."*)
	step=$(($(cat "$STUB/step" 2>/dev/null || echo 0) + 1))
	echo "$step" >"$STUB/step"
	file=$STUB/hr-$step
	[ -f "$file" ] || file=$(ls "$STUB"/hr-* | sort -t- -k2 -n | tail -n 1)
	releases "$file" >"$STUB/releases.json"
	[ "$(jq '.items | length' "$STUB/releases.json")" -gt 0 ] || exit 0
	evaluate "$STUB/releases.json"
	;;
*" get jobs -l "*)
	[ -f "$STUB/job" ] || exit 0
	jq -R -s '{apiVersion: "v1", kind: "List", items: [split("\n")[] | select(length > 0) |
		{apiVersion: "batch/v1", kind: "Job", metadata: {name: ., namespace: "alga"}}]}' \
		"$STUB/job" >"$STUB/jobs.json"
	evaluate "$STUB/jobs.json"
	;;
*" get job/"*)
	jq -n '{apiVersion: "v1", kind: "List", items: [{apiVersion: "batch/v1", kind: "Job",
		metadata: {name: "bootstrap", namespace: "alga"},
		status: {conditions: [{type: "SuccessCriteriaMet", status: "True"}, {type: "Complete", status: "True"}]}}]}' \
		>"$STUB/job.json"
	evaluate "$STUB/job.json"
	;;
*" logs job/"*) [ -f "$STUB/log" ] && cat "$STUB/log" ;;
*) echo "stub kubectl: unexpected: $*" >&2; exit 9 ;;
esac
exit 0
STUB
# flux: a version, a check and an install that prints one object.
cat >"$work/bin/flux" <<'STUB'
#!/usr/bin/env bash
printf '%s\n' "$*" >>"$STUB/flux-calls"
case $1 in
version) echo "flux: v${FLUX_STUB_VERSION:-2.7.3}" ;;
check) exit 0 ;;
install)
	cat <<'YAML'
apiVersion: v1
kind: Namespace
metadata:
  name: flux-system
YAML
	;;
*) exit 9 ;;
esac
STUB
# date: a clock that moves 30 s on at each look, so that a wait of the
# least timeout (1 minute) ends at once.
mkdir -p "$work/fastclock"
cat >"$work/fastclock/date" <<'STUB'
#!/usr/bin/env bash
[ "${1:-}" = +%s ] || exec /bin/date "$@"
now=$(($(cat "$STUB/clock" 2>/dev/null || /bin/date +%s) + 30))
echo "$now" >"$STUB/clock"
echo "$now"
STUB
chmod +x "$work/bin/kubectl" "$work/bin/flux" "$work/fastclock/date"

REAL_KUBECTL=$KUBECTL
export REAL_KUBECTL

# fresh_stub: an empty answer directory in $STUB.
fresh_stub() {
	STUB=$(mktemp -d "$work/stub.XXXX")
	export STUB
}

# hr_line NAME STATUS REASON MESSAGE: one HelmRelease line as kubectl prints it.
hr_line() {
	printf '%s\t%s\t%s\t%s\n' "$@"
}

# all_releases STATUS REASON MESSAGE: a line for each of the six releases.
all_releases() {
	local r
	for r in alga-core pgbouncer temporal workflow-worker email-service temporal-worker; do
		hr_line "$r" "$@"
	done
}

# exit_status COMMAND...: the exit status, output discarded.
exit_status() {
	"$@" >/dev/null 2>&1
	echo $?
}

# --- every script: ShellCheck, --help, usage errors ---------------------------
for s in install-flux deploy status; do
	ok "$s.sh: shellcheck" shellcheck -x "$scripts/$s.sh"
	is "$s.sh: starts with #!/bin/sh and set -eu" \
		"$(head -n 1 "$scripts/$s.sh") $(grep -c '^set -eu$' "$scripts/$s.sh")" "#!/bin/sh 1"
	out=$("$scripts/$s.sh" --help 2>&1)
	is "$s.sh --help exits 0" "$?" "0"
	contains "$s.sh --help shows the usage" "$out" "Usage: appliance/scripts/$s.sh"
	is "$s.sh: an unknown argument is a usage error (exit 2)" \
		"$(KUBECTL=/nonexistent FLUX=/nonexistent exit_status "$scripts/$s.sh" --bogus)" "2"
done

export KUBECTL=/nonexistent/kubectl FLUX=/nonexistent/flux
is "deploy.sh without --url is a usage error" \
	"$(exit_status "$scripts/deploy.sh" --branch main)" "2"
is "deploy.sh without --branch is a usage error" \
	"$(exit_status "$scripts/deploy.sh" --url "$url")" "2"
is "deploy.sh with an option missing its value is a usage error" \
	"$(exit_status "$scripts/deploy.sh" --url "$url" --branch)" "2"
is "deploy.sh refuses a URL Flux cannot use" \
	"$(exit_status "$scripts/deploy.sh" --url git.example.invalid:alga --branch main)" "2"
is "deploy.sh refuses a profile that does not exist" \
	"$(exit_status "$scripts/deploy.sh" --url "$url" --branch main --profile nope --dry-run)" "2"
is "deploy.sh refuses a profile that is a path" \
	"$(exit_status "$scripts/deploy.sh" --url "$url" --branch main --profile ../base --dry-run)" "2"
is "deploy.sh refuses a timeout that is not whole minutes" \
	"$(exit_status "$scripts/deploy.sh" --url "$url" --branch main --timeout 1h)" "2"
is "deploy.sh refuses a timeout of 0" \
	"$(exit_status "$scripts/deploy.sh" --url "$url" --branch main --timeout 0 --dry-run)" "2"
out=$("$scripts/deploy.sh" --url https://deploy:hunter7@git.example.invalid/alga.git \
	--branch main --dry-run 2>&1)
is "deploy.sh refuses a URL with a password in it" "$?" "2"
contains "and points to --secret" "$out" "give its name with --secret"
lacks "without printing the password" "$out" "hunter7"
is "deploy.sh refuses a URL with a token as its user" \
	"$(exit_status "$scripts/deploy.sh" --url https://ghp_token@git.example.invalid/a.git --branch main --dry-run)" "2"
is "deploy.sh takes ssh's plain user (ssh://git@host)" \
	"$(exit_status "$scripts/deploy.sh" --url ssh://git@git.example.invalid/a.git --branch main --dry-run)" "0"
for bad in Alga-Git alga_git -alga alga. 'alga..git' "$(printf 'a%.0s' $(seq 254))"; do
	is "deploy.sh refuses --secret ${bad:0:20} (not a Kubernetes name)" \
		"$(exit_status "$scripts/deploy.sh" --url "$url" --branch main --secret "$bad" --dry-run)" "2"
done
is "deploy.sh takes --secret alga-git.v2" \
	"$(exit_status "$scripts/deploy.sh" --url "$url" --branch main --secret alga-git.v2 --dry-run)" "0"
is "deploy.sh refuses a quote in the branch (it would break the YAML)" \
	"$(exit_status "$scripts/deploy.sh" --url "$url" --branch 'ma"in' --dry-run)" "2"
is "status.sh without kubectl is an operational failure (exit 1)" \
	"$(exit_status "$scripts/status.sh")" "1"
is "install-flux.sh without the flux CLI is an operational failure (exit 1)" \
	"$(exit_status "$scripts/install-flux.sh")" "1"

# --- deploy.sh --dry-run --------------------------------------------------------
"$scripts/deploy.sh" --url "$url" --branch site/acme --dry-run >"$work/deploy.yaml" 2>"$work/deploy.err"
is "deploy.sh --dry-run exits 0 without any kubectl" "$?" "0"
ok "deploy.sh --dry-run prints objects valid against the Flux schemas" \
	validate_schemas "$work/deploy.yaml"
node tools/yaml-to-json.mjs "$work/deploy.yaml" >"$work/deploy.json"
is "the GitRepository: flux-system/alga-appliance at the URL and branch given" \
	"$(jq -r '.[] | select(.kind == "GitRepository") | "\(.metadata.namespace)/\(.metadata.name) \(.spec.url) \(.spec.ref.branch)"' "$work/deploy.json")" \
	"flux-system/alga-appliance $url site/acme"
is "the Kustomization applies the talos-single-node profile from that source" \
	"$(jq -r '.[] | select(.kind == "Kustomization") | "\(.metadata.namespace)/\(.metadata.name) \(.spec.sourceRef.kind)/\(.spec.sourceRef.name) \(.spec.path)"' "$work/deploy.json")" \
	"flux-system/alga-appliance GitRepository/alga-appliance ./appliance/flux/profiles/talos-single-node"
ok "the Kustomization's path exists in this repository" \
	test -f "$(jq -r '.[] | select(.kind == "Kustomization") | .spec.path' "$work/deploy.json")/kustomization.yaml"
is "the HelmReleases of the base name exactly this GitRepository" \
	"$(grep -h -A2 'kind: GitRepository' appliance/flux/base/releases/*.yaml | grep -E 'name:|namespace:' | sed 's/^ *//' | sort -u | tr '\n' ' ')" \
	"name: alga-appliance namespace: flux-system "
lacks "without --secret there is no secretRef" "$(cat "$work/deploy.yaml")" "secretRef"
"$scripts/deploy.sh" --url "$url" --branch main --secret alga-git --dry-run >"$work/deploy-secret.yaml"
ok "deploy.sh --dry-run --secret is valid against the schemas" \
	validate_schemas "$work/deploy-secret.yaml"
is "--secret names the Git credentials Secret" \
	"$(node tools/yaml-to-json.mjs "$work/deploy-secret.yaml" | jq -r '.[] | select(.kind == "GitRepository") | .spec.secretRef.name')" \
	"alga-git"

# --- install-flux.sh --------------------------------------------------------------
export FLUX=$work/bin/flux
fresh_stub
"$scripts/install-flux.sh" --dry-run >"$work/flux.yaml" 2>"$work/flux.err"
is "install-flux.sh --dry-run exits 0 with a flux CLI and no cluster" "$?" "0"
ok "install-flux.sh --dry-run prints only YAML, valid against the schemas" \
	validate_schemas "$work/flux.yaml"
contains "it asks flux install for the four controllers, exported" \
	"$(cat "$STUB/flux-calls")" \
	"install --components=source-controller,kustomize-controller,helm-controller,notification-controller --export"
fresh_stub
out=$(FLUX_STUB_VERSION=2.6.2 "$scripts/install-flux.sh" --dry-run 2>&1)
is "install-flux.sh refuses a flux CLI older than 2.7 (exit 1)" "$?" "1"
contains "and says why" "$out" "too old"

export KUBECTL=$work/bin/kubectl
fresh_stub
out=$("$scripts/install-flux.sh" 2>&1)
is "install-flux.sh with Flux present: checks it, exits 0" "$?" "0"
lacks "and does not install over it" "$(cat "$STUB/flux-calls")" "install"
contains "it says Flux is healthy" "$out" "Flux is present and healthy"
fresh_stub
touch "$STUB/no-flux"
out=$("$scripts/install-flux.sh" 2>&1)
is "install-flux.sh without Flux: installs it, exits 0" "$?" "0"
contains "with flux install, after the prerequisites check" \
	"$(cat "$STUB/flux-calls")" "check --pre
install --components=source-controller,kustomize-controller,helm-controller,notification-controller
check"

fresh_stub
echo "error: You must be logged in to the server (Unauthorized)" >"$STUB/version-error"
out=$("$scripts/install-flux.sh" 2>&1)
is "install-flux.sh fails (exit 1) when kubectl cannot reach the cluster" "$?" "1"
contains "with kubectl's message" "$out" "cannot reach the cluster (check KUBECONFIG, the context and that the Talos node is up): error: You must be logged in to the server (Unauthorized)"

# --- deploy.sh: apply, then wait showing progress ------------------------------------
export ALGA_POLL_SECONDS=0
fresh_stub
{
	hr_line alga-core Unknown Progressing "Running 'install' action with timeout of 1h0m0s"
	hr_line pgbouncer Unknown Progressing "Running 'install' action with timeout of 10m0s"
} >"$STUB/hr-1"
{
	hr_line alga-core Unknown Progressing "Running 'install' action with timeout of 1h0m0s"
	hr_line pgbouncer True InstallSucceeded "Helm install succeeded"
} >"$STUB/hr-2"
all_releases True InstallSucceeded "Helm install succeeded" >"$STUB/hr-3"
echo alga-core-bootstrap-1a2b3c4d >"$STUB/job"
printf '%s\n' "alga-bootstrap: migrate 950 migrations applied (250000 ms)" \
	"alga-bootstrap: seed running seeds (10 ms)" \
	"alga-bootstrap: done bootstrap complete (260000 ms)" >"$STUB/log"
out=$("$scripts/deploy.sh" --url "$url" --branch main --timeout 5 2>&1)
is "deploy.sh exits 0 once every release is Ready" "$?" "0"
ok "it applied a GitRepository and a Kustomization valid against the schemas" \
	validate_schemas "$STUB/applied.yaml"
contains "it shows a release's progress" "$out" "alga-core"
contains "it shows a change of readiness" "$out" "pgbouncer                       Ready=True"
contains "it shows the bootstrap's outcome from the Job's log" "$out" \
	"bootstrap alga-core-bootstrap-1a2b3c4d: alga-bootstrap: seed running seeds"
contains "it says when everything is Ready" "$out" "every release is Ready"
is "an unchanged state is printed once" \
	"$(grep -c 'alga-core .*Progressing' <<<"$out")" "1"

fresh_stub
{
	printf 'alga-core\tTrue\tUpgradeSucceeded\tHelm upgrade succeeded\t3\t2\n'
	all_releases True UpgradeSucceeded "Helm upgrade succeeded" | grep -v '^alga-core'
} >"$STUB/hr-1"
out=$(PATH=$work/fastclock:$PATH "$scripts/deploy.sh" --url "$url" --branch other --timeout 1 2>&1)
contains "a release whose spec changed is pending until reconciled, whatever its old Ready" \
	"$out" "not Ready: alga-core"

fresh_stub
all_releases True UpgradeSucceeded "Helm upgrade succeeded" >"$STUB/hr-1"
echo alga-core-bootstrap-5e6f7a8b >"$STUB/job"
echo "alga-bootstrap: seed seeds already present, skipping (3 ms)" >"$STUB/log"
out=$("$scripts/deploy.sh" --url "$url" --branch main 2>&1)
contains "on a restart it shows the skipped seeds" "$out" "seeds already present, skipping"

fresh_stub
{
	hr_line alga-core False InstallFailed "context deadline exceeded"
	hr_line pgbouncer True InstallSucceeded "Helm install succeeded"
} >"$STUB/hr-1"
out=$(PATH=$work/fastclock:$PATH "$scripts/deploy.sh" --url "$url" --branch main --timeout 1 2>&1)
is "deploy.sh fails (exit 1) when the time is up" "$?" "1"
contains "naming what is not Ready" "$out" "not Ready: alga-core temporal workflow-worker email-service temporal-worker"

fresh_stub
echo "" >"$STUB/hr-1"
out=$("$scripts/deploy.sh" --url "$url" --branch main --no-wait 2>&1)
is "deploy.sh --no-wait applies and returns" "$?" "0"
lacks "without looking at the releases" "$(cat "$STUB/calls")" "get helmreleases"

fresh_stub
echo "The connection to the server 10.0.0.5:6443 was refused - did you specify the right host or port?" \
	>"$STUB/crd-error"
out=$("$scripts/deploy.sh" --url "$url" --branch main --no-wait 2>&1)
is "deploy.sh fails (exit 1) when kubectl cannot reach the cluster" "$?" "1"
contains "saying so, with kubectl's message and context" "$out" \
	"cannot reach the cluster or read its CRDs (kubectl context: admin@appliance): The connection to the server 10.0.0.5:6443 was refused"
lacks "not blaming Flux" "$out" "Flux is not installed"
lacks "and applies nothing" "$(cat "$STUB/calls")" "apply"
fresh_stub
echo "error: You must be logged in to the server (Unauthorized)" >"$STUB/crd-error"
out=$("$scripts/deploy.sh" --url "$url" --branch main --no-wait 2>&1)
contains "expired credentials show kubectl's message" "$out" "(Unauthorized)"
fresh_stub
echo 'Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "helmreleases.helm.toolkit.fluxcd.io" not found' \
	>"$STUB/crd-error"
out=$("$scripts/deploy.sh" --url "$url" --branch main --no-wait 2>&1)
is "deploy.sh fails (exit 1) without Flux's CRDs" "$?" "1"
contains "saying Flux is not installed" "$out" \
	"Flux is not installed in this cluster (no HelmRelease CRD): run appliance/scripts/install-flux.sh first"

# --- status.sh ----------------------------------------------------------------------
fresh_stub
all_releases True InstallSucceeded "Helm install succeeded" >"$STUB/hr-1"
echo alga-core-bootstrap-1a2b3c4d >"$STUB/job"
echo "alga-bootstrap: seed running seeds (10 ms)" >"$STUB/log"
out=$("$scripts/status.sh" 2>&1)
is "status.sh exits 0 when every release is Ready" "$?" "0"
contains "it prints a table with a header" "$out" "NAME"
contains "with the Kustomization" "$out" "kustomization/alga-appliance"
contains "and a row per release with its revision" "$out" "temporal-worker"
contains "and the chart revision" "$out" "0.1.0+0123abc"
contains "and the last bootstrap outcome" "$out" \
	"bootstrap: job alga-core-bootstrap-1a2b3c4d: Complete; outcome: alga-bootstrap: seed running seeds"
lacks "it changes nothing in the cluster" "$(cat "$STUB/calls")" "apply"

fresh_stub
{
	all_releases True InstallSucceeded "Helm install succeeded"
	hr_line extra False InstallFailed "boom"
} >"$STUB/hr-1"
out=$("$scripts/status.sh" 2>&1)
is "status.sh exits 1 when a release is not Ready" "$?" "1"
contains "and says how many" "$out" "1 of 7 releases not Ready"

done_testing
