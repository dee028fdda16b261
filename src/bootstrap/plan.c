/*
 * plan: from merged YAML trees to a checked struct plan.
 */
#include "bootstrap/plan.h"

#include "lib/yaml_doc.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PLAN_PATH_MAX 256
#define PLAN_DEFAULT_LOCK_KEY 7021802393610577920LL

struct plan_ctx {
	struct plan *plan;
	char *error;
	size_t error_size;
	bool failed;
};

static const char *const plan_privileges[] = {
        "SELECT",     "INSERT",  "UPDATE",  "DELETE", "TRUNCATE",
        "REFERENCES", "TRIGGER", "USAGE",   "CREATE", "CONNECT",
        "TEMPORARY",  "TEMP",    "EXECUTE", "ALL",    NULL,
};

static const char *const plan_attributes[] = {
        "LOGIN",       "NOLOGIN",       "CREATEDB",  "NOCREATEDB",
        "CREATEROLE",  "NOCREATEROLE",  "INHERIT",   "NOINHERIT",
        "REPLICATION", "NOREPLICATION", "BYPASSRLS", "NOBYPASSRLS",
        "SUPERUSER",   "NOSUPERUSER",   NULL,
};

static const char *const plan_sslmodes[] = {
        "disable",   "allow",       "prefer", "require",
        "verify-ca", "verify-full", NULL,
};

static const char *const plan_grant_targets[] = {
        "database", "schema", "tables", "sequences", "functions", NULL,
};

static const char *const plan_default_targets[] = {
        "tables",
        "sequences",
        "functions",
        NULL,
};

/* ---- errors and small helpers ---- */

__attribute__((format(printf, 4, 5))) static bool
plan_fail(struct plan_ctx *ctx, const struct yaml_node *node, const char *key,
          const char *fmt, ...)
{
	char what[PLAN_ERROR_MAX];
	va_list ap;

	if (ctx->failed)
		return false;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (node != NULL)
		snprintf(ctx->error, ctx->error_size, "%s:%u: %s: %s",
		         node->file, node->line, key, what);
	else
		snprintf(ctx->error, ctx->error_size, "%s: %s", key, what);
	ctx->failed = true;
	return false;
}

static bool plan_in(const char *word, const char *const *set)
{
	for (size_t i = 0; set[i] != NULL; i++)
		if (strcmp(word, set[i]) == 0)
			return true;
	return false;
}

const char *plan_keep(struct plan *plan, const char *text)
{
	char **grown;
	char *copy = strdup(text);

	if (copy == NULL)
		return NULL;
	grown = realloc(plan->owned, (plan->owned_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(copy);
		return NULL;
	}
	plan->owned = grown;
	plan->owned[plan->owned_count++] = copy;
	return copy;
}

static void *plan_calloc(struct plan_ctx *ctx, size_t count, size_t size)
{
	void *p;

	if (count == 0)
		return NULL;
	p = calloc(count, size);
	if (p == NULL)
		plan_fail(ctx, NULL, "plan", "out of memory");
	return p;
}

/* Formats a key path into out (PLAN_PATH_MAX bytes), cutting it if long. */
__attribute__((format(printf, 2, 3))) static void
plan_keyf(char *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, PLAN_PATH_MAX, fmt, ap);
	va_end(ap);
}

static void plan_join(char *out, const char *parent, const char *key)
{
	if (parent[0] == '\0')
		plan_keyf(out, "%s", key);
	else
		plan_keyf(out, "%s.%s", parent, key);
}

/* Refuses keys that the plan format does not know (typos, mostly). */
static bool plan_known_keys(struct plan_ctx *ctx, const struct yaml_node *map,
                            const char *path, const char *const *allowed)
{
	char key[PLAN_PATH_MAX];

	if (map->kind != YAML_DOC_MAPPING) {
		return plan_fail(ctx, map, path[0] != '\0' ? path : "plan",
		                 "expected a mapping, found a %s",
		                 yaml_doc_kind_name(map->kind));
	}
	for (size_t i = 0; i < map->count; i++) {
		if (!plan_in(map->keys[i], allowed)) {
			plan_join(key, path, map->keys[i]);
			return plan_fail(ctx, map->items[i], key,
			                 "unknown key");
		}
	}
	return true;
}

/* ---- typed values ---- */

static const char *plan_str(struct plan_ctx *ctx, const struct yaml_node *map,
                            const char *path, const char *key, bool required,
                            const char *fallback)
{
	const struct yaml_node *node = yaml_doc_get(map, key);
	char full[PLAN_PATH_MAX];

	plan_join(full, path, key);
	if (node == NULL || node->kind == YAML_DOC_NULL) {
		if (required)
			plan_fail(ctx, map, full, "missing");
		return fallback;
	}
	if (node->kind != YAML_DOC_SCALAR) {
		plan_fail(ctx, node, full, "expected a string, found a %s",
		          yaml_doc_kind_name(node->kind));
		return fallback;
	}
	if (required && node->scalar[0] == '\0')
		plan_fail(ctx, node, full, "must not be empty");
	return node->scalar;
}

/* A name PostgreSQL takes as it is: not empty, at most 63 bytes. */
static const char *plan_name(struct plan_ctx *ctx, const struct yaml_node *map,
                             const char *path, const char *key, bool required)
{
	const char *name = plan_str(ctx, map, path, key, required, NULL);
	char full[PLAN_PATH_MAX];

	if (name == NULL)
		return NULL;
	plan_join(full, path, key);
	if (strlen(name) > PLAN_NAME_MAX)
		plan_fail(ctx, yaml_doc_get(map, key), full,
		          "name is longer than %d bytes", PLAN_NAME_MAX);
	else if (name[0] == '\0')
		plan_fail(ctx, yaml_doc_get(map, key), full,
		          "name must not be empty");
	return name;
}

