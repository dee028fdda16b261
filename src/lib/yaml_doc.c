/*
 * yaml_doc: libyaml events folded into small trees with line numbers.
 */
#include "lib/yaml_doc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* Nesting deeper than this is refused: no plan or values file needs it, and
 * the recursion in the builder, merge and emitter must stay bounded. */
#define YAML_DOC_MAX_DEPTH 64

struct builder {
	yaml_parser_t parser;
	const char *file;
	char *error;
	size_t error_size;
};

static void set_error(struct builder *b, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(b->error, b->error_size, "%s:%u: ", b->file, line);
	if (n < 0 || (size_t)n >= b->error_size)
		return;
	va_start(ap, fmt);
	vsnprintf(b->error + n, b->error_size - (size_t)n, fmt, ap);
	va_end(ap);
}

static struct yaml_node *node_new(enum yaml_kind kind, const char *file,
                                  unsigned line)
{
	struct yaml_node *node = calloc(1, sizeof(*node));

	if (node) {
		node->kind = kind;
		node->file = file;
		node->line = line;
	}
	return node;
}

void yaml_doc_free(struct yaml_node *node)
{
	size_t i;

	if (!node)
		return;
	for (i = 0; i < node->count; i++) {
		if (node->keys)
			free(node->keys[i]);
		yaml_doc_free(node->items[i]);
	}
	free(node->keys);
	free(node->keys_plain);
	free(node->items);
	free(node->scalar);
	free(node);
}

/* Appends item (and key, for a mapping); takes ownership of both. */
static bool node_append(struct yaml_node *node, char *key, bool key_plain,
                        struct yaml_node *item)
{
	struct yaml_node **items;
	char **keys;
	bool *plain;

	items = realloc(node->items, (node->count + 1) * sizeof(*items));
	if (!items)
		return false;
	node->items = items;
	if (node->kind == YAML_DOC_MAPPING) {
		keys = realloc(node->keys, (node->count + 1) * sizeof(*keys));
		if (!keys)
			return false;
		node->keys = keys;
		plain = realloc(node->keys_plain,
		                (node->count + 1) * sizeof(*plain));
		if (!plain)
			return false;
		node->keys_plain = plain;
		node->keys[node->count] = key;
		node->keys_plain[node->count] = key_plain;
	}
	node->items[node->count++] = item;
	return true;
}

