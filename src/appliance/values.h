/*
 * values: the values of a HelmRelease, merged the way Flux's helm-controller
 * merges them before it hands them to Helm.
 */
#ifndef ALGA_APPLIANCE_VALUES_H
#define ALGA_APPLIANCE_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#include "appliance/objects.h"
#include "lib/yaml_doc.h"

/* The parsed values documents the merged tree still points into. */
struct values_sources {
	struct yaml_node ***docs;
	size_t *counts;
	size_t count;
};

/*
 * Composes the values of release (a HelmRelease in profile): every
 * spec.valuesFrom entry in list order (a ConfigMap or Secret of the
 * release's namespace; valuesKey defaults to values.yaml; targetPath sets
 * the one value at that path; optional ones may be missing), then the
 * inline spec.values on top. Returns a mapping, or NULL with error naming
 * the HelmRelease and the reference, and, when profile_dir (may be NULL)
 * has a kustomization.yaml whose generator makes the object, that
 * generator and the file behind the key. Free the tree with yaml_doc_free,
 * then the sources with values_sources_free.
 */
struct yaml_node *values_compose(const struct objects *profile,
                                 const struct object *release,
                                 const char *profile_dir,
                                 struct values_sources *sources, char *error,
                                 size_t error_size);
void values_sources_free(struct values_sources *sources);

/*
 * Sets the value at a dotted path (as `helm --set path=text` would: "true",
 * "false", "null" and plain integers are typed, anything else is a string;
 * a value in single or double quotes is always a string). Missing or
 * non-mapping steps along the path become mappings.
 */
bool values_set_path(struct yaml_node *root, const char *path, const char *text,
                     char *error, size_t error_size);

/* Parses text as a values document: a mapping, or empty (an empty map). */
struct yaml_node *values_parse(const char *name, const char *text, size_t len,
                               struct values_sources *sources, char *error,
                               size_t error_size);

#endif
