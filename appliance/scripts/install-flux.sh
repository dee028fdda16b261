#!/bin/sh
# install-flux.sh: make sure the Flux controllers the appliance needs run.
#
# Usage: appliance/scripts/install-flux.sh [--dry-run] [-h|--help]
#
# When the controllers are present (namespace flux-system), confirms they
# are healthy (`flux check`) and new enough: the HelmReleases use the
# install and upgrade strategy RetryOnFailure, which Flux 2.7 introduced.
# It never reinstalls over a Flux it finds, which may be managed by
# `flux bootstrap` or the Flux Operator; it says what is wrong instead.
#
# When they are absent, installs source-controller, kustomize-controller,
# helm-controller and notification-controller with `flux install` (the
# flux CLI's own version of Flux), then waits for them with `flux check`.
#
# Options:
#   --dry-run   print the YAML `flux install` would apply and stop; needs the
#               flux CLI but no cluster
#   -h, --help  this text
#
# Environment:
#   FLUX     the flux CLI to run (flux); at least 2.7
#   KUBECTL  the kubectl to run (kubectl); KUBECONFIG as both read it
#
# Exit status: 0 Flux is present and healthy (or the YAML was printed); 1 an
# operational failure; 2 a usage error.
set -eu

flux=${FLUX:-flux}
kubectl=${KUBECTL:-kubectl}
components=source-controller,kustomize-controller,helm-controller,notification-controller
minimum_minor=7

usage() {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0"
}

say() {
	printf 'install-flux: %s\n' "$1"
}

die() {
	printf 'install-flux: %s\n' "$1" >&2
	exit 1
}

# need_cmd NAME WHAT: die naming what is missing and what it is for.
need_cmd() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# check_cli_version: the flux CLI must be 2.7 or later, because the Flux it
# installs is its own version.
check_cli_version() {
	version=$("$flux" version --client 2>/dev/null | sed -n 's/^flux: v\{0,1\}//p' | head -n 1)
	[ -n "$version" ] || die "cannot read the version of $flux (flux version --client)"
	major=${version%%.*}
	rest=${version#*.}
	minor=${rest%%.*}
	case $major$minor in
	'' | *[!0-9]*) die "cannot parse the flux CLI version: $version" ;;
	esac
	if [ "$major" -lt 2 ] || { [ "$major" -eq 2 ] && [ "$minor" -lt "$minimum_minor" ]; }; then
		die "flux CLI $version is too old: the appliance needs Flux 2.$minimum_minor or later"
	fi
	say "flux CLI $version"
}

# controllers_present: true when the three controllers the appliance uses
# have Deployments in flux-system.
controllers_present() {
	"$kubectl" -n flux-system get deployment source-controller \
		kustomize-controller helm-controller >/dev/null 2>&1
}

# check_installed: a Flux that is there must be healthy and know the
# RetryOnFailure strategy.
check_installed() {
	say "Flux controllers found in flux-system; checking their health"
	"$flux" check ||
		die "the Flux controllers are not healthy (see the lines above and kubectl -n flux-system get pods)"
	"$kubectl" get crd helmreleases.helm.toolkit.fluxcd.io -o yaml 2>/dev/null |
		grep -q RetryOnFailure ||
		die "the installed helm-controller does not know strategy RetryOnFailure: upgrade Flux to 2.$minimum_minor or later the way it was installed"
	say "Flux is present and healthy"
}

main() {
	dry_run=""
	while [ $# -gt 0 ]; do
		case $1 in
		--dry-run) dry_run=yes; shift ;;
		-h | --help) usage; exit 0 ;;
		*)
			printf 'install-flux: unknown argument: %s\nusage: install-flux.sh [--dry-run] [--help]\n' "$1" >&2
			exit 2
			;;
		esac
	done
	need_cmd "$flux" "install the flux CLI (https://fluxcd.io/flux/installation/), or set FLUX"
	check_cli_version >&2
	if [ -n "$dry_run" ]; then
		"$flux" install --components="$components" --export ||
			die "flux install --export failed"
		exit 0
	fi
	need_cmd "$kubectl" "install kubectl, or set KUBECTL"
	reach_error=$("$kubectl" version 2>&1 >/dev/null) ||
		die "cannot reach the cluster (check KUBECONFIG, the context and that the Talos node is up): $reach_error"
	if controllers_present; then
		check_installed
		exit 0
	fi
	say "no Flux controllers in flux-system; installing $components"
	"$flux" check --pre || die "the cluster does not meet Flux's prerequisites (see above)"
	"$flux" install --components="$components" || die "flux install failed"
	check_installed
}

main "$@"
