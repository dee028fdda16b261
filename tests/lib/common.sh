# shellcheck shell=bash
# common.sh: what every shell test suite sources first.
#
# Sets ROOT (the repository), reads .tools/env (HELM3, HELM4, KUBECTL,
# PG_BINDIR, written by `make tools`), puts build/bin and the PostgreSQL
# server binaries on PATH, and loads the TAP assertions.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export ROOT

if [ ! -f "$ROOT/.tools/env" ]; then
	echo "not ok - tools missing: run 'make tools' first ($ROOT/.tools/env not found)"
	exit 1
fi
# shellcheck source=/dev/null
. "$ROOT/.tools/env"
export HELM3 HELM4 KUBECTL PG_BINDIR
PATH=$ROOT/build/bin:$PG_BINDIR:$PATH
export PATH

# shellcheck source=tests/lib/tap.sh
. "$ROOT/tests/lib/tap.sh"

# validate_schemas FILE...: the Kubernetes and Flux schema check.
validate_schemas() {
	node "$ROOT/tools/validate-schemas.mjs" "$@"
}