static bool is_null_scalar(const yaml_event_t *event)
{
	const char *text = (const char *)event->data.scalar.value;

	if (event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return text[0] == '\0' || strcmp(text, "~") == 0 ||
	       strcmp(text, "null") == 0 || strcmp(text, "Null") == 0 ||
	       strcmp(text, "NULL") == 0;
}

static struct yaml_node *scalar_from_event(struct builder *b,
                                           const yaml_event_t *event)
{
	unsigned line = (unsigned)event->start_mark.line + 1;
	struct yaml_node *node;
	size_t len = event->data.scalar.length;

	if (memchr(event->data.scalar.value, '\0', len)) {
		set_error(b, line, "scalar contains a NUL character");
		return NULL;
	}
	if (is_null_scalar(event))
		return node_new(YAML_DOC_NULL, b->file, line);
	node = node_new(YAML_DOC_SCALAR, b->file, line);
	if (!node)
		return NULL;
	node->scalar = strndup((const char *)event->data.scalar.value, len);
	node->quoted = event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	if (!node->scalar) {
		free(node);
		return NULL;
	}
	return node;
}

static bool next_event(struct builder *b, yaml_event_t *event)
{
	if (yaml_parser_parse(&b->parser, event))
		return true;
	set_error(b, (unsigned)b->parser.problem_mark.line + 1, "%s%s%s",
	          b->parser.problem ? b->parser.problem : "invalid YAML",
	          b->parser.context ? " " : "",
	          b->parser.context ? b->parser.context : "");
	return false;
}

static bool has_anchor(const yaml_event_t *event)
{
	switch (event->type) {
	case YAML_SCALAR_EVENT:
		return event->data.scalar.anchor != NULL;
	case YAML_SEQUENCE_START_EVENT:
		return event->data.sequence_start.anchor != NULL;
	case YAML_MAPPING_START_EVENT:
		return event->data.mapping_start.anchor != NULL;
	default:
		return false;
	}
}

static struct yaml_node *build_node(struct builder *b, yaml_event_t *event,
                                    unsigned depth);

static bool key_is_duplicate(const struct yaml_node *map, const char *key)
{
	size_t i;

	for (i = 0; i < map->count; i++)
		if (strcmp(map->keys[i], key) == 0)
			return true;
	return false;
}

/* Reads the children of a sequence or mapping up to its end event. */
static bool build_children(struct builder *b, struct yaml_node *node,
                           unsigned depth)
{
	yaml_event_type_t end = node->kind == YAML_DOC_MAPPING
	                                ? YAML_MAPPING_END_EVENT
	                                : YAML_SEQUENCE_END_EVENT;
	yaml_event_t event;
	struct yaml_node *key, *value;
	char *key_text;
	bool key_plain;

	for (;;) {
		if (!next_event(b, &event))
			return false;
		if (event.type == end) {
			yaml_event_delete(&event);
			return true;
		}
		key = build_node(b, &event, depth + 1);
		if (!key)
			return false;
		if (node->kind == YAML_DOC_SEQUENCE) {
			if (!node_append(node, NULL, false, key)) {
				yaml_doc_free(key);
				return false;
			}
			continue;
		}
		if (key->kind != YAML_DOC_SCALAR) {
			set_error(b, key->line, "mapping key is not a string");
			yaml_doc_free(key);
			return false;
		}
		if (key_is_duplicate(node, key->scalar)) {
			set_error(b, key->line, "%s: duplicate key",
			          key->scalar);
			yaml_doc_free(key);
			return false;
		}
		key_text = key->scalar;
		key_plain = !key->quoted;
		key->scalar = NULL;
		yaml_doc_free(key);
		if (!next_event(b, &event)) {
			free(key_text);
			return false;
		}
		value = build_node(b, &event, depth + 1);
		if (!value || !node_append(node, key_text, key_plain, value)) {
			free(key_text);
			yaml_doc_free(value);
			return false;
		}
	}
}

/* Builds the node that event starts; consumes event. */
static struct yaml_node *build_node(struct builder *b, yaml_event_t *event,
                                    unsigned depth)
{
	unsigned line = (unsigned)event->start_mark.line + 1;
	struct yaml_node *node = NULL;

	if (depth > YAML_DOC_MAX_DEPTH) {
		set_error(b, line, "nested deeper than %d levels",
		          YAML_DOC_MAX_DEPTH);
		goto out;
	}
	if (event->type == YAML_ALIAS_EVENT || has_anchor(event)) {
		set_error(b, line, "anchors and aliases are not supported");
		goto out;
	}
	switch (event->type) {
	case YAML_SCALAR_EVENT:
		node = scalar_from_event(b, event);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		node = node_new(event->type == YAML_MAPPING_START_EVENT
		                        ? YAML_DOC_MAPPING
		                        : YAML_DOC_SEQUENCE,
		                b->file, line);
		if (node && !build_children(b, node, depth)) {
			yaml_doc_free(node);
			node = NULL;
		}
		break;
	default:
		set_error(b, line, "unexpected YAML event");
		break;
	}
	if (!node && b->error[0] == '\0')
		set_error(b, line, "out of memory");
out:
	yaml_event_delete(event);
	return node;
}

static bool docs_append(struct yaml_node ***docs, size_t *count,
                        struct yaml_node *doc)
{
	struct yaml_node **grown =
	        realloc(*docs, (*count + 1) * sizeof(*grown));

	if (!grown)
		return false;
	*docs = grown;
	grown[(*count)++] = doc;
	return true;
}

/* Reads one document body after its start event; NULL on error. */
static struct yaml_node *build_document(struct builder *b, unsigned line)
{
	yaml_event_t event;
	struct yaml_node *doc;

	if (!next_event(b, &event))
		return NULL;
	if (event.type == YAML_DOCUMENT_END_EVENT) {
		yaml_event_delete(&event);
		return node_new(YAML_DOC_NULL, b->file, line);
	}
	doc = build_node(b, &event, 0);
	if (!doc)
		return NULL;
	if (!next_event(b, &event)) {
		yaml_doc_free(doc);
		return NULL;
	}
	yaml_event_delete(&event);
	return doc;
}

static bool build_stream(struct builder *b, struct yaml_node ***docs,
                         size_t *count)
{
	yaml_event_t event;
	struct yaml_node *doc;
	unsigned line;
	bool start;

	for (;;) {
		if (!next_event(b, &event))
			return false;
		if (event.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&event);
			return true;
		}
		line = (unsigned)event.start_mark.line + 1;
		start = event.type == YAML_DOCUMENT_START_EVENT;
		yaml_event_delete(&event);
		if (!start)
			continue;
		doc = build_document(b, line);
		if (!doc)
			return false;
		if (!docs_append(docs, count, doc)) {
			yaml_doc_free(doc);
			return false;
		}
	}
}

