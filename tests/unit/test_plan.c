/*
 * test_plan: the plan parser, table-driven: good plans give the values
 * they say, bad plans give "FILE:LINE: key: what".
 */
#include "bootstrap/plan.h"

#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bad_case {
	const char *what;
	const char *yaml;
	const char *error; /* expected prefix, after "t.yaml:" */
};

static const struct bad_case bad_cases[] = {
        {"unknown top-level key", "seeds: {}\n", "1: seeds: unknown key"},
        {"port not a number", "connection:\n  port: abc\n",
         "2: connection.port: expected an integer"},
        {"port out of range", "connection:\n  port: 70000\n",
         "2: connection.port: expected an integer"},
        {"unknown sslmode", "connection:\n  sslmode: maybe\n",
         "2: connection.sslmode: unknown sslmode"},
        {"role without a name", "roles:\n  - attributes: [LOGIN]\n",
         "2: roles[0].name: missing"},
        {"name over 63 bytes",
         "roles:\n  - name: "
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
         "2: roles[0].name: name is longer than 63 bytes"},
        {"unknown attribute", "roles:\n  - name: a\n    attributes: [ROOT]\n",
         "3: roles[0].attributes[0]: unknown word"},
        {"unknown privilege",
         "roles:\n  - name: a\n    grants:\n      - {on: database, database: "
         "d, privileges: [OWN]}\n",
         "4: roles[0].grants[0].privileges[0]: unknown word"},
        {"grant on schema needs a schema",
         "roles:\n  - name: a\n    grants:\n      - {on: schema, database: d, "
         "privileges: [USAGE]}\n",
         "4: roles[0].grants[0].schema: missing"},
        {"database owner not a role",
         "databases:\n  - name: d\n    owner: nobody\n",
         "3: databases[0].owner: role \"nobody\" is not in roles"},
        {"migrate without a command", "migrate:\n  directory: m\n",
         "2: migrate.command: a command"},
        {"unknown placeholder in a command",
         "seed:\n  command: [a, '${nope}']\n",
         "2: seed.command[1]: unknown placeholder ${nope} in \"${nope}\""},
        {"unterminated placeholder in env",
         "seed:\n  command: [a]\n  env:\n    X: '${host'\n",
         "4: seed.env.X: unterminated placeholder in \"${host\""},
        {"unknown placeholder in env",
         "migrate:\n  command: [a]\n  directory: m\n  env:\n"
         "    X: 'h=${hots}'\n",
         "5: migrate.env.X: unknown placeholder ${hots}"},
        {"env name with =", "seed:\n  command: [a]\n  env:\n    'A=B': x\n",
         "4: seed.env.A=B: not an environment variable name"},
        {"env_files name with =",
         "seed:\n  command: [a]\n  env_files:\n    'A=B': /x\n",
         "4: seed.env_files.A=B: not an environment variable name"},
        {"roles not a list", "roles: {}\n", "1: roles: expected a list"},
        {"admin password from another file",
         "connection: {password_file: /a}\nroles:\n  - name: postgres\n"
         "    password_file: /b\n",
         "4: roles[0].password_file: the admin user's password must come"},
        {"bool that is not", "seed:\n  command: [x]\n  rerun_partial: maybe\n",
         "3: seed.rerun_partial: expected true or false"},
        {"secret by key without secrets_dir",
         "connection: {password_secret: postgres-password}\n",
         "1: connection.password_secret: names a secret by key, but the plan "
         "sets no secrets_dir"},
        {"secret key with a slash",
         "secrets_dir: /s\nroles:\n  - name: a\n    password_secret: a/b\n",
         "4: roles[0].password_secret: secret key \"a/b\" is not a file name"},
        {"secret key that leaves the directory",
         "secrets_dir: /s\nmigrate:\n  command: [x]\n  directory: m\n"
         "  env_secrets: {PW: ..}\n",
         "5: migrate.env_secrets.PW: secret key \"..\" is not a file name"},
        {"empty secret key",
         "secrets_dir: /s\nseed:\n  command: [x]\n  env_secrets: {PW: ''}\n",
         "4: seed.env_secrets.PW: must not be empty"},
        {"password by file and by key",
         "secrets_dir: /s\nconnection:\n  password_file: /a\n"
         "  password_secret: b\n",
         "4: connection.password_secret: set password_file or "
         "password_secret, not both"},
        {"variable in env_files and env_secrets",
         "secrets_dir: /s\nseed:\n  command: [x]\n  env_files: {PW: /a}\n"
         "  env_secrets: {PW: b}\n",
         "5: seed.env_secrets.PW: also set in env_files"},
        {"env_secrets not a mapping",
         "secrets_dir: /s\nseed:\n  command: [x]\n  env_secrets: [a]\n",
         "4: seed.env_secrets: expected a mapping"},
        {"empty secrets_dir", "secrets_dir: ''\n",
         "1: secrets_dir: must not be empty"},
        {"secrets_dir not a string", "secrets_dir: [a]\n",
         "1: secrets_dir: expected a string"},
        {"admin password from another key",
         "secrets_dir: /s\nconnection: {password_secret: a}\nroles:\n"
         "  - name: postgres\n    password_secret: b\n",
         "5: roles[0].password_secret: the admin user's password must come"},
        {"setting name with a quote",
         "databases:\n  - name: d\n    settings:\n      \"a'b\": x\n",
         "4: databases[0].settings: setting name"},
};

