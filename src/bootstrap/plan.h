/*
 * plan: the declarative bootstrap plan, read from one or more YAML files
 * (later files override earlier ones, mappings merge by key), checked
 * completely before anything touches the database. Every error names the
 * file, the line and the key: "plan.yaml:12: roles[0].name: too long".
 *
 * Relative paths (password files, secrets_dir, the migration directory,
 * commands that contain a slash, working directories) are resolved against
 * the directory of the file that set them, so an overlay can carry its own
 * scripts.
 *
 * A secret is named either by its file (password_file, env_files) or by its
 * key in secrets_dir, the directory that holds one file per key the way a
 * mounted Kubernetes Secret does (password_secret, env_secrets). Keys are
 * turned into paths when the plan is built, and again when
 * ALGA_BOOTSTRAP_SECRETS_DIR replaces the directory: everything after the
 * plan sees paths only.
 */
#ifndef ALGA_PLAN_H
#define ALGA_PLAN_H

#include <stdbool.h>
#include <stddef.h>

struct yaml_node;

/* PostgreSQL's identifier limit (NAMEDATALEN - 1). */
#define PLAN_NAME_MAX 63
#define PLAN_ERROR_MAX 1024
/* The longest key a Kubernetes Secret takes. */
#define PLAN_SECRET_KEY_MAX 253

struct plan_list {
	char **items;
	size_t count;
};

struct plan_pair {
	const char *name;
	const char *value;
};

struct plan_pairs {
	struct plan_pair *items;
	size_t count;
};

struct plan_grant {
	const char *on; /* database, schema, tables, sequences, functions */
	const char *database;
	const char *schema; /* NULL for "database" */
	struct plan_list privileges;
};

struct plan_default_privilege {
	const char *database;
	const char *schema;
	const char *for_role; /* the role whose new objects get them */
	const char *on;       /* tables, sequences, functions */
	struct plan_list privileges;
};

struct plan_role {
	const char *name;
	const char *password_file; /* NULL: the role has no password */
	struct plan_list attributes;
	struct plan_grant *grants;
	size_t grant_count;
	struct plan_default_privilege *defaults;
	size_t default_count;
};

struct plan_database {
	const char *name;
	const char *owner; /* NULL: the admin user */
	struct plan_pairs settings;
};

struct plan_extension {
	const char *name;
	const char *database;
	const char *schema; /* NULL: the extension's default */
	bool required;
};

struct plan_schema {
	const char *name;
	const char *database;
	const char *owner; /* NULL: the admin user */
};

struct plan_command {
	bool present;
	struct plan_list argv;
	const char *workdir;
	long long timeout_ms;
	struct plan_pairs env;         /* values may hold ${placeholders} */
	struct plan_pairs env_files;   /* NAME: password file */
	struct plan_pairs env_secrets; /* NAME: file of a key in secrets_dir */
};

/* A path the plan made from a key in secrets_dir, to remake on override. */
struct plan_secret_ref {
	const char **path;
	const char *key;
};

struct plan_parse {
	struct yaml_node **docs;
	size_t count;
};

struct plan {
	/* connection: the admin connection; wait uses it too */
	const char *host;
	long port;
	const char *user;
	const char *password_file;
	const char *sslmode;
	const char *database; /* maintenance database */
	const char *application_name;

	/* the directory of the secrets named by key; NULL: none */
	const char *secrets_dir;
	struct plan_secret_ref *secret_refs;
	size_t secret_ref_count;

	long long connect_deadline_ms;
	long long lock_deadline_ms;
	long long wait_deadline_ms;
	long long lock_key;

	struct plan_role *roles;
	size_t role_count;
	struct plan_database *databases;
	size_t database_count;
	struct plan_extension *extensions;
	size_t extension_count;
	struct plan_schema *schemas;
	size_t schema_count;

	const char *state_database;
	const char *state_schema;
	struct plan_list state_readers;

	struct plan_command migrate;
	const char *migrate_directory;
	const char *revision;
	const char *stale_lock_database; /* NULL: no migration tool lock */
	const char *stale_lock_schema;
	const char *stale_lock_table;

	struct plan_command seed;
	const char *seed_probe_database;
	const char *seed_probe_sql;
	bool seed_rerun_partial;

	/* what the strings above point into */
	struct yaml_node *tree;
	struct plan_parse *parses;
	size_t parse_count;
	char **owned;
	size_t owned_count;
};

/*
 * Reads and merges the files in order and checks the result. On failure
 * writes "FILE:LINE: key: what" (or "FILE: what") to error.
 */
bool plan_load(struct plan *plan, const char *const *files, size_t count,
               char *error, size_t error_size);
/* The same from YAML text, for the tests; name stands for the file. */
bool plan_load_string(struct plan *plan, const char *name, const char *text,
                      char *error, size_t error_size);
/*
 * Overrides from ALGA_BOOTSTRAP_SECRETS_DIR (every secret named by key is
 * looked up there instead), then ALGA_BOOTSTRAP_HOST, _PORT, _USER,
 * _PASSWORD_FILE, _SSLMODE.
 */
bool plan_apply_env(struct plan *plan, char *error, size_t error_size);
/* Keeps a copy of text for the plan's lifetime (NULL on no memory). */
const char *plan_keep(struct plan *plan, const char *text);
void plan_free(struct plan *plan);

#endif
