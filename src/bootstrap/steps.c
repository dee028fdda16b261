/*
 * steps: run the migration command when its fingerprint changed, and the
 * seed command when the database says it never ran.
 */
#include "bootstrap/steps.h"

#include "bootstrap/fingerprint.h"
#include "bootstrap/provision.h"
#include "bootstrap/state.h"
#include "lib/interrupt.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEPS_KEY_FINGERPRINT "migration_fingerprint"
#define STEPS_KEY_SEED "seed"

/* ---- the child's environment ---- */

static const char *steps_placeholder(const struct boot *boot, const char *name,
                                     size_t len)
{
	const struct plan *plan = boot->plan;
	const struct {
		const char *name;
		const char *value;
	} known[] = {
	        {"host", plan->host},
	        {"port", boot->port},
	        {"user", plan->user},
	        {"database", plan->database},
	        {"sslmode", plan->sslmode},
	        {"directory",
	         plan->migrate_directory ? plan->migrate_directory : ""},
	        {"revision", boot->revision},
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].name) == len &&
		    strncmp(known[i].name, name, len) == 0)
			return known[i].value;
	return NULL;
}

char *steps_expand(const struct boot *boot, const char *text, char *error,
                   size_t error_size)
{
	size_t cap = strlen(text) + 1, o = 0;
	char *out = malloc(cap);

	while (out != NULL && *text != '\0') {
		const char *end, *value;
		if (strncmp(text, "${", 2) != 0 ||
		    (end = strchr(text, '}')) == NULL) {
			out[o++] = *text++;
			continue;
		}
		value = steps_placeholder(boot, text + 2,
		                          (size_t)(end - text - 2));
		if (value == NULL) {
			snprintf(error, error_size,
			         "unknown placeholder %.*s in \"%s\"",
			         (int)(end - text + 1), text, text);
			free(out);
			return NULL;
		}
		cap += strlen(value);
		char *grown = realloc(out, cap);
		if (grown == NULL) {
			free(out);
			return NULL;
		}
		out = grown;
		memcpy(out + o, value, strlen(value));
		o += strlen(value);
		text = end + 1;
	}
	if (out != NULL)
		out[o] = '\0';
	return out;
}

struct steps_env {
	char **vars; /* "NAME=value", NULL-terminated */
	size_t count;
};

static void steps_env_free(struct steps_env *env)
{
	for (size_t i = 0; i < env->count; i++) {
		explicit_bzero(env->vars[i], strlen(env->vars[i]));
		free(env->vars[i]);
	}
	free(env->vars);
	env->vars = NULL;
	env->count = 0;
}

static bool steps_env_add(struct steps_env *env, const char *name,
                          const char *value)
{
	char *var = malloc(strlen(name) + strlen(value) + 2);

	if (var == NULL)
		return false;
	sprintf(var, "%s=%s", name, value);
	env->vars[env->count++] = var;
	env->vars[env->count] = NULL;
	return true;
}

/* Adds NAME=secret for each NAME: file of env_files or env_secrets. */
static bool steps_env_secrets(const struct boot *boot,
                              const struct plan_pairs *files,
                              struct steps_env *env)
{
	char error[512];

	for (size_t i = 0; i < files->count; i++) {
		const struct plan_pair *file = &files->items[i];
		struct secret secret;
		/* The admin password was read once already: reuse it. */
		if (boot->plan->password_file != NULL &&
		    strcmp(file->value, boot->plan->password_file) == 0) {
			if (!steps_env_add(env, file->name,
			                   boot->admin_password.text))
				return false;
			continue;
		}
		if (!secret_read(file->value, &secret, error, sizeof(error))) {
			if (interrupt_pending() == 0)
				log_error("env %s: %s", file->name, error);
			return false;
		}
		log_redact(secret.text);
		bool ok = steps_env_add(env, file->name, secret.text);
		secret_free(&secret);
		if (!ok)
			return false;
	}
	return true;
}

/*
 * The plan's env (expanded), env_files and env_secrets (read, wiped after
 * the run).
 */
static bool steps_env_build(const struct boot *boot,
                            const struct plan_command *cmd,
                            struct steps_env *env)
{
	char error[512];

	env->count = 0;
	env->vars = calloc(cmd->env.count + cmd->env_files.count +
	                           cmd->env_secrets.count + 1,
	                   sizeof(char *));
	if (env->vars == NULL)
		return false;
	for (size_t i = 0; i < cmd->env.count; i++) {
		char *value = steps_expand(boot, cmd->env.items[i].value, error,
		                           sizeof(error));
		bool ok = value != NULL &&
		          steps_env_add(env, cmd->env.items[i].name, value);
		free(value);
		if (!ok) {
			log_error("env %s: %s", cmd->env.items[i].name, error);
			return false;
		}
	}
	return steps_env_secrets(boot, &cmd->env_files, env) &&
	       steps_env_secrets(boot, &cmd->env_secrets, env);
}