static long long plan_int(struct plan_ctx *ctx, const struct yaml_node *map,
                          const char *path, const char *key, long long fallback,
                          long long min, long long max)
{
	const struct yaml_node *node = yaml_doc_get(map, key);
	char full[PLAN_PATH_MAX];
	long value;

	if (node == NULL || node->kind == YAML_DOC_NULL)
		return fallback;
	plan_join(full, path, key);
	if (!yaml_doc_long(node, &value) || value < min || value > max) {
		plan_fail(ctx, node, full,
		          "expected an integer from %lld to %lld", min, max);
		return fallback;
	}
	return value;
}

static bool plan_bool(struct plan_ctx *ctx, const struct yaml_node *map,
                      const char *path, const char *key, bool fallback)
{
	const struct yaml_node *node = yaml_doc_get(map, key);
	char full[PLAN_PATH_MAX];
	bool value = fallback;

	if (node == NULL || node->kind == YAML_DOC_NULL)
		return fallback;
	plan_join(full, path, key);
	if (!yaml_doc_bool(node, &value))
		plan_fail(ctx, node, full, "expected true or false");
	return value;
}

/*
 * A relative value resolved against the directory of file, and made
 * absolute against the working directory when file's name is relative: a
 * child changes to its own workdir, so a path the plan hands on (a script,
 * ${directory}) must not depend on where it runs. Returns the plan's
 * writable copy, or NULL on no memory.
 */
static char *plan_resolve(struct plan *plan, const char *file,
                          const char *value)
{
	const char *slash = strrchr(file, '/');
	int dir_len = slash != NULL ? (int)(slash - file) : 0;
	char cwd[PATH_MAX] = "";
	char *joined;
	size_t n;

	if (file[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL)
		cwd[0] = '\0';
	n = strlen(cwd) + (size_t)dir_len + strlen(value) + 3;
	joined = malloc(n);
	if (joined == NULL)
		return NULL;
	snprintf(joined, n, "%s%s%.*s%s%s", cwd,
	         cwd[0] != '\0' && dir_len > 0 ? "/" : "", dir_len, file,
	         cwd[0] != '\0' || dir_len > 0 ? "/" : "", value);
	if (plan_keep(plan, joined) == NULL) {
		free(joined);
		return NULL;
	}
	free(joined);
	return plan->owned[plan->owned_count - 1];
}

/* A path relative to the directory of the file that set it. */
static const char *plan_path(struct plan_ctx *ctx, const struct yaml_node *map,
                             const char *path, const char *key, bool required)
{
	const struct yaml_node *node = yaml_doc_get(map, key);
	const char *value = plan_str(ctx, map, path, key, required, NULL);
	const char *resolved;

	if (value == NULL || value[0] == '/' || value[0] == '\0' ||
	    node == NULL)
		return value;
	resolved = plan_resolve(ctx->plan, node->file, value);
	return resolved != NULL ? resolved : value;
}

/*
 * Whether key can be the name of a file in a mounted Kubernetes Secret:
 * letters, digits, '-', '_' and '.', not "." or "..", so it never leaves
 * secrets_dir.
 */
static bool plan_secret_key_ok(const char *key)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
	                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                              "0123456789-_.";
	size_t len = strlen(key);

	return len > 0 && len <= PLAN_SECRET_KEY_MAX &&
	       strspn(key, allowed) == len && strcmp(key, ".") != 0 &&
	       strcmp(key, "..") != 0;
}

/* dir/key, kept by the plan; NULL on no memory. */
static const char *plan_secret_join(struct plan *plan, const char *dir,
                                    const char *key)
{
	size_t len = strlen(dir);
	const char *kept;
	char *joined;

	while (len > 1 && dir[len - 1] == '/')
		len--;
	joined = malloc(len + strlen(key) + 2);
	if (joined == NULL)
		return NULL;
	sprintf(joined, "%.*s/%s", (int)len, dir, key);
	kept = plan_keep(plan, joined);
	free(joined);
	return kept;
}

/*
 * A secret named by its key (map.key): *out becomes its file in
 * secrets_dir, and the plan remembers where, for ALGA_BOOTSTRAP_SECRETS_DIR.
 */
