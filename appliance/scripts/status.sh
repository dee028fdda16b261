#!/bin/sh
# status.sh: one table of the appliance's releases and the last bootstrap.
#
# Usage: appliance/scripts/status.sh [-h|--help]
#
# Prints, from the cluster KUBECONFIG points at (read only, changes nothing):
#   - the Git source and the Flux Kustomization (flux-system/alga-appliance),
#   - each HelmRelease of namespace alga: Ready, reason, the chart revision
#     last attempted and the start of the Ready message,
#   - the newest bootstrap Job, whether it completed, and its outcome line
#     (`running seeds`, `seeds already present, skipping` or a partial seed).
#
# Environment:
#   KUBECTL  the kubectl to run (kubectl)
#
# Exit status: 0 every release is Ready; 1 something is not Ready or the
# cluster could not be read; 2 a usage error.
set -eu

kubectl=${KUBECTL:-kubectl}
namespace=alga
bootstrap_selector=app.kubernetes.io/instance=alga-core,app.kubernetes.io/component=bootstrap

usage() {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
}

die() {
	printf 'status: %s\n' "$1" >&2
	exit 1
}

ready='{.status.conditions[?(@.type=="Ready")].status}{"\t"}{.status.conditions[?(@.type=="Ready")].reason}'
message='{.status.conditions[?(@.type=="Ready")].message}'

# table: format tab-separated "name ready reason revision message" lines.
table() {
	awk -F '\t' '
	BEGIN { printf "%-32s %-7s %-24s %-26s %s\n", "NAME", "READY", "REASON", "REVISION", "MESSAGE" }
	{
		msg = $5
		if (length(msg) > 60)
			msg = substr(msg, 1, 57) "..."
		printf "%-32s %-7s %-24s %-26s %s\n", $1, ($2 == "" ? "Unknown" : $2), $3, $4, msg
	}'
}

# flux_objects: the source and the Kustomization that deploy.sh created.
flux_objects() {
	for kind in gitrepository.source.toolkit.fluxcd.io kustomization.kustomize.toolkit.fluxcd.io; do
		"$kubectl" -n flux-system get "$kind" alga-appliance \
			-o "jsonpath=${kind%%.*}/{.metadata.name}{\"\\t\"}$ready{\"\\t\"}{.status.artifact.revision}{.status.lastAppliedRevision}{\"\\t\"}$message{\"\\n\"}" \
			2>/dev/null || printf '%s/alga-appliance\tMissing\t\t\tnot found (run appliance/scripts/deploy.sh)\n' "${kind%%.*}"
	done
}

# releases: one line per HelmRelease in the appliance's namespace.
releases() {
	"$kubectl" -n "$namespace" get helmreleases.helm.toolkit.fluxcd.io \
		-o "jsonpath={range .items[*]}{.metadata.name}{\"\\t\"}$ready{\"\\t\"}{.status.lastAttemptedRevision}{\"\\t\"}$message{\"\\n\"}{end}"
}

# bootstrap: the newest bootstrap Job, its state and its outcome line.
bootstrap() {
	job=$("$kubectl" -n "$namespace" get jobs -l "$bootstrap_selector" \
		--sort-by=.metadata.creationTimestamp \
		-o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}' 2>/dev/null |
		tail -n 1) || true
	if [ -z "$job" ]; then
		printf 'bootstrap: no bootstrap Job in namespace %s yet\n' "$namespace"
		return 0
	fi
	state=$("$kubectl" -n "$namespace" get "job/$job" \
		-o 'jsonpath={range .status.conditions[?(@.status=="True")]}{.type}{"\n"}{end}' 2>/dev/null |
		grep -E '^(Complete|Failed)$' | head -n 1) || true
	outcome=$("$kubectl" -n "$namespace" logs "job/$job" -c bootstrap 2>/dev/null |
		grep -E 'running seeds|seeds already present, skipping|partial seed' |
		tail -n 1) || true
	printf 'bootstrap: job %s: %s; outcome: %s\n' "$job" "${state:-running}" \
		"${outcome:-none logged yet}"
}

main() {
	case ${1:-} in
	'') ;;
	-h | --help) usage; exit 0 ;;
	*)
		printf 'status: unknown argument: %s\nusage: status.sh [--help]\n' "$1" >&2
		exit 2
		;;
	esac
	command -v "$kubectl" >/dev/null 2>&1 ||
		die "$kubectl not found (set KUBECTL to the kubectl to use)"
	rows=$(releases) ||
		die "cannot list the HelmReleases of namespace $namespace (is the cluster reachable, is Flux installed?)"
	{
		flux_objects
		printf '%s\n' "$rows" | sed '/^$/d'
	} | table
	echo
	bootstrap
	not_ready=$(printf '%s\n' "$rows" | awk -F '\t' 'NF && $2 != "True" { n++ } END { print n + 0 }')
	total=$(printf '%s\n' "$rows" | awk -F '\t' 'NF { n++ } END { print n + 0 }')
	[ "$total" -gt 0 ] || die "no HelmRelease in namespace $namespace yet"
	[ "$not_ready" -eq 0 ] || die "$not_ready of $total releases not Ready"
}

main "$@"