/* Runs a step's command; describes the outcome into what. */
static bool steps_command(struct boot *boot, const struct plan_command *cmd,
                          const char *name, struct proc_result *result)
{
	struct steps_env env = {NULL, 0};
	char **argv = calloc(cmd->argv.count + 1, sizeof(char *));
	char error[512];
	bool ok = false;

	result->outcome = PROC_NOT_STARTED;
	result->error = 0;
	if (argv == NULL || !steps_env_build(boot, cmd, &env))
		goto out;
	for (size_t i = 0; i < cmd->argv.count; i++) {
		argv[i] = steps_expand(boot, cmd->argv.items[i], error,
		                       sizeof(error));
		if (argv[i] == NULL) {
			log_error("%s command: %s", name, error);
			goto out;
		}
	}
	struct proc_spec spec = {
	        .argv = argv,
	        .env = env.vars,
	        .workdir = cmd->workdir,
	        .timeout_ms = cmd->timeout_ms,
	        .grace_ms = 10000,
	};
	ok = proc_run(&spec, result);
out:
	steps_env_free(&env);
	for (size_t i = 0; argv != NULL && i < cmd->argv.count; i++)
		free(argv[i]);
	free(argv);
	return ok;
}

/*
 * Runs the migrate or seed command. On failure it logs what happened and
 * the operator's next step, sets *status to "failed" and returns fail_code
 * (BOOT_INTERRUPTED when we were stopped instead).
 */
static int steps_run_command(struct boot *boot, const struct plan_command *cmd,
                             const char *name, const char *label,
                             const char *hint, const char **status,
                             int fail_code)
{
	struct proc_result result;
	char what[600];

	if (steps_command(boot, cmd, name, &result))
		return BOOT_OK;
	if (result.outcome == PROC_INTERRUPTED || interrupt_pending() != 0)
		return BOOT_INTERRUPTED;
	proc_describe(&result, label, what, sizeof(what));
	log_error("%s", what);
	log_hint("%s", hint);
	*status = "failed";
	snprintf(boot->message, sizeof(boot->message), "%s", what);
	return fail_code;
}

/* ---- migrate ---- */

/*
 * The migration tool's own lock row stays set when its run was killed.
 * We hold the bootstrap lock, so no other migration runs: clear it.
 */
static bool steps_clear_stale_lock(struct boot *boot)
{
	const struct plan *plan = boot->plan;
	char sql[1024], qualified[300], value[8];
	char *schema, *table;
	struct pg_error error = {"", ""};
	PGresult *res;
	PGconn *conn;
	bool found, ok = false;

	if (plan->stale_lock_table == NULL)
		return true;
	conn = boot_db(boot, plan->stale_lock_database);
	if (conn == NULL)
		return false;
	schema = pg_ident(conn, plan->stale_lock_schema);
	table = pg_ident(conn, plan->stale_lock_table);
	if (schema == NULL || table == NULL)
		goto out;
	snprintf(qualified, sizeof(qualified), "%s.%s", schema, table);
	const char *params[] = {qualified};
	if (!pg_value(conn, "select to_regclass($1) is not null", 1, params,
	              value, sizeof(value), &found, &error))
		goto fail;
	if (strcmp(value, "t") != 0) {
		ok = true;
		goto out;
	}
	snprintf(sql, sizeof(sql),
	         "update %s set is_locked = 0 where is_locked <> 0", qualified);
	if (!pg_exec(conn, sql, 0, NULL, &res, &error))
		goto fail;
	if (atoi(PQcmdTuples(res)) > 0)
		log_warn(
		        "cleared a stale lock in %s.%s.%s left by an interrupted migration (no other bootstrap runs: we hold the bootstrap lock)",
		        plan->stale_lock_database, plan->stale_lock_schema,
		        plan->stale_lock_table);
	PQclear(res);
	ok = true;
	goto out;
fail:
	log_error("cannot clear the migration lock %s.%s: %s",
	          plan->stale_lock_schema, plan->stale_lock_table,
	          error.message);
out:
	PQfreemem(schema);
	PQfreemem(table);
	return ok;
}

int steps_migrate(struct boot *boot)
{
	const struct plan *plan = boot->plan;
	char last[SHA256_HEX_SIZE + 8], error[512];
	size_t files;
	bool found;
	int code;

	log_phase("migrate");
	boot->migration = "none";
	if (!plan->migrate.present) {
		log_info("no migration command in the plan");
		return BOOT_OK;
	}
	if (!fingerprint_compute(plan->migrate_directory, boot->revision,
	                         boot->fingerprint, &files, error,
	                         sizeof(error))) {
		log_error("cannot fingerprint the migrations: %s", error);
		boot->migration = "failed";
		snprintf(boot->message, sizeof(boot->message), "%s", error);
		return BOOT_MIGRATE;
	}
	if (!state_get(boot, STEPS_KEY_FINGERPRINT, last, sizeof(last), &found,
	               NULL, 0))
		return BOOT_MIGRATE;
	if (found && strcmp(last, boot->fingerprint) == 0 &&
	    !boot->force_migrate) {
		boot->migration = "skipped";
		log_info(
		        "migrations unchanged (fingerprint %.12s, %zu files), skipping",
		        boot->fingerprint, files);
		return BOOT_OK;
	}
	log_info("running migrations (fingerprint %.12s, %zu files, %s)",
	         boot->fingerprint, files,
	         boot->force_migrate ? "forced"
	         : found             ? "changed since the last run"
	                             : "not applied before");
	if (!steps_clear_stale_lock(boot))
		return BOOT_MIGRATE;
	code = steps_run_command(
	        boot, &plan->migrate, "migrate", "the migration command",
	        "its output is above; the next run retries the migration",
	        &boot->migration, BOOT_MIGRATE);
	if (code != BOOT_OK)
		return code;
	if (!state_set(boot, STEPS_KEY_FINGERPRINT, boot->fingerprint))
		return BOOT_MIGRATE;
	boot->migration = "ran";
	if (!provision_grants_after_migrate(boot))
		return BOOT_PROVISION;
	log_info("migrations applied");
	return BOOT_OK;
}

