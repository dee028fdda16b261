/*
 * values: helm-controller's values composition, offline.
 *
 * helm-controller resolves spec.valuesFrom in list order; each entry is
 * either merged at the root (its text is a YAML map) or, with targetPath,
 * set as one value with Helm's --set parser. The inline spec.values go on
 * top of all that. Helm then merges the result over the chart's defaults.
 */
#include "appliance/text.h"
#include "appliance/values.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Keeps a parse alive for as long as nodes copied from it are used. */
static bool values_keep(struct values_sources *sources, struct yaml_node **docs,
                        size_t count)
{
	struct yaml_node ***docs_grown;
	size_t *counts_grown;

	docs_grown = realloc(sources->docs,
	                     (sources->count + 1) * sizeof(*docs_grown));
	if (!docs_grown)
		return false;
	sources->docs = docs_grown;
	counts_grown = realloc(sources->counts,
	                       (sources->count + 1) * sizeof(*counts_grown));
	if (!counts_grown)
		return false;
	sources->counts = counts_grown;
	sources->docs[sources->count] = docs;
	sources->counts[sources->count] = count;
	sources->count++;
	return true;
}

void values_sources_free(struct values_sources *sources)
{
	for (size_t i = 0; i < sources->count; i++)
		yaml_doc_free_all(sources->docs[i], sources->counts[i]);
	free(sources->docs);
	free(sources->counts);
	memset(sources, 0, sizeof(*sources));
}

struct yaml_node *values_parse(const char *name, const char *text, size_t len,
                               struct values_sources *sources, char *error,
                               size_t error_size)
{
	struct yaml_node **docs;
	size_t count;

	if (!yaml_doc_parse_string(name, text, len, &docs, &count, error,
	                           error_size))
		return NULL;
	if (!values_keep(sources, docs, count)) {
		yaml_doc_free_all(docs, count);
		snprintf(error, error_size, "out of memory");
		return NULL;
	}
	if (count > 1) {
		snprintf(error, error_size,
		         "%s:%u: more than one YAML document in a values file",
		         docs[1]->file, docs[1]->line);
		return NULL;
	}
	if (count == 0 || docs[0]->kind == YAML_DOC_NULL)
		return yaml_doc_new_mapping();
	if (docs[0]->kind != YAML_DOC_MAPPING) {
		snprintf(error, error_size,
		         "%s:%u: the values are a %s, not a map", docs[0]->file,
		         docs[0]->line, yaml_doc_kind_name(docs[0]->kind));
		return NULL;
	}
	return yaml_doc_copy(docs[0]);
}

/*
 * Helm's --set typing of an unquoted text: true, false and null in any case,
 * and integers that do not start with a zero, are not strings. Writes the
 * canonical YAML spelling to typed; false for a string.
 */
static bool values_typed(const char *text, char *typed, size_t typed_size)
{
	static const char *const words[] = {"true", "false", "null"};
	char *end;
	long long number;

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(text, words[i]) == 0) {
			snprintf(typed, typed_size, "%s", words[i]);
			return true;
		}
	}
	if (!*text || text[0] == '0' || isspace((unsigned char)text[0]))
		return strcmp(text, "0") == 0 &&
		       snprintf(typed, typed_size, "0") > 0;
	errno = 0;
	number = strtoll(text, &end, 10);
	if (errno || *end)
		return false;
	snprintf(typed, typed_size, "%lld", number);
	return true;
}

static struct yaml_node *values_scalar(const char *text)
{
	size_t len = strlen(text);
	bool quoted = len >= 2 && (text[0] == '"' || text[0] == '\'') &&
	              text[len - 1] == text[0];
	struct yaml_node *node;
	char *copy = strdup(text), typed[32];
	bool is_typed;

	if (!copy)
		return NULL;
	if (quoted) {
		memmove(copy, copy + 1, len - 2);
		copy[len - 2] = '\0';
	}
	is_typed = !quoted && values_typed(copy, typed, sizeof(typed));
	node = is_typed ? yaml_doc_new_scalar(typed)
	                : yaml_doc_new_string(copy);
	free(copy);
	return node;
}

