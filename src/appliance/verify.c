/*
 * verify: load a render directory, run every check, report.
 *
 * The release-level checks live here (release names and namespace, one
 * replica, pinned images, the bootstrap Job and hooks); the others have
 * their own modules (verify_postgres, verify_secrets, verify_pods,
 * verify_storage).
 *
 * XXX: only the releases' objects are checked; plain manifests of the
 * profile (the storage provisioner) are not, apart from Namespaces and
 * HelmReleases. The proper fix runs the workload checks over the profile's
 * objects too, as release "profile".
 */
#include "appliance/verify.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance/render.h"
#include "appliance/text.h"

#define VERIFY_ERROR_MAX 1024

/* ---- reporting ---- */

static void verify_vreport(struct verify_context *ctx, const char *rule,
                           const char *where, const char *field,
                           const char *fmt, va_list args)
{
	fprintf(ctx->out, "%s: %s: ", where, field);
	vfprintf(ctx->out, fmt, args);
	fprintf(ctx->out, " [%s]\n", rule);
	ctx->violations++;
}

void verify_report(struct verify_context *ctx, const char *rule,
                   const char *where, const char *field, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	verify_vreport(ctx, rule, where, field, fmt, args);
	va_end(args);
}

void verify_violation(struct verify_context *ctx, const char *rule,
                      const struct object *object,
                      const struct yaml_node *container, const char *field,
                      const char *fmt, ...)
{
	const char *container_name = yaml_doc_get_str(container, "name");
	char where[1024];
	va_list args;

	snprintf(where, sizeof(where), "%s/%s/%s%s%s",
	         *object->release ? object->release : "profile", object->kind,
	         object->name, container_name ? "/" : "",
	         container_name ? container_name : "");
	va_start(args, fmt);
	verify_vreport(ctx, rule, where, field, fmt, args);
	va_end(args);
}

/* ---- walking workloads ---- */

const struct yaml_node *verify_pod_spec(const struct object *object)
{
	static const char *const templated[] = {"Deployment", "StatefulSet",
	                                        "DaemonSet",  "ReplicaSet",
	                                        "Job",        NULL};

	for (size_t i = 0; templated[i]; i++) {
		if (strcmp(object->kind, templated[i]) == 0)
			return yaml_doc_path(object->node,
			                     "spec.template.spec");
	}
	if (strcmp(object->kind, "CronJob") == 0)
		return yaml_doc_path(object->node,
		                     "spec.jobTemplate.spec.template.spec");
	if (strcmp(object->kind, "Pod") == 0)
		return yaml_doc_get(object->node, "spec");
	return NULL;
}

bool verify_is_hook(const struct object *object)
{
	return yaml_doc_get(yaml_doc_path(object->node, "metadata.annotations"),
	                    "helm.sh/hook") != NULL;
}

void verify_each_container(struct verify_context *ctx,
                           const struct object *object, verify_container_fn *fn,
                           void *data)
{
	static const char *const lists[] = {"initContainers", "containers",
	                                    NULL};
	const struct yaml_node *pod_spec = verify_pod_spec(object);

	for (size_t l = 0; pod_spec && lists[l]; l++) {
		const struct yaml_node *list = yaml_doc_get(pod_spec, lists[l]);

		if (!list || list->kind != YAML_DOC_SEQUENCE)
			continue;
		for (size_t i = 0; i < list->count; i++) {
			if (list->items[i]->kind == YAML_DOC_MAPPING)
				fn(ctx, object, pod_spec, list->items[i], data);
		}
	}
}

const struct object *verify_release_object(const struct verify_context *ctx,
                                           const char *release,
                                           const char *kind, const char *name)
{
	for (size_t i = 0; i < ctx->rendered.count; i++) {
		const struct object *object = &ctx->rendered.items[i];

		if (strcmp(object->release, release) == 0 &&
		    strcmp(object->kind, kind) == 0 &&
		    strcmp(object->name, name) == 0)
			return object;
	}
	return NULL;
}

