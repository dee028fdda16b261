/*
 * render: kustomize build, then one helm template per HelmRelease.
 *
 * Output, in the --out directory:
 *   _profile.yaml          the kustomize build of the profile
 *   <release>.yaml         what helm template printed for that release
 *   values/<release>.yaml  the merged values it was given
 * Every file starts with RENDER_HEADER, so a later render removes exactly
 * the files an earlier one wrote and nothing else.
 */
#include "appliance/render.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance/child.h"
#include "appliance/objects.h"
#include "appliance/text.h"
#include "appliance/values.h"
#include "lib/yaml_doc.h"

#define RENDER_ERROR_MAX 2048

enum render_outcome {
	RENDER_DONE,
	RENDER_SKIPPED,
	RENDER_FAILED,
};

/* What a HelmRelease asks for, read from the profile. */
struct render_release {
	const struct object *object;
	char release[256];
	char namespace[256];
	const char *chart;       /* spec.chart.spec.chart */
	const char *source_kind; /* GitRepository, HelmRepository, ... */
	const char *source_name;
	char chart_path[PATH_MAX];
};

__attribute__((format(printf, 1, 2))) static void render_error(const char *fmt,
                                                               ...)
{
	va_list args;

	va_start(args, fmt);
	fprintf(stderr, "alga-appliance: render: ");
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
	va_end(args);
}

static bool render_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool render_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* The nearest directory above the profile holding .git or charts/. */
static bool render_find_root(const char *profile, char *root, size_t size)
{
	char path[PATH_MAX], probe[PATH_MAX + 16];
	char *slash;

	if (!realpath(profile, path))
		return false;
	for (;;) {
		snprintf(probe, sizeof(probe), "%s/.git", path);
		if (render_exists(probe))
			break;
		snprintf(probe, sizeof(probe), "%s/charts", path);
		if (render_is_dir(probe))
			break;
		slash = strrchr(path, '/');
		if (!slash || slash == path)
			return false;
		*slash = '\0';
	}
	snprintf(root, size, "%s", path);
	return true;
}

static bool render_written_by_us(const char *path)
{
	char line[64] = "";
	FILE *file = fopen(path, "r");

	if (!file)
		return false;
	if (!fgets(line, sizeof(line), file))
		line[0] = '\0';
	fclose(file);
	return strncmp(line, RENDER_HEADER, strlen(RENDER_HEADER)) == 0;
}

/* Removes the *.yaml files a previous render left in dir. */
static void render_clean(const char *dir)
{
	DIR *listing = opendir(dir);
	struct dirent *entry;
	char path[PATH_MAX];

	if (!listing)
		return;
	while ((entry = readdir(listing))) {
		size_t len = strlen(entry->d_name);

		if (len < 5 || strcmp(entry->d_name + len - 5, ".yaml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		if (render_written_by_us(path))
			unlink(path);
	}
	closedir(listing);
}

static bool render_mkdir(const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return render_is_dir(path);
	return false;
}

/* Writes header, then text, to path; mode 0600 since values may be secret. */
static bool render_write(const char *path, const char *header, const char *text,
                         size_t len)
{
	FILE *file;
	bool ok;
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	file = fdopen(fd, "w");
	if (!file) {
		close(fd);
		return false;
	}
	ok = fprintf(file, "%s %s\n", RENDER_HEADER, header) > 0 &&
	     fwrite(text, 1, len, file) == len;
	return fclose(file) == 0 && ok;
}

static void render_report_child(const char *what, const char *const argv[],
                                struct child_result *result)
{
	char status[64];

	child_describe_status(result, status, sizeof(status));
	fprintf(stderr, "alga-appliance: render: %s: %s %s %s\n", what, argv[0],
	        argv[1], status);
	if (result->err_len)
		fprintf(stderr, "%s%s", result->err,
		        result->err[result->err_len - 1] == '\n' ? "" : "\n");
}

/* kubectl kustomize PROFILE into DIR/_profile.yaml. */
static bool render_kustomize(const struct render_options *options,
                             const char *profile_file)
{
	const char *argv[] = {options->kubectl, "kustomize", options->profile,
	                      NULL};
	struct child_result result;
	char error[RENDER_ERROR_MAX], header[PATH_MAX + 32], path[PATH_MAX];
	bool ok = false;

	if (!child_run(argv, &result, error, sizeof(error))) {
		render_error("%s", error);
		return false;
	}
	if (result.exit_code != 0) {
		render_report_child(options->profile, argv, &result);
		goto out;
	}
	if (!realpath(options->profile, path))
		snprintf(path, sizeof(path), "%s", options->profile);
	text_format(header, sizeof(header), "profile %s", path);
	ok = render_write(profile_file, header, result.out, result.out_len);
	if (!ok)
		render_error("cannot write %s", profile_file);
out:
	child_result_free(&result);
	return ok;
}

static bool render_is_release_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 53)
		return false;
	for (const char *p = name; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '.'))
			return false;
	}
	return true;
}

