#!/usr/bin/env bash
# test-install-tools.sh: make tools is idempotent, and a user who is not root
# and lacks a package gets the exact apt-get command instead of a failure
# later on.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"

work=$(mktemp -d /tmp/alga-tools-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

out=$("$ROOT/scripts/install-tools.sh" 2>&1)
is "a second run succeeds" "$?" 0
lacks "a second run installs no Debian package" "$out" "installing Debian"
lacks "a second run downloads nothing" "$out" "downloading"
contains "a second run names the tools it found" "$out" "tools: ready:"
ok "--check passes when everything is there" \
	"$ROOT/scripts/install-tools.sh" --check

# A PATH with every command the script looks for except jq, as nobody.
mkdir -p "$work/repo/scripts" "$work/bin"
cp "$ROOT/scripts/install-tools.sh" "$work/repo/scripts/"
for cmd in cc make pkg-config psql pgbouncer redis-server redis-cli \
	shellcheck unzip clang-format cppcheck runuser ss ps node npm \
	sh sed tr sort id dirname cat; do
	path=$(command -v "$cmd") && ln -s "$path" "$work/bin/$cmd"
done
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env -i PATH="$work/bin" "$work/repo/scripts/install-tools.sh" 2>&1)
is "a missing package stops a user who is not root with exit 1" "$?" 1
contains "the message names the missing package" "$out" \
	"missing Debian packages: jq"
contains "the message gives the exact command" "$out" \
	"run as root: apt-get update && apt-get install -y --no-install-recommends jq"
not_ok "nothing was written for that user" test -e "$work/repo/.tools"
out=$(env -i PATH="$work/bin" "$work/repo/scripts/install-tools.sh" --check 2>&1)
is "--check reports the missing package with exit 1" "$?" 1
contains "--check names it" "$out" "jq"
not_ok "--help is not an error, a bad option is" \
	"$ROOT/scripts/install-tools.sh" --bogus
done_testing
