# shellcheck shell=bash
# values-docs.sh: checks that a chart documents its values, for the chart
# test suites of the pgbouncer and worker charts.
#
#   undocumented_keys VALUES     the keys of VALUES (a values.yaml) without a
#                                "# --" comment above them, as "LINE: TEXT";
#                                keys inside lists and inside free-form maps
#                                (resources, podAnnotations, nodeSelector,
#                                affinity) are not the chart's and are passed
#                                over
#   keys_missing_from_readme DIR the top-level keys of DIR/values.yaml that
#                                DIR/README.md does not name as `key` or
#                                `key.sub`

undocumented_keys() {
	awk '
	/^ *#/ {
		if ($0 ~ /^ *# --/)
			documented = 1
		next
	}
	/^ *$/ { next }
	{
		match($0, /^ */)
		depth = RLENGTH
		if (opaque && depth <= opaque_depth)
			opaque = 0
		if (listing && depth <= list_depth && $0 !~ /^ *- /)
			listing = 0
		if ($0 ~ /^ *- /) {
			listing = 1
			list_depth = depth
		}
		if (listing || opaque) {
			documented = 0
			next
		}
		if ($0 ~ /^ *[A-Za-z_][A-Za-z0-9_]*:/ && !documented)
			print NR ": " $0
		if ($0 ~ /^ *(resources|podAnnotations|nodeSelector|affinity):/) {
			opaque = 1
			opaque_depth = depth
		}
		documented = 0
	}' "$1"
}

keys_missing_from_readme() {
	sed -n 's/^\([A-Za-z][A-Za-z0-9]*\):.*/\1/p' "$1/values.yaml" |
		while read -r key; do
			grep -q "\`${key}[.\`]" "$1/README.md" || echo "$key"
		done
}
