#!/bin/sh
# deploy.sh: point Flux at this repository and bring up the Alga appliance.
#
# Usage: appliance/scripts/deploy.sh --url URL --branch BRANCH
#            [--profile NAME] [--secret NAME] [--timeout MINUTES]
#            [--no-wait] [--dry-run]
#
# Applies two objects to namespace flux-system:
#   GitRepository alga-appliance  this repository at URL, branch BRANCH (the
#                                 charts come from it, so it is the source
#                                 every HelmRelease of the base names)
#   Kustomization alga-appliance  applies appliance/flux/profiles/NAME
# then waits until every release of the appliance is Ready, printing each
# HelmRelease's readiness whenever it changes and the bootstrap's outcome
# (`running seeds` or `seeds already present, skipping`) from the log of
# the bootstrap Job. Running it again with the same arguments changes
# nothing and only waits; with another branch it moves the appliance there.
#
# Options:
#   --url URL          Git URL of this repository (https://, http:// or ssh://),
#                      without credentials: they would be stored in plain
#                      text in the GitRepository; use --secret
#   --branch BRANCH    branch to deploy
#   --profile NAME     profile under appliance/flux/profiles (talos-single-node)
#   --secret NAME      Secret in flux-system with the Git credentials, for a
#                      private repository (create it with `flux create secret git`)
#   --timeout MINUTES  how long to wait for the releases, at least 1 (90)
#   --no-wait          apply and return at once
#   --dry-run          print the YAML that would be applied and stop; needs
#                      no cluster
#   -h, --help         this text
#
# Environment:
#   KUBECTL            the kubectl to run (kubectl); KUBECONFIG as kubectl reads it
#   ALGA_POLL_SECONDS  seconds between two looks at the cluster (5)
#
# Exit status: 0 the appliance is Ready (or the YAML was printed); 1 an
# operational failure or the timeout; 2 a usage error.
set -eu

script_dir=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$script_dir/../.." && pwd)
kubectl=${KUBECTL:-kubectl}
poll=${ALGA_POLL_SECONDS:-5}
namespace=alga
releases="alga-core pgbouncer temporal workflow-worker email-service temporal-worker"
newline='
'
bootstrap_selector=app.kubernetes.io/instance=alga-core,app.kubernetes.io/component=bootstrap

usage() {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
}

usage_error() {
	printf 'deploy: %s\n' "$1" >&2
	printf 'usage: deploy.sh --url URL --branch BRANCH [--profile NAME] [--dry-run] (--help for more)\n' >&2
	exit 2
}

say() {
	printf 'deploy: %s\n' "$1"
}

die() {
	printf 'deploy: %s\n' "$1" >&2
	exit 1
}

# need_value OPTION VALUE: a usage error when an option has no value.
need_value() {
	[ -n "$2" ] || usage_error "$1 needs a value"
}

# check_scalar WHAT VALUE: refuse what would break the YAML we write.
check_scalar() {
	case $2 in
	*\"* | *\\* | *"$newline"*) usage_error "$1 must not contain quotes, backslashes or newlines: $2" ;;
	esac
}

