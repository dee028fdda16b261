/*
 * fuzz_appliance: libFuzzer harness for everything alga-appliance reads as
 * YAML. The first byte picks what the rest of the input stands for:
 *   0  a kustomize build: index it, compose the values of every HelmRelease
 *      in it and emit them
 *   1  a values file: parse, merge it over itself, set a targetPath, emit
 *   2  a rules file
 *   3  a rendered release, verified against fixed rules and profile
 * Build and run: fuzz/run.sh [SECONDS]. tests/appliance/test-fuzz.sh
 * replays the inputs kept in tests/appliance/fuzz-regressions/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/objects.h"
#include "appliance/render.h"
#include "appliance/rules.h"
#include "appliance/values.h"
#include "appliance/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_rules[] =
	"namespace: alga\n"
	"releases: [r]\n"
	"postgres:\n"
	"  service: alga-core-postgres:5432\n"
	"  pgbouncer: pgbouncer:6432\n"
	"  viaPgbouncer: [r/Deployment/*]\n"
	"  direct: [r/Job/*]\n"
	"persistentData:\n"
	"  - {match: r/StatefulSet/*, what: data, mountPath: /data}\n"
	"budget: {cpu: '2', memory: 4Gi}\n"
	"podSecurity: {default: restricted, minimum: baseline}\n"
	"bootstrap: {job: r/Job/*, allowedHooks: [test]}\n";

static const char fixed_profile[] =
	"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: alga\n"
	"---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
	"metadata: {name: r, namespace: alga}\n"
	"spec: {chart: {spec: {chart: ./c, sourceRef: {kind: GitRepository,"
	" name: s}}}}\n";

static void emit_and_free(struct yaml_node *values)
{
	FILE *sink = fopen("/dev/null", "w");

	if (sink && values)
		yaml_doc_emit(sink, values);
	if (sink)
		fclose(sink);
	yaml_doc_free(values);
}

static void fuzz_profile(const char *text, size_t len)
{
	struct objects profile = {0};
	char error[512], release[256], namespace[256];

	if (objects_add_string(&profile, "fuzz", text, len, "", error,
			       sizeof(error))) {
		for (size_t i = 0; i < profile.count; i++) {
			struct values_sources sources = {0};

			if (!render_is_helm_release(&profile.items[i]))
				continue;
			render_release_names(&profile.items[i], release,
					     sizeof(release), namespace,
					     sizeof(namespace));
			emit_and_free(values_compose(&profile,
						     &profile.items[i], NULL,
						     &sources, error,
						     sizeof(error)));
			values_sources_free(&sources);
		}
	}
	objects_free(&profile);
}

static void fuzz_values(const char *text, size_t len)
{
	struct values_sources sources = {0};
	struct yaml_node *values, *again;
	char error[512];

	values = values_parse("fuzz", text, len, &sources, error,
			      sizeof(error));
	again = values ? yaml_doc_copy(values) : NULL;
	if (values && again) {
		values = yaml_doc_merge(values, again);
		if (values)
			values_set_path(values, "a.b.c", "'x'", error,
					sizeof(error));
	}
	yaml_doc_free(again);
	emit_and_free(values);
	values_sources_free(&sources);
}

static void fuzz_rules(const char *text, size_t len)
{
	struct rules rules;
	char error[512];

	if (rules_load_string("fuzz", text, len, &rules, error,
			      sizeof(error)))
		rules_free(&rules);
}

static void fuzz_verify(const char *text, size_t len)
{
	struct verify_context ctx = {0};
	struct rules rules;
	char error[512];

	if (!rules_load_string("rules", fixed_rules, strlen(fixed_rules),
			       &rules, error, sizeof(error)))
		abort();
	ctx.rules = &rules;
	ctx.out = fopen("/dev/null", "w");
	if (ctx.out &&
	    objects_add_string(&ctx.profile, "profile", fixed_profile,
			       strlen(fixed_profile), "", error,
			       sizeof(error)) &&
	    verify_index_releases(&ctx) &&
	    objects_add_string(&ctx.rendered, "fuzz", text, len, "r", error,
			       sizeof(error)))
		verify_check(&ctx);
	if (ctx.out)
		fclose(ctx.out);
	objects_free(&ctx.profile);
	objects_free(&ctx.rendered);
	free(ctx.releases);
	rules_free(&rules);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		fuzz_profile(text, size - 1);
		break;
	case 1:
		fuzz_values(text, size - 1);
		break;
	case 2:
		fuzz_rules(text, size - 1);
		break;
	default:
		fuzz_verify(text, size - 1);
		break;
	}
	return 0;
}