/* Frees the trees and the array, not the file name they share. */
static void free_docs(struct yaml_node **docs, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		yaml_doc_free(docs[i]);
	free(docs);
}

/*
 * Every node points at one shared copy of the file name, owned by the
 * array: yaml_doc_free_all finds it in the first document, so a stream with
 * no document gets one null document to hold it.
 */
bool yaml_doc_parse_string(const char *name, const char *text, size_t len,
                           struct yaml_node ***docs, size_t *count, char *error,
                           size_t error_size)
{
	struct builder b = {.error = error, .error_size = error_size};
	struct yaml_node *placeholder;
	char *file = strdup(name ? name : "<input>");
	bool ok;

	*docs = NULL;
	*count = 0;
	error[0] = '\0';
	if (!file) {
		snprintf(error, error_size, "out of memory");
		return false;
	}
	b.file = file;
	if (!yaml_parser_initialize(&b.parser)) {
		snprintf(error, error_size, "%s: cannot start parser", file);
		free(file);
		return false;
	}
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)text,
	                             len);
	ok = build_stream(&b, docs, count);
	yaml_parser_delete(&b.parser);
	if (ok && *count == 0) {
		placeholder = node_new(YAML_DOC_NULL, file, 1);
		ok = placeholder && docs_append(docs, count, placeholder);
		if (!ok)
			free(placeholder);
	}
	if (!ok) {
		if (error[0] == '\0')
			snprintf(error, error_size, "%s: out of memory", file);
		free_docs(*docs, *count);
		*docs = NULL;
		*count = 0;
		free(file);
	}
	return ok;
}

bool yaml_doc_parse_file(const char *path, struct yaml_node ***docs,
                         size_t *count, char *error, size_t error_size)
{
	FILE *in = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	bool ok = false;

	*docs = NULL;
	*count = 0;
	if (!in) {
		snprintf(error, error_size, "%s: cannot open: %s", path,
		         strerror(errno));
		return false;
	}
	do {
		if (len + 4096 > cap) {
			char *grown = realloc(text, cap ? cap * 2 : 8192);
			if (!grown)
				goto out;
			text = grown;
			cap = cap ? cap * 2 : 8192;
		}
		n = fread(text + len, 1, cap - len, in);
		len += n;
	} while (n > 0);
	if (ferror(in)) {
		snprintf(error, error_size, "%s: cannot read: %s", path,
		         strerror(errno));
		goto out;
	}
	ok = yaml_doc_parse_string(path, text ? text : "", len, docs, count,
	                           error, error_size);
out:
	if (!ok && error[0] == '\0')
		snprintf(error, error_size, "%s: out of memory", path);
	free(text);
	fclose(in);
	return ok;
}

void yaml_doc_free_all(struct yaml_node **docs, size_t count)
{
	const char *file = count > 0 ? docs[0]->file : NULL;

	free_docs(docs, count);
	free((void *)(uintptr_t)file);
}

