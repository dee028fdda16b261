#!/bin/sh
# write-userlist.sh: write PgBouncer's user list (its auth_file) from password
# files. The pgbouncer pod runs it in its init container at every start, with
# the keys of the credentials Secret mounted as files; the integration test
# runs the same file from the rendered ConfigMap.
#
# Usage: write-userlist.sh OUTPUT USER=PASSWORD_FILE...
#
# Every USER becomes one line `"USER" "PASSWORD"`. A double quote inside a
# field is written twice: that is the escape of PgBouncer's auth_file format,
# in which a backslash has no special meaning and is kept as it is. Trailing
# CR and LF bytes of a password file are dropped (a file written by echo ends
# with a newline, one written on Windows with CR LF), as alga-bootstrap does.
# A missing or empty file, a NUL byte, or a line break inside the password
# (the list is line-based) stops the start with a message naming the user
# and the file; the password itself is never printed. The list is written with mode
# 0600 beside OUTPUT and then renamed onto it.
set -eu

usage() {
	echo "usage: write-userlist.sh OUTPUT USER=PASSWORD_FILE..." >&2
	exit 2
}

die() {
	echo "write-userlist: $*" >&2
	exit 1
}

# quote VALUE: VALUE in double quotes, each double quote inside doubled.
quote() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"
}

# read_password USER FILE: the password in FILE, read the way alga-bootstrap
# reads it (trailing CR and LF stripped, nothing else), checked for what the
# list cannot hold.
read_password() {
	[ -r "$2" ] || die "cannot read the password of $1: $2 is missing" \
		"(is the key in the credentials Secret?)"
	# The shell drops NUL bytes without a word: count them first.
	[ "$(tr -d '\000' <"$2" | wc -c)" -eq "$(wc -c <"$2")" ] ||
		die "the password of $1 contains a NUL byte: $2"
	password=$(cat "$2")
	while :; do
		case $password in
		*"$carriage_return") password=${password%"$carriage_return"} ;;
		*"$newline") password=${password%"$newline"} ;;
		*) break ;;
		esac
	done
	[ -n "$password" ] || die "the password of $1 is empty: $2"
	case $password in
	*"$newline"* | *"$carriage_return"*)
		die "the password of $1 contains a line break, which the user" \
			"list cannot hold: $2"
		;;
	esac
}

main() {
	[ $# -ge 2 ] || usage
	case $1 in -h | --help) usage ;; esac
	output=$1
	shift
	newline='
'
	carriage_return=$(printf '\r')
	umask 077
	tmp=$output.tmp
	trap 'rm -f "$tmp"' EXIT
	: >"$tmp"
	for pair in "$@"; do
		case $pair in
		?*=?*) ;;
		*) usage ;;
		esac
		user=${pair%%=*}
		read_password "$user" "${pair#*=}"
		printf '%s %s\n' "$(quote "$user")" "$(quote "$password")" >>"$tmp"
	done
	mv -f "$tmp" "$output"
	echo "write-userlist: wrote $# users to $output"
}

main "$@"
