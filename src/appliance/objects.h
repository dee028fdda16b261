/*
 * objects: the Kubernetes objects of one or more YAML streams (a kustomize
 * build, a rendered release), indexed by kind, namespace and name.
 */
#ifndef ALGA_APPLIANCE_OBJECTS_H
#define ALGA_APPLIANCE_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/yaml_doc.h"

struct object {
	const char *release;     /* the release it was rendered for, or "" */
	const char *api_version; /* "" when absent, as the others */
	const char *kind;
	const char *namespace;
	const char *name;
	struct yaml_node *node;
};

struct object_stream {
	struct yaml_node **docs;
	size_t count;
	char *release;
};

struct objects {
	struct object *items;
	size_t count;
	struct object_stream *streams;
	size_t stream_count;
};

/*
 * Parses a YAML stream and adds every mapping document to the set, tagged
 * with release. Documents that are empty are skipped; a document that is not
 * a mapping, or lacks kind or metadata.name, is an error with file and line.
 */
bool objects_add_file(struct objects *set, const char *path,
                      const char *release, char *error, size_t error_size);
bool objects_add_string(struct objects *set, const char *name, const char *text,
                        size_t len, const char *release, char *error,
                        size_t error_size);
/* The object of that kind and name in namespace, or NULL. */
const struct object *objects_find(const struct objects *set, const char *kind,
                                  const char *namespace, const char *name);
void objects_free(struct objects *set);

/* The data of a ConfigMap or Secret under key, decoded; NULL if absent. */
char *objects_data(const struct object *object, const char *key, size_t *len);
/* Decodes standard base64; NULL when text is not valid base64. */
char *objects_base64_decode(const char *text, size_t *len);

#endif