const char *verify_release_namespace(const struct verify_context *ctx,
                                     const char *release)
{
	for (size_t i = 0; i < ctx->release_count; i++) {
		if (strcmp(ctx->releases[i].name, release) == 0)
			return ctx->releases[i].namespace;
	}
	return NULL;
}

bool verify_pattern_unrendered(const struct verify_context *ctx,
                               const char *pattern)
{
	size_t len = strcspn(pattern, "/");

	for (size_t i = 0; i < ctx->release_count; i++) {
		const struct verify_release *release = &ctx->releases[i];

		if (!release->rendered && strlen(release->name) == len &&
		    strncmp(release->name, pattern, len) == 0)
			return true;
	}
	return false;
}

/* ---- release names and namespace ---- */

static bool verify_expected_release(const struct rules *rules, const char *name)
{
	for (size_t i = 0; i < rules->releases.count; i++) {
		if (strcmp(rules->releases.items[i], name) == 0)
			return true;
	}
	return false;
}

static void verify_release_declared(struct verify_context *ctx,
                                    const struct verify_release *release)
{
	const struct rules *rules = ctx->rules;
	const struct object *hr = release->helm_release;

	if (rules->releases.count &&
	    !verify_expected_release(rules, release->name))
		verify_violation(
		        ctx, "releases", hr, NULL, "release name",
		        "\"%s\" is not one of the releases the rules expect",
		        release->name);
	if (rules->namespace &&
	    strcmp(release->namespace, rules->namespace) != 0)
		verify_violation(
		        ctx, "releases", hr, NULL, "spec.targetNamespace",
		        "installs into \"%s\", the appliance lives in \"%s\"",
		        release->namespace, rules->namespace);
	if (rules->namespace && strcmp(hr->namespace, rules->namespace) != 0)
		verify_violation(
		        ctx, "releases", hr, NULL, "metadata.namespace",
		        "is \"%s\", the HelmRelease objects belong in \"%s\"",
		        hr->namespace, rules->namespace);
}

static void verify_releases(struct verify_context *ctx)
{
	const struct rules *rules = ctx->rules;
	char where[300];

	for (size_t i = 0; i < ctx->release_count; i++)
		verify_release_declared(ctx, &ctx->releases[i]);
	for (size_t i = 0; i < rules->releases.count; i++) {
		const char *name = rules->releases.items[i];
		bool found = false;

		for (size_t r = 0; r < ctx->release_count; r++)
			found = found ||
			        strcmp(ctx->releases[r].name, name) == 0;
		snprintf(where, sizeof(where), "%s/HelmRelease/%s", name, name);
		if (!found)
			verify_report(ctx, "releases", where, "release",
			              "missing from the profile");
	}
}

/* Objects a chart puts outside the release's namespace. */
static void verify_object_namespaces(struct verify_context *ctx)
{
	for (size_t i = 0; i < ctx->rendered.count; i++) {
		const struct object *object = &ctx->rendered.items[i];
		const char *namespace =
		        verify_release_namespace(ctx, object->release);

		if (*object->namespace && namespace &&
		    strcmp(object->namespace, namespace) != 0)
			verify_violation(
			        ctx, "releases", object, NULL,
			        "metadata.namespace",
			        "is \"%s\", the release installs into \"%s\"",
			        object->namespace, namespace);
	}
}

/* ---- one replica ---- */

