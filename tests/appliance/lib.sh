# shellcheck shell=bash
# lib.sh: what the alga-appliance suites share.
#
#   MINI                     the mini fixture (charts/ and flux/), a repository
#                            of its own for render
#   mini_copy DIR            copies the fixture to DIR, to break it there
#   render_with HELM PROFILE OUT [ARGS...]
#                            alga-appliance render with that Helm; output and
#                            exit status in RENDER_OUT and RENDER_STATUS
#   verify_dir OUT [ARGS...] alga-appliance verify; VERIFY_OUT, VERIFY_STATUS
#
# Source tests/lib/common.sh first.
# shellcheck disable=SC2034 # the results are read by the suites

MINI=$ROOT/tests/appliance/fixtures/mini
APPLIANCE=${APPLIANCE:-$ROOT/build/asan/bin/alga-appliance}

mini_copy() {
	mkdir -p "$1"
	cp -R "$MINI/charts" "$MINI/flux" "$1/"
}

render_with() {
	local helm=$1 profile=$2 out=$3
	shift 3
	RENDER_STATUS=0
	RENDER_OUT=$("$APPLIANCE" render "$profile" --out "$out" \
		--helm "$helm" --kubectl "$KUBECTL" "$@" 2>&1) ||
		RENDER_STATUS=$?
}

verify_dir() {
	local out=$1
	shift
	VERIFY_STATUS=0
	VERIFY_OUT=$("$APPLIANCE" verify "$out" "$@" 2>&1) || VERIFY_STATUS=$?
}

# verify_broken NAME RULE WHERE EDIT_DIR PROFILE_DIR OUT EDIT...: run EDIT in
# EDIT_DIR (a broken copy), render PROFILE_DIR with Helm 4 into OUT, verify;
# verify must fail naming RULE and WHERE.
verify_broken() {
	local name=$1 rule=$2 where=$3 edit_dir=$4 profile_dir=$5 out=$6
	shift 6
	(cd "$edit_dir" && "$@")
	render_with "$HELM4" "$profile_dir" "$out"
	if [ "$RENDER_STATUS" -ne 0 ]; then
		fail "$name: renders" "$RENDER_OUT"
		return
	fi
	verify_dir "$out"
	is "$name: verify exits 1" "$VERIFY_STATUS" 1
	contains "$name: names the rule [$rule]" "$VERIFY_OUT" "[$rule]"
	contains "$name: names $where" "$VERIFY_OUT" "$where"
}