/* ---- seed ---- */

/* The app's own answer to "is there data?"; a missing table says no. */
static bool steps_probe(struct boot *boot, bool *seeded)
{
	const struct plan *plan = boot->plan;
	char value[32];
	struct pg_error error = {"", ""};
	PGconn *conn;
	bool found;

	*seeded = false;
	if (plan->seed_probe_sql == NULL)
		return true;
	conn = boot_db(boot, plan->seed_probe_database);
	if (conn == NULL)
		return false;
	if (!pg_value(conn, plan->seed_probe_sql, 0, NULL, value, sizeof(value),
	              &found, &error)) {
		if (strcmp(error.sqlstate, "42P01") == 0)
			return true;
		log_error("the seed probe failed: %s", error.message);
		return false;
	}
	*seeded = found && strcmp(value, "f") != 0 &&
	          strcmp(value, "false") != 0 && strcmp(value, "0") != 0;
	return true;
}

static int steps_partial(struct boot *boot, const char *since)
{
	boot->seed = "partial";
	if (boot->mark_seeded) {
		if (!state_set(boot, STEPS_KEY_SEED, "seeded"))
			return BOOT_SEED;
		log_warn(
		        "partial seed (started %s) marked as seeded by --mark-seeded",
		        since);
		boot->seed = "skipped";
		log_info("seeds already present, skipping");
		return BOOT_OK;
	}
	if (!boot->reseed_partial && !boot->plan->seed_rerun_partial) {
		log_error(
		        "partial seed detected: seeding started %s and never finished; not seeding again, because the seeds start by truncating tenants",
		        since);
		log_hint(
		        "check the data; if it is complete, run with --mark-seeded; to seed again (destroying what is there), run with --reseed-partial");
		snprintf(boot->message, sizeof(boot->message),
		         "partial seed detected (started %s)", since);
		return BOOT_PARTIAL_SEED;
	}
	log_warn(
	        "partial seed detected (started %s): seeding again as allowed by %s",
	        since,
	        boot->reseed_partial ? "--reseed-partial"
	                             : "seed.rerun_partial in the plan");
	return BOOT_OK;
}

static int steps_run_seeds(struct boot *boot)
{
	int code;

	if (!state_set(boot, STEPS_KEY_SEED, "started"))
		return BOOT_SEED;
	log_info("running seeds");
	code = steps_run_command(
	        boot, &boot->plan->seed, "seed", "the seed command",
	        "the seed record stays \"started\": the next run reports a partial seed instead of seeding over what is there",
	        &boot->seed, BOOT_SEED);
	if (code != BOOT_OK)
		return code;
	if (!state_set(boot, STEPS_KEY_SEED, "seeded"))
		return BOOT_SEED;
	boot->seed = "ran";
	log_info("seeds applied");
	return BOOT_OK;
}

int steps_seed(struct boot *boot)
{
	char record[32], since[64];
	bool found, seeded;
	int code;

	log_phase("seed");
	boot->seed = "none";
	if (!boot->plan->seed.present) {
		log_info("no seed command in the plan");
		return BOOT_OK;
	}
	if (!state_get(boot, STEPS_KEY_SEED, record, sizeof(record), &found,
	               since, sizeof(since)))
		return BOOT_SEED;
	if (found && strcmp(record, "seeded") == 0) {
		boot->seed = "skipped";
		log_info("seeds already present, skipping");
		return BOOT_OK;
	}
	if (found) {
		code = steps_partial(boot, since);
		if (code != BOOT_OK || strcmp(boot->seed, "skipped") == 0)
			return code;
		return steps_run_seeds(boot);
	}
	if (!steps_probe(boot, &seeded))
		return BOOT_SEED;
	if (seeded) {
		/* Set up by older tooling: its data is the customer's. */
		if (!state_set(boot, STEPS_KEY_SEED, "seeded"))
			return BOOT_SEED;
		boot->seed = "adopted";
		log_info(
		        "the app's seed probe finds data but there is no seed record; recorded as seeded");
		log_info("seeds already present, skipping");
		return BOOT_OK;
	}
	if (interrupt_pending() != 0)
		return BOOT_INTERRUPTED;
	return steps_run_seeds(boot);
}