static void verify_replicas(struct verify_context *ctx)
{
	static const char *const scaled[] = {"Deployment", "StatefulSet",
	                                     "ReplicaSet", NULL};

	for (size_t i = 0; i < ctx->rendered.count; i++) {
		const struct object *object = &ctx->rendered.items[i];
		const struct yaml_node *replicas =
		        yaml_doc_path(object->node, "spec.replicas");
		long count = 1;

		if (strcmp(object->kind, "HorizontalPodAutoscaler") == 0)
			verify_violation(
			        ctx, "one-replica", object, NULL, "kind",
			        "an autoscaler on a single-node appliance");
		for (size_t k = 0; scaled[k]; k++) {
			if (strcmp(object->kind, scaled[k]) != 0)
				continue;
			if (replicas && !yaml_doc_long(replicas, &count))
				verify_violation(ctx, "one-replica", object,
				                 NULL, "spec.replicas",
				                 "is not a number");
			else if (count != ctx->rules->replicas)
				verify_violation(
				        ctx, "one-replica", object, NULL,
				        "spec.replicas",
				        "is %ld, the appliance runs %ld", count,
				        ctx->rules->replicas);
		}
	}
}

/* ---- pinned images ---- */

static void verify_image(struct verify_context *ctx,
                         const struct object *workload,
                         const struct yaml_node *pod_spec,
                         const struct yaml_node *container, void *data)
{
	const char *image = yaml_doc_get_str(container, "image");
	const char *slash, *colon;

	(void)pod_spec;
	(void)data;
	if (!image || !*image) {
		verify_violation(ctx, "pinned-images", workload, container,
		                 "image", "no image");
		return;
	}
	if (strchr(image, '@'))
		return;
	slash = strrchr(image, '/');
	colon = strrchr(slash ? slash : image, ':');
	if (!colon || !colon[1])
		verify_violation(ctx, "pinned-images", workload, container,
		                 "image", "\"%s\" has no tag", image);
	else if (strcmp(colon + 1, "latest") == 0)
		verify_violation(ctx, "pinned-images", workload, container,
		                 "image", "\"%s\" is not pinned (latest)",
		                 image);
}

static void verify_images(struct verify_context *ctx)
{
	for (size_t i = 0; i < ctx->rendered.count; i++)
		verify_each_container(ctx, &ctx->rendered.items[i],
		                      verify_image, NULL);
}

/* ---- the bootstrap Job and hooks ---- */

static bool verify_hook_allowed(const struct rules *rules, const char *hooks)
{
	char copy[256], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", hooks);
	for (char *hook = strtok_r(copy, ", ", &save); hook;
	     hook = strtok_r(NULL, ", ", &save)) {
		bool allowed = false;

		for (size_t i = 0; i < rules->allowed_hooks.count; i++)
			allowed = allowed ||
			          strcmp(rules->allowed_hooks.items[i], hook) ==
			                  0;
		if (!allowed)
			return false;
	}
	return true;
}

static bool verify_hook_object_allowed(const struct rules *rules,
                                       const struct object *object)
{
	const struct rules_patterns *allowed = &rules->allowed_hook_objects;

	for (size_t i = 0; i < allowed->count; i++) {
		if (rules_match(allowed->items[i].match, object->release,
		                object->kind, object->name))
			return true;
	}
	return false;
}

static void verify_hooks(struct verify_context *ctx)
{
	for (size_t i = 0; i < ctx->rendered.count; i++) {
		const struct object *object = &ctx->rendered.items[i];
		const char *hooks = yaml_doc_get_str(
		        yaml_doc_path(object->node, "metadata.annotations"),
		        "helm.sh/hook");

		if (hooks && !verify_hook_allowed(ctx->rules, hooks) &&
		    !verify_hook_object_allowed(ctx->rules, object))
			verify_violation(
			        ctx, "bootstrap", object, NULL,
			        "metadata.annotations.helm.sh/hook",
			        "is a Helm hook (%s); the one bootstrap Job replaces migration and seed hooks",
			        hooks);
	}
}

