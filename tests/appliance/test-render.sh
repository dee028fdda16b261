#!/usr/bin/env bash
# test-render.sh: alga-appliance render, with Helm 3 and Helm 4, gives what
# helm template gives for the same values; valuesFrom merges as
# helm-controller merges; remote charts are skipped or taken from
# --chart-dir; malformed input gets a file and line and a non-zero exit.
set -uo pipefail
# shellcheck source=tests/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=tests/appliance/lib.sh
. "$ROOT/tests/appliance/lib.sh"
# shellcheck source=tests/lib/charts.sh
. "$ROOT/tests/lib/charts.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
MERGE=$ROOT/tests/appliance/fixtures/merge

# body FILE: a rendered file without its render header line.
body() {
	sed 1d "$1"
}

for h in $HELMS; do
	helm=$(helm_of "$h")
	out=$work/$h
	render_with "$helm" "$MINI/flux/profiles/mini" "$out"
	is "$h: the mini profile renders" "$RENDER_STATUS" 0
	for release in alga-core pgbouncer workflow-worker; do
		ok "$h: $release.yaml written" test -s "$out/$release.yaml"
	done
	contains "$h: the remote chart is skipped in one line" "$RENDER_OUT" \
		"skipped temporal: chart temporal comes from HelmRepository temporal, which is remote; give --chart-dir temporal=PATH"
	contains "$h: a summary line" "$RENDER_OUT" \
		"3 releases rendered, 1 skipped, 0 failed"
	"$helm" template workflow-worker "$MINI/charts/mini-worker" \
		--namespace alga --include-crds --skip-tests \
		-f "$MINI/flux/profiles/mini/values/workflow-worker.yaml" \
		>"$work/direct.yaml"
	is "$h: the same manifests as helm template with the profile's values" \
		"$(body "$out/workflow-worker.yaml")" "$(cat "$work/direct.yaml")"
	contains "$h: inline values of the HelmRelease are applied" \
		"$(cat "$out/pgbouncer.yaml")" 'value: "alga-core-postgres"'

	render_with "$helm" "$MINI/flux/profiles/mini" "$out" \
		--chart-dir "temporal=$MINI/charts/values-echo"
	contains "$h: --chart-dir renders the remote chart" "$RENDER_OUT" \
		"4 releases rendered, 0 skipped"
	ok "$h: temporal.yaml written" test -s "$out/temporal.yaml"

	# valuesFrom in order, valuesKey, targetPath, optional, then inline.
	render_with "$helm" "$MERGE/flux" "$work/merge-$h"
	is "$h: the valuesFrom profile renders" "$RENDER_STATUS" 0
	"$helm" template echo "$MINI/charts/values-echo" --namespace alga \
		-f "$MERGE/flux/a.yaml" -f "$MERGE/flux/b.yaml" \
		-f "$MERGE/flux/inline.yaml" \
		--set logging.level=debug --set logging.count=42 \
		>"$work/merge-direct.yaml"
	is "$h: valuesFrom merges as helm -f a -f b -f inline --set does" \
		"$(body "$work/merge-$h/echo.yaml")" \
		"$(cat "$work/merge-direct.yaml")"
	# shellcheck disable=SC2016
	lacks "$h: a null in the values drops the chart's default" \
		"$(cat "$work/merge-$h/echo.yaml")" 'dropped'
done

# ---- test hooks: only when the HelmRelease runs its tests ----
lacks "test hooks are left out, as helm-controller does" \
	"$(cat "$work/HELM4/workflow-worker.yaml")" "helm.sh/hook: test"
mini_copy "$work/tests-on"
# workflow-worker is the only release with dependsOn in the fixture.
sed -i 's/^  dependsOn:$/  test:\n    enable: true\n&/' \
	"$work/tests-on/flux/base/releases.yaml"
render_with "$HELM4" "$work/tests-on/flux/profiles/mini" "$work/tests-on/out"
contains "a HelmRelease with spec.test.enable keeps them" \
	"$(cat "$work/tests-on/out/workflow-worker.yaml" 2>&1)" "helm.sh/hook: test"

