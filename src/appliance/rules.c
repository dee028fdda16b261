/*
 * rules: load rules.yaml into struct rules, refusing unknown keys and wrong
 * types with the file and line, so that a typo cannot switch a check off.
 */
#include "appliance/rules.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/quantity.h"

struct rules_loader {
	struct rules *rules;
	char *error;
	size_t error_size;
};

__attribute__((format(printf, 3, 4))) static bool
rules_fail(struct rules_loader *loader, const struct yaml_node *node,
           const char *fmt, ...)
{
	va_list args;
	int n;

	n = snprintf(loader->error, loader->error_size, "%s:%u: ", node->file,
	             node->line);
	if (n < 0 || (size_t)n >= loader->error_size)
		return false;
	va_start(args, fmt);
	vsnprintf(loader->error + n, loader->error_size - (size_t)n, fmt, args);
	va_end(args);
	return false;
}

static bool rules_known_keys(struct rules_loader *loader,
                             const struct yaml_node *map,
                             const char *const known[], const char *where)
{
	for (size_t i = 0; i < map->count; i++) {
		size_t k = 0;

		while (known[k] && strcmp(known[k], map->keys[i]) != 0)
			k++;
		if (!known[k])
			return rules_fail(loader, map->items[i],
			                  "unknown key \"%s\" in %s",
			                  map->keys[i], where);
	}
	return true;
}

static bool rules_string(struct rules_loader *loader,
                         const struct yaml_node *map, const char *key,
                         const char **out)
{
	const struct yaml_node *node = yaml_doc_get(map, key);

	if (!node)
		return true;
	if (node->kind != YAML_DOC_SCALAR)
		return rules_fail(loader, node, "%s must be a text, not a %s",
		                  key, yaml_doc_kind_name(node->kind));
	*out = node->scalar;
	return true;
}

static bool rules_number(struct rules_loader *loader,
                         const struct yaml_node *map, const char *key,
                         long *out)
{
	const struct yaml_node *node = yaml_doc_get(map, key);

	if (node && !yaml_doc_long(node, out))
		return rules_fail(loader, node, "%s must be a whole number",
		                  key);
	return true;
}

/* A list of texts; a single text counts as a list of one. */
static bool rules_strings(struct rules_loader *loader,
                          const struct yaml_node *map, const char *key,
                          struct rules_strings *out)
{
	const struct yaml_node *node = yaml_doc_get(map, key);
	const struct yaml_node *const *items;
	size_t count;

	if (!node)
		return true;
	if (node->kind == YAML_DOC_SCALAR) {
		items = (const struct yaml_node *const *)&node;
		count = 1;
	} else if (node->kind == YAML_DOC_SEQUENCE) {
		items = (const struct yaml_node *const *)node->items;
		count = node->count;
	} else {
		return rules_fail(loader, node, "%s must be a list of texts",
		                  key);
	}
	out->items = calloc(count + 1, sizeof(*out->items));
	if (!out->items)
		return rules_fail(loader, node, "out of memory");
	for (size_t i = 0; i < count; i++) {
		if (items[i]->kind != YAML_DOC_SCALAR)
			return rules_fail(loader, items[i],
			                  "%s must be a list of texts", key);
		out->items[i] = items[i]->scalar;
	}
	out->count = count;
	return true;
}

/* "host:port" into endpoint; the host is cut out of the parsed text. */
static bool rules_endpoint(char *text, struct rules_endpoint *endpoint)
{
	char *colon = strrchr(text, ':'), *end = NULL;

	if (!colon || colon == text || !colon[1])
		return false;
	endpoint->port = strtol(colon + 1, &end, 10);
	if (*end || endpoint->port <= 0 || endpoint->port > 65535)
		return false;
	*colon = '\0';
	endpoint->host = text;
	return true;
}

static bool rules_endpoints(struct rules_loader *loader,
                            const struct yaml_node *map, const char *key,
                            struct rules_endpoints *out)
{
	const struct yaml_node *node = yaml_doc_get(map, key);
	struct rules_strings texts = {0};
	bool ok = rules_strings(loader, map, key, &texts);