bool render_release_names(const struct object *hr, char *release,
                          size_t release_size, char *namespace,
                          size_t namespace_size)
{
	const struct yaml_node *spec = yaml_doc_get(hr->node, "spec");
	const char *name = yaml_doc_get_str(spec, "releaseName");
	const char *target = yaml_doc_get_str(spec, "targetNamespace");

	/* XXX: helm-controller shortens names over 53 characters with a
	 * hash; such a name is refused here instead. */
	if (name && *name)
		snprintf(release, release_size, "%s", name);
	else if (target && *target)
		snprintf(release, release_size, "%s-%s", target, hr->name);
	else
		snprintf(release, release_size, "%s", hr->name);
	if (target && *target)
		snprintf(namespace, namespace_size, "%s", target);
	else
		snprintf(namespace, namespace_size, "%s",
		         *hr->namespace ? hr->namespace : "default");
	return render_is_release_name(release);
}

/* Reads spec.chart.spec; false (with error) when there is no chart. */
static bool render_chart_ref(const struct object *hr,
                             struct render_release *rel, char *error,
                             size_t error_size)
{
	const struct yaml_node *chart = yaml_doc_path(hr->node, "spec.chart");
	const struct yaml_node *chart_ref =
	        yaml_doc_path(hr->node, "spec.chartRef");
	const struct yaml_node *chart_spec = yaml_doc_get(chart, "spec");

	if (chart_ref && !chart) {
		rel->chart = yaml_doc_get_str(chart_ref, "name");
		rel->source_kind = yaml_doc_get_str(chart_ref, "kind");
		rel->source_name = rel->chart;
	} else {
		rel->chart = yaml_doc_get_str(chart_spec, "chart");
		rel->source_kind = yaml_doc_get_str(
		        yaml_doc_get(chart_spec, "sourceRef"), "kind");
		rel->source_name = yaml_doc_get_str(
		        yaml_doc_get(chart_spec, "sourceRef"), "name");
	}
	if (rel->chart && *rel->chart && rel->source_kind && rel->source_name)
		return true;
	snprintf(
	        error, error_size,
	        "%s:%u: HelmRelease %s has no chart (spec.chart.spec.chart and its sourceRef kind and name, or spec.chartRef)",
	        hr->node->file, hr->node->line, hr->name);
	return false;
}

static const char *render_chart_dir(const struct render_options *options,
                                    const struct render_release *rel)
{
	for (size_t i = 0; i < options->chart_dir_count; i++) {
		const struct render_chart_dir *dir = &options->chart_dirs[i];

		if (strcmp(dir->name, rel->chart) == 0 ||
		    strcmp(dir->name, rel->release) == 0 ||
		    strcmp(dir->name, rel->object->name) == 0)
			return dir->path;
	}
	return NULL;
}

