/*
 * test_appliance_values: the values helm-controller would hand Helm, checked
 * against Helm itself. Each case puts values files into ConfigMaps of a
 * profile, composes them with values_compose, and renders a chart whose
 * template is `toYaml .Values` twice: once with our merged file, once with
 * the original files given to Helm as -f a -f b ... (and --set for
 * targetPath). Both Helm 3 and Helm 4 when .tools/env names them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appliance/child.h"
#include "appliance/objects.h"
#include "appliance/values.h"
#include "tap.h"

#define ECHO_CHART "tests/appliance/fixtures/mini/charts/values-echo"

struct merge_case {
	const char *name;
	const char *files[5];      /* valuesFrom ConfigMaps, in order */
	const char *inline_values; /* spec.values, or NULL */
	const char *set[5];        /* targetPath=value entries, after files */
	const char *helm_set[5];   /* the same for the Helm command line */
};

static const struct merge_case cases[] = {
        {"maps merge key by key, later files win",
         {"nested:\n  a: 10\n  c: x\n", "nested:\n  c: y\n  d: [1]\n"},
         NULL,
         {NULL},
         {NULL}},
        {"lists are replaced, not appended",
         {"list: [1, 2, 3]\n", "list: [4]\n"},
         NULL,
         {NULL},
         {NULL}},
        {"a null drops the chart's default",
         {"dropped: null\n"},
         NULL,
         {NULL},
         {NULL}},
        {"a scalar replaces a map of the chart",
         {"nested: 5\n"},
         NULL,
         {NULL},
         {NULL}},
        {"a map replaces a scalar",
         {"keep: {a: 1}\n", "keep: {b: 2}\n"},
         NULL,
         {NULL},
         {NULL}},
        {"quoted and plain scalars keep their types",
         {"s: \"010\"\nt: \"true\"\nn: 10\nb: false\nf: 1.5\ne: ''\n"},
         NULL,
         {NULL},
         {NULL}},
        {"inline values go on top of every file",
         {"a: 1\nnested: {a: from-file}\n", "b: 2\n"},
         "nested:\n  a: inline\n  z: 1\nb: inline\n",
         {NULL},
         {NULL}},
        {"targetPath types values like --set",
         {"x: 1\n"},
         NULL,
         {"t.bool=true", "t.int=42", "t.zero=0123", "t.text=hello"},
         {"t.bool=true", "t.int=42", "t.zero=0123", "t.text=hello"}},
        {"targetPath with quotes is a string like --set-string",
         {"x: 1\n"},
         NULL,
         {"t.quoted='42'", "nested.a=-7", "t.none=null"},
         {"t.quoted=42", "nested.a=-7", "t.none=null"}},
        {"targetPath keys YAML would type stay strings",
         {"x: 1\n"},
         NULL,
         {"t.no=null", "t.on=x", "t.010=y", "t.True=1"},
         {"t.no=null", "t.on=x", "t.010=y", "t.True=1"}},
        {"targetPath number-like keys stay strings",
         {"x: 1\n"},
         NULL,
         {"t.1.5=b", "t.null=c", "t.yes=d", "t.0x1F=e"},
         {"t.1.5=b", "t.null=c", "t.yes=d", "t.0x1F=e"}},
        {"quoted keys of a values file stay strings",
         {"\"no\": 1\n'010': x\n\"~\": {\"off\": y}\n"},
         NULL,
         {NULL},
         {NULL}},
};