	if (ok && texts.count) {
		out->items = calloc(texts.count, sizeof(*out->items));
		if (!out->items)
			ok = rules_fail(loader, node, "out of memory");
	}
	for (size_t i = 0; ok && i < texts.count; i++) {
		/* The texts point into the parsed rules, which we own. */
		char *text = (char *)(uintptr_t)texts.items[i];

		if (!rules_endpoint(text, &out->items[i]))
			ok = rules_fail(loader, node,
			                "%s must be host:port, not \"%s\"", key,
			                text);
		else
			out->count++;
	}
	free(texts.items);
	return ok;
}

static bool rules_pattern_entry(struct rules_loader *loader,
                                const struct yaml_node *item,
                                struct rules_pattern *pattern)
{
	static const char *const known[] = {"match", "what", "mountPath",
	                                    "optional", NULL};
	const struct yaml_node *optional;

	pattern->line = item->line;
	if (item->kind == YAML_DOC_SCALAR) {
		pattern->match = item->scalar;
		return true;
	}
	if (item->kind != YAML_DOC_MAPPING)
		return rules_fail(
		        loader, item,
		        "a workload pattern is a text or a map with match");
	if (!rules_known_keys(loader, item, known, "a workload pattern") ||
	    !rules_string(loader, item, "match", &pattern->match) ||
	    !rules_string(loader, item, "what", &pattern->what) ||
	    !rules_string(loader, item, "mountPath", &pattern->mount_path))
		return false;
	optional = yaml_doc_get(item, "optional");
	if (optional && !yaml_doc_bool(optional, &pattern->optional))
		return rules_fail(loader, optional,
		                  "optional must be true or false");
	if (!pattern->match)
		return rules_fail(loader, item,
		                  "a workload pattern needs match");
	return true;
}

static bool rules_patterns(struct rules_loader *loader,
                           const struct yaml_node *map, const char *key,
                           struct rules_patterns *out)
{
	const struct yaml_node *node = yaml_doc_get(map, key);

	if (!node)
		return true;
	if (node->kind != YAML_DOC_SEQUENCE)
		return rules_fail(loader, node, "%s must be a list", key);
	out->items = calloc(node->count + 1, sizeof(*out->items));
	if (!out->items)
		return rules_fail(loader, node, "out of memory");
	for (size_t i = 0; i < node->count; i++) {
		if (!rules_pattern_entry(loader, node->items[i],
		                         &out->items[i]))
			return false;
		out->count++;
	}
	return true;
}

/* A reference key is NAME or PARENT.*, and no other glob. */
static bool rules_reference_key_ok(const char *key)
{
	const char *star = strchr(key, '*');
	size_t len = strlen(key);

	if (!*key || strchr(key, '?') || strchr(key, '['))
		return false;
	if (!star)
		return true;
	return star == key + len - 1 && len > 2 && key[len - 2] == '.' &&
	       strchr(key, '*') == star;
}

static bool rules_reference_entry(struct rules_loader *loader,
                                  const struct yaml_node *item,
                                  struct rules_reference *reference)
{
	static const char *const known[] = {"match", "keys", "why", NULL};

	reference->line = item->line;
	if (item->kind != YAML_DOC_MAPPING)
		return rules_fail(loader, item,
		                  "a secrets reference is a map with match, "
		                  "keys and why");
	if (!rules_known_keys(loader, item, known, "a secrets reference") ||
	    !rules_string(loader, item, "match", &reference->match) ||
	    !rules_strings(loader, item, "keys", &reference->keys) ||
	    !rules_string(loader, item, "why", &reference->why))
		return false;
	if (!reference->match || !reference->keys.count || !reference->why ||
	    !*reference->why)
		return rules_fail(loader, item,
		                  "a secrets reference needs match, keys and "
		                  "why");
	for (size_t i = 0; i < reference->keys.count; i++)
		if (!rules_reference_key_ok(reference->keys.items[i]))
			return rules_fail(
			        loader, yaml_doc_get(item, "keys"),
			        "secrets reference key \"%s\" must be "
			        "NAME or PARENT.*",
			        reference->keys.items[i]);
	return true;
}

static bool rules_references(struct rules_loader *loader,
                             const struct yaml_node *map, const char *key,
                             struct rules_references *out)
{
	const struct yaml_node *node = yaml_doc_get(map, key);

	if (!node)
		return true;
	if (node->kind != YAML_DOC_SEQUENCE)
		return rules_fail(loader, node, "%s must be a list", key);
	out->items = calloc(node->count + 1, sizeof(*out->items));
	if (!out->items)
		return rules_fail(loader, node, "out of memory");
	for (size_t i = 0; i < node->count; i++) {
		/* Counted first, so that rules_free frees a half-read one. */
		out->count++;
		if (!rules_reference_entry(loader, node->items[i],
		                           &out->items[i]))
			return false;
	}
	return true;
}