static void test_bad_plans(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		char error[PLAN_ERROR_MAX] = "", want[512];
		struct plan plan;
		bool ok = plan_load_string(&plan, "t.yaml", c->yaml, error,
		                           sizeof(error));
		snprintf(want, sizeof(want), "t.yaml:%s", c->error);
		if (!TAP_OK(!ok && strncmp(error, want, strlen(want)) == 0,
		            "bad plan: %s", c->what))
			printf("#   got:  %s\n#   want: %s...\n", error, want);
		if (ok)
			plan_free(&plan);
	}
}

/* The working directory joined with rel: relative plan paths become that. */
static const char *in_cwd(const char *rel)
{
	static char buffers[4][4200];
	static size_t next;
	char *out = buffers[next++ % 4];
	char cwd[4096];

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		cwd[0] = '\0';
	snprintf(out, sizeof(buffers[0]), "%s/%s", cwd, rel);
	return out;
}

static void test_good_plan(void)
{
	static const char yaml[] =
	        "connection: {host: db, port: 6543, password_file: /s/pw}\n"
	        "roles:\n"
	        "  - name: app\n"
	        "    password_file: app.pw\n"
	        "    attributes: [LOGIN]\n"
	        "    grants:\n"
	        "      - {on: tables, database: d, schema: public,"
	        " privileges: [SELECT, INSERT]}\n"
	        "databases:\n"
	        "  - {name: d, owner: app, settings: {app.environment: x}}\n"
	        "extensions: [{name: vector, database: d, required: false}]\n"
	        "migrate:\n"
	        "  command: [./m.sh, --all]\n"
	        "  directory: migrations\n"
	        "  revision: r1\n"
	        "  env: {A: '${host}:${port}', GONE: null}\n"
	        "seed:\n"
	        "  command: [seed]\n"
	        "  probe: {database: d, sql: select true}\n";
	char error[PLAN_ERROR_MAX] = "";
	struct plan plan;

	if (!TAP_OK(plan_load_string(&plan, "dir/t.yaml", yaml, error,
	                             sizeof(error)),
	            "good plan loads")) {
		printf("#   %s\n", error);
		return;
	}
	TAP_IS_STR(plan.host, "db", "host");
	TAP_OK(plan.port == 6543, "port");
	TAP_IS_STR(plan.user, "postgres", "user defaults to postgres");
	TAP_IS_STR(plan.sslmode, "prefer", "sslmode defaults to prefer");
	TAP_IS_STR(plan.password_file, "/s/pw", "absolute path kept");
	TAP_IS_STR(plan.roles[0].password_file, in_cwd("dir/app.pw"),
	           "relative path resolved against the plan's directory");
	TAP_OK(plan.roles[0].grants[0].privileges.count == 2, "privileges");
	TAP_IS_STR(plan.databases[0].settings.items[0].name, "app.environment",
	           "setting name");
	TAP_OK(!plan.extensions[0].required, "optional extension");
	TAP_IS_STR(plan.migrate.argv.items[0], in_cwd("dir/./m.sh"),
	           "relative command made absolute next to the plan");
	TAP_IS_STR(plan.migrate_directory, in_cwd("dir/migrations"),
	           "migration directory resolved");
	TAP_OK(plan.migrate.env.count == 1, "a null env entry is dropped");
	TAP_IS_STR(plan.revision, "r1", "revision");
	TAP_OK(plan.migrate.timeout_ms == 3600 * 1000, "default timeout");
	TAP_IS_STR(plan.state_schema, "alga_bootstrap", "state schema");
	TAP_OK(plan.seed.present && !plan.seed_rerun_partial, "seed");
	plan_free(&plan);
}