/* Walks or makes the mappings of every step but the last. */
static struct yaml_node *values_parent(struct yaml_node *root, char *path,
                                       char **last)
{
	struct yaml_node *map = root;
	char *step = path, *dot;

	while ((dot = strchr(step, '.'))) {
		struct yaml_node *next;

		*dot = '\0';
		next = yaml_doc_get(map, step);
		if (!next || next->kind != YAML_DOC_MAPPING) {
			next = yaml_doc_new_mapping();
			if (!next || !yaml_doc_set(map, step, next))
				return NULL;
		}
		map = next;
		step = dot + 1;
	}
	*last = step;
	return map;
}

static bool values_path_ok(const char *path, const char *text, char *error,
                           size_t error_size)
{
	if (!*path || strstr(path, "..") || path[0] == '.' ||
	    path[strlen(path) - 1] == '.' || strpbrk(path, "[]=,\\")) {
		/* XXX: Helm's parser also takes list indexes (a[0].b) and
		 * escapes; the appliance uses none, so they are refused
		 * rather than guessed at. */
		snprintf(error, error_size,
		         "targetPath \"%s\" is not a plain dotted path", path);
		return false;
	}
	if (strchr(text, ',')) {
		snprintf(
		        error, error_size,
		        "a value set with targetPath \"%s\" contains a comma, which Helm's --set parser would split",
		        path);
		return false;
	}
	return true;
}

bool values_set_path(struct yaml_node *root, const char *path, const char *text,
                     char *error, size_t error_size)
{
	struct yaml_node *parent, *value;
	char *copy, *last;
	bool ok = false;

	if (!values_path_ok(path, text, error, error_size))
		return false;
	copy = strdup(path);
	if (!copy)
		goto out;
	parent = values_parent(root, copy, &last);
	value = parent ? values_scalar(text) : NULL;
	if (value && !yaml_doc_set(parent, last, value))
		yaml_doc_free(value);
	else
		ok = value != NULL;
out:
	if (!ok)
		snprintf(error, error_size, "out of memory");
	free(copy);
	return ok;
}

struct values_ref {
	const char *kind;
	const char *name;
	const char *key;
	const char *target_path;
	bool optional;
	unsigned line;
};

static bool values_read_ref(const struct yaml_node *entry,
                            struct values_ref *ref, const char *release_name,
                            char *error, size_t error_size)
{
	ref->kind = yaml_doc_get_str(entry, "kind");
	ref->name = yaml_doc_get_str(entry, "name");
	ref->key = yaml_doc_get_str(entry, "valuesKey");
	ref->target_path = yaml_doc_get_str(entry, "targetPath");
	ref->optional = false;
	ref->line = entry->line;
	if (!ref->key || !*ref->key)
		ref->key = "values.yaml";
	yaml_doc_bool(yaml_doc_get(entry, "optional"), &ref->optional);
	if (!ref->kind || !ref->name ||
	    (strcmp(ref->kind, "ConfigMap") != 0 &&
	     strcmp(ref->kind, "Secret") != 0)) {
		snprintf(
		        error, error_size,
		        "%s:%u: HelmRelease %s: valuesFrom entry needs kind ConfigMap or Secret and a name",
		        entry->file, entry->line, release_name);
		return false;
	}
	return true;
}

/* The entry of the kustomization's generator list (configMapGenerator or
 * secretGenerator) that makes the object called name, or NULL. */
static const struct yaml_node *values_generator(const struct yaml_node *root,
                                                const char *list_key,
                                                const char *name)
{
	const struct yaml_node *list = yaml_doc_get(root, list_key);

	for (size_t i = 0;
	     list && list->kind == YAML_DOC_SEQUENCE && i < list->count; i++) {
		const char *entry_name =
		        yaml_doc_get_str(list->items[i], "name");

		if (entry_name && strcmp(entry_name, name) == 0)
			return list->items[i];
	}
	return NULL;
}