static bool rules_section(struct rules_loader *loader,
                          const struct yaml_node *root, const char *key,
                          const char *const known[],
                          const struct yaml_node **section)
{
	*section = yaml_doc_get(root, key);
	if (!*section)
		return true;
	if ((*section)->kind != YAML_DOC_MAPPING)
		return rules_fail(loader, *section, "%s must be a map", key);
	return rules_known_keys(loader, *section, known, key);
}

static bool rules_postgres(struct rules_loader *loader,
                           const struct yaml_node *root)
{
	static const char *const known[] = {
	        "service", "pgbouncer",   "viaPgbouncer",
	        "direct",  "mayGoDirect", "directEnv",
	        NULL};
	const struct yaml_node *section;
	struct rules *rules = loader->rules;

	return rules_section(loader, root, "postgres", known, &section) &&
	       rules_endpoints(loader, section, "service",
	                       &rules->postgres_service) &&
	       rules_endpoints(loader, section, "pgbouncer",
	                       &rules->pgbouncer) &&
	       rules_patterns(loader, section, "viaPgbouncer",
	                      &rules->via_pgbouncer) &&
	       rules_patterns(loader, section, "direct", &rules->direct) &&
	       rules_patterns(loader, section, "mayGoDirect",
	                      &rules->may_go_direct) &&
	       rules_strings(loader, section, "directEnv", &rules->direct_env);
}

static bool rules_budget(struct rules_loader *loader,
                         const struct yaml_node *root)
{
	static const char *const known[] = {"cpu", "memory", NULL};
	const struct yaml_node *section;
	const char *cpu = NULL, *memory = NULL;
	struct rules *rules = loader->rules;

	if (!rules_section(loader, root, "budget", known, &section) ||
	    !rules_string(loader, section, "cpu", &cpu) ||
	    !rules_string(loader, section, "memory", &memory))
		return false;
	if (cpu && !quantity_cpu(cpu, &rules->budget_millicpu))
		return rules_fail(loader, yaml_doc_get(section, "cpu"),
		                  "budget cpu \"%s\" is not a CPU quantity",
		                  cpu);
	if (memory && !quantity_memory(memory, &rules->budget_memory))
		return rules_fail(
		        loader, yaml_doc_get(section, "memory"),
		        "budget memory \"%s\" is not a memory quantity",
		        memory);
	return true;
}

static bool rules_level_ok(const char *level)
{
	return !level || strcmp(level, "privileged") == 0 ||
	       strcmp(level, "baseline") == 0 ||
	       strcmp(level, "restricted") == 0;
}

static bool rules_pod_security(struct rules_loader *loader,
                               const struct yaml_node *root)
{
	static const char *const known[] = {"default", "minimum", NULL};
	const struct yaml_node *section;
	struct rules *rules = loader->rules;

	if (!rules_section(loader, root, "podSecurity", known, &section) ||
	    !rules_string(loader, section, "default",
	                  &rules->pod_security_default) ||
	    !rules_string(loader, section, "minimum",
	                  &rules->pod_security_minimum))
		return false;
	if (!rules_level_ok(rules->pod_security_default) ||
	    !rules_level_ok(rules->pod_security_minimum))
		return rules_fail(
		        loader, section,
		        "podSecurity levels are privileged, baseline or restricted");
	return true;
}

static bool rules_other_sections(struct rules_loader *loader,
                                 const struct yaml_node *root)
{
	static const char *const secrets[] = {"words", "parts", "except",
	                                      "references", NULL};
	static const char *const resources[] = {"requests", "limits", NULL};
	static const char *const bootstrap[] = {"job", "allowedHooks",
	                                        "allowedHookObjects", NULL};
	const struct yaml_node *section;
	struct rules *rules = loader->rules;

	return rules_section(loader, root, "secrets", secrets, &section) &&
	       rules_strings(loader, section, "words", &rules->secret_words) &&
	       rules_strings(loader, section, "parts", &rules->secret_parts) &&
	       rules_strings(loader, section, "except",
	                     &rules->secret_except) &&
	       rules_references(loader, section, "references",
	                        &rules->secret_references) &&
	       rules_section(loader, root, "resources", resources, &section) &&
	       rules_strings(loader, section, "requests", &rules->requests) &&
	       rules_strings(loader, section, "limits", &rules->limits) &&
	       rules_section(loader, root, "bootstrap", bootstrap, &section) &&
	       rules_string(loader, section, "job", &rules->bootstrap_job) &&
	       rules_strings(loader, section, "allowedHooks",
	                     &rules->allowed_hooks) &&
	       rules_patterns(loader, section, "allowedHookObjects",
	                      &rules->allowed_hook_objects);
}