static void indent(FILE *out, const char *text)
{
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");

		fprintf(out, "    %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
}

/* The profile: one ConfigMap per file and per targetPath, a HelmRelease. */
static char *profile_text(const struct merge_case *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	for (int i = 0; c->files[i]; i++) {
		fprintf(out,
		        "---\napiVersion: v1\nkind: ConfigMap\n"
		        "metadata: {name: file-%d}\ndata:\n"
		        "  values.yaml: |\n",
		        i);
		indent(out, c->files[i]);
	}
	for (int i = 0; c->set[i]; i++)
		fprintf(out,
		        "---\napiVersion: v1\nkind: ConfigMap\n"
		        "metadata: {name: set-%d}\ndata:\n  v: \"%s\"\n",
		        i, strchr(c->set[i], '=') + 1);
	fprintf(out, "---\napiVersion: helm.toolkit.fluxcd.io/v2\n"
	             "kind: HelmRelease\nmetadata: {name: echo}\nspec:\n"
	             "  valuesFrom:\n");
	for (int i = 0; c->files[i]; i++)
		fprintf(out, "    - {kind: ConfigMap, name: file-%d}\n", i);
	for (int i = 0; c->set[i]; i++)
		fprintf(out,
		        "    - {kind: ConfigMap, name: set-%d, valuesKey: v, "
		        "targetPath: \"%.*s\"}\n",
		        i, (int)(strchr(c->set[i], '=') - c->set[i]),
		        c->set[i]);
	if (c->inline_values) {
		fprintf(out, "  values:\n");
		indent(out, c->inline_values);
	}
	fclose(out);
	return text;
}

static bool write_file(const char *path, const char *text)
{
	FILE *out = fopen(path, "w");

	if (!out)
		return false;
	fputs(text, out);
	return fclose(out) == 0;
}

/* Our composition, emitted into path. */
static bool compose_into(const struct merge_case *c, const char *path)
{
	struct objects profile = {0};
	struct values_sources sources = {0};
	struct yaml_node *values = NULL;
	char error[512], *text = profile_text(c);
	FILE *out;
	bool ok = false;

	if (!objects_add_string(&profile, "profile", text, strlen(text), "",
	                        error, sizeof(error))) {
		printf("# %s\n", error);
		goto out;
	}
	values = values_compose(&profile, &profile.items[profile.count - 1],
	                        NULL, &sources, error, sizeof(error));
	if (!values) {
		printf("# %s\n", error);
		goto out;
	}
	out = fopen(path, "w");
	ok = out && yaml_doc_emit(out, values);
	ok = out && fclose(out) == 0 && ok;
out:
	yaml_doc_free(values);
	values_sources_free(&sources);
	objects_free(&profile);
	free(text);
	return ok;
}

static char *helm_template(const char *helm, const char *const extra[])
{
	const char *argv[32] = {helm, "template", "echo", ECHO_CHART};
	struct child_result result;
	char error[256];
	size_t n = 4;
	char *out;

	for (size_t i = 0; extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if (!child_run(argv, &result, error, sizeof(error)))
		return NULL;
	if (result.exit_code != 0) {
		printf("# helm: %s\n", result.err);
		child_result_free(&result);
		return NULL;
	}
	out = result.out;
	result.out = NULL;
	child_result_free(&result);
	return out;
}

static void run_case(const char *helm_name, const char *helm,
                     const struct merge_case *c, const char *dir)
{
	char merged[512], files[5][512], what[256];
	const char *ours_args[] = {"-f", merged, NULL};
	const char *theirs_args[24];
	char *ours, *theirs;
	size_t n = 0;

	snprintf(merged, sizeof(merged), "%s/merged.yaml", dir);
	snprintf(what, sizeof(what), "%s: %s", helm_name, c->name);
	if (!compose_into(c, merged)) {
		tap_ok(false, "%s (compose failed)", what);
		return;
	}
	for (int i = 0; c->files[i]; i++) {
		snprintf(files[i], sizeof(files[i]), "%s/file-%d.yaml", dir, i);
		write_file(files[i], c->files[i]);
		theirs_args[n++] = "-f";
		theirs_args[n++] = files[i];
	}
	if (c->inline_values) {
		snprintf(files[4], sizeof(files[4]), "%s/inline.yaml", dir);
		write_file(files[4], c->inline_values);
		theirs_args[n++] = "-f";
		theirs_args[n++] = files[4];
	}
	for (int i = 0; c->helm_set[i]; i++) {
		bool quoted = strchr(c->set[i], '\'') != NULL;

		theirs_args[n++] = quoted ? "--set-string" : "--set";
		theirs_args[n++] = c->helm_set[i];
	}
	theirs_args[n] = NULL;
	ours = helm_template(helm, ours_args);
	theirs = helm_template(helm, theirs_args);
	tap_is_str(ours, theirs, what);
	free(ours);
	free(theirs);
}

/* HELM3 / HELM4 from the environment, else from .tools/env. */
static bool find_helm(const char *name, char *path, size_t size)
{
	const char *env = getenv(name);
	char line[1024];
	size_t name_len = strlen(name);
	FILE *tools;
	bool found = false;

	if (env && *env) {
		snprintf(path, size, "%s", env);
		return true;
	}
	tools = fopen(".tools/env", "r");
	while (tools && !found && fgets(line, sizeof(line), tools)) {
		if (strncmp(line, name, name_len) == 0 &&
		    line[name_len] == '=') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, size, "%s", line + name_len + 1);
			found = true;
		}
	}
	if (tools)
		fclose(tools);
	return found && access(path, X_OK) == 0;
}

static void targetpath_errors(void)
{
	struct yaml_node *root = yaml_doc_new_mapping();
	char error[256];

	tap_ok(!values_set_path(root, "a[0].b", "x", error, sizeof(error)) &&
	               strstr(error, "not a plain dotted path"),
	       "a list index in targetPath is refused: %s", error);
	tap_ok(!values_set_path(root, "a.b", "x,y", error, sizeof(error)) &&
	               strstr(error, "comma"),
	       "a comma in a targetPath value is refused: %s", error);
	tap_ok(!values_set_path(root, ".a", "x", error, sizeof(error)),
	       "an empty step in targetPath is refused");
	yaml_doc_free(root);
}

static void values_not_a_map(void)
{
	struct values_sources sources = {0};
	struct yaml_node *values;
	char error[256];

	values = values_parse("v.yaml", "a: 1\n---\nb: 2\n", 12, &sources,
	                      error, sizeof(error));
	tap_ok(!values && strstr(error, "v.yaml:"),
	       "two documents in a values file are refused: %s", error);
	values = values_parse("v.yaml", "- 1\n", 4, &sources, error,
	                      sizeof(error));
	tap_ok(!values && strstr(error, "v.yaml:1: the values are a list"),
	       "a list is not values: %s", error);
	values = values_parse("v.yaml", "", 0, &sources, error, sizeof(error));
	tap_ok(values && values->kind == YAML_DOC_MAPPING && !values->count,
	       "an empty values file is an empty map");
	yaml_doc_free(values);
	values_sources_free(&sources);
}

/* The files run_case writes, then the directory. */
static void remove_dir(const char *dir)
{
	static const char *const names[] = {
	        "merged.yaml", "file-0.yaml", "file-1.yaml", "file-2.yaml",
	        "file-3.yaml", "inline.yaml", NULL};
	char path[512];

	for (size_t i = 0; names[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	static const char *const helms[] = {"HELM3", "HELM4"};
	char dir[] = "/tmp/test-appliance-values-XXXXXX", helm[1024];

	if (!mkdtemp(dir))
		return 1;
	for (size_t h = 0; h < 2; h++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			if (find_helm(helms[h], helm, sizeof(helm)))
				run_case(helms[h], helm, &cases[i], dir);
			else
				tap_skip(cases[i].name,
				         "no Helm: run make tools");
		}
	}
	targetpath_errors();
	values_not_a_map();
	remove_dir(dir);
	return tap_done();
}