struct yaml_node *yaml_doc_get(const struct yaml_node *map, const char *key)
{
	size_t i;

	if (!map || map->kind != YAML_DOC_MAPPING)
		return NULL;
	for (i = 0; i < map->count; i++)
		if (strcmp(map->keys[i], key) == 0)
			return map->items[i];
	return NULL;
}

struct yaml_node *yaml_doc_path(const struct yaml_node *node,
                                const char *dotted)
{
	char key[256];
	const char *dot;
	size_t len;

	while (node && *dotted) {
		dot = strchr(dotted, '.');
		len = dot ? (size_t)(dot - dotted) : strlen(dotted);
		if (len >= sizeof(key))
			return NULL;
		memcpy(key, dotted, len);
		key[len] = '\0';
		node = yaml_doc_get(node, key);
		dotted += len + (dot ? 1 : 0);
	}
	return (struct yaml_node *)(uintptr_t)node;
}

const char *yaml_doc_get_str(const struct yaml_node *map, const char *key)
{
	const struct yaml_node *value = yaml_doc_get(map, key);

	return value && value->kind == YAML_DOC_SCALAR ? value->scalar : NULL;
}

bool yaml_doc_bool(const struct yaml_node *node, bool *out)
{
	if (!node || node->kind != YAML_DOC_SCALAR || node->quoted)
		return false;
	if (strcmp(node->scalar, "true") == 0) {
		*out = true;
		return true;
	}
	if (strcmp(node->scalar, "false") == 0) {
		*out = false;
		return true;
	}
	return false;
}

