# shellcheck shell=bash
# charts.sh: render charts with both Helm majors and query the result.
#
#   HELMS                         "HELM3 HELM4": loop over it to test both
#   helm_of NAME                  the binary for HELM3 or HELM4
#   render NAME OUT CHART RELEASE [HELM ARGS...]
#                                 helm template into OUT (a YAML stream),
#                                 namespace alga unless the args say otherwise;
#                                 also writes OUT.json (a JSON array for jq)
#   objects OUT.json JQ_FILTER    jq -c over the array of rendered objects
#
# Source tests/lib/common.sh first.

export HELMS="HELM3 HELM4"

helm_of() {
	eval echo "\$$1"
}

render() {
	local helm out=$2 chart=$3 release=$4
	helm=$(helm_of "$1")
	shift 4
	"$helm" template "$release" "$chart" --namespace alga "$@" >"$out" ||
		return 1
	node "$ROOT/tools/yaml-to-json.mjs" "$out" >"$out.json"
}

objects() {
	jq -c "$2" "$1"
}
