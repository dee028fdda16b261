/*
 * verify_storage: Postgres, Redis and file data live on PVCs that survive
 * `helm uninstall` (and so a Flux install remediation that uninstalls).
 *
 * A PVC rendered by a chart survives only with the annotation
 * helm.sh/resource-policy: keep; one made from a StatefulSet's
 * volumeClaimTemplates survives unless its retention policy deletes it.
 */
#include <stdio.h>
#include <string.h>

#include "appliance/verify.h"

#define RULE "persistent-data"

static void storage_claims(struct verify_context *ctx)
{
	for (size_t i = 0; i < ctx->rendered.count; i++) {
		const struct object *object = &ctx->rendered.items[i];
		const char *policy = yaml_doc_get_str(
		        yaml_doc_path(object->node, "metadata.annotations"),
		        "helm.sh/resource-policy");
		const char *when_deleted = yaml_doc_get_str(
		        yaml_doc_path(
		                object->node,
		                "spec.persistentVolumeClaimRetentionPolicy"),
		        "whenDeleted");

		if (strcmp(object->kind, "PersistentVolumeClaim") == 0 &&
		    (!policy || strcmp(policy, "keep") != 0))
			verify_violation(
			        ctx, RULE, object, NULL,
			        "metadata.annotations.helm.sh/resource-policy",
			        "%s; without keep, uninstalling the release deletes the data",
			        policy ? "is not keep" : "missing");
		if (strcmp(object->kind, "StatefulSet") == 0 && when_deleted &&
		    strcmp(when_deleted, "Delete") == 0)
			verify_violation(
			        ctx, RULE, object, NULL,
			        "spec.persistentVolumeClaimRetentionPolicy.whenDeleted",
			        "is Delete; the volume claims must be retained");
	}
}

static bool storage_claim_template(const struct object *workload,
                                   const char *volume)
{
	const struct yaml_node *templates =
	        yaml_doc_path(workload->node, "spec.volumeClaimTemplates");

	for (size_t i = 0; templates && i < templates->count; i++) {
		const char *name = yaml_doc_get_str(
		        yaml_doc_get(templates->items[i], "metadata"), "name");

		if (name && strcmp(name, volume) == 0)
			return true;
	}
	return false;
}

/* How the volume a mount uses is backed: "pvc", "emptyDir", ... */
static const char *storage_backing(const struct object *workload,
                                   const struct yaml_node *pod_spec,
                                   const char *volume)
{
	const struct yaml_node *volumes = yaml_doc_get(pod_spec, "volumes");

	for (size_t i = 0; volumes && i < volumes->count; i++) {
		const struct yaml_node *entry = volumes->items[i];
		const char *name = yaml_doc_get_str(entry, "name");

		if (!name || strcmp(name, volume) != 0)
			continue;
		if (yaml_doc_get(entry, "persistentVolumeClaim"))
			return "pvc";
		for (size_t k = 0; k < entry->count; k++) {
			if (strcmp(entry->keys[k], "name") != 0)
				return entry->keys[k];
		}
	}
	return storage_claim_template(workload, volume) ? "pvc" : "nothing";
}

struct storage_want {
	const struct rules_pattern *pattern;
	bool on_pvc;
	char wrong[300];
};

static void storage_container(struct verify_context *ctx,
                              const struct object *workload,
                              const struct yaml_node *pod_spec,
                              const struct yaml_node *container, void *data)
{
	struct storage_want *want = data;
	const struct yaml_node *mounts =
	        yaml_doc_get(container, "volumeMounts");

	(void)ctx;
	for (size_t i = 0; mounts && i < mounts->count; i++) {
		const char *volume = yaml_doc_get_str(mounts->items[i], "name");
		const char *path =
		        yaml_doc_get_str(mounts->items[i], "mountPath");
		const char *backing;

		if (!volume ||
		    (want->pattern->mount_path &&
		     (!path || strcmp(path, want->pattern->mount_path) != 0)))
			continue;
		backing = storage_backing(workload, pod_spec, volume);
		if (strcmp(backing, "pvc") == 0)
			want->on_pvc = true;
		else if (want->pattern->mount_path)
			snprintf(want->wrong, sizeof(want->wrong),
			         "%s is on %s, not a PVC", path, backing);
	}
}

static void storage_wanted(struct verify_context *ctx,
                           const struct rules_pattern *pattern)
{
	const char *what = pattern->what ? pattern->what : "data";
	bool found = false;

	for (size_t i = 0; i < ctx->rendered.count; i++) {
		const struct object *object = &ctx->rendered.items[i];
		struct storage_want want = {pattern, false, ""};

		if (!verify_pod_spec(object) ||
		    !rules_match(pattern->match, object->release, object->kind,
		                 object->name))
			continue;
		found = true;
		verify_each_container(ctx, object, storage_container, &want);
		if (!want.on_pvc)
			verify_violation(ctx, RULE, object, NULL,
			                 pattern->mount_path ? "volumeMounts"
			                                     : "volumes",
			                 "%s is not on a PVC%s%s", what,
			                 want.wrong[0] ? ": " : "", want.wrong);
	}
	if (!found && !pattern->optional &&
	    !verify_pattern_unrendered(ctx, pattern->match))
		verify_report(
		        ctx, RULE, pattern->match, "workloads",
		        "no workload matches, so %s is not checked (%s:%u)",
		        what, ctx->rules->file, pattern->line);
}

void verify_persistence(struct verify_context *ctx)
{
	storage_claims(ctx);
	for (size_t i = 0; i < ctx->rules->persistent_data.count; i++)
		storage_wanted(ctx, &ctx->rules->persistent_data.items[i]);
}
