/*
 * verify_secrets: no secret in an env value:, a ConfigMap or a command line.
 *
 * Three ways to find one. By name: an env variable, ConfigMap key, a
 * "key: value" or "key=value" line inside a ConfigMap, or a --flag=value
 * argument whose name holds one of the secret words, with a literal value
 * (not a file path, not a $(VAR) or template reference). By form: a URL
 * with a literal password (scheme://user:password@host) in an env value,
 * a ConfigMap or a command line, whatever its name. By value: the text of
 * any rendered Secret key whose name holds a secret word, found anywhere
 * else. Messages never print the secret itself.
 *
 * The rules may name keys whose values are references to a Secret's keys
 * (secrets.references): those pass the name check, unless the value is the
 * text of a rendered Secret key after all.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "appliance/verify.h"

#define RULE "no-inline-secrets"
/* A shorter Secret value is only compared whole (with a reference's value):
 * as a part of a text it would match ordinary words. */
#define SECRET_MIN_LEN 8

static const char *const default_words[] = {
        "PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", NULL};
/* Matched only as a whole part: as an ending, PASS would match BYPASS. */
static const char *const default_parts[] = {"PASS", "PWD", NULL};
static const char *const default_except[] = {
        "FILE", "FILES",      "PATH", "DIR",    "NAME", "REF", "PREFIX",
        "ID",   "ENCRYPTION", "TYPE", "METHOD", "MODE", NULL};

struct secret_value {
	char *text;
	const struct object *secret;
	const char *key;
};

struct secret_scan {
	struct verify_context *ctx;
	struct secret_value *values;
	size_t value_count;
};

static bool secrets_in(const char *segment, size_t len,
                       const struct rules_strings *list,
                       const char *const defaults[], bool suffix)
{
	size_t count = list->count;

	for (size_t i = 0; count ? i < count : defaults[i] != NULL; i++) {
		const char *word = count ? list->items[i] : defaults[i];
		size_t word_len = strlen(word);

		if (suffix && len >= word_len &&
		    strncasecmp(segment + len - word_len, word, word_len) == 0)
			return true;
		if (!suffix && len == word_len &&
		    strncasecmp(segment, word, len) == 0)
			return true;
	}
	return false;
}

/* Splits at _ - . and lower-to-upper case changes (passwordFile). */
static size_t secrets_segment(const char *name, size_t *skip)
{
	size_t len = 0;

	*skip = 0;
	while (name[*skip] == '_' || name[*skip] == '-' || name[*skip] == '.')
		(*skip)++;
	name += *skip;
	while (name[len] && name[len] != '_' && name[len] != '-' &&
	       name[len] != '.') {
		if (len && islower((unsigned char)name[len - 1]) &&
		    isupper((unsigned char)name[len]))
			break;
		len++;
	}
	return len;
}

/* A name that says it holds a secret (DB_PASSWORD, but not ..._FILE). */
static bool secrets_name(const struct rules *rules, const char *name)
{
	bool secret = false, last_except = false;
	size_t skip, len;

	static const char *const none[] = {NULL};

	if (rules->secret_except.count &&
	    secrets_in(name, strlen(name), &rules->secret_except, none, false))
		return false;
	while (*name) {
		len = secrets_segment(name, &skip);
		name += skip;
		if (!len)
			break;
		if (secrets_in(name, len, &rules->secret_words, default_words,
		               true) ||
		    secrets_in(name, len, &rules->secret_parts, default_parts,
		               false))
			secret = true;
		last_except = secrets_in(name, len, &rules->secret_except,
		                         default_except, false);
		name += len;
	}
	return secret && !last_except;
}

/* A value that is a literal, not a path or a reference to one. */
static bool secrets_literal(const char *value)
{
	size_t len;

	while (*value == ' ' || *value == '"' || *value == '\'')
		value++;
	len = strcspn(value, "\"' \r\n");
	if (!len || *value == '/' || *value == '$' || *value == '<' ||
	    *value == '%' || *value == '{' || *value == '@' || *value == '[')
		return false;
	return !(len == 4 && strncasecmp(value, "true", 4) == 0) &&
	       !(len == 5 && strncasecmp(value, "false", 5) == 0) &&
	       !(len == 4 && strncasecmp(value, "null", 4) == 0) &&
	       !(len == 4 && strncasecmp(value, "none", 4) == 0);
}

static void secrets_leaks(struct secret_scan *scan, const struct object *object,
                          const struct yaml_node *container, const char *text,
                          const char *field)
{
	for (size_t i = 0; i < scan->value_count; i++) {
		const struct secret_value *value = &scan->values[i];

		if (strlen(value->text) >= SECRET_MIN_LEN &&
		    value->secret != object && strstr(text, value->text))
			verify_violation(scan->ctx, RULE, object, container,
			                 field,
			                 "holds the value of Secret %s key %s",
			                 value->secret->name, value->key);
	}
}