/* The file of a generator entry that becomes key ("key=path", or a path
 * whose last part is key), or NULL. */
static const char *values_generator_file(const struct yaml_node *generator,
                                         const char *key)
{
	const struct yaml_node *files = yaml_doc_get(generator, "files");
	size_t key_len = strlen(key);

	for (size_t i = 0;
	     files && files->kind == YAML_DOC_SEQUENCE && i < files->count;
	     i++) {
		const char *file = files->items[i]->kind == YAML_DOC_SCALAR
		                           ? files->items[i]->scalar
		                           : "";
		const char *equals = strchr(file, '=');
		const char *slash = strrchr(file, '/');

		if (equals && (size_t)(equals - file) == key_len &&
		    strncmp(file, key, key_len) == 0)
			return equals + 1;
		if (!equals && strcmp(slash ? slash + 1 : file, key) == 0)
			return file;
	}
	return NULL;
}

/*
 * Where the profile's own kustomization.yaml makes the values object of
 * ref: "; made from DIR/FILE by configMapGenerator NAME (DIR/...:LINE)", or
 * the generator without a file for the key, or nothing (out empty) when the
 * profile has no kustomization.yaml or no generator of that name; a
 * generator in a base it includes is not looked for.
 */
static void values_origin(const char *profile_dir, const struct values_ref *ref,
                          char *out, size_t size)
{
	const char *list_key = strcmp(ref->kind, "Secret") == 0
	                               ? "secretGenerator"
	                               : "configMapGenerator";
	const struct yaml_node *generator = NULL;
	struct yaml_node **docs = NULL;
	size_t count = 0;
	char path[1024], why[YAML_DOC_ERROR_MAX];
	const char *file;

	*out = '\0';
	if (!profile_dir)
		return;
	text_format(path, sizeof(path), "%s/kustomization.yaml", profile_dir);
	if (!yaml_doc_parse_file(path, &docs, &count, why, sizeof(why)))
		return;
	if (count)
		generator = values_generator(docs[0], list_key, ref->name);
	if (!generator)
		goto out;
	file = values_generator_file(generator, ref->key);
	if (file)
		text_format(out, size, "; made from %s/%s by %s %s (%s:%u)",
		            profile_dir, file, list_key, ref->name, path,
		            generator->line);
	else
		text_format(out, size,
		            "; %s %s (%s:%u) gives it no file with key %s",
		            list_key, ref->name, path, generator->line,
		            ref->key);
out:
	yaml_doc_free_all(docs, count);
}

/* ", it has KEY, KEY" (the keys of a ConfigMap's or Secret's data). */
static void values_keys(const struct object *source, char *out, size_t size)
{
	static const char *const fields[] = {"data", "stringData", "binaryData",
	                                     NULL};
	size_t used = 0;

	*out = '\0';
	for (size_t f = 0; fields[f]; f++) {
		const struct yaml_node *data =
		        yaml_doc_get(source->node, fields[f]);

		for (size_t k = 0; data && k < data->count && used < size;
		     k++) {
			int n = snprintf(out + used, size - used, "%s%s",
			                 used ? ", " : " (it has ",
			                 data->keys[k]);

			used += n > 0 ? (size_t)n : 0;
		}
	}
	if (used && used + 1 < size)
		snprintf(out + used, size - used, ")");
	else if (!used)
		snprintf(out, size, " (it has no keys)");
}

/* The error for a valuesFrom entry whose object or key is not there. */
static void values_missing(const struct object *release,
                           const struct yaml_node *entry,
                           const struct values_ref *ref,
                           const struct object *source, const char *origin,
                           char *error, size_t error_size)
{
	char keys[256];

	if (!source) {
		snprintf(
		        error, error_size,
		        "%s:%u: HelmRelease %s: valuesFrom %s %s not found in the profile (namespace %s)%s",
		        entry->file, ref->line, release->name, ref->kind,
		        ref->name, release->namespace, origin);
		return;
	}
	values_keys(source, keys, sizeof(keys));
	snprintf(error, error_size,
	         "%s:%u: HelmRelease %s: valuesFrom %s %s has no key %s%s%s",
	         entry->file, ref->line, release->name, ref->kind, ref->name,
	         ref->key, keys, origin);
}