static void verify_bootstrap(struct verify_context *ctx)
{
	const char *pattern = ctx->rules->bootstrap_job;
	size_t jobs = 0;
	char where[300];

	verify_hooks(ctx);
	if (!pattern)
		return;
	for (size_t i = 0; i < ctx->rendered.count; i++) {
		const struct object *object = &ctx->rendered.items[i];

		if (strcmp(object->kind, "Job") == 0 &&
		    rules_match(pattern, object->release, object->kind,
		                object->name))
			jobs++;
	}
	snprintf(where, sizeof(where), "%s", pattern);
	if (jobs != 1)
		verify_report(
		        ctx, "bootstrap", where, "Job",
		        "%zu Jobs match, the appliance has exactly one bootstrap Job",
		        jobs);
}

/* ---- loading ---- */

static bool verify_add_release(struct verify_context *ctx,
                               const struct object *hr)
{
	struct verify_release *grown, *release;

	grown = realloc(ctx->releases,
	                (ctx->release_count + 1) * sizeof(*grown));
	if (!grown)
		return false;
	ctx->releases = grown;
	release = &ctx->releases[ctx->release_count++];
	memset(release, 0, sizeof(*release));
	release->helm_release = hr;
	render_release_names(hr, release->name, sizeof(release->name),
	                     release->namespace, sizeof(release->namespace));
	return true;
}

bool verify_index_releases(struct verify_context *ctx)
{
	for (size_t i = 0; i < ctx->profile.count; i++) {
		if (render_is_helm_release(&ctx->profile.items[i]) &&
		    !verify_add_release(ctx, &ctx->profile.items[i]))
			return false;
	}
	return true;
}

static bool verify_load_profile(struct verify_context *ctx, const char *dir,
                                char *error, size_t error_size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, RENDER_PROFILE_FILE);
	if (!objects_add_file(&ctx->profile, path, "", error, error_size))
		return false;
	if (!verify_index_releases(ctx)) {
		snprintf(error, error_size, "out of memory");
		return false;
	}
	return true;
}

static bool verify_load_release(struct verify_context *ctx, const char *dir,
                                const char *file, char *error,
                                size_t error_size)
{
	char path[PATH_MAX], release[256];
	size_t len = strlen(file) - 5;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(release, sizeof(release), "%.*s", (int)len, file);
	for (size_t i = 0; i < ctx->release_count; i++) {
		if (strcmp(ctx->releases[i].name, release) == 0)
			ctx->releases[i].rendered = true;
	}
	return objects_add_file(&ctx->rendered, path, release, error,
	                        error_size);
}

static bool verify_load_releases(struct verify_context *ctx, const char *dir,
                                 char *error, size_t error_size)
{
	struct dirent **entries;
	int n = scandir(dir, &entries, NULL, alphasort);
	bool ok = true;

	if (n < 0) {
		snprintf(error, error_size, "%s: cannot read the directory",
		         dir);
		return false;
	}
	for (int i = 0; i < n; i++) {
		const char *file = entries[i]->d_name;
		size_t len = strlen(file);

		if (ok && len > 5 && file[0] != '_' && file[0] != '.' &&
		    strcmp(file + len - 5, ".yaml") == 0)
			ok = verify_load_release(ctx, dir, file, error,
			                         error_size);
		free(entries[i]);
	}
	free(entries);
	return ok;
}

/* rules.yaml of the profile named in the header of _profile.yaml. */
static bool verify_default_rules(const char *dir, char *path, size_t size)
{
	char profile_file[PATH_MAX], line[PATH_MAX + 64];
	const char *prefix = RENDER_HEADER " profile ";
	FILE *file;
	bool ok = false;

	snprintf(profile_file, sizeof(profile_file), "%s/%s", dir,
	         RENDER_PROFILE_FILE);
	file = fopen(profile_file, "r");
	if (!file)
		return false;
	if (fgets(line, sizeof(line), file) &&
	    strncmp(line, prefix, strlen(prefix)) == 0) {
		line[strcspn(line, "\n")] = '\0';
		ok = text_format(path, size, "%s/rules.yaml",
		                 line + strlen(prefix));
	}
	fclose(file);
	return ok;
}

