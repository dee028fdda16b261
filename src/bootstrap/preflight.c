/*
 * preflight: the checks of a plan against the files it names.
 */
#include "bootstrap/preflight.h"

#include "lib/log.h"
#include "lib/secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFLIGHT_KEY_MAX 320

/* True when field was made from a key in secrets_dir. */
static bool preflight_by_key(const struct plan *plan, const char *const *field)
{
	for (size_t i = 0; i < plan->secret_ref_count; i++)
		if (plan->secret_refs[i].path == field)
			return true;
	return false;
}

const char *preflight_admin_key(const struct plan *plan)
{
	const char *env = getenv("ALGA_BOOTSTRAP_PASSWORD_FILE");

	if (env != NULL && env[0] != '\0')
		return "ALGA_BOOTSTRAP_PASSWORD_FILE";
	return preflight_by_key(plan, &plan->password_file)
	               ? "connection.password_secret"
	               : "connection.password_file";
}

/*
 * A regular file is read as the bootstrap will read it, then wiped; a FIFO
 * or the like only has to exist, since it can be read once only.
 */
static bool preflight_secret(const char *key, const char *path)
{
	struct secret secret;
	struct stat st;
	char error[512];

	if (stat(path, &st) != 0) {
		log_error("%s: cannot read password file %s: %s", key, path,
		          strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode))
		return true;
	if (!secret_read(path, &secret, error, sizeof(error))) {
		log_error("%s: %s", key, error);
		return false;
	}
	secret_free(&secret);
	return true;
}

static bool preflight_secrets(const char *step, const char *section,
                              const struct plan_pairs *pairs)
{
	char key[PREFLIGHT_KEY_MAX];
	bool ok = true;

	for (size_t i = 0; i < pairs->count; i++) {
		snprintf(key, sizeof(key), "%s.%s.%s", step, section,
		         pairs->items[i].name);
		ok = preflight_secret(key, pairs->items[i].value) && ok;
	}
	return ok;
}

static bool preflight_directory(const char *key, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		log_error("%s: cannot use directory %s: %s", key, path,
		          strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_error("%s: %s is not a directory", key, path);
		return false;
	}
	return true;
}

static bool preflight_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* The PATH the child will search: its env's, else ours. */
static const char *preflight_path(const struct plan_command *cmd)
{
	const char *path = getenv("PATH");

	for (size_t i = 0; i < cmd->env.count; i++)
		if (strcmp(cmd->env.items[i].name, "PATH") == 0)
			path = cmd->env.items[i].value;
	return path != NULL ? path : "/usr/local/bin:/usr/bin:/bin";
}

/* Finds program in PATH the way execvp will, from the child's workdir. */
static bool preflight_in_path(const struct plan_command *cmd,
                              const char *program)
{
	const char *path = preflight_path(cmd);
	char file[4096];

	while (*path != '\0') {
		size_t len = strcspn(path, ":");
		const char *dir = len == 0 ? "." : path;
		int dir_len = len == 0 ? 1 : (int)len;
		if (dir[0] != '/' && cmd->workdir != NULL)
			snprintf(file, sizeof(file), "%s/%.*s/%s", cmd->workdir,
			         dir_len, dir, program);
		else
			snprintf(file, sizeof(file), "%.*s/%s", dir_len, dir,
			         program);
		if (preflight_executable(file))
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

static bool preflight_program(const char *step, const struct plan_command *cmd)
{
	const char *program = cmd->argv.items[0];

	/* Made only at run time; execvp reports it then. */
	if (strstr(program, "${") != NULL)
		return true;
	if (strchr(program, '/') != NULL) {
		if (preflight_executable(program))
			return true;
		log_error("%s.command[0]: %s is not an executable file", step,
		          program);
		return false;
	}
	if (preflight_in_path(cmd, program))
		return true;
	log_error("%s.command[0]: %s not found in PATH (%s)", step, program,
	          preflight_path(cmd));
	return false;
}

static bool preflight_command(const char *step, const struct plan_command *cmd)
{
	char key[PREFLIGHT_KEY_MAX];
	bool ok = true;

	if (!cmd->present)
		return true;
	snprintf(key, sizeof(key), "%s.workdir", step);
	if (cmd->workdir != NULL)
		ok = preflight_directory(key, cmd->workdir);
	if (ok)
		ok = preflight_program(step, cmd);
	ok = preflight_secrets(step, "env_files", &cmd->env_files) && ok;
	ok = preflight_secrets(step, "env_secrets", &cmd->env_secrets) && ok;
	return ok;
}

bool preflight_check(const struct plan *plan)
{
	char key[PREFLIGHT_KEY_MAX];
	bool ok = true;

	for (size_t i = 0; i < plan->role_count; i++) {
		const struct plan_role *role = &plan->roles[i];
		if (role->password_file == NULL)
			continue;
		snprintf(key, sizeof(key), "roles[%zu].%s", i,
		         preflight_by_key(plan, &role->password_file)
		                 ? "password_secret"
		                 : "password_file");
		ok = preflight_secret(key, role->password_file) && ok;
	}
	ok = preflight_command("migrate", &plan->migrate) && ok;
	if (plan->migrate.present && plan->migrate_directory != NULL)
		ok = preflight_directory("migrate.directory",
		                         plan->migrate_directory) &&
		     ok;
	ok = preflight_command("seed", &plan->seed) && ok;
	return ok;
}
