/*
 * render: what Flux would run, offline. Builds a profile with kustomize,
 * then renders every HelmRelease in it with helm template.
 */
#ifndef ALGA_APPLIANCE_RENDER_H
#define ALGA_APPLIANCE_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "appliance/objects.h"

/* A local copy of a remote chart: --chart-dir NAME=PATH. */
struct render_chart_dir {
	const char *name; /* the chart's name or the release's name */
	const char *path;
};

struct render_options {
	const char *profile;
	const char *out_dir;
	const char *repo_root; /* NULL: found from the profile */
	const char *helm;
	const char *kubectl;
	const struct render_chart_dir *chart_dirs;
	size_t chart_dir_count;
};

/* The first line of every file render writes; verify and render look for it. */
#define RENDER_HEADER "# alga-appliance render:"
/* The kustomize build of the profile, beside the releases. */
#define RENDER_PROFILE_FILE "_profile.yaml"

/*
 * The release name and target namespace helm-controller derives from a
 * HelmRelease (spec.releaseName, else [targetNamespace-]name). False when
 * the name is not a valid Helm release name.
 */
bool render_release_names(const struct object *hr, char *release,
                          size_t release_size, char *namespace,
                          size_t namespace_size);
/* True for a Flux HelmRelease object. */
bool render_is_helm_release(const struct object *object);

/* Returns the exit status: 0 when every release rendered or was skipped. */
int render_run(const struct render_options *options);

#endif
