# values-doc.awk: print the keys of a chart's values.yaml that have no
# "# --" comment above them, as "LINE: TEXT", so that a test can require
# every key to be documented. Keys inside lists and inside free-form maps
# (resources, podAnnotations, nodeSelector, affinity) are not keys of the
# chart and are passed over.
#
# Usage: awk -f tests/charts/values-doc.awk charts/NAME/values.yaml

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
}