/* The value as written: no quotes, no trailing blanks or comment. */
static void secrets_bare(const char *value, char *out, size_t size)
{
	size_t len;
	const char *hash;

	value += strspn(value, " \t");
	if (*value == '"' || *value == '\'') {
		len = strcspn(value + 1, *value == '"' ? "\"\n" : "'\n");
		snprintf(out, size, "%.*s", (int)len, value + 1);
		return;
	}
	len = strcspn(value, "\n");
	hash = strstr(value, " #");
	if (hash && (size_t)(hash - value) < len)
		len = (size_t)(hash - value);
	while (len && (value[len - 1] == ' ' || value[len - 1] == '\t' ||
	               value[len - 1] == '\r'))
		len--;
	snprintf(out, size, "%.*s", (int)len, value);
}

/* True when key (NAME or PARENT.*) names name under parent. */
static bool secrets_reference_key(const char *key, const char *name,
                                  const char *parent)
{
	size_t len = strlen(key);

	if (len > 2 && strcmp(key + len - 2, ".*") == 0)
		return parent && strlen(parent) == len - 2 &&
		       strncmp(key, parent, len - 2) == 0;
	return strcmp(key, name) == 0;
}

static const struct rules_reference *
secrets_reference(const struct rules *rules, const struct object *object,
                  const char *name, const char *parent)
{
	const struct rules_references *list = &rules->secret_references;

	for (size_t i = 0; i < list->count; i++) {
		const struct rules_reference *ref = &list->items[i];

		if (!rules_match(ref->match, object->release, object->kind,
		                 object->name))
			continue;
		for (size_t k = 0; k < ref->keys.count; k++)
			if (secrets_reference_key(ref->keys.items[k], name,
			                          parent))
				return ref;
	}
	return NULL;
}

/*
 * True when the rules allow name (under parent, in a ConfigMap's YAML text)
 * to hold a reference to a Secret key in object; a value that is a rendered
 * Secret's text is still reported, here, with the entry's line.
 */
static bool secrets_referenced(struct secret_scan *scan,
                               const struct object *object,
                               const struct yaml_node *container,
                               const char *field, const char *name,
                               const char *parent, const char *value)
{
	const struct rules_reference *ref =
	        secrets_reference(scan->ctx->rules, object, name, parent);
	char bare[1024];

	if (!ref)
		return false;
	secrets_bare(value, bare, sizeof(bare));
	for (size_t i = 0; i < scan->value_count; i++) {
		const struct secret_value *secret = &scan->values[i];

		if (strcmp(bare, secret->text) == 0)
			verify_violation(
			        scan->ctx, RULE, object, container, field,
			        "sets %s to the value of Secret %s key %s; the "
			        "reference allowed at %s:%u names a key, it "
			        "never holds the secret",
			        name, secret->secret->name, secret->key,
			        scan->ctx->rules->file, ref->line);
	}
	return true;
}

/* "user:password@" at the start of a URL's authority, with a literal
 * password: not empty, not a $(VAR) or ${VAR} reference, not a %s format
 * (but %40..., a percent-encoded password, is literal). */
static bool secrets_url_userinfo(const char *authority)
{
	size_t len = strcspn(authority, "/?# \t\r\n\"'<>");
	const char *at = NULL, *colon;

	for (size_t i = 0; i < len; i++)
		if (authority[i] == '@')
			at = authority + i;
	if (!at)
		return false;
	colon = memchr(authority, ':', (size_t)(at - authority));
	if (!colon || colon + 1 == at || colon[1] == '$')
		return false;
	return colon[1] != '%' ||
	       (colon + 3 < at && isxdigit((unsigned char)colon[2]) &&
	        isxdigit((unsigned char)colon[3]));
}

/* The first URL in text that carries a literal password, or NULL. */
static const char *secrets_url_password(const char *text)
{
	for (const char *p = strstr(text, "://"); p; p = strstr(p + 3, "://"))
		if (secrets_url_userinfo(p + 3))
			return p;
	return NULL;
}

/* One command-line word: --password=x, PGPASSWORD=x, a URL password. */
static void secrets_word(struct secret_scan *scan, const struct object *object,
                         const struct yaml_node *container, const char *word,
                         const char *field)
{
	const char *equals = strchr(word, '=');
	char name[256];

	if (secrets_url_password(word))
		verify_violation(scan->ctx, RULE, object, container, field,
		                 "a URL with a password on the command line");
	if (!equals)
		return;
	while (*word == '-')
		word++;
	snprintf(name, sizeof(name), "%.*s", (int)(equals - word), word);
	if (secrets_name(scan->ctx->rules, name) &&
	    secrets_literal(equals + 1) &&
	    !secrets_referenced(scan, object, container, field, name, NULL,
	                        equals + 1))
		verify_violation(scan->ctx, RULE, object, container, field,
		                 "sets %s on the command line", name);
}

