/*
 * test_plan: the plan parser, table-driven: good plans give the values
 * they say, bad plans give "FILE:LINE: key: what".
 */
#include "bootstrap/plan.h"

#include "tap.h"

#include <string.h>

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
        {"roles not a list", "roles: {}\n", "1: roles: expected a list"},
        {"admin password from another file",
         "connection: {password_file: /a}\nroles:\n  - name: postgres\n"
         "    password_file: /b\n",
         "4: roles[0].password_file: the admin user's password must come"},
        {"bool that is not", "seed:\n  command: [x]\n  rerun_partial: maybe\n",
         "3: seed.rerun_partial: expected true or false"},
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
	TAP_IS_STR(plan.roles[0].password_file, "dir/app.pw",
	           "relative path resolved against the plan's directory");
	TAP_OK(plan.roles[0].grants[0].privileges.count == 2, "privileges");
	TAP_IS_STR(plan.databases[0].settings.items[0].name, "app.environment",
	           "setting name");
	TAP_OK(!plan.extensions[0].required, "optional extension");
	TAP_IS_STR(plan.migrate.argv.items[0], "dir/./m.sh",
	           "relative command resolved");
	TAP_IS_STR(plan.migrate_directory, "dir/migrations",
	           "migration directory resolved");
	TAP_OK(plan.migrate.env.count == 1, "a null env entry is dropped");
	TAP_IS_STR(plan.revision, "r1", "revision");
	TAP_OK(plan.migrate.timeout_ms == 3600 * 1000, "default timeout");
	TAP_IS_STR(plan.state_schema, "alga_bootstrap", "state schema");
	TAP_OK(plan.seed.present && !plan.seed_rerun_partial, "seed");
	plan_free(&plan);
}

int main(void)
{
	test_bad_plans();
	test_good_plan();
	return tap_done();
}