static void unset_overrides(void)
{
	static const char *const vars[] = {
	        "ALGA_BOOTSTRAP_HOST",    "ALGA_BOOTSTRAP_PORT",
	        "ALGA_BOOTSTRAP_USER",    "ALGA_BOOTSTRAP_PASSWORD_FILE",
	        "ALGA_BOOTSTRAP_SSLMODE", "ALGA_BOOTSTRAP_SECRETS_DIR",
	};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static void test_secrets_by_key(void)
{
	static const char yaml[] =
	        "secrets_dir: ../secrets/\n"
	        "connection: {password_secret: postgres-password}\n"
	        "roles:\n"
	        "  - {name: app, password_secret: app-password}\n"
	        "  - {name: plain, password_file: /f/plain}\n"
	        "migrate:\n"
	        "  command: [m]\n"
	        "  directory: m\n"
	        "  env_files: {A: /f/a}\n"
	        "  env_secrets: {B: app-password, GONE: null}\n";
	char error[PLAN_ERROR_MAX] = "";
	struct plan plan;

	unset_overrides();
	if (!TAP_OK(plan_load_string(&plan, "dir/t.yaml", yaml, error,
	                             sizeof(error)),
	            "plan with secrets by key loads")) {
		printf("#   %s\n", error);
		return;
	}
	TAP_IS_STR(plan.secrets_dir, in_cwd("dir/../secrets/"),
	           "relative secrets_dir resolved against the plan");
	TAP_IS_STR(plan.password_file,
	           in_cwd("dir/../secrets/postgres-password"),
	           "connection.password_secret is a file in secrets_dir");
	TAP_IS_STR(plan.roles[0].password_file,
	           in_cwd("dir/../secrets/app-password"),
	           "roles[].password_secret is a file in secrets_dir");
	TAP_OK(plan.migrate.env_secrets.count == 1,
	       "a null env_secrets entry is dropped");
	TAP_IS_STR(plan.migrate.env_secrets.items[0].value,
	           in_cwd("dir/../secrets/app-password"),
	           "env_secrets value is a file in secrets_dir");
	setenv("ALGA_BOOTSTRAP_SECRETS_DIR", "/mnt/db/", 1);
	TAP_OK(plan_apply_env(&plan, error, sizeof(error)),
	       "ALGA_BOOTSTRAP_SECRETS_DIR applies");
	TAP_IS_STR(plan.password_file, "/mnt/db/postgres-password",
	           "the override moves the connection's secret");
	TAP_IS_STR(plan.roles[0].password_file, "/mnt/db/app-password",
	           "the override moves a role's secret");
	TAP_IS_STR(plan.roles[1].password_file, "/f/plain",
	           "the override leaves password_file alone");
	TAP_IS_STR(plan.migrate.env_secrets.items[0].value,
	           "/mnt/db/app-password", "the override moves env_secrets");
	TAP_IS_STR(plan.migrate.env_files.items[0].value, "/f/a",
	           "the override leaves env_files alone");
	setenv("ALGA_BOOTSTRAP_PASSWORD_FILE", "/p/admin", 1);
	TAP_OK(plan_apply_env(&plan, error, sizeof(error)) &&
	               strcmp(plan.password_file, "/p/admin") == 0,
	       "ALGA_BOOTSTRAP_PASSWORD_FILE wins over password_secret");
	unset_overrides();
	plan_free(&plan);
}

/* Writes text to dir/name; its path goes to out. */
static bool write_file(const char *dir, const char *name, const char *text,
                       char *out, size_t size)
{
	FILE *f;

	snprintf(out, size, "%s/%s", dir, name);
	f = fopen(out, "w");
	if (f == NULL)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

/* An overlay moves an inherited password_file to a key with null. */
static void test_overlay_switches_to_key(void)
{
	char dir[] = "/tmp/test_plan.XXXXXX";
	char base[512], overlay[512], error[PLAN_ERROR_MAX] = "";
	const char *files[2] = {base, overlay};
	struct plan plan;

	unset_overrides();
	if (mkdtemp(dir) == NULL ||
	    !write_file(dir, "base.yaml",
	                "connection: {password_file: /run/pw}\n"
	                "roles:\n  - {name: app, password_file: /run/app}\n",
	                base, sizeof(base)) ||
	    !write_file(dir, "overlay.yaml",
	                "secrets_dir: secrets\n"
	                "connection:\n"
	                "  password_file: null\n"
	                "  password_secret: pw\n",
	                overlay, sizeof(overlay))) {
		TAP_OK(false, "overlay files written");
		return;
	}
	if (TAP_OK(plan_load(&plan, files, 2, error, sizeof(error)),
	           "overlay with secrets_dir loads")) {
		char want[600];
		snprintf(want, sizeof(want), "%s/secrets/pw", dir);
		TAP_IS_STR(plan.password_file, want,
		           "secrets_dir relative to the overlay that sets it");
		TAP_IS_STR(plan.roles[0].password_file, "/run/app",
		           "the base's password_file stays");
		plan_free(&plan);
	} else {
		printf("#   %s\n", error);
	}
	remove(base);
	remove(overlay);
	rmdir(dir);
}

int main(void)
{
	test_bad_plans();
	test_good_plan();
	test_secrets_by_key();
	test_overlay_switches_to_key();
	return tap_done();
}
