# shellcheck shell=bash
# tap.sh: print TAP test lines from a shell test suite.
#
# Source it, then call the assertions; each prints one "ok" or "not ok" line
# that tests/run counts. A failing assertion prints what it saw after the
# line, as a "#" comment, and the suite goes on.
#
#   ok "what" COMMAND...            passes when COMMAND exits 0 (in a subshell)
#   ok_here "what" COMMAND...       the same in this shell, so that COMMAND
#                                   may set variables (pg_start, say)
#   not_ok "what" COMMAND...        passes when COMMAND exits non-zero
#   is "what" GOT WANT              passes when the strings are equal
#   contains "what" HAYSTACK NEEDLE passes when HAYSTACK contains NEEDLE
#   lacks "what" HAYSTACK NEEDLE    passes when HAYSTACK does not contain it
#   pass "what" / fail "what" [why]
#   skip "what" "why"
#   done_testing                    exits 1 when anything failed

TAP_FAILED=0
TAP_COUNT=0

pass() {
	TAP_COUNT=$((TAP_COUNT + 1))
	printf 'ok %d - %s\n' "$TAP_COUNT" "$1"
}

fail() {
	TAP_COUNT=$((TAP_COUNT + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	printf 'not ok %d - %s\n' "$TAP_COUNT" "$1"
	[ $# -lt 2 ] || printf '%s\n' "$2" | sed 's/^/#   /' | head -n 40
}

skip() {
	TAP_COUNT=$((TAP_COUNT + 1))
	printf 'ok %d - %s # skip %s\n' "$TAP_COUNT" "$1" "$2"
}

ok() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$what"
	else
		fail "$what" "$out"
	fi
}

ok_here() {
	local what=$1
	shift
	if "$@"; then
		pass "$what"
	else
		fail "$what"
	fi
}

not_ok() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		fail "$what" "expected a failure, got success: $out"
	else
		pass "$what"
	fi
}

is() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "got:  $2
want: $3"
	fi
}

contains() {
	case $2 in
	*"$3"*) pass "$1" ;;
	*) fail "$1" "missing: $3
in: $2" ;;
	esac
}

lacks() {
	case $2 in
	*"$3"*) fail "$1" "unexpected: $3
in: $2" ;;
	*) pass "$1" ;;
	esac
}

done_testing() {
	[ "$TAP_FAILED" -eq 0 ]
	exit $?
}