/* Finds the chart on disk; RENDER_SKIPPED for a remote one not given. */
static enum render_outcome render_locate(const struct render_options *options,
                                         const char *root,
                                         struct render_release *rel,
                                         char *error, size_t error_size)
{
	const char *local = render_chart_dir(options, rel);
	const char *chart = rel->chart;
	char probe[PATH_MAX + 16];

	if (local) {
		snprintf(rel->chart_path, sizeof(rel->chart_path), "%s", local);
	} else if (strcmp(rel->source_kind, "GitRepository") == 0) {
		while (chart[0] == '.' && chart[1] == '/')
			chart += 2;
		text_format(rel->chart_path, sizeof(rel->chart_path), "%s/%s",
		            root, chart);
	} else {
		printf("skipped %s: chart %s comes from %s %s, which is remote; give --chart-dir %s=PATH to render it\n",
		       rel->release, rel->chart, rel->source_kind,
		       rel->source_name, rel->chart);
		return RENDER_SKIPPED;
	}
	if (text_format(probe, sizeof(probe), "%s/Chart.yaml",
	                rel->chart_path) &&
	    render_exists(probe))
		return RENDER_DONE;
	text_format(
	        error, error_size,
	        "%s:%u: HelmRelease %s: no chart at %s (no Chart.yaml there)",
	        rel->object->node->file, rel->object->node->line,
	        rel->object->name, rel->chart_path);
	return RENDER_FAILED;
}

static bool render_values_file(const struct render_options *options,
                               const struct objects *profile,
                               struct render_release *rel, const char *path,
                               char *error, size_t error_size)
{
	struct values_sources sources = {0};
	struct yaml_node *values;
	char *text = NULL;
	size_t len = 0;
	FILE *memory;
	bool ok = false;

	values = values_compose(profile, rel->object, options->profile,
	                        &sources, error, error_size);
	if (!values)
		goto out;
	memory = open_memstream(&text, &len);
	if (!memory)
		goto out;
	ok = yaml_doc_emit(memory, values);
	ok = fclose(memory) == 0 && ok;
	if (ok)
		ok = render_write(path, rel->release, text, len);
	if (!ok)
		text_format(error, error_size, "cannot write %s", path);
out:
	free(text);
	yaml_doc_free(values);
	values_sources_free(&sources);
	return ok;
}

static bool render_helm(const struct render_options *options,
                        struct render_release *rel, const char *values_file,
                        const char *out_file)
{
	bool tests = false;
	const char *argv[] = {options->helm,    "template",    rel->release,
	                      rel->chart_path,  "--namespace", rel->namespace,
	                      "--include-crds", "-f",          values_file,
	                      "--skip-tests",   NULL};
	struct child_result result;
	char error[RENDER_ERROR_MAX], header[PATH_MAX + 600];
	bool ok = false;

	/* helm-controller creates test hooks only when it runs the tests. */
	yaml_doc_bool(yaml_doc_path(rel->object->node, "spec.test.enable"),
	              &tests);
	if (tests)
		argv[9] = NULL;
	if (!child_run(argv, &result, error, sizeof(error))) {
		render_error("%s", error);
		return false;
	}
	if (result.exit_code != 0) {
		snprintf(header, sizeof(header), "release %s", rel->release);
		render_report_child(header, argv, &result);
		goto out;
	}
	snprintf(header, sizeof(header), "release %s, chart %s, namespace %s",
	         rel->release, rel->chart_path, rel->namespace);
	ok = render_write(out_file, header, result.out, result.out_len);
	if (!ok)
		render_error("cannot write %s", out_file);
	else if (result.err_len)
		fprintf(stderr, "alga-appliance: helm said for %s: %s",
		        rel->release, result.err);
out:
	child_result_free(&result);
	return ok;
}

/* What helm-controller would do that render does not, said out loud. */
static void render_warn_unsupported(const struct object *hr,
                                    const char *release)
{
	/* XXX: post-renderers (kustomize patches on the chart's output) and
	 * spec.chart.spec.valuesFiles are not applied; the appliance uses
	 * neither. The proper fix runs kubectl kustomize over the output and
	 * passes the values files before the merged values. */
	if (yaml_doc_path(hr->node, "spec.postRenderers"))
		fprintf(stderr,
		        "alga-appliance: render: %s: spec.postRenderers are not applied\n",
		        release);
	if (yaml_doc_path(hr->node, "spec.chart.spec.valuesFiles"))
		fprintf(stderr,
		        "alga-appliance: render: %s: spec.chart.spec.valuesFiles are not applied\n",
		        release);
}