static void plan_secret(struct plan_ctx *ctx, const struct yaml_node *map,
                        const char *path, const char *key, const char **out)
{
	const struct yaml_node *node = yaml_doc_get(map, key);
	const char *name = plan_str(ctx, map, path, key, true, NULL);
	struct plan *plan = ctx->plan;
	struct plan_secret_ref *grown;
	char full[PLAN_PATH_MAX];

	if (name == NULL || ctx->failed)
		return;
	plan_join(full, path, key);
	if (!plan_secret_key_ok(name)) {
		plan_fail(
		        ctx, node, full,
		        "secret key \"%s\" is not a file name in secrets_dir (letters, digits, '-', '_' and '.' only)",
		        name);
		return;
	}
	if (plan->secrets_dir == NULL) {
		plan_fail(ctx, node, full,
		          "names a secret by key, but the plan sets no "
		          "secrets_dir");
		return;
	}
	grown = realloc(plan->secret_refs,
	                (plan->secret_ref_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		plan_fail(ctx, NULL, "plan", "out of memory");
		return;
	}
	plan->secret_refs = grown;
	grown[plan->secret_ref_count].path = out;
	grown[plan->secret_ref_count].key = name;
	plan->secret_ref_count++;
	*out = plan_secret_join(plan, plan->secrets_dir, name);
	if (*out == NULL)
		plan_fail(ctx, NULL, "plan", "out of memory");
}

/* password_file or password_secret; *out stays NULL when neither is set. */
static void plan_password(struct plan_ctx *ctx, const struct yaml_node *map,
                          const char *path, const char **out)
{
	const struct yaml_node *secret = yaml_doc_get(map, "password_secret");
	char full[PLAN_PATH_MAX];

	*out = plan_path(ctx, map, path, "password_file", false);
	if (secret == NULL || secret->kind == YAML_DOC_NULL)
		return;
	if (*out != NULL) {
		plan_join(full, path, "password_secret");
		plan_fail(ctx, secret, full,
		          "set password_file or password_secret, not both (an "
		          "overlay clears the other with null)");
		return;
	}
	plan_secret(ctx, map, path, "password_secret", out);
}

/* A sequence of scalars; upper turns them to upper case. */
static void plan_words(struct plan_ctx *ctx, const struct yaml_node *map,
                       const char *path, const char *key,
                       const char *const *allowed, struct plan_list *out)
{
	const struct yaml_node *node = yaml_doc_get(map, key);
	char full[PLAN_PATH_MAX], item[PLAN_PATH_MAX];

	out->items = NULL;
	out->count = 0;
	if (node == NULL || node->kind == YAML_DOC_NULL)
		return;
	plan_join(full, path, key);
	if (node->kind != YAML_DOC_SEQUENCE) {
		plan_fail(ctx, node, full, "expected a list");
		return;
	}
	out->items = plan_calloc(ctx, node->count, sizeof(char *));
	for (size_t i = 0; out->items != NULL && i < node->count; i++) {
		const struct yaml_node *word = node->items[i];
		plan_keyf(item, "%s[%zu]", full, i);
		if (word->kind != YAML_DOC_SCALAR || word->scalar[0] == '\0') {
			plan_fail(ctx, word, item, "expected a string");
			return;
		}
		if (allowed != NULL && !plan_in(word->scalar, allowed)) {
			plan_fail(ctx, word, item, "unknown word \"%s\"",
			          word->scalar);
			return;
		}
		out->items[out->count++] = word->scalar;
	}
}

static void plan_names(struct plan_ctx *ctx, const struct yaml_node *map,
                       const char *path, const char *key, struct plan_list *out)
{
	const struct yaml_node *node = yaml_doc_get(map, key);
	char item[PLAN_PATH_MAX];

	plan_words(ctx, map, path, key, NULL, out);
	for (size_t i = 0; i < out->count; i++) {
		if (strlen(out->items[i]) > PLAN_NAME_MAX) {
			plan_keyf(item, "%s.%s[%zu]", path, key, i);
			plan_fail(ctx, node->items[i], item,
			          "name is longer than %d bytes",
			          PLAN_NAME_MAX);
		}
	}
}

/* What the values of a NAME: value mapping are. */
enum plan_values {
	PLAN_TEXT,    /* env, settings */
	PLAN_FILES,   /* env_files: paths */
	PLAN_SECRETS, /* env_secrets: keys in secrets_dir */
};

/* NAME: value mappings; files and secrets end up as paths. */
static void plan_pairs(struct plan_ctx *ctx, const struct yaml_node *map,
                       const char *path, const char *key,
                       enum plan_values values, struct plan_pairs *out)
{
	const struct yaml_node *node = yaml_doc_get(map, key);
	char full[PLAN_PATH_MAX];

	out->items = NULL;
	out->count = 0;
	if (node == NULL || node->kind == YAML_DOC_NULL)
		return;
	plan_join(full, path, key);
	if (node->kind != YAML_DOC_MAPPING) {
		plan_fail(ctx, node, full, "expected a mapping");
		return;
	}
	out->items = plan_calloc(ctx, node->count, sizeof(*out->items));
	for (size_t i = 0; out->items != NULL && i < node->count; i++) {
		/* An overlay removes an entry by setting it to null. */
		if (node->items[i]->kind == YAML_DOC_NULL)
			continue;
		struct plan_pair *pair = &out->items[out->count++];
		pair->name = node->keys[i];
		if (values == PLAN_SECRETS)
			plan_secret(ctx, node, full, node->keys[i],
			            &pair->value);
		else if (values == PLAN_FILES)
			pair->value =
			        plan_path(ctx, node, full, node->keys[i], true);
		else
			pair->value = plan_str(ctx, node, full, node->keys[i],
			                       false, "");
	}
}

/* A sequence of mappings; returns it, or NULL when absent. */
static const struct yaml_node *
plan_seq(struct plan_ctx *ctx, const struct yaml_node *map, const char *key)
{
	const struct yaml_node *node = yaml_doc_get(map, key);

	if (node == NULL || node->kind == YAML_DOC_NULL)
		return NULL;
	if (node->kind != YAML_DOC_SEQUENCE) {
		plan_fail(ctx, node, key, "expected a list");
		return NULL;
	}
	return node;
}

/* ---- sections ---- */

static void plan_connection(struct plan_ctx *ctx, const struct yaml_node *root)
{
	static const char *const keys[] = {
	        "host",
	        "port",
	        "user",
	        "password_file",
	        "password_secret",
	        "sslmode",
	        "database",
	        "application_name",
	        NULL,
	};
	const struct yaml_node *map = yaml_doc_get(root, "connection");
	struct plan *plan = ctx->plan;

	plan->host = "localhost";
	plan->port = 5432;
	plan->user = "postgres";
	plan->sslmode = "prefer";
	plan->database = "postgres";
	plan->application_name = "alga-bootstrap";
	if (map == NULL || !plan_known_keys(ctx, map, "connection", keys))
		return;
	plan->host =
	        plan_str(ctx, map, "connection", "host", false, plan->host);
	plan->port =
	        (long)plan_int(ctx, map, "connection", "port", 5432, 1, 65535);
	plan->user = plan_name(ctx, map, "connection", "user", false);
	if (plan->user == NULL)
		plan->user = "postgres";
	plan_password(ctx, map, "connection", &plan->password_file);
	plan->sslmode = plan_str(ctx, map, "connection", "sslmode", false,
	                         plan->sslmode);
	if (!plan_in(plan->sslmode, plan_sslmodes))
		plan_fail(ctx, yaml_doc_get(map, "sslmode"),
		          "connection.sslmode", "unknown sslmode \"%s\"",
		          plan->sslmode);
	plan->database = plan_name(ctx, map, "connection", "database", false);
	if (plan->database == NULL)
		plan->database = "postgres";
	plan->application_name =
	        plan_str(ctx, map, "connection", "application_name", false,
	                 plan->application_name);
}

static void plan_deadlines(struct plan_ctx *ctx, const struct yaml_node *root)
{
	static const char *const keys[] = {"connect", "lock", "wait", NULL};
	const struct yaml_node *map = yaml_doc_get(root, "deadlines");
	const long long day = 86400;
	struct plan *plan = ctx->plan;

	plan->connect_deadline_ms = 300 * 1000;
	plan->lock_deadline_ms = 600 * 1000;
	plan->wait_deadline_ms = 900 * 1000;
	if (map == NULL || !plan_known_keys(ctx, map, "deadlines", keys))
		return;
	plan->connect_deadline_ms =
	        1000 * plan_int(ctx, map, "deadlines", "connect", 300, 0, day);
	plan->lock_deadline_ms =
	        1000 * plan_int(ctx, map, "deadlines", "lock", 600, 0, day);
	plan->wait_deadline_ms =
	        1000 * plan_int(ctx, map, "deadlines", "wait", 900, 0, day);
}

static void plan_grant(struct plan_ctx *ctx, const struct yaml_node *map,
                       const char *path, struct plan_grant *grant)
{
	static const char *const keys[] = {
	        "on", "database", "schema", "privileges", NULL,
	};
	char full[PLAN_PATH_MAX];

	if (!plan_known_keys(ctx, map, path, keys))
		return;
	grant->on = plan_str(ctx, map, path, "on", true, "database");
	plan_join(full, path, "on");
	if (!plan_in(grant->on, plan_grant_targets))
		plan_fail(
		        ctx, yaml_doc_get(map, "on"), full,
		        "expected database, schema, tables, sequences or functions");
	grant->database = plan_name(ctx, map, path, "database", true);
	grant->schema = plan_name(ctx, map, path, "schema",
	                          strcmp(grant->on, "database") != 0);
	plan_words(ctx, map, path, "privileges", plan_privileges,
	           &grant->privileges);
	if (grant->privileges.count == 0)
		plan_fail(ctx, map, path, "privileges: at least one is needed");
}

static void plan_default(struct plan_ctx *ctx, const struct yaml_node *map,
                         const char *path, struct plan_default_privilege *def)
{
	static const char *const keys[] = {
	        "on", "database", "schema", "for_role", "privileges", NULL,
	};
	char full[PLAN_PATH_MAX];

	if (!plan_known_keys(ctx, map, path, keys))
		return;
	def->on = plan_str(ctx, map, path, "on", true, "tables");
	plan_join(full, path, "on");
	if (!plan_in(def->on, plan_default_targets))
		plan_fail(ctx, yaml_doc_get(map, "on"), full,
		          "expected tables, sequences or functions");
	def->database = plan_name(ctx, map, path, "database", true);
	def->schema = plan_name(ctx, map, path, "schema", true);
	def->for_role = plan_name(ctx, map, path, "for_role", true);
	plan_words(ctx, map, path, "privileges", plan_privileges,
	           &def->privileges);
	if (def->privileges.count == 0)
		plan_fail(ctx, map, path, "privileges: at least one is needed");
}

static void plan_role(struct plan_ctx *ctx, const struct yaml_node *map,
                      const char *path, struct plan_role *role)
{
	static const char *const keys[] = {
	        "name",       "password_file", "password_secret",
	        "attributes", "grants",        "default_privileges",
	        NULL,
	};
	const struct yaml_node *seq;
	char item[PLAN_PATH_MAX];

	if (!plan_known_keys(ctx, map, path, keys))
		return;
	role->name = plan_name(ctx, map, path, "name", true);
	plan_password(ctx, map, path, &role->password_file);
	plan_words(ctx, map, path, "attributes", plan_attributes,
	           &role->attributes);
	seq = plan_seq(ctx, map, "grants");
	if (seq != NULL) {
		role->grants =
		        plan_calloc(ctx, seq->count, sizeof(*role->grants));
		for (size_t i = 0; role->grants != NULL && i < seq->count;
		     i++) {
			plan_keyf(item, "%s.grants[%zu]", path, i);
			plan_grant(ctx, seq->items[i], item, &role->grants[i]);
			role->grant_count++;
		}
	}
	seq = plan_seq(ctx, map, "default_privileges");
	if (seq != NULL) {
		role->defaults =
		        plan_calloc(ctx, seq->count, sizeof(*role->defaults));
		for (size_t i = 0; role->defaults != NULL && i < seq->count;
		     i++) {
			plan_keyf(item, "%s.default_privileges[%zu]", path, i);
			plan_default(ctx, seq->items[i], item,
			             &role->defaults[i]);
			role->default_count++;
		}
	}
}

static void plan_database(struct plan_ctx *ctx, const struct yaml_node *map,
                          const char *path, struct plan_database *db)
{
	static const char *const keys[] = {"name", "owner", "settings", NULL};
	char full[PLAN_PATH_MAX];

	if (!plan_known_keys(ctx, map, path, keys))
		return;
	db->name = plan_name(ctx, map, path, "name", true);
	db->owner = plan_name(ctx, map, path, "owner", false);
	plan_pairs(ctx, map, path, "settings", PLAN_TEXT, &db->settings);
	plan_join(full, path, "settings");
	for (size_t i = 0; i < db->settings.count; i++) {
		const char *name = db->settings.items[i].name;
		if (strlen(name) > PLAN_NAME_MAX || name[0] == '\0' ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_.") !=
		            strlen(name))
			plan_fail(
			        ctx, yaml_doc_get(map, "settings"), full,
			        "setting name \"%s\" is not a lowercase parameter name",
			        name);
	}
}

static void plan_extension(struct plan_ctx *ctx, const struct yaml_node *map,
                           const char *path, struct plan_extension *ext)
{
	static const char *const keys[] = {
	        "name", "database", "schema", "required", NULL,
	};

	if (!plan_known_keys(ctx, map, path, keys))
		return;
	ext->name = plan_name(ctx, map, path, "name", true);
	ext->database = plan_name(ctx, map, path, "database", true);
	ext->schema = plan_name(ctx, map, path, "schema", false);
	ext->required = plan_bool(ctx, map, path, "required", true);
}

static void plan_schema(struct plan_ctx *ctx, const struct yaml_node *map,
                        const char *path, struct plan_schema *schema)
{
	static const char *const keys[] = {"name", "database", "owner", NULL};

	if (!plan_known_keys(ctx, map, path, keys))
		return;
	schema->name = plan_name(ctx, map, path, "name", true);
	schema->database = plan_name(ctx, map, path, "database", true);
	schema->owner = plan_name(ctx, map, path, "owner", false);
}

/* The sequences of roles, databases, extensions and schemas. */
static void plan_objects(struct plan_ctx *ctx, const struct yaml_node *root)
{
	struct plan *plan = ctx->plan;
	const struct yaml_node *seq;
	char path[PLAN_PATH_MAX];

	if ((seq = plan_seq(ctx, root, "roles")) != NULL) {
		plan->roles =
		        plan_calloc(ctx, seq->count, sizeof(*plan->roles));
		for (size_t i = 0; plan->roles != NULL && i < seq->count; i++) {
			plan_keyf(path, "roles[%zu]", i);
			plan_role(ctx, seq->items[i], path, &plan->roles[i]);
			plan->role_count++;
		}
	}
	if ((seq = plan_seq(ctx, root, "databases")) != NULL) {
		plan->databases =
		        plan_calloc(ctx, seq->count, sizeof(*plan->databases));
		for (size_t i = 0; plan->databases != NULL && i < seq->count;
		     i++) {
			plan_keyf(path, "databases[%zu]", i);
			plan_database(ctx, seq->items[i], path,
			              &plan->databases[i]);
			plan->database_count++;
		}
	}
	if ((seq = plan_seq(ctx, root, "extensions")) != NULL) {
		plan->extensions =
		        plan_calloc(ctx, seq->count, sizeof(*plan->extensions));
		for (size_t i = 0; plan->extensions != NULL && i < seq->count;
		     i++) {
			plan_keyf(path, "extensions[%zu]", i);
			plan_extension(ctx, seq->items[i], path,
			               &plan->extensions[i]);
			plan->extension_count++;
		}
	}
	if ((seq = plan_seq(ctx, root, "schemas")) != NULL) {
		plan->schemas =
		        plan_calloc(ctx, seq->count, sizeof(*plan->schemas));
		for (size_t i = 0; plan->schemas != NULL && i < seq->count;
		     i++) {
			plan_keyf(path, "schemas[%zu]", i);
			plan_schema(ctx, seq->items[i], path,
			            &plan->schemas[i]);
			plan->schema_count++;
		}
	}
}

static void plan_state(struct plan_ctx *ctx, const struct yaml_node *root)
{
	static const char *const keys[] = {"database", "schema", "readers",
	                                   NULL};
	const struct yaml_node *map = yaml_doc_get(root, "state");
	struct plan *plan = ctx->plan;

	plan->state_database = plan->database;
	plan->state_schema = "alga_bootstrap";
	if (map == NULL || !plan_known_keys(ctx, map, "state", keys))
		return;
	plan->state_database = plan_name(ctx, map, "state", "database", true);
	if (yaml_doc_get(map, "schema") != NULL)
		plan->state_schema =
		        plan_name(ctx, map, "state", "schema", true);
	plan_names(ctx, map, "state", "readers", &plan->state_readers);
}

/* A relative program with a slash is a script next to the plan file. */
static char *plan_program(struct plan *plan, const struct yaml_node *node,
                          char *program)
{
	char *resolved;

	if (strchr(program, '/') == NULL || program[0] == '/')
		return program;
	resolved = plan_resolve(plan, node->file, program);
	return resolved != NULL ? resolved : program;
}

/* A variable from both env_files and env_secrets is a mistake. */
static void plan_env_twice(struct plan_ctx *ctx, const struct yaml_node *map,
                           const char *path, const struct plan_command *cmd)
{
	const struct yaml_node *secrets = yaml_doc_get(map, "env_secrets");
	char full[PLAN_PATH_MAX];

	for (size_t i = 0; i < cmd->env_secrets.count; i++) {
		const char *name = cmd->env_secrets.items[i].name;
		for (size_t j = 0; j < cmd->env_files.count; j++) {
			if (strcmp(name, cmd->env_files.items[j].name) != 0)
				continue;
			plan_keyf(full, "%s.env_secrets.%s", path, name);
			plan_fail(ctx, yaml_doc_get(secrets, name), full,
			          "also set in env_files (an overlay clears "
			          "one of them with null)");
			return;
		}
	}
}

/*
 * The placeholders of command and env values; steps_expand fills in the
 * same names.
 */
static const char *const plan_placeholders[] = {
        "host",    "port",      "user",     "database",
        "sslmode", "directory", "revision", NULL,
};

/* Every "${" opens a known placeholder that is closed. */
static void plan_check_placeholders(struct plan_ctx *ctx,
                                    const struct yaml_node *node,
                                    const char *key, const char *text)
{
	char name[32];

	for (const char *at = strstr(text, "${"); at != NULL;
	     at = strstr(at + 2, "${")) {
		const char *end = strchr(at + 2, '}');
		size_t len = end != NULL ? (size_t)(end - at - 2) : 0;
		if (end == NULL) {
			plan_fail(ctx, node, key,
			          "unterminated placeholder in \"%s\"", text);
			return;
		}
		snprintf(name, sizeof(name), "%.*s", (int)len, at + 2);
		if (len >= sizeof(name) || !plan_in(name, plan_placeholders)) {
			plan_fail(ctx, node, key,
			          "unknown placeholder %.*s in \"%s\" (known: "
			          "${host}, ${port}, ${user}, ${database}, "
			          "${sslmode}, ${directory}, ${revision})",
			          (int)len + 3, at, text);
			return;
		}
	}
}

/* Environment names: not empty, no "=" (what putenv would misread). */
static void plan_check_env_names(struct plan_ctx *ctx,
                                 const struct yaml_node *map, const char *path,
                                 const char *key,
                                 const struct plan_pairs *pairs)
{
	const struct yaml_node *node = yaml_doc_get(map, key);
	char full[PLAN_PATH_MAX];

	for (size_t i = 0; i < pairs->count; i++) {
		const char *name = pairs->items[i].name;
		plan_keyf(full, "%s.%s.%s", path, key, name);
		if (name[0] == '\0' || strchr(name, '=') != NULL) {
			plan_fail(ctx, yaml_doc_get(node, name), full,
			          "not an environment variable name");
			return;
		}
		if (strcmp(key, "env") == 0)
			plan_check_placeholders(ctx, yaml_doc_get(node, name),
			                        full, pairs->items[i].value);
	}
}

/* What can be checked in the text of a command before it runs. */
static void plan_check_command(struct plan_ctx *ctx,
                               const struct yaml_node *map, const char *path,
                               const struct plan_command *cmd)
{
	const struct yaml_node *argv = yaml_doc_get(map, "command");
	char item[PLAN_PATH_MAX];

	for (size_t i = 0;
	     argv != NULL && i < cmd->argv.count && i < argv->count; i++) {
		plan_keyf(item, "%s.command[%zu]", path, i);
		plan_check_placeholders(ctx, argv->items[i], item,
		                        argv->items[i]->scalar);
	}
	plan_check_env_names(ctx, map, path, "env", &cmd->env);
	plan_check_env_names(ctx, map, path, "env_files", &cmd->env_files);
	plan_check_env_names(ctx, map, path, "env_secrets", &cmd->env_secrets);
}

/* The command, working directory, timeout and environment of a step. */
static void plan_command(struct plan_ctx *ctx, const struct yaml_node *map,
                         const char *path, struct plan_command *cmd)
{
	const struct yaml_node *argv = yaml_doc_get(map, "command");
	char full[PLAN_PATH_MAX];

	cmd->present = true;
	plan_join(full, path, "command");
	plan_words(ctx, map, path, "command", NULL, &cmd->argv);
	if (cmd->argv.count == 0) {
		plan_fail(ctx, argv != NULL ? argv : map, full,
		          "a command (a list: program, arguments) is needed");
		return;
	}
	cmd->argv.items[0] = plan_program(ctx->plan, argv, cmd->argv.items[0]);
	cmd->workdir = plan_path(ctx, map, path, "workdir", false);
	cmd->timeout_ms =
	        1000 * plan_int(ctx, map, path, "timeout", 3600, 1, 7 * 86400);
	plan_pairs(ctx, map, path, "env", PLAN_TEXT, &cmd->env);
	plan_pairs(ctx, map, path, "env_files", PLAN_FILES, &cmd->env_files);
	plan_pairs(ctx, map, path, "env_secrets", PLAN_SECRETS,
	           &cmd->env_secrets);
	plan_env_twice(ctx, map, path, cmd);
	if (!ctx->failed)
		plan_check_command(ctx, map, path, cmd);
}

static void plan_migrate(struct plan_ctx *ctx, const struct yaml_node *root)
{
	static const char *const keys[] = {
	        "command",    "workdir",     "timeout",   "env",
	        "env_files",  "env_secrets", "directory", "revision",
	        "stale_lock", NULL,
	};
	static const char *const lock_keys[] = {"database", "schema", "table",
	                                        NULL};
	const struct yaml_node *map = yaml_doc_get(root, "migrate");
	const struct yaml_node *lock;
	struct plan *plan = ctx->plan;

	plan->revision = "";
	if (map == NULL || map->kind == YAML_DOC_NULL ||
	    !plan_known_keys(ctx, map, "migrate", keys))
		return;
	plan_command(ctx, map, "migrate", &plan->migrate);
	plan->migrate_directory =
	        plan_path(ctx, map, "migrate", "directory", true);
	plan->revision = plan_str(ctx, map, "migrate", "revision", false, "");
	lock = yaml_doc_get(map, "stale_lock");
	if (lock == NULL || lock->kind == YAML_DOC_NULL ||
	    !plan_known_keys(ctx, lock, "migrate.stale_lock", lock_keys))
		return;
	plan->stale_lock_database =
	        plan_name(ctx, lock, "migrate.stale_lock", "database", true);
	plan->stale_lock_schema =
	        plan_name(ctx, lock, "migrate.stale_lock", "schema", false);
	if (plan->stale_lock_schema == NULL)
		plan->stale_lock_schema = "public";
	plan->stale_lock_table =
	        plan_name(ctx, lock, "migrate.stale_lock", "table", true);
}

static void plan_seed(struct plan_ctx *ctx, const struct yaml_node *root)
{
	static const char *const keys[] = {
	        "command",     "workdir", "timeout",       "env", "env_files",
	        "env_secrets", "probe",   "rerun_partial", NULL,
	};
	static const char *const probe_keys[] = {"database", "sql", NULL};
	const struct yaml_node *map = yaml_doc_get(root, "seed");
	const struct yaml_node *probe;
	struct plan *plan = ctx->plan;

	if (map == NULL || map->kind == YAML_DOC_NULL ||
	    !plan_known_keys(ctx, map, "seed", keys))
		return;
	plan_command(ctx, map, "seed", &plan->seed);
	plan->seed_rerun_partial =
	        plan_bool(ctx, map, "seed", "rerun_partial", false);
	probe = yaml_doc_get(map, "probe");
	if (probe == NULL || probe->kind == YAML_DOC_NULL ||
	    !plan_known_keys(ctx, probe, "seed.probe", probe_keys))
		return;
	plan->seed_probe_database =
	        plan_name(ctx, probe, "seed.probe", "database", true);
	plan->seed_probe_sql =
	        plan_str(ctx, probe, "seed.probe", "sql", true, NULL);
}

/* Cross-checks: every name a step refers to is one the plan knows. */
static bool plan_known_role(const struct plan *plan, const char *name)
{
	if (name == NULL || strcmp(name, plan->user) == 0)
		return true;
	for (size_t i = 0; i < plan->role_count; i++)
		if (strcmp(plan->roles[i].name, name) == 0)
			return true;
	return false;
}

static void plan_cross_check(struct plan_ctx *ctx, const struct yaml_node *root)
{
	struct plan *plan = ctx->plan;
	const struct yaml_node *dbs = yaml_doc_get(root, "databases");

	char key[PLAN_PATH_MAX];

	for (size_t i = 0; i < plan->database_count; i++) {
		if (plan_known_role(plan, plan->databases[i].owner))
			continue;
		plan_keyf(key, "databases[%zu].owner", i);
		plan_fail(ctx, yaml_doc_get(dbs->items[i], "owner"), key,
		          "role \"%s\" is not in roles",
		          plan->databases[i].owner);
	}
	/* Later connections of the run would use the old password. */
	for (size_t i = 0; i < plan->role_count; i++) {
		const struct plan_role *role = &plan->roles[i];
		const struct yaml_node *map =
		        yaml_doc_get(root, "roles")->items[i];
		const struct yaml_node *file =
		        yaml_doc_get(map, "password_file");
		const char *field = file != NULL && file->kind != YAML_DOC_NULL
		                            ? "password_file"
		                            : "password_secret";
		if (strcmp(role->name, plan->user) != 0 ||
		    role->password_file == NULL ||
		    plan->password_file == NULL ||
		    strcmp(role->password_file, plan->password_file) == 0)
			continue;
		plan_keyf(key, "roles[%zu].%s", i, field);
		plan_fail(
		        ctx, yaml_doc_get(map, field), key,
		        "the admin user's password must come from the connection's password_file or password_secret");
	}
	for (size_t i = 0; i < plan->role_count; i++)
		for (size_t j = i + 1; j < plan->role_count; j++)
			if (strcmp(plan->roles[i].name, plan->roles[j].name) ==
			    0)
				plan_fail(ctx,
				          yaml_doc_get(root, "roles")->items[j],
				          "name", "role \"%s\" appears twice",
				          plan->roles[j].name);
}

static bool plan_build(struct plan *plan, struct yaml_node *tree, char *error,
                       size_t error_size)
{
	static const char *const keys[] = {
	        "connection", "secrets_dir", "deadlines",  "lock",
	        "roles",      "databases",   "extensions", "schemas",
	        "state",      "migrate",     "seed",       NULL,
	};
	struct plan_ctx ctx = {plan, error, error_size, false};
	const struct yaml_node *lock;

	plan->tree = tree;
	if (tree->kind == YAML_DOC_NULL) {
		plan_connection(&ctx, tree);
		plan_deadlines(&ctx, tree);
		plan_state(&ctx, tree);
		plan->revision = "";
		plan->lock_key = PLAN_DEFAULT_LOCK_KEY;
		return true;
	}
	if (!plan_known_keys(&ctx, tree, "", keys))
		return false;
	plan->secrets_dir = plan_path(&ctx, tree, "", "secrets_dir", false);
	if (plan->secrets_dir != NULL && plan->secrets_dir[0] == '\0')
		plan_fail(&ctx, yaml_doc_get(tree, "secrets_dir"),
		          "secrets_dir", "must not be empty");
	plan_connection(&ctx, tree);
	plan_deadlines(&ctx, tree);
	plan->lock_key = PLAN_DEFAULT_LOCK_KEY;
	lock = yaml_doc_get(tree, "lock");
	if (lock != NULL) {
		static const char *const lock_keys[] = {"key", NULL};
		if (plan_known_keys(&ctx, lock, "lock", lock_keys))
			plan->lock_key = plan_int(&ctx, lock, "lock", "key",
			                          PLAN_DEFAULT_LOCK_KEY,
			                          LONG_MIN, LONG_MAX);
	}
	plan_objects(&ctx, tree);
	plan_state(&ctx, tree);
	plan_migrate(&ctx, tree);
	plan_seed(&ctx, tree);
	if (!ctx.failed)
		plan_cross_check(&ctx, tree);
	return !ctx.failed;
}

/* ---- loading ---- */

/* Keeps a parse alive: merged trees point at its file name. */
static bool plan_keep_parse(struct plan *plan, struct yaml_node **docs,
                            size_t count)
{
	struct plan_parse *grown;

	grown = realloc(plan->parses,
	                (plan->parse_count + 1) * sizeof(*plan->parses));
	if (grown == NULL) {
		yaml_doc_free_all(docs, count);
		return false;
	}
	plan->parses = grown;
	plan->parses[plan->parse_count].docs = docs;
	plan->parses[plan->parse_count].count = count;
	plan->parse_count++;
	return true;
}

/* Merges one parsed file into the tree built so far. */
static bool plan_merge_parse(struct plan *plan, const char *name,
                             struct yaml_node **docs, size_t count,
                             struct yaml_node **tree, char *error,
                             size_t error_size)
{
	if (!plan_keep_parse(plan, docs, count)) {
		snprintf(error, error_size, "%s: out of memory", name);
		return false;
	}
	if (count != 1) {
		snprintf(error, error_size,
		         "%s: expected one YAML document, found %zu", name,
		         count);
		return false;
	}
	if (docs[0]->kind != YAML_DOC_MAPPING &&
	    docs[0]->kind != YAML_DOC_NULL) {
		snprintf(error, error_size,
		         "%s:%u: plan: expected a mapping, found a %s", name,
		         docs[0]->line, yaml_doc_kind_name(docs[0]->kind));
		return false;
	}
	if (*tree == NULL)
		*tree = yaml_doc_copy(docs[0]);
	else if (docs[0]->kind == YAML_DOC_MAPPING)
		*tree = yaml_doc_merge(*tree, docs[0]);
	if (*tree == NULL) {
		snprintf(error, error_size, "%s: out of memory", name);
		return false;
	}
	return true;
}

bool plan_load(struct plan *plan, const char *const *files, size_t count,
               char *error, size_t error_size)
{
	struct yaml_node *tree = NULL;

	memset(plan, 0, sizeof(*plan));
	for (size_t i = 0; i < count; i++) {
		struct yaml_node **docs = NULL;
		size_t n = 0;
		if (!yaml_doc_parse_file(files[i], &docs, &n, error,
		                         error_size))
			goto fail;
		if (!plan_merge_parse(plan, files[i], docs, n, &tree, error,
		                      error_size))
			goto fail;
	}
	if (tree == NULL) {
		snprintf(error, error_size, "plan: no plan file given");
		goto fail;
	}
	if (!plan_build(plan, tree, error, error_size)) {
		plan_free(plan);
		return false;
	}
	return true;
fail:
	if (tree != NULL)
		yaml_doc_free(tree);
	plan_free(plan);
	return false;
}

bool plan_load_string(struct plan *plan, const char *name, const char *text,
                      char *error, size_t error_size)
{
	struct yaml_node *tree = NULL;
	struct yaml_node **docs = NULL;
	size_t n = 0;

	memset(plan, 0, sizeof(*plan));
	if (!yaml_doc_parse_string(name, text, strlen(text), &docs, &n, error,
	                           error_size))
		return false;
	if (!plan_merge_parse(plan, name, docs, n, &tree, error, error_size)) {
		if (tree != NULL)
			yaml_doc_free(tree);
		plan_free(plan);
		return false;
	}
	if (!plan_build(plan, tree, error, error_size)) {
		plan_free(plan);
		return false;
	}
	return true;
}

/* One connection override; returns false on a bad value. */
static bool plan_env_name(struct plan *plan, const char *var,
                          const char **field, bool name, char *error,
                          size_t error_size)
{
	const char *value = getenv(var);

	if (value == NULL || value[0] == '\0')
		return true;
	if (name && strlen(value) > PLAN_NAME_MAX) {
		snprintf(error, error_size, "%s: name is longer than %d bytes",
		         var, PLAN_NAME_MAX);
		return false;
	}
	*field = plan_keep(plan, value);
	return *field != NULL;
}

/* ALGA_BOOTSTRAP_SECRETS_DIR: every secret named by key is looked up there. */
static bool plan_env_secrets_dir(struct plan *plan, char *error,
                                 size_t error_size)
{
	const char *dir = getenv("ALGA_BOOTSTRAP_SECRETS_DIR");

	if (dir == NULL || dir[0] == '\0')
		return true;
	plan->secrets_dir = plan_keep(plan, dir);
	for (size_t i = 0;
	     plan->secrets_dir != NULL && i < plan->secret_ref_count; i++) {
		const struct plan_secret_ref *ref = &plan->secret_refs[i];
		const char *path = plan_secret_join(plan, dir, ref->key);
		if (path == NULL) {
			plan->secrets_dir = NULL;
			break;
		}
		*ref->path = path;
	}
	if (plan->secrets_dir == NULL) {
		snprintf(error, error_size,
		         "ALGA_BOOTSTRAP_SECRETS_DIR: out of memory");
		return false;
	}
	return true;
}

bool plan_apply_env(struct plan *plan, char *error, size_t error_size)
{
	const char *port = getenv("ALGA_BOOTSTRAP_PORT");
	const char *sslmode = plan->sslmode;

	if (!plan_env_secrets_dir(plan, error, error_size) ||
	    !plan_env_name(plan, "ALGA_BOOTSTRAP_HOST", &plan->host, false,
	                   error, error_size) ||
	    !plan_env_name(plan, "ALGA_BOOTSTRAP_USER", &plan->user, true,
	                   error, error_size) ||
	    !plan_env_name(plan, "ALGA_BOOTSTRAP_PASSWORD_FILE",
	                   &plan->password_file, false, error, error_size) ||
	    !plan_env_name(plan, "ALGA_BOOTSTRAP_SSLMODE", &sslmode, false,
	                   error, error_size))
		return false;
	if (!plan_in(sslmode, plan_sslmodes)) {
		snprintf(error, error_size,
		         "ALGA_BOOTSTRAP_SSLMODE: unknown sslmode \"%s\"",
		         sslmode);
		return false;
	}
	plan->sslmode = sslmode;
	if (port != NULL && port[0] != '\0') {
		char *end;
		long value = strtol(port, &end, 10);
		if (*end != '\0' || value < 1 || value > 65535) {
			snprintf(
			        error, error_size,
			        "ALGA_BOOTSTRAP_PORT: expected a port number, found \"%s\"",
			        port);
			return false;
		}
		plan->port = value;
	}
	return true;
}

static void plan_free_role(struct plan_role *role)
{
	free(role->attributes.items);
	for (size_t i = 0; i < role->grant_count; i++)
		free(role->grants[i].privileges.items);
	for (size_t i = 0; i < role->default_count; i++)
		free(role->defaults[i].privileges.items);
	free(role->grants);
	free(role->defaults);
}

static void plan_free_command(struct plan_command *cmd)
{
	free(cmd->argv.items);
	free(cmd->env.items);
	free(cmd->env_files.items);
	free(cmd->env_secrets.items);
}

void plan_free(struct plan *plan)
{
	for (size_t i = 0; i < plan->role_count; i++)
		plan_free_role(&plan->roles[i]);
	free(plan->roles);
	for (size_t i = 0; i < plan->database_count; i++)
		free(plan->databases[i].settings.items);
	free(plan->databases);
	free(plan->extensions);
	free(plan->schemas);
	free(plan->state_readers.items);
	free(plan->secret_refs);
	plan_free_command(&plan->migrate);
	plan_free_command(&plan->seed);
	if (plan->tree != NULL)
		yaml_doc_free(plan->tree);
	for (size_t i = 0; i < plan->parse_count; i++)
		yaml_doc_free_all(plan->parses[i].docs, plan->parses[i].count);
	free(plan->parses);
	for (size_t i = 0; i < plan->owned_count; i++)
		free(plan->owned[i]);
	free(plan->owned);
	memset(plan, 0, sizeof(*plan));
}