static bool rules_read(struct rules_loader *loader,
                       const struct yaml_node *root)
{
	static const char *const known[] = {
	        "namespace",      "releases",  "postgres",  "secrets",
	        "persistentData", "replicas",  "resources", "budget",
	        "podSecurity",    "bootstrap", NULL};
	struct rules *rules = loader->rules;

	if (root->kind != YAML_DOC_MAPPING)
		return rules_fail(loader, root, "the rules must be a map");
	return rules_known_keys(loader, root, known, "the rules") &&
	       rules_string(loader, root, "namespace", &rules->namespace) &&
	       rules_strings(loader, root, "releases", &rules->releases) &&
	       rules_postgres(loader, root) &&
	       rules_patterns(loader, root, "persistentData",
	                      &rules->persistent_data) &&
	       rules_number(loader, root, "replicas", &rules->replicas) &&
	       rules_budget(loader, root) && rules_pod_security(loader, root) &&
	       rules_other_sections(loader, root);
}

static void rules_defaults(struct rules *rules, const char *name)
{
	memset(rules, 0, sizeof(*rules));
	rules->replicas = 1;
	rules->budget_millicpu = -1;
	rules->budget_memory = -1;
	rules->file = name;
}

/* Reads the parsed document into rules; frees everything on failure. */
static bool rules_check(struct rules *rules, char *error, size_t error_size)
{
	struct rules_loader loader = {rules, error, error_size};

	if (rules->doc_count != 1) {
		rules_fail(&loader, rules->docs[rules->doc_count - 1],
		           "the rules are one YAML document");
		goto fail;
	}
	if (!rules_read(&loader, rules->docs[0]))
		goto fail;
	return true;
fail:
	rules_free(rules);
	return false;
}

bool rules_load(const char *path, struct rules *rules, char *error,
                size_t error_size)
{
	rules_defaults(rules, path);
	if (!yaml_doc_parse_file(path, &rules->docs, &rules->doc_count, error,
	                         error_size))
		return false;
	return rules_check(rules, error, error_size);
}

bool rules_load_string(const char *name, const char *text, size_t len,
                       struct rules *rules, char *error, size_t error_size)
{
	rules_defaults(rules, name);
	if (!yaml_doc_parse_string(name, text, len, &rules->docs,
	                           &rules->doc_count, error, error_size))
		return false;
	return rules_check(rules, error, error_size);
}

static void rules_free_patterns(struct rules_patterns *patterns)
{
	free(patterns->items);
}

void rules_free(struct rules *rules)
{
	free(rules->releases.items);
	free(rules->postgres_service.items);
	free(rules->pgbouncer.items);
	free(rules->direct_env.items);
	rules_free_patterns(&rules->via_pgbouncer);
	rules_free_patterns(&rules->direct);
	rules_free_patterns(&rules->may_go_direct);
	rules_free_patterns(&rules->persistent_data);
	rules_free_patterns(&rules->allowed_hook_objects);
	free(rules->secret_words.items);
	free(rules->secret_parts.items);
	free(rules->secret_except.items);
	for (size_t i = 0; i < rules->secret_references.count; i++)
		free(rules->secret_references.items[i].keys.items);
	free(rules->secret_references.items);
	free(rules->requests.items);
	free(rules->limits.items);
	free(rules->allowed_hooks.items);
	yaml_doc_free_all(rules->docs, rules->doc_count);
	memset(rules, 0, sizeof(*rules));
}

bool rules_match(const char *pattern, const char *release, const char *kind,
                 const char *name)
{
	char text[768];

	if (!strchr(pattern, '/'))
		return fnmatch(pattern, release, 0) == 0;
	snprintf(text, sizeof(text), "%s/%s/%s", release, kind, name);
	return fnmatch(pattern, text, 0) == 0;
}