# check_url_credentials: refuse a URL with a user or password in it (ssh's
# plain user, as in ssh://git@host, is no credential). The URL is not
# printed: it holds a secret.
check_url_credentials() {
	rest=${url#*://}
	authority=${rest%%/*}
	case $authority in
	*@*) userinfo=${authority%@*} ;;
	*) return 0 ;;
	esac
	case $url in
	http://* | https://*) ;;
	*) case $userinfo in *:*) ;; *) return 0 ;; esac ;;
	esac
	usage_error "--url must not hold credentials (${url%%://*}://...@${authority##*@}/...): Flux would keep them in plain text in the GitRepository; put them in a Secret in flux-system (flux create secret git) and give its name with --secret"
}

# check_secret_name: a Kubernetes object name (RFC 1123 subdomain).
check_secret_name() {
	[ -n "$secret" ] || return 0
	case $secret in
	*[!a-z0-9.-]* | [.-]* | *[.-] | *..* | *.-* | *-.*)
		usage_error "--secret must be a Kubernetes name (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit): $secret" ;;
	esac
	[ ${#secret} -le 253 ] || usage_error "--secret must be at most 253 characters"
}

# check_cluster: kubectl reaches the cluster and Flux's CRDs are there; a
# failure says which, with kubectl's own message.
check_cluster() {
	if crd_error=$("$kubectl" get crd helmreleases.helm.toolkit.fluxcd.io -o name 2>&1 >/dev/null); then
		return 0
	fi
	case $crd_error in
	*"(NotFound)"*)
		die "Flux is not installed in this cluster (no HelmRelease CRD): run appliance/scripts/install-flux.sh first" ;;
	esac
	context=$("$kubectl" config current-context 2>/dev/null) || context="none"
	die "cannot reach the cluster or read its CRDs (kubectl context: $context): ${crd_error:-kubectl failed without a message}${newline}deploy: check KUBECONFIG, the context and your credentials (kubectl get crd must work)"
}

# manifests: the GitRepository and the Kustomization, as YAML.
manifests() {
	cat <<EOF
# yaml-language-server: \$schema=https://raw.githubusercontent.com/fluxcd-community/flux2-schemas/main/gitrepository-source-v1.json
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: alga-appliance
  namespace: flux-system
spec:
  interval: 5m
  url: "$url"
  ref:
    branch: "$branch"
EOF
	if [ -n "$secret" ]; then
		cat <<EOF
  secretRef:
    name: "$secret"
EOF
	fi
	cat <<EOF
  # Only what Flux reads: the charts and the Flux tree.
  ignore: |
    /*
    !/charts/
    !/appliance/flux/
---
# yaml-language-server: \$schema=https://raw.githubusercontent.com/fluxcd-community/flux2-schemas/main/kustomization-kustomize-v1.json
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: alga-appliance
  namespace: flux-system
spec:
  interval: 10m
  retryInterval: 2m
  timeout: 5m
  sourceRef:
    kind: GitRepository
    name: alga-appliance
  path: ./appliance/flux/profiles/$profile
  # Objects removed from Git are removed from the cluster; the namespace
  # and the StorageClass carry an annotation that exempts them.
  prune: true
  # The HelmReleases report their own readiness; this script waits on them.
  wait: false
EOF
}

# Ready condition of each listed object as "name<TAB>status<TAB>reason<TAB>message".
ready_jsonpath='{.status.conditions[?(@.type=="Ready")].status}{"\t"}{.status.conditions[?(@.type=="Ready")].reason}{"\t"}{.status.conditions[?(@.type=="Ready")].message}{"\n"}'

# states: one line for the Git source, the Kustomization and each
# HelmRelease; nothing for what does not exist yet.
states() {
	for kind in gitrepository.source.toolkit.fluxcd.io kustomization.kustomize.toolkit.fluxcd.io; do
		"$kubectl" -n flux-system get "$kind" alga-appliance \
			-o "jsonpath=${kind%%.*}/{.metadata.name}{\"\t\"}$ready_jsonpath" \
			2>/dev/null || true
	done
	# A release whose spec changed (another branch, say) but that
	# helm-controller has not looked at since still shows its old Ready;
	# count it as pending until the generations agree.
	"$kubectl" -n "$namespace" get helmreleases.helm.toolkit.fluxcd.io \
		-o "jsonpath={range .items[*]}{.metadata.name}{\"\t\"}${ready_jsonpath%'{"\n"}'}{\"\t\"}{.metadata.generation}{\"\t\"}{.status.observedGeneration}{\"\n\"}{end}" \
		2>/dev/null |
		awk -F '\t' -v OFS='\t' '
			NF >= 6 && $5 != $6 { $2 = "Unknown"; $3 = "Pending"; $4 = "changed, not reconciled yet" }
			NF { print $1, $2, $3, $4 }' || true
}

# bootstrap_outcome: the outcome line from the newest bootstrap Job's log,
# or nothing while there is none yet.
bootstrap_outcome() {
	job=$("$kubectl" -n "$namespace" get jobs -l "$bootstrap_selector" \
		--sort-by=.metadata.creationTimestamp \
		-o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}' \
		2>/dev/null | tail -n 1) || true
	[ -n "$job" ] || return 0
	"$kubectl" -n "$namespace" logs "job/$job" -c bootstrap 2>/dev/null |
		grep -E 'running seeds|seeds already present, skipping|partial seed' |
		tail -n 1 | sed "s|^|$job: |" || true
}

# elapsed: minutes and seconds since the wait began.
elapsed() {
	now=$(date +%s)
	s=$((now - started))
	printf '%3dm%02ds' $((s / 60)) $((s % 60))
}

# wait_for_releases: poll until every release is Ready or the time is up.
wait_for_releases() {
	started=$(date +%s)
	deadline=$((started + timeout_minutes * 60))
	seen=$(mktemp)
	now_states=$(mktemp)
	trap 'rm -f "$seen" "$now_states"' EXIT
	outcome_shown=""
	last_note=$started
	say "waiting up to $timeout_minutes minutes for: $releases"
	while :; do
		states >"$now_states"
		# Print each release whose line changed since the last look.
		while IFS= read -r line; do
			name=${line%%"	"*}
			if ! grep -Fxq -- "$line" "$seen"; then
				printf '[%s] %s\n' "$(elapsed)" "$(printf '%s' "$line" |
					awk -F '\t' '{ printf "%-31s Ready=%-7s %s %s", $1, ($2 == "" ? "Unknown" : $2), $3, $4 }')"
				grep -v -- "^$name	" "$seen" >"$seen.new" || true
				printf '%s\n' "$line" >>"$seen.new"
				mv "$seen.new" "$seen"
			fi
		done <"$now_states"
		if [ -z "$outcome_shown" ]; then
			outcome=$(bootstrap_outcome)
			if [ -n "$outcome" ]; then
				printf '[%s] bootstrap %s\n' "$(elapsed)" "$outcome"
				outcome_shown=yes
			fi
		fi
		pending=""
		for r in $releases; do
			awk -F '\t' -v r="$r" '$1 == r && $2 == "True" { found = 1 } END { exit !found }' \
				"$now_states" || pending="$pending $r"
		done
		if [ -z "$pending" ]; then
			say "every release is Ready ($(elapsed | tr -d ' '))"
			return 0
		fi
		now=$(date +%s)
		if [ "$now" -ge "$deadline" ]; then
			die "timed out after $timeout_minutes minutes; not Ready:$pending (see appliance/scripts/status.sh and docs/operator-guide.md)"
		fi
		if [ $((now - last_note)) -ge 60 ]; then
			printf '[%s] still waiting for:%s\n' "$(elapsed)" "$pending"
			last_note=$now
		fi
		sleep "$poll"
	done
}

main() {
	url="" branch="" profile=talos-single-node secret="" timeout_minutes=90
	dry_run="" no_wait=""
	while [ $# -gt 0 ]; do
		case $1 in
		--url) need_value "$1" "${2:-}"; url=$2; shift 2 ;;
		--url=*) url=${1#*=}; shift ;;
		--branch) need_value "$1" "${2:-}"; branch=$2; shift 2 ;;
		--branch=*) branch=${1#*=}; shift ;;
		--profile) need_value "$1" "${2:-}"; profile=$2; shift 2 ;;
		--profile=*) profile=${1#*=}; shift ;;
		--secret) need_value "$1" "${2:-}"; secret=$2; shift 2 ;;
		--secret=*) secret=${1#*=}; shift ;;
		--timeout) need_value "$1" "${2:-}"; timeout_minutes=$2; shift 2 ;;
		--timeout=*) timeout_minutes=${1#*=}; shift ;;
		--no-wait) no_wait=yes; shift ;;
		--dry-run) dry_run=yes; shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage_error "unknown argument: $1" ;;
		esac
	done
	[ -n "$url" ] || usage_error "--url is required"
	[ -n "$branch" ] || usage_error "--branch is required"
	check_url_credentials
	case $url in
	https://* | http://* | ssh://*) ;;
	*) usage_error "--url must start with https://, http:// or ssh:// (Flux's forms): $url" ;;
	esac
	case $timeout_minutes in
	'' | *[!0-9]* | 0* | ???????*) usage_error "--timeout must be a whole number of minutes from 1 to 999999: $timeout_minutes" ;;
	esac
	check_secret_name
	case $profile in
	'' | */* | .*) usage_error "--profile must be a directory name: $profile" ;;
	esac
	[ -f "$repo_root/appliance/flux/profiles/$profile/kustomization.yaml" ] ||
		usage_error "no profile $profile under appliance/flux/profiles"
	check_scalar --url "$url"
	check_scalar --branch "$branch"
	check_scalar --secret "$secret"

	if [ -n "$dry_run" ]; then
		manifests
		exit 0
	fi
	command -v "$kubectl" >/dev/null 2>&1 ||
		die "$kubectl not found (set KUBECTL to the kubectl to use)"
	check_cluster
	say "applying GitRepository and Kustomization alga-appliance ($url, branch $branch, profile $profile)"
	manifests | "$kubectl" apply -f - ||
		die "kubectl apply failed (is the cluster reachable and are you allowed to write to flux-system?)"
	[ -z "$no_wait" ] || exit 0
	wait_for_releases
}

main "$@"