# ---- re-rendering ----
out=$work/HELM4
echo "keep me" >"$out/notes.yaml"
touch "$out/stale-release.yaml"
printf '%s stale\n' '# alga-appliance render:' >"$out/gone.yaml"
render_with "$HELM4" "$MINI/flux/profiles/mini" "$out"
ok "a second render keeps files it did not write" test -s "$out/notes.yaml"
not_ok "a second render removes releases it wrote before" test -e "$out/gone.yaml"
ok "the merged values are kept beside the releases" \
	test -s "$out/values/alga-core.yaml"

# ---- malformed input ----
# malformed NAME WANT EDIT...: break a copy of the fixture with EDIT (run in
# the profile directory); render must fail with WANT in its message.
malformed() {
	local name=$1 want=$2 dir
	shift 2
	dir=$work/bad-$name
	mini_copy "$dir"
	(cd "$dir/flux/profiles/mini" && "$@")
	render_with "$HELM4" "$dir/flux/profiles/mini" "$dir/out"
	isnt_zero "$name: render fails" "$RENDER_STATUS" "$RENDER_OUT"
	contains "$name: says where" "$RENDER_OUT" "$want"
	lacks "$name: no crash" "$RENDER_OUT" "Sanitizer"
}

isnt_zero() {
	if [ "$2" -ne 0 ] && [ "$2" -lt 128 ]; then
		pass "$1"
	else
		fail "$1" "exit status $2: $3"
	fi
}

malformed broken-values-yaml \
	"ConfigMap alga-core-values key values.yaml:2:" \
	sh -c 'printf "image: [unclosed\nother: 1\n" >values/alga-core.yaml'
malformed values-not-a-map \
	"ConfigMap alga-core-values key values.yaml:1: the values are a list, not a map" \
	sh -c 'printf -- "- a\n- b\n" >values/alga-core.yaml'
malformed release-without-chart \
	"_profile.yaml:" \
	sed -i 's|chart: ./charts/mini-worker|nochart: here|' ../../base/releases.yaml
malformed missing-configmap \
	"HelmRelease alga-core: valuesFrom ConfigMap alga-core-values not found in the profile" \
	sed -i 's/name: alga-core-values$/name: other-values/' kustomization.yaml
malformed missing-key \
	"valuesFrom ConfigMap alga-core-values has no key values.yaml (it has other.yaml); configMapGenerator alga-core-values (" \
	sed -i 's|values.yaml=values/alga-core.yaml|other.yaml=values/alga-core.yaml|' \
	kustomization.yaml
malformed wrong-values-key \
	"HelmRelease workflow-worker: valuesFrom ConfigMap workflow-worker-values has no key value.yaml (it has values.yaml); configMapGenerator workflow-worker-values (" \
	sed -i 's|      name: workflow-worker-values|&\n      valuesKey: value.yaml|' \
	../../base/releases.yaml
lacks "the missing key is said once, in one sentence" "$RENDER_OUT" \
	"not found in the profile"
contains "and names the generator's kustomization.yaml line" "$RENDER_OUT" \
	"mini/kustomization.yaml:10) gives it no file with key value.yaml"
malformed broken-values-file \
	"; made from $work/bad-broken-values-file/flux/profiles/mini/values/alga-core.yaml by configMapGenerator alga-core-values" \
	sh -c 'printf "image: [unclosed\nother: 1\n" >values/alga-core.yaml'
malformed chart-not-there "no chart at" \
	sed -i 's|chart: ./charts/mini-core|chart: ./charts/nothing|' ../../base/releases.yaml
malformed broken-kustomization "kustomize" \
	sh -c 'echo "resources: [missing.yaml]" >>kustomization.yaml'
malformed helm-fails "release alga-core: " \
	sh -c 'echo "{{ fail \"the chart refuses\" }}" >../../../charts/mini-core/templates/fail.yaml'