static void secrets_words(struct secret_scan *scan, const struct object *object,
                          const struct yaml_node *container, const char *key)
{
	const struct yaml_node *list = yaml_doc_get(container, key);
	char field[64];

	for (size_t i = 0; list && i < list->count; i++) {
		const struct yaml_node *word = list->items[i];

		if (word->kind != YAML_DOC_SCALAR)
			continue;
		snprintf(field, sizeof(field), "%s[%zu]", key, i);
		secrets_word(scan, object, container, word->scalar, field);
		secrets_leaks(scan, object, container, word->scalar, field);
	}
}

static void secrets_container(struct verify_context *ctx,
                              const struct object *workload,
                              const struct yaml_node *pod_spec,
                              const struct yaml_node *container, void *data)
{
	struct secret_scan *scan = data;
	const struct yaml_node *env = yaml_doc_get(container, "env");
	char field[300];

	(void)pod_spec;
	for (size_t i = 0; env && i < env->count; i++) {
		const char *name = yaml_doc_get_str(env->items[i], "name");
		const char *value = yaml_doc_get_str(env->items[i], "value");

		if (!name || !value)
			continue;
		snprintf(field, sizeof(field), "env %s", name);
		if (secrets_name(ctx->rules, name) && secrets_literal(value) &&
		    !secrets_referenced(scan, workload, container, field, name,
		                        NULL, value))
			verify_violation(
			        ctx, RULE, workload, container, field,
			        "a secret as a plain env value; use valueFrom.secretKeyRef or a mounted Secret file");
		if (secrets_url_password(value))
			verify_violation(
			        ctx, RULE, workload, container, field,
			        "a URL with a password in an env value; take the password from a secretKeyRef variable, as $(VAR) in the URL, or keep the whole URL in a Secret");
		secrets_leaks(scan, workload, container, value, field);
	}
	secrets_words(scan, workload, container, "command");
	secrets_words(scan, workload, container, "args");
}

/* The keys of the lines above the current one, by indent, for PARENT.*. */
struct secret_parents {
	size_t indent[16];
	char name[16][128];
	size_t depth;
};

/* Forgets the keys the line at indent is not under; the key it is under. */
static const char *secrets_parent(struct secret_parents *parents, size_t indent)
{
	while (parents->depth && parents->indent[parents->depth - 1] >= indent)
		parents->depth--;
	return parents->depth ? parents->name[parents->depth - 1] : NULL;
}

static void secrets_push_parent(struct secret_parents *parents, size_t indent,
                                const char *name)
{
	size_t n = parents->depth;

	if (n == sizeof(parents->indent) / sizeof(parents->indent[0]))
		return;
	parents->indent[n] = indent;
	snprintf(parents->name[n], sizeof(parents->name[n]), "%s", name);
	parents->depth++;
}

/* One "name: value" line; name without quotes, parent as secrets_parent. */
static void secrets_line(struct secret_scan *scan, const struct object *map,
                         const char *field, const char *name,
                         const char *parent, const char *value)
{
	value += strspn(value, " \t");
	if (secrets_name(scan->ctx->rules, name) && secrets_literal(value) &&
	    !secrets_referenced(scan, map, NULL, field, name, parent, value))
		verify_violation(scan->ctx, RULE, map, NULL, field,
		                 "sets %s in a ConfigMap", name);
}

