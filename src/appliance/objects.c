/*
 * objects: index the documents of YAML streams as Kubernetes objects.
 */
#include "appliance/objects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *objects_text(const struct yaml_node *map, const char *key)
{
	const char *text = yaml_doc_get_str(map, key);

	return text ? text : "";
}

static bool objects_append(struct objects *set, struct yaml_node *doc,
                           const char *release, char *error, size_t error_size)
{
	struct yaml_node *metadata = yaml_doc_get(doc, "metadata");
	struct object *grown, *object;

	if (doc->kind != YAML_DOC_MAPPING) {
		snprintf(error, error_size,
		         "%s:%u: a %s where an object belongs", doc->file,
		         doc->line, yaml_doc_kind_name(doc->kind));
		return false;
	}
	if (!yaml_doc_get_str(doc, "kind") ||
	    !yaml_doc_get_str(metadata, "name")) {
		snprintf(error, error_size,
		         "%s:%u: an object without kind or metadata.name",
		         doc->file, doc->line);
		return false;
	}
	grown = realloc(set->items, (set->count + 1) * sizeof(*grown));
	if (!grown) {
		snprintf(error, error_size, "out of memory");
		return false;
	}
	set->items = grown;
	object = &set->items[set->count++];
	object->release = release;
	object->api_version = objects_text(doc, "apiVersion");
	object->kind = objects_text(doc, "kind");
	object->namespace = objects_text(metadata, "namespace");
	object->name = objects_text(metadata, "name");
	object->node = doc;
	return true;
}

/* Takes ownership of docs; indexes them. */
static bool objects_adopt(struct objects *set, struct yaml_node **docs,
                          size_t count, const char *release, char *error,
                          size_t error_size)
{
	struct object_stream *grown, *stream;

	grown = realloc(set->streams, (set->stream_count + 1) * sizeof(*grown));
	if (!grown) {
		yaml_doc_free_all(docs, count);
		snprintf(error, error_size, "out of memory");
		return false;
	}
	set->streams = grown;
	stream = &set->streams[set->stream_count++];
	stream->docs = docs;
	stream->count = count;
	stream->release = strdup(release ? release : "");
	if (!stream->release) {
		snprintf(error, error_size, "out of memory");
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		if (docs[i]->kind == YAML_DOC_NULL)
			continue;
		if (!objects_append(set, docs[i], stream->release, error,
		                    error_size))
			return false;
	}
	return true;
}

bool objects_add_file(struct objects *set, const char *path,
                      const char *release, char *error, size_t error_size)
{
	struct yaml_node **docs;
	size_t count;

	if (!yaml_doc_parse_file(path, &docs, &count, error, error_size))
		return false;
	return objects_adopt(set, docs, count, release, error, error_size);
}

bool objects_add_string(struct objects *set, const char *name, const char *text,
                        size_t len, const char *release, char *error,
                        size_t error_size)
{
	struct yaml_node **docs;
	size_t count;

	if (!yaml_doc_parse_string(name, text, len, &docs, &count, error,
	                           error_size))
		return false;
	return objects_adopt(set, docs, count, release, error, error_size);
}

const struct object *objects_find(const struct objects *set, const char *kind,
                                  const char *namespace, const char *name)
{
	for (size_t i = 0; i < set->count; i++) {
		const struct object *object = &set->items[i];

		if (strcmp(object->kind, kind) == 0 &&
		    strcmp(object->namespace, namespace) == 0 &&
		    strcmp(object->name, name) == 0)
			return object;
	}
	return NULL;
}

void objects_free(struct objects *set)
{
	for (size_t i = 0; i < set->stream_count; i++) {
		yaml_doc_free_all(set->streams[i].docs, set->streams[i].count);
		free(set->streams[i].release);
	}
	free(set->streams);
	free(set->items);
	memset(set, 0, sizeof(*set));
}

static int objects_base64_value(char c)
{
	static const char alphabet[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *at = c ? strchr(alphabet, c) : NULL;

	return at ? (int)(at - alphabet) : -1;
}

char *objects_base64_decode(const char *text, size_t *len)
{
	size_t in_len = strlen(text), n = 0, bits = 0;
	unsigned long acc = 0;
	char *out = malloc(in_len / 4 * 3 + 4);
	bool padding = false;

	if (!out)
		return NULL;
	for (const char *p = text; *p; p++) {
		int value;

		if (*p == '\n' || *p == '\r' || *p == ' ')
			continue;
		if (*p == '=') {
			padding = true;
			continue;
		}
		value = objects_base64_value(*p);
		if (value < 0 || padding) {
			free(out);
			return NULL;
		}
		acc = (acc << 6 | (unsigned long)value) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	*len = n;
	return out;
}

char *objects_data(const struct object *object, const char *key, size_t *len)
{
	const struct yaml_node *value;

	if (strcmp(object->kind, "Secret") == 0) {
		value = yaml_doc_get(yaml_doc_get(object->node, "stringData"),
		                     key);
		if (!value || value->kind != YAML_DOC_SCALAR) {
			value = yaml_doc_get(yaml_doc_get(object->node, "data"),
			                     key);
			if (!value || value->kind != YAML_DOC_SCALAR)
				return NULL;
			return objects_base64_decode(value->scalar, len);
		}
	} else {
		value = yaml_doc_get(yaml_doc_get(object->node, "data"), key);
		if (!value || value->kind != YAML_DOC_SCALAR)
			return NULL;
	}
	*len = strlen(value->scalar);
	return strdup(value->scalar);
}