malformed inline-values-not-a-map "spec.values is a scalar, not a map" \
	sed -i '0,/^  valuesFrom:/s//  values: just-text\n  valuesFrom:/' ../../base/releases.yaml
malformed bad-target-path "targetPath \"a[0]\" is not a plain dotted path" \
	sed -i 's|      name: workflow-worker-values|&\n      targetPath: "a[0]"|' \
	../../base/releases.yaml

render_with "$HELM4" "$work/no-such-profile" "$work/x"
isnt_zero "a missing profile fails" "$RENDER_STATUS" "$RENDER_OUT"
contains "and says so" "$RENDER_OUT" "is not a directory"
not_ok "render without --out is a usage error" "$APPLIANCE" render "$MINI"
not_ok "an unknown command is a usage error" "$APPLIANCE" frobnicate
ok "--help works" "$APPLIANCE" --help
ok "--version works" "$APPLIANCE" --version

# ---- malformed input to verify ----
clean=$work/HELM4
copy=$work/verify-bad
cp -R "$clean" "$copy"
printf 'kind: Deployment\nmetadata: {name: [x\n' >"$copy/broken.yaml"
verify_dir "$copy"
is "verify of a broken manifest exits 2" "$VERIFY_STATUS" 2
contains "and names file and line" "$VERIFY_OUT" "broken.yaml:3:"
rm "$copy/broken.yaml"
printf 'namespace: alga\nreplicas: [1\n' >"$work/rules-broken.yaml"
verify_dir "$copy" --rules "$work/rules-broken.yaml"
is "verify with broken rules exits 2" "$VERIFY_STATUS" 2
contains "and names the rules file and line" "$VERIFY_OUT" "rules-broken.yaml:"
printf 'namespace: alga\nreplica: 1\n' >"$work/rules-typo.yaml"
verify_dir "$copy" --rules "$work/rules-typo.yaml"
contains "an unknown key in the rules is refused with its line" \
	"$VERIFY_OUT" 'rules-typo.yaml:2: unknown key "replica"'
printf 'namespace: alga\nbudget: {cpu: lots}\n' >"$work/rules-budget.yaml"
verify_dir "$copy" --rules "$work/rules-budget.yaml"
contains "a bad quantity in the rules is refused" "$VERIFY_OUT" \
	'budget cpu "lots" is not a CPU quantity'
verify_dir "$work/nothing-here"
is "verify of a directory that is not there exits 2" "$VERIFY_STATUS" 2
contains "and says it does not exist" "$VERIFY_OUT" \
	"$work/nothing-here: no such directory; render the profile into it first"
lacks "and does not blame --rules" "$VERIFY_OUT" "give --rules"
mkdir "$work/empty-dir"
verify_dir "$work/empty-dir" --rules "$work/rules-typo.yaml"
is "verify of a directory render did not write exits 2" "$VERIFY_STATUS" 2
contains "and says to render first" "$VERIFY_OUT" \
	"$work/empty-dir was not rendered (no readable _profile.yaml); run alga-appliance render"

out=$(HELM=$work/no-helm "$APPLIANCE" render "$MINI/flux/profiles/mini" --out "$work/no-helm-out" 2>&1)
is "render without a helm exits 2 before any work" "$?" 2
contains "and says where make tools puts Helm" "$out" \
	"give --helm PATH or set HELM; make tools puts Helm 4"
# A Helm that answers everything but template: every release fails.
# shellcheck disable=SC2016 # $1 and $@ belong to the written script
printf '#!/bin/sh\n[ "$1" = template ] && exit 1\nexec "%s" "$@"\n' \
	"$HELM4" >"$work/helm-no-template"
chmod +x "$work/helm-no-template"
"$APPLIANCE" render "$MINI/flux/profiles/mini" --out "$work/all-failed" \
	--helm "$work/helm-no-template" >/dev/null 2>&1
verify_dir "$work/all-failed"
is "verify of a render where every release failed exits 2" \
	"$VERIFY_STATUS" 2
contains "and says nothing was rendered" "$VERIFY_OUT" \
	"holds no rendered release"
done_testing