/* "key: value", "key = value", "KEY=value" lines inside a ConfigMap value. */
static void secrets_lines(struct secret_scan *scan, const struct object *map,
                          const char *key, const char *text)
{
	struct secret_parents parents = {.depth = 0};
	unsigned line = 1;
	char name[128], field[400];
	const char *parent;

	for (const char *p = text; *p; line++) {
		size_t indent = strspn(p, " \t-"), len;
		const char *sep;

		p += indent;
		if (strncmp(p, "export ", 7) == 0)
			p += 7;
		len = strspn(
		        p,
		        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-\"'");
		sep = p + len + strspn(p + len, " \t");
		if (len && len < sizeof(name) && (*sep == ':' || *sep == '=')) {
			bool quoted = len >= 2 && (*p == '"' || *p == '\'') &&
			              p[len - 1] == *p;

			snprintf(name, sizeof(name), "%.*s",
			         (int)(quoted ? len - 2 : len), p + quoted);
			snprintf(field, sizeof(field), "data.%s line %u", key,
			         line);
			parent = secrets_parent(&parents, indent);
			secrets_line(scan, map, field, name, parent, sep + 1);
			secrets_push_parent(&parents, indent, name);
		}
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
}

static void secrets_configmap_url(struct secret_scan *scan,
                                  const struct object *map, const char *key,
                                  const char *value)
{
	const char *url = secrets_url_password(value);
	unsigned line = 1;
	char field[300];

	if (!url)
		return;
	for (const char *p = value; p < url; p++)
		line += *p == '\n';
	if (strchr(value, '\n'))
		snprintf(field, sizeof(field), "data.%s line %u", key, line);
	else
		snprintf(field, sizeof(field), "data.%s", key);
	verify_violation(scan->ctx, RULE, map, NULL, field,
	                 "a URL with a password in a ConfigMap; put it in a "
	                 "Secret");
}

static void secrets_configmap(struct secret_scan *scan,
                              const struct object *map)
{
	const struct yaml_node *data = yaml_doc_get(map->node, "data");
	char field[300];

	for (size_t i = 0; data && i < data->count; i++) {
		const char *value = data->items[i]->kind == YAML_DOC_SCALAR
		                            ? data->items[i]->scalar
		                            : "";

		snprintf(field, sizeof(field), "data.%s", data->keys[i]);
		if (secrets_name(scan->ctx->rules, data->keys[i]) &&
		    secrets_literal(value) && !strchr(value, '\n')) {
			if (!secrets_referenced(scan, map, NULL, field,
			                        data->keys[i], NULL, value))
				verify_violation(
				        scan->ctx, RULE, map, NULL, field,
				        "a secret in a ConfigMap; put it in a Secret");
		} else {
			secrets_lines(scan, map, data->keys[i], value);
		}
		secrets_configmap_url(scan, map, data->keys[i], value);
		secrets_leaks(scan, map, NULL, value, field);
	}
}

static bool secrets_collect_one(struct secret_scan *scan,
                                const struct object *secret, const char *key)
{
	struct secret_value *grown;
	size_t len = 0;
	char *text;

	if (!secrets_name(scan->ctx->rules, key))
		return true;
	text = objects_data(secret, key, &len);
	if (!text || len == 0 || strlen(text) != len) {
		free(text);
		return true;
	}
	grown = realloc(scan->values, (scan->value_count + 1) * sizeof(*grown));
	if (!grown) {
		free(text);
		return false;
	}
	scan->values = grown;
	scan->values[scan->value_count++] =
	        (struct secret_value){text, secret, key};
	return true;
}

/* The secret texts of every rendered Secret, to find them elsewhere. */
static void secrets_collect(struct secret_scan *scan)
{
	static const char *const fields[] = {"data", "stringData", NULL};
	const struct objects *rendered = &scan->ctx->rendered;

	for (size_t i = 0; i < rendered->count; i++) {
		const struct object *object = &rendered->items[i];

		if (strcmp(object->kind, "Secret") != 0)
			continue;
		for (size_t f = 0; fields[f]; f++) {
			const struct yaml_node *data =
			        yaml_doc_get(object->node, fields[f]);

			for (size_t k = 0; data && k < data->count; k++)
				secrets_collect_one(scan, object,
				                    data->keys[k]);
		}
	}
}

/* An allowance that matches no rendered object is stale: it could let a
 * later object through unseen. */
static void secrets_stale_references(struct verify_context *ctx)
{
	const struct rules_references *list = &ctx->rules->secret_references;

	for (size_t i = 0; i < list->count; i++) {
		const struct rules_reference *ref = &list->items[i];
		bool found = false;

		for (size_t k = 0; !found && k < ctx->rendered.count; k++) {
			const struct object *object = &ctx->rendered.items[k];

			found = rules_match(ref->match, object->release,
			                    object->kind, object->name);
		}
		if (!found && !verify_pattern_unrendered(ctx, ref->match))
			verify_report(ctx, RULE, ref->match,
			              "secrets.references",
			              "no object matches; remove the entry "
			              "(%s:%u)",
			              ctx->rules->file, ref->line);
	}
}

void verify_secrets(struct verify_context *ctx)
{
	struct secret_scan scan = {ctx, NULL, 0};

	secrets_collect(&scan);
	for (size_t i = 0; i < ctx->rendered.count; i++) {
		const struct object *object = &ctx->rendered.items[i];

		if (strcmp(object->kind, "ConfigMap") == 0)
			secrets_configmap(&scan, object);
		else
			verify_each_container(ctx, object, secrets_container,
			                      &scan);
	}
	secrets_stale_references(ctx);
	for (size_t i = 0; i < scan.value_count; i++)
		free(scan.values[i].text);
	free(scan.values);
}