static enum render_outcome render_release(const struct render_options *options,
                                          const char *root,
                                          const struct objects *profile,
                                          const struct object *hr)
{
	struct render_release rel = {.object = hr};
	char error[RENDER_ERROR_MAX], values_file[PATH_MAX], out_file[PATH_MAX];
	enum render_outcome outcome;

	if (!render_release_names(hr, rel.release, sizeof(rel.release),
	                          rel.namespace, sizeof(rel.namespace))) {
		fprintf(stderr,
		        "alga-appliance: render: %s:%u: HelmRelease %s: release name \"%s\" is not a valid Helm release name\n",
		        hr->node->file, hr->node->line, hr->name, rel.release);
		return RENDER_FAILED;
	}
	if (!render_chart_ref(hr, &rel, error, sizeof(error)))
		goto fail;
	outcome = render_locate(options, root, &rel, error, sizeof(error));
	if (outcome == RENDER_FAILED)
		goto fail;
	if (outcome == RENDER_SKIPPED)
		return outcome;
	render_warn_unsupported(hr, rel.release);
	snprintf(values_file, sizeof(values_file), "%s/values/%s.yaml",
	         options->out_dir, rel.release);
	snprintf(out_file, sizeof(out_file), "%s/%s.yaml", options->out_dir,
	         rel.release);
	if (!render_values_file(options, profile, &rel, values_file, error,
	                        sizeof(error)))
		goto fail;
	if (!render_helm(options, &rel, values_file, out_file))
		return RENDER_FAILED;
	printf("rendered %s (chart %s, namespace %s) into %s\n", rel.release,
	       rel.chart_path, rel.namespace, out_file);
	return RENDER_DONE;
fail:
	render_error("%s", error);
	return RENDER_FAILED;
}

static bool render_prepare(const struct render_options *options,
                           char *values_dir, size_t size)
{
	snprintf(values_dir, size, "%s/values", options->out_dir);
	if (!render_mkdir(options->out_dir) || !render_mkdir(values_dir)) {
		fprintf(stderr,
		        "alga-appliance: render: cannot make directory %s: %s\n",
		        options->out_dir, strerror(errno));
		return false;
	}
	render_clean(options->out_dir);
	render_clean(values_dir);
	return true;
}

bool render_is_helm_release(const struct object *object)
{
	return strcmp(object->kind, "HelmRelease") == 0 &&
	       strncmp(object->api_version, "helm.toolkit.fluxcd.io/", 23) == 0;
}

static int render_all(const struct render_options *options, const char *root,
                      const struct objects *profile)
{
	size_t done = 0, skipped = 0, failed = 0;

	for (size_t i = 0; i < profile->count; i++) {
		if (!render_is_helm_release(&profile->items[i]))
			continue;
		switch (render_release(options, root, profile,
		                       &profile->items[i])) {
		case RENDER_DONE:
			done++;
			break;
		case RENDER_SKIPPED:
			skipped++;
			break;
		case RENDER_FAILED:
			failed++;
			break;
		}
	}
	printf("%zu releases rendered, %zu skipped, %zu failed\n", done,
	       skipped, failed);
	if (done + skipped + failed == 0)
		fprintf(stderr,
		        "alga-appliance: render: %s holds no HelmRelease\n",
		        options->profile);
	return failed || done + skipped == 0 ? 1 : 0;
}

int render_run(const struct render_options *options)
{
	char root[PATH_MAX], values_dir[PATH_MAX], profile_file[PATH_MAX];
	char error[RENDER_ERROR_MAX];
	struct objects profile = {0};
	int status = 1;

	if (!render_is_dir(options->profile)) {
		render_error("profile %s is not a directory", options->profile);
		return 1;
	}
	if (options->repo_root)
		snprintf(root, sizeof(root), "%s", options->repo_root);
	else if (!render_find_root(options->profile, root, sizeof(root))) {
		render_error(
		        "cannot find the repository above %s (no .git or charts/); give --repo-root",
		        options->profile);
		return 1;
	}
	if (!render_prepare(options, values_dir, sizeof(values_dir)))
		return 1;
	snprintf(profile_file, sizeof(profile_file), "%s/%s", options->out_dir,
	         RENDER_PROFILE_FILE);
	if (!render_kustomize(options, profile_file))
		return 1;
	if (!objects_add_file(&profile, profile_file, "", error, sizeof(error)))
		render_error("%s", error);
	else
		status = render_all(options, root, &profile);
	objects_free(&profile);
	return status;
}
