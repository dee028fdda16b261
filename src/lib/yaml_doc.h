/*
 * yaml_doc: YAML documents as small trees that remember where each node
 * came from, so that an error can name the file, the line and the key.
 *
 * Built on libyaml. Anchors and aliases are refused (plans and values files
 * have no use for them, and they make line numbers lie). Scalars keep their
 * text and whether they were quoted; typing is left to the caller.
 */
#ifndef ALGA_YAML_DOC_H
#define ALGA_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum yaml_kind {
	YAML_DOC_NULL,
	YAML_DOC_SCALAR,
	YAML_DOC_SEQUENCE,
	YAML_DOC_MAPPING,
};

struct yaml_node {
	enum yaml_kind kind;
	const char *file;         /* owned by the parse, shared by every node */
	unsigned line;            /* 1-based */
	char *scalar;             /* YAML_DOC_SCALAR only, NUL-terminated */
	bool quoted;              /* scalar was single- or double-quoted */
	size_t count;             /* children of a sequence or mapping */
	char **keys;              /* mapping keys, count of them */
	bool *keys_plain;         /* key was written plain in the source */
	struct yaml_node **items; /* sequence items or mapping values */
};

/* Parse errors: "FILE:LINE: what", at most this long. */
#define YAML_DOC_ERROR_MAX 512

/* ---- parsing ---- */

/*
 * Parse every document of a stream. On success *docs holds *count trees
 * (an empty document is a YAML_DOC_NULL node). On failure returns false and
 * writes "FILE:LINE: what" to error.
 */
bool yaml_doc_parse_file(const char *path, struct yaml_node ***docs,
                         size_t *count, char *error, size_t error_size);
bool yaml_doc_parse_string(const char *name, const char *text, size_t len,
                           struct yaml_node ***docs, size_t *count, char *error,
                           size_t error_size);
/* Frees docs parsed together; the array itself too. */
void yaml_doc_free_all(struct yaml_node **docs, size_t count);
/* Frees one tree made by yaml_doc_new_* or yaml_doc_copy. */
void yaml_doc_free(struct yaml_node *node);

/* ---- reading ---- */

/* The value under key in a mapping, or NULL (also when node is not one). */
struct yaml_node *yaml_doc_get(const struct yaml_node *map, const char *key);
/* Follows a dotted path of mapping keys ("spec.chart.spec.chart"). */
struct yaml_node *yaml_doc_path(const struct yaml_node *node,
                                const char *dotted);
/* The scalar text under key, or NULL when absent or not a scalar. */
const char *yaml_doc_get_str(const struct yaml_node *map, const char *key);
/* True for "true" / "false" scalars; false and *out untouched otherwise. */
bool yaml_doc_bool(const struct yaml_node *node, bool *out);
/* True for a decimal integer scalar within long range. */
bool yaml_doc_long(const struct yaml_node *node, long *out);
const char *yaml_doc_kind_name(enum yaml_kind kind);

/* ---- building and merging ---- */

struct yaml_node *yaml_doc_new_mapping(void);
/* A plain scalar: written unquoted, so a reader types it ("true" is a
 * boolean, "10" a number). */
struct yaml_node *yaml_doc_new_scalar(const char *text);
/* A scalar that is a string whatever its text: written quoted. */
struct yaml_node *yaml_doc_new_string(const char *text);
/* Deep copy; the copy shares the file name of the original. */
struct yaml_node *yaml_doc_copy(const struct yaml_node *node);
/* Sets key in a mapping to value (taking ownership), replacing any old one.
 * A new key is a string: it is written quoted when it has to be. */
bool yaml_doc_set(struct yaml_node *map, const char *key,
                  struct yaml_node *value);
/*
 * Merges overlay into base the way Helm merges values files: mappings merge
 * key by key recursively, anything else in overlay replaces what base has.
 * A null in overlay replaces too (Helm later drops such a key from the
 * chart's defaults). Duplicate keys were refused at parse time. Returns the
 * merged tree
 * (base itself, or a copy of overlay when base is not a mapping); base is
 * consumed, overlay is only read.
 */
struct yaml_node *yaml_doc_merge(struct yaml_node *base,
                                 const struct yaml_node *overlay);

/* ---- writing ---- */

/*
 * True when text, written plain, reads back as this string under YAML 1.1
 * (go-yaml, which Helm uses) and 1.2 alike: not empty, not a boolean or
 * null in any case (yes, No, ON, ~ ...), no int, float or timestamp form.
 */
bool yaml_doc_plain_is_string(const char *text);
/*
 * Writes one document as block YAML. Quoted scalars stay quoted; plain
 * ones, and keys that were plain in the source, are written plain where
 * libyaml can, for the reader to type them as it typed the source. Any
 * other key is quoted unless yaml_doc_plain_is_string.
 */
bool yaml_doc_emit(FILE *out, const struct yaml_node *node);

#endif