/* True when dir is a directory render wrote; else says what to do. */
static bool verify_dir_rendered(const char *dir)
{
	char profile_file[PATH_MAX];
	const char *reason = NULL;
	struct stat st;

	if (stat(dir, &st) != 0)
		reason =
		        errno == ENOENT ? "no such directory" : strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		reason = "not a directory";
	if (reason) {
		fprintf(stderr,
		        "alga-appliance: verify: %s: %s; render the profile into it first: alga-appliance render PROFILE_DIR --out %s\n",
		        dir, reason, dir);
		return false;
	}
	text_format(profile_file, sizeof(profile_file), "%s/%s", dir,
	            RENDER_PROFILE_FILE);
	if (access(profile_file, R_OK) != 0) {
		fprintf(stderr,
		        "alga-appliance: verify: %s was not rendered (no readable %s); run alga-appliance render PROFILE_DIR --out %s first\n",
		        dir, RENDER_PROFILE_FILE, dir);
		return false;
	}
	return true;
}

static bool verify_any_rendered(const struct verify_context *ctx)
{
	for (size_t i = 0; i < ctx->release_count; i++)
		if (ctx->releases[i].rendered)
			return true;
	return false;
}

static void verify_unrendered(struct verify_context *ctx)
{
	for (size_t i = 0; i < ctx->release_count; i++) {
		if (!ctx->releases[i].rendered)
			fprintf(ctx->out,
			        "note: release %s was not rendered (skipped or failed), its objects are not checked\n",
			        ctx->releases[i].name);
	}
}

void verify_check(struct verify_context *ctx)
{
	verify_unrendered(ctx);
	verify_releases(ctx);
	verify_object_namespaces(ctx);
	verify_postgres(ctx);
	verify_secrets(ctx);
	verify_persistence(ctx);
	verify_replicas(ctx);
	verify_images(ctx);
	verify_pod_security(ctx);
	verify_bootstrap(ctx);
	verify_resources(ctx);
}

int verify_run(const char *dir, const char *rules_path)
{
	struct verify_context ctx = {.out = stdout};
	char error[VERIFY_ERROR_MAX], default_rules[PATH_MAX];
	struct rules rules;
	int status = 2;

	if (!verify_dir_rendered(dir))
		return 2;
	if (!rules_path) {
		if (!verify_default_rules(dir, default_rules,
		                          sizeof(default_rules))) {
			fprintf(stderr,
			        "alga-appliance: verify: %s/%s was not written by render (its first line does not name the profile); render again, or give --rules\n",
			        dir, RENDER_PROFILE_FILE);
			return 2;
		}
		rules_path = default_rules;
	}
	if (!rules_load(rules_path, &rules, error, sizeof(error))) {
		fprintf(stderr, "alga-appliance: verify: %s\n", error);
		return 2;
	}
	ctx.rules = &rules;
	if (!verify_load_profile(&ctx, dir, error, sizeof(error)) ||
	    !verify_load_releases(&ctx, dir, error, sizeof(error))) {
		fprintf(stderr, "alga-appliance: verify: %s\n", error);
		goto out;
	}
	if (!verify_any_rendered(&ctx)) {
		fprintf(stderr,
		        "alga-appliance: verify: %s holds no rendered release: every release was skipped or failed; fix the render's errors and render again\n",
		        dir);
		goto out;
	}
	verify_check(&ctx);
	if (ctx.violations)
		printf("%zu violation%s of the appliance rules (%s)\n",
		       ctx.violations, ctx.violations == 1 ? "" : "s",
		       rules_path);
	else
		printf("no violations of the appliance rules (%s)\n",
		       rules_path);
	status = ctx.violations ? 1 : 0;
out:
	objects_free(&ctx.profile);
	objects_free(&ctx.rendered);
	free(ctx.releases);
	rules_free(&rules);
	return status;
}
