/*
 * verify: check a render directory against the appliance rules. Each check
 * lives in its own module and reports through verify_violation.
 */
#ifndef ALGA_APPLIANCE_VERIFY_H
#define ALGA_APPLIANCE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "appliance/objects.h"
#include "appliance/rules.h"

/* A release as the profile declares it, and whether render produced it. */
struct verify_release {
	const struct object *helm_release;
	char name[256];
	char namespace[256];
	bool rendered;
};

struct verify_context {
	const struct rules *rules;
	struct objects profile;  /* _profile.yaml: the kustomize build */
	struct objects rendered; /* every <release>.yaml */
	struct verify_release *releases;
	size_t release_count;
	size_t violations;
	FILE *out;
};

/* Called for every container (and init container) of a workload. */
typedef void verify_container_fn(struct verify_context *ctx,
                                 const struct object *workload,
                                 const struct yaml_node *pod_spec,
                                 const struct yaml_node *container, void *data);

/* ---- reporting ---- */

/* Prints "where: field: what [rule]" and counts it. */
__attribute__((format(printf, 5, 6))) void
verify_report(struct verify_context *ctx, const char *rule, const char *where,
              const char *field, const char *fmt, ...);
/* The same with where = release/kind/name[/container]. */
__attribute__((format(printf, 6, 7))) void
verify_violation(struct verify_context *ctx, const char *rule,
                 const struct object *object, const struct yaml_node *container,
                 const char *field, const char *fmt, ...);

/* ---- walking workloads ---- */

/* The pod spec of a workload (Deployment, Job, CronJob ...), or NULL. */
const struct yaml_node *verify_pod_spec(const struct object *object);
/* True for a Helm hook (helm.sh/hook annotation). */
bool verify_is_hook(const struct object *object);
/* Calls fn for each container and init container of object. */
void verify_each_container(struct verify_context *ctx,
                           const struct object *object, verify_container_fn *fn,
                           void *data);
/* A ConfigMap or Secret rendered in the same release, or NULL. */
const struct object *verify_release_object(const struct verify_context *ctx,
                                           const char *release,
                                           const char *kind, const char *name);
/* The namespace a release is installed into, or NULL. */
const char *verify_release_namespace(const struct verify_context *ctx,
                                     const char *release);

/* True when pattern names a release of the profile that was not rendered
 * (a skipped remote chart): what it should match cannot be checked. */
bool verify_pattern_unrendered(const struct verify_context *ctx,
                               const char *pattern);

/* ---- the checks ---- */

void verify_postgres(struct verify_context *ctx);
void verify_secrets(struct verify_context *ctx);
void verify_pod_security(struct verify_context *ctx);
void verify_resources(struct verify_context *ctx);
void verify_persistence(struct verify_context *ctx);

/* Fills ctx->releases from the HelmReleases in ctx->profile. */
bool verify_index_releases(struct verify_context *ctx);
/* Runs every check over ctx (rules, profile and rendered loaded). */
void verify_check(struct verify_context *ctx);

/*
 * Loads DIR (written by render) and the rules (rules_path, or rules.yaml in
 * the profile DIR was rendered from), runs every check, prints each
 * violation and the budget table. Returns 0 when clean, 1 on violations, 2
 * when DIR or the rules cannot be read.
 */
int verify_run(const char *dir, const char *rules_path);

#endif