/* Merges or sets one valuesFrom entry into *values. */
static bool
values_apply_ref(const struct objects *profile, const char *profile_dir,
                 const struct object *release, const struct yaml_node *entry,
                 struct yaml_node **values, struct values_sources *sources,
                 char *error, size_t error_size)
{
	struct values_ref ref;
	const struct object *source;
	char *data = NULL, name[512], why[YAML_DOC_ERROR_MAX], origin[1024];
	struct yaml_node *overlay;
	size_t len = 0;
	bool ok = false;

	if (!values_read_ref(entry, &ref, release->name, error, error_size))
		return false;
	source = objects_find(profile, ref.kind, release->namespace, ref.name);
	if (source)
		data = objects_data(source, ref.key, &len);
	if (!data) {
		if (ref.optional)
			return true;
		values_origin(profile_dir, &ref, origin, sizeof(origin));
		values_missing(release, entry, &ref, source, origin, error,
		               error_size);
		return false;
	}
	snprintf(name, sizeof(name), "%s %s key %s", ref.kind, ref.name,
	         ref.key);
	if (ref.target_path) {
		ok = values_set_path(*values, ref.target_path, data, why,
		                     sizeof(why));
		if (!ok)
			snprintf(error, error_size,
			         "%s:%u: HelmRelease %s: valuesFrom %s: %s",
			         entry->file, ref.line, release->name, name,
			         why);
		goto out;
	}
	overlay = values_parse(name, data, len, sources, why, sizeof(why));
	if (!overlay) {
		values_origin(profile_dir, &ref, origin, sizeof(origin));
		snprintf(error, error_size,
		         "HelmRelease %s: valuesFrom (%s:%u): %s%s",
		         release->name, entry->file, ref.line, why, origin);
		goto out;
	}
	*values = yaml_doc_merge(*values, overlay);
	yaml_doc_free(overlay);
	ok = *values != NULL;
out:
	free(data);
	return ok;
}

static bool values_merge_inline(const struct object *release,
                                struct yaml_node **values, char *error,
                                size_t error_size)
{
	const struct yaml_node *inline_values =
	        yaml_doc_path(release->node, "spec.values");

	if (!inline_values || inline_values->kind == YAML_DOC_NULL)
		return true;
	if (inline_values->kind != YAML_DOC_MAPPING) {
		snprintf(
		        error, error_size,
		        "%s:%u: HelmRelease %s: spec.values is a %s, not a map",
		        inline_values->file, inline_values->line, release->name,
		        yaml_doc_kind_name(inline_values->kind));
		return false;
	}
	*values = yaml_doc_merge(*values, inline_values);
	return *values != NULL;
}

struct yaml_node *values_compose(const struct objects *profile,
                                 const struct object *release,
                                 const char *profile_dir,
                                 struct values_sources *sources, char *error,
                                 size_t error_size)
{
	const struct yaml_node *refs =
	        yaml_doc_path(release->node, "spec.valuesFrom");
	struct yaml_node *values = yaml_doc_new_mapping();

	if (!values)
		return NULL;
	if (refs && refs->kind != YAML_DOC_SEQUENCE &&
	    refs->kind != YAML_DOC_NULL) {
		snprintf(
		        error, error_size,
		        "%s:%u: HelmRelease %s: spec.valuesFrom is a %s, not a list",
		        refs->file, refs->line, release->name,
		        yaml_doc_kind_name(refs->kind));
		goto fail;
	}
	for (size_t i = 0; refs && i < refs->count; i++) {
		if (!values_apply_ref(profile, profile_dir, release,
		                      refs->items[i], &values, sources, error,
		                      error_size))
			goto fail;
	}
	if (!values_merge_inline(release, &values, error, error_size))
		goto fail;
	return values;
fail:
	yaml_doc_free(values);
	return NULL;
}