bool yaml_doc_long(const struct yaml_node *node, long *out)
{
	char *end;
	long value;

	if (!node || node->kind != YAML_DOC_SCALAR || node->quoted ||
	    node->scalar[0] == '\0')
		return false;
	errno = 0;
	value = strtol(node->scalar, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = value;
	return true;
}

const char *yaml_doc_kind_name(enum yaml_kind kind)
{
	switch (kind) {
	case YAML_DOC_NULL:
		return "null";
	case YAML_DOC_SCALAR:
		return "scalar";
	case YAML_DOC_SEQUENCE:
		return "list";
	case YAML_DOC_MAPPING:
		return "mapping";
	}
	return "unknown";
}

struct yaml_node *yaml_doc_new_mapping(void)
{
	return node_new(YAML_DOC_MAPPING, NULL, 0);
}

struct yaml_node *yaml_doc_new_scalar(const char *text)
{
	struct yaml_node *node = node_new(YAML_DOC_SCALAR, NULL, 0);

	if (node && !(node->scalar = strdup(text))) {
		free(node);
		return NULL;
	}
	return node;
}

struct yaml_node *yaml_doc_new_string(const char *text)
{
	struct yaml_node *node = yaml_doc_new_scalar(text);

	if (node)
		node->quoted = true;
	return node;
}

struct yaml_node *yaml_doc_copy(const struct yaml_node *node)
{
	struct yaml_node *copy;
	char *key = NULL;
	size_t i;

	if (!node)
		return NULL;
	copy = node_new(node->kind, node->file, node->line);
	if (!copy)
		return NULL;
	copy->quoted = node->quoted;
	if (node->scalar && !(copy->scalar = strdup(node->scalar)))
		goto fail;
	for (i = 0; i < node->count; i++) {
		struct yaml_node *item = yaml_doc_copy(node->items[i]);

		key = node->keys ? strdup(node->keys[i]) : NULL;
		if (!item || (node->keys && !key) ||
		    !node_append(copy, key,
		                 node->keys_plain && node->keys_plain[i],
		                 item)) {
			free(key);
			yaml_doc_free(item);
			goto fail;
		}
	}
	return copy;
fail:
	yaml_doc_free(copy);
	return NULL;
}

/* yaml_doc_set, with whether a new key was plain in its source. */
static bool map_set(struct yaml_node *map, const char *key, bool key_plain,
                    struct yaml_node *value)
{
	char *key_copy;
	size_t i;

	if (!map || map->kind != YAML_DOC_MAPPING || !value)
		return false;
	for (i = 0; i < map->count; i++) {
		if (strcmp(map->keys[i], key) == 0) {
			yaml_doc_free(map->items[i]);
			map->items[i] = value;
			return true;
		}
	}
	key_copy = strdup(key);
	if (!key_copy)
		return false;
	if (!node_append(map, key_copy, key_plain, value)) {
		free(key_copy);
		return false;
	}
	return true;
}

bool yaml_doc_set(struct yaml_node *map, const char *key,
                  struct yaml_node *value)
{
	return map_set(map, key, false, value);
}

/*
 * XXX: keys are compared as text, so a plain `no:` (the key "false" to
 * Helm) and a quoted "no" merge as one key where Helm keeps two. The proper
 * fix compares plain keys as YAML 1.1 types them; no values file of the
 * appliance mixes the two.
 */
struct yaml_node *yaml_doc_merge(struct yaml_node *base,
                                 const struct yaml_node *overlay)
{
	struct yaml_node *merged, *old;
	size_t i;

	if (!overlay)
		return base;
	if (!base || base->kind != YAML_DOC_MAPPING ||
	    overlay->kind != YAML_DOC_MAPPING) {
		yaml_doc_free(base);
		return yaml_doc_copy(overlay);
	}
	for (i = 0; i < overlay->count; i++) {
		old = yaml_doc_get(base, overlay->keys[i]);
		if (old && old->kind == YAML_DOC_MAPPING &&
		    overlay->items[i]->kind == YAML_DOC_MAPPING) {
			/* Merging into a mapping keeps the same node. */
			if (!yaml_doc_merge(old, overlay->items[i]))
				return NULL;
			continue;
		}
		merged = yaml_doc_copy(overlay->items[i]);
		if (!merged || !map_set(base, overlay->keys[i],
		                        overlay->keys_plain[i], merged)) {
			yaml_doc_free(merged);
			return NULL;
		}
	}
	return base;
}

/* Words YAML 1.1 (go-yaml, so Helm) or 1.2 reads as a boolean or null, or
 * that go-yaml treats specially; matched in any case, to be safe. */
static const char *const plain_words[] = {
        "y", "n",    "yes",   "no",    "on",   "off", "true", "false", "null",
        "~", ".inf", "+.inf", "-.inf", ".nan", "<<",  "=",    NULL};

/* "2001-12-14" and longer: a YAML 1.1 timestamp. */
static bool plain_is_date(const char *text)
{
	size_t year = strspn(text, "0123456789"), month, day;

	if (year != 4 || text[4] != '-')
		return false;
	month = strspn(text + 5, "0123456789");
	if (month < 1 || month > 2 || text[5 + month] != '-')
		return false;
	day = strspn(text + 6 + month, "0123456789");
	return day >= 1 && day <= 2;
}

/*
 * Any int or float of YAML 1.1 or 1.2 (010, 0o10, 0x1F, 0b101, 1_000,
 * 1.5, .5, 1e3, 190:20:30 ...): a sign, a digit (or a dot and a digit),
 * then only digits, hex digits, x o b _ . : + -. Wider than the grammars,
 * since quoting a string is never wrong.
 */
static bool plain_is_number(const char *text)
{
	if (*text == '+' || *text == '-')
		text++;
	if (!isdigit((unsigned char)text[0]) &&
	    !(text[0] == '.' && isdigit((unsigned char)text[1])))
		return false;
	return text[strspn(text, "0123456789abcdefABCDEFxXoO_.:+-")] == '\0';
}

bool yaml_doc_plain_is_string(const char *text)
{
	if (!*text || plain_is_date(text) || plain_is_number(text))
		return false;
	for (size_t i = 0; plain_words[i]; i++)
		if (strcasecmp(text, plain_words[i]) == 0)
			return false;
	return true;
}

static bool emit_event(yaml_emitter_t *emitter, yaml_event_t *event, bool made)
{
	return made && yaml_emitter_emit(emitter, event);
}

static bool emit_scalar_styled(yaml_emitter_t *emitter, const char *text,
                               bool plain, yaml_scalar_style_t style)
{
	yaml_event_t event;
	bool made;

	made = yaml_scalar_event_initialize(&event, NULL, NULL,
	                                    (yaml_char_t *)(uintptr_t)text,
	                                    (int)strlen(text), plain, 1, style);
	return emit_event(emitter, &event, made);
}

/* A quoted value stays a string; a plain one is left to the reader. */
static bool emit_scalar(yaml_emitter_t *emitter, const char *text, bool quoted)
{
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

	/* Multi-line text reads best as a literal block; libyaml falls back
	 * to double quotes where a block cannot hold the text exactly. */
	if (strchr(text, '\n'))
		style = YAML_LITERAL_SCALAR_STYLE;
	else if (quoted)
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return emit_scalar_styled(emitter, text, !quoted, style);
}

/*
 * A key that was plain in the source stays plain: Helm reads it as it
 * read the source (`n:` is the key "false" either way). Any other key is a
 * string and must read back as one: Helm's YAML 1.1 reader would make "no"
 * false and "010" the number 8. libyaml quotes on its own what cannot be
 * plain at all (": ", "#", a newline).
 */
static bool emit_key(yaml_emitter_t *emitter, const char *key, bool plain)
{
	if (plain || (yaml_doc_plain_is_string(key) && !strchr(key, '\n')))
		return emit_scalar_styled(emitter, key, true,
		                          YAML_ANY_SCALAR_STYLE);
	return emit_scalar_styled(emitter, key, false,
	                          YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

static bool emit_node(yaml_emitter_t *emitter, const struct yaml_node *node,
                      unsigned depth)
{
	yaml_event_t event;
	bool is_map;
	size_t i;

	if (depth > YAML_DOC_MAX_DEPTH)
		return false;
	if (node->kind == YAML_DOC_NULL)
		return emit_scalar(emitter, "null", false);
	if (node->kind == YAML_DOC_SCALAR)
		return emit_scalar(emitter, node->scalar, node->quoted);
	is_map = node->kind == YAML_DOC_MAPPING;
	if (is_map) {
		if (!emit_event(emitter, &event,
		                yaml_mapping_start_event_initialize(
		                        &event, NULL, NULL, 1,
		                        YAML_BLOCK_MAPPING_STYLE)))
			return false;
	} else if (!emit_event(emitter, &event,
	                       yaml_sequence_start_event_initialize(
	                               &event, NULL, NULL, 1,
	                               YAML_BLOCK_SEQUENCE_STYLE))) {
		return false;
	}
	for (i = 0; i < node->count; i++) {
		if (is_map &&
		    !emit_key(emitter, node->keys[i], node->keys_plain[i]))
			return false;
		if (!emit_node(emitter, node->items[i], depth + 1))
			return false;
	}
	if (is_map)
		return emit_event(emitter, &event,
		                  yaml_mapping_end_event_initialize(&event));
	return emit_event(emitter, &event,
	                  yaml_sequence_end_event_initialize(&event));
}

bool yaml_doc_emit(FILE *out, const struct yaml_node *node)
{
	yaml_emitter_t emitter;
	yaml_event_t event;
	bool ok;

	if (!yaml_emitter_initialize(&emitter))
		return false;
	yaml_emitter_set_output_file(&emitter, out);
	yaml_emitter_set_unicode(&emitter, 1);
	yaml_emitter_set_width(&emitter, -1);
	ok = emit_event(&emitter, &event,
	                yaml_stream_start_event_initialize(
	                        &event, YAML_UTF8_ENCODING)) &&
	     emit_event(&emitter, &event,
	                yaml_document_start_event_initialize(&event, NULL, NULL,
	                                                     NULL, 1)) &&
	     emit_node(&emitter, node, 0) &&
	     emit_event(&emitter, &event,
	                yaml_document_end_event_initialize(&event, 1)) &&
	     emit_event(&emitter, &event,
	                yaml_stream_end_event_initialize(&event)) &&
	     yaml_emitter_flush(&emitter);
	yaml_emitter_delete(&emitter);
	return ok;
}
