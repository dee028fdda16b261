/*
 * alga-bootstrap: the idempotent database bootstrap of the Alga PSA
 * appliance. `run` waits for PostgreSQL, takes the bootstrap lock,
 * provisions, migrates and seeds once; `wait` blocks until a run is done;
 * `status` shows what was recorded.
 */
#include "bootstrap/boot.h"
#include "bootstrap/lock.h"
#include "bootstrap/preflight.h"
#include "bootstrap/provision.h"
#include "bootstrap/state.h"
#include "bootstrap/steps.h"
#include "lib/interrupt.h"
#include "lib/log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ALGA_VERSION
#define ALGA_VERSION "0.1.0"
#endif

#define MAIN_PLAN_MAX 16
#define MAIN_WAIT_POLL_MAX_MS 5000

static const char usage_text[] =
        "usage: alga-bootstrap run [options]\n"
        "       alga-bootstrap wait [options]\n"
        "       alga-bootstrap status [--json] [options]\n"
        "       alga-bootstrap --help | --version\n"
        "\n"
        "run     wait for PostgreSQL, take the bootstrap lock, provision roles,\n"
        "        databases, extensions, schemas and grants, run the migration\n"
        "        command unless its fingerprint is unchanged, run the seed\n"
        "        command once, record the run\n"
        "wait    block until a completed run (for --revision, if given) is\n"
        "        recorded; for init containers, as a least-privileged role\n"
        "status  print the recorded runs, the migration fingerprint and the\n"
        "        seed record\n"
        "\n"
        "options:\n"
        "  --plan FILE          plan file; repeat to overlay (later wins);\n"
        "                       default: $ALGA_BOOTSTRAP_PLAN (colon-separated)\n"
        "  --revision REV       app revision (default $ALGA_BOOTSTRAP_REVISION,\n"
        "                       then migrate.revision of the plan)\n"
        "  --deadline SECONDS   run: how long to wait for PostgreSQL;\n"
        "                       wait: how long to wait for a completed run\n"
        "  --lock-deadline SECONDS  run: how long to wait for the lock\n"
        "  --force-migrate      run the migration command even if unchanged\n"
        "  --reseed-partial     seed again after a partial seed (destroys data)\n"
        "  --mark-seeded        record a partial seed as complete, do not seed\n"
        "  --log-format FORMAT  text (default) or json\n"
        "  --json               status: print JSON\n"
        "\n"
        "environment: ALGA_BOOTSTRAP_HOST, _PORT, _USER, _PASSWORD_FILE,\n"
        "_SSLMODE override the plan's connection; ALGA_BOOTSTRAP_SECRETS_DIR\n"
        "the plan's secrets_dir; ALGA_BOOTSTRAP_DATABASE the database that\n"
        "wait and status read.\n"
        "\n"
        "exit codes:\n"
        "  0    done\n"
        "  2    usage, plan or configuration error (also: a transaction pooler)\n"
        "  3    PostgreSQL not reachable before the deadline\n"
        "  4    credentials rejected (or the database does not exist)\n"
        "  5    bootstrap lock not acquired before the deadline\n"
        "  6    migration command failed\n"
        "  7    seed command failed\n"
        "  8    partial seed found\n"
        "  9    provisioning failed\n"
        "  10   wait: deadline passed\n"
        "  130  interrupted (SIGTERM or SIGINT)\n";

struct options {
	const char *command;
	const char *plans[MAIN_PLAN_MAX];
	size_t plan_count;
	const char *revision;
	long long deadline_ms; /* -1: from the plan */
	long long lock_deadline_ms;
	bool force_migrate;
	bool reseed_partial;
	bool mark_seeded;
	bool json;
	enum log_format log_format;
	char *plan_env; /* the copy ALGA_BOOTSTRAP_PLAN was split in */
};

/* ---- arguments ---- */

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "alga-bootstrap: %s%s\ntry 'alga-bootstrap --help'\n",
	        what, arg);
	return BOOT_USAGE;
}

static bool parse_seconds(const char *text, long long *ms)
{
	char *end;
	long long value = strtoll(text, &end, 10);

	if (*end != '\0' || end == text || value < 0 || value > 7 * 86400)
		return false;
	*ms = value * 1000;
	return true;
}

/* Returns -1 to go on, or an exit code. */
static int parse_option(struct options *opt, int c, const char *arg)
{
	switch (c) {
	case 'p':
		if (opt->plan_count == MAIN_PLAN_MAX)
			return usage_error("too many --plan files", "");
		opt->plans[opt->plan_count++] = arg;
		return -1;
	case 'r':
		opt->revision = arg;
		return -1;
	case 'd':
		return parse_seconds(arg, &opt->deadline_ms)
		               ? -1
		               : usage_error("--deadline: not seconds: ", arg);
	case 'l':
		return parse_seconds(arg, &opt->lock_deadline_ms)
		               ? -1
		               : usage_error("--lock-deadline: not seconds: ",
		                             arg);
	case 'f':
		opt->force_migrate = true;
		return -1;
	case 'R':
		opt->reseed_partial = true;
		return -1;
	case 'M':
		opt->mark_seeded = true;
		return -1;
	case 'j':
		opt->json = true;
		return -1;
	case 'L':
		return log_format_parse(arg, &opt->log_format)
		               ? -1
		               : usage_error(
		                         "--log-format: expected text or json, found ",
		                         arg);
	default:
		return BOOT_USAGE;
	}
}

static int parse_args(struct options *opt, int argc, char **argv)
{
	static const struct option longopts[] = {
	        {"plan", required_argument, NULL, 'p'},
	        {"revision", required_argument, NULL, 'r'},
	        {"deadline", required_argument, NULL, 'd'},
	        {"lock-deadline", required_argument, NULL, 'l'},
	        {"force-migrate", no_argument, NULL, 'f'},
	        {"reseed-partial", no_argument, NULL, 'R'},
	        {"mark-seeded", no_argument, NULL, 'M'},
	        {"json", no_argument, NULL, 'j'},
	        {"log-format", required_argument, NULL, 'L'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {NULL, 0, NULL, 0},
	};
	int c, code;

	opt->deadline_ms = -1;
	opt->lock_deadline_ms = -1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return BOOT_OK;
		}
		if (c == 'V') {
			printf("alga-bootstrap %s\n", ALGA_VERSION);
			return BOOT_OK;
		}
		if (c == '?')
			return usage_error("unknown option", "");
		if ((code = parse_option(opt, c, optarg)) >= 0)
			return code;
	}
	if (opt->reseed_partial && opt->mark_seeded)
		return usage_error(
		        "--reseed-partial and --mark-seeded exclude "
		        "each other: seed again, or record as seeded",
		        "");
	if (optind != argc - 1)
		return usage_error(
		        optind == argc
		                ? "a command is needed: run, wait or status"
		                : "one command only",
		        "");
	opt->command = argv[optind];
	if (strcmp(opt->command, "run") != 0 &&
	    strcmp(opt->command, "wait") != 0 &&
	    strcmp(opt->command, "status") != 0)
		return usage_error("unknown command ", opt->command);
	return -1;
}

/* The plan files: --plan, else $ALGA_BOOTSTRAP_PLAN split on colons. */
static void plan_files_from_env(struct options *opt)
{
	const char *env = getenv("ALGA_BOOTSTRAP_PLAN");
	char *save = NULL;

	if (opt->plan_count > 0 || env == NULL || env[0] == '\0')
		return;
	opt->plan_env = strdup(env);
	for (char *f = strtok_r(opt->plan_env, ":", &save);
	     f != NULL && opt->plan_count < MAIN_PLAN_MAX;
	     f = strtok_r(NULL, ":", &save))
		opt->plans[opt->plan_count++] = f;
}

static void verbatim_command(const struct plan_command *cmd)
{
	log_verbatim(cmd->workdir);
	if (cmd->argv.count > 0 && strchr(cmd->argv.items[0], '/') != NULL)
		log_verbatim(cmd->argv.items[0]);
	for (size_t i = 0; i < cmd->env_files.count; i++)
		log_verbatim(cmd->env_files.items[i].value);
	for (size_t i = 0; i < cmd->env_secrets.count; i++)
		log_verbatim(cmd->env_secrets.items[i].value);
}

/* The paths we print ourselves are never cut up by redaction. */
static void verbatim_paths(const struct options *opt, const struct plan *plan)
{
	for (size_t i = 0; i < opt->plan_count; i++)
		log_verbatim(opt->plans[i]);
	log_verbatim(plan->password_file);
	log_verbatim(plan->secrets_dir);
	log_verbatim(plan->migrate_directory);
	for (size_t i = 0; i < plan->role_count; i++)
		log_verbatim(plan->roles[i].password_file);
	verbatim_command(&plan->migrate);
	verbatim_command(&plan->seed);
}

static int load_plan(struct options *opt, struct plan *plan, bool required)
{
	char error[PLAN_ERROR_MAX];
	bool ok;

	plan_files_from_env(opt);
	if (opt->plan_count == 0 && required)
		return usage_error(
		        "no plan: give --plan FILE or set ALGA_BOOTSTRAP_PLAN",
		        "");
	if (opt->plan_count == 0)
		ok = plan_load_string(plan, "(defaults)", "{}", error,
		                      sizeof(error));
	else
		ok = plan_load(plan, opt->plans, opt->plan_count, error,
		               sizeof(error));
	if (ok)
		ok = plan_apply_env(plan, error, sizeof(error));
	if (!ok) {
		fprintf(stderr, "alga-bootstrap: plan error: %s\n", error);
		return BOOT_USAGE;
	}
	verbatim_paths(opt, plan);
	return -1;
}

/* ---- shared by the commands ---- */

static int read_admin_password(struct boot *boot)
{
	char error[512];

	if (boot->plan->password_file == NULL) {
		log_error(
		        "no password file: set connection.password_file or connection.password_secret in the plan, or ALGA_BOOTSTRAP_PASSWORD_FILE");
		return BOOT_USAGE;
	}
	if (!secret_read(boot->plan->password_file, &boot->admin_password,
	                 error, sizeof(error))) {
		if (interrupt_pending() != 0)
			return BOOT_INTERRUPTED;
		log_error("%s: %s", preflight_admin_key(boot->plan), error);
		return BOOT_USAGE;
	}
	log_redact(boot->admin_password.text);
	return -1;
}

static const char *pick_revision(const struct options *opt,
                                 const struct plan *plan)
{
	const char *env = getenv("ALGA_BOOTSTRAP_REVISION");

	if (opt->revision != NULL)
		return opt->revision;
	if (env != NULL && env[0] != '\0')
		return env;
	return plan->revision != NULL ? plan->revision : "";
}

/* Logs a failed connection the way an operator can act on. */
static int connect_failure(const struct boot *boot, const char *dbname,
                           enum pg_outcome outcome,
                           const struct pg_error *error, long long deadline_ms)
{
	const struct plan *plan = boot->plan;

	switch (outcome) {
	case PG_REJECTED:
		log_error("cannot connect to postgres at %s:%s as %s: %s",
		          plan->host, boot->port, plan->user, error->message);
		log_hint(
		        "the password comes from %s; a PostgreSQL volume that is reused keeps the password it was created with: restore the Secret it was created with, or set that password in the database to the file's",
		        plan->password_file);
		return BOOT_REJECTED;
	case PG_NO_DATABASE:
		log_error(
		        "cannot connect to postgres at %s:%s: database %s does not exist: %s",
		        plan->host, boot->port, dbname, error->message);
		return BOOT_REJECTED;
	case PG_INTERRUPTED:
		log_error("interrupted while connecting");
		return BOOT_INTERRUPTED;
	case PG_DEADLINE:
		log_error("postgres at %s:%s not reachable within %lld s: %s",
		          plan->host, boot->port, deadline_ms / 1000,
		          error->message);
		log_hint(
		        "check that the PostgreSQL pod runs and its Service resolves");
		return BOOT_UNREACHABLE;
	default:
		log_error("cannot connect to postgres at %s:%s: %s", plan->host,
		          boot->port, error->message);
		return BOOT_UNREACHABLE;
	}
}

/* ---- run ---- */

static int run_wait(struct boot *boot, long long deadline_ms)
{
	struct pg_target target;
	struct pg_error error = {"", ""};
	enum pg_outcome outcome;

	log_phase("wait");
	log_info("waiting for postgres at %s:%s (deadline %lld s)",
	         boot->plan->host, boot->port, deadline_ms / 1000);
	boot_target(boot, boot->plan->database, &target);
	boot->lock_conn = pg_connect_wait(&target, log_clock_ms() + deadline_ms,
	                                  &outcome, &error);
	if (boot->lock_conn == NULL)
		return connect_failure(boot, boot->plan->database, outcome,
		                       &error, deadline_ms);
	log_info("connected to postgres %s at %s:%s as %s",
	         PQparameterStatus(boot->lock_conn, "server_version"),
	         boot->plan->host, boot->port, boot->plan->user);
	return BOOT_OK;
}

/* Refuses a transaction pooler; a session pooler only gets a warning. */
static int run_check_session(struct boot *boot)
{
	struct pg_target target;
	struct pg_error error = {"", ""};
	enum pg_outcome outcome;
	PGconn *other = NULL;
	bool pooled = false, ok;

	ok = lock_check_session(boot->lock_conn, NULL, &pooled, &error);
	if (ok || !pooled) {
		if (!ok)
			log_error("cannot check the session: %s",
			          error.message);
		return ok ? BOOT_OK : BOOT_PROVISION;
	}
	boot_target(boot, boot->plan->database, &target);
	other = pg_connect_once(&target, 10000, &outcome, &error);
	ok = other != NULL &&
	     lock_check_session(boot->lock_conn, other, &pooled, &error);
	PQfinish(other);
	if (ok) {
		log_warn(
		        "the connection goes through a session pooler; connect to PostgreSQL directly");
		return BOOT_OK;
	}
	log_error(
	        "refusing to run: the connection to %s:%s goes through a transaction pooler (the backend changes between transactions), where the session advisory lock and DDL are not safe%s%s",
	        boot->plan->host, boot->port,
	        error.message[0] != '\0' ? ": " : "", error.message);
	log_hint(
	        "point the bootstrap at the PostgreSQL Service itself, not at PgBouncer");
	return BOOT_USAGE;
}

static int run_lock(struct boot *boot, long long deadline_ms)
{
	struct pg_error error = {"", ""};
	int code;

	log_phase("lock");
	if ((code = run_check_session(boot)) != BOOT_OK)
		return code;
	switch (lock_acquire(boot->lock_conn, boot->plan->lock_key,
	                     log_clock_ms() + deadline_ms, &error)) {
	case LOCK_HELD:
		log_info("bootstrap lock acquired");
		return BOOT_OK;
	case LOCK_DEADLINE:
		log_error("bootstrap lock not acquired within %lld s",
		          deadline_ms / 1000);
		log_hint(
		        "another bootstrap holds it (see the lines above); if it hangs, delete its pod");
		return BOOT_LOCK;
	case LOCK_INTERRUPTED:
		return BOOT_INTERRUPTED;
	default:
		log_error("cannot take the bootstrap lock: %s", error.message);
		return BOOT_LOCK;
	}
}

static int run_provision(struct boot *boot)
{
	log_phase("provision");
	if (!provision_run(boot) || !state_prepare(boot) ||
	    !state_begin_run(boot))
		return interrupt_pending() != 0 ? BOOT_INTERRUPTED
		                                : BOOT_PROVISION;
	log_info("roles, databases, extensions, schemas and grants in place");
	return BOOT_OK;
}

/* The steps after the wait, in order, each ending the run on failure. */
static int run_steps(struct boot *boot, const struct options *opt)
{
	long long lock_ms = opt->lock_deadline_ms >= 0
	                            ? opt->lock_deadline_ms
	                            : boot->plan->lock_deadline_ms;
	int code;

	if ((code = run_lock(boot, lock_ms)) != BOOT_OK ||
	    (code = run_provision(boot)) != BOOT_OK)
		return boot_fail(boot, code);
	if (interrupt_pending() != 0)
		return boot_fail(boot, BOOT_INTERRUPTED);
	if ((code = steps_migrate(boot)) != BOOT_OK)
		return boot_fail(boot, code);
	if (interrupt_pending() != 0)
		return boot_fail(boot, BOOT_INTERRUPTED);
	if ((code = steps_seed(boot)) != BOOT_OK)
		return boot_fail(boot, code);
	if (!state_end_run(boot, "done"))
		return BOOT_PROVISION;
	log_phase_from_start("done");
	log_info("bootstrap complete for revision %s: migration %s, seed %s",
	         boot->revision[0] != '\0' ? boot->revision : "(none)",
	         boot->migration, boot->seed);
	return BOOT_OK;
}

static int cmd_run(struct options *opt, struct plan *plan)
{
	struct boot boot;
	int code;

	memset(&boot, 0, sizeof(boot));
	boot.plan = plan;
	boot.revision = pick_revision(opt, plan);
	boot.force_migrate = opt->force_migrate;
	boot.reseed_partial = opt->reseed_partial;
	boot.mark_seeded = opt->mark_seeded;
	boot.migration = "none";
	boot.seed = "none";
	snprintf(boot.port, sizeof(boot.port), "%ld", plan->port);
	if ((code = read_admin_password(&boot)) < 0 && !preflight_check(plan))
		code = BOOT_USAGE;
	if (code < 0) {
		code = run_wait(&boot, opt->deadline_ms >= 0
		                               ? opt->deadline_ms
		                               : plan->connect_deadline_ms);
		if (code == BOOT_OK)
			code = run_steps(&boot, opt);
	}
	if (code == BOOT_INTERRUPTED)
		log_error(
		        "interrupted by signal %d; the lock is released and the run recorded as interrupted",
		        interrupt_pending());
	else if (code != BOOT_OK)
		log_error("bootstrap failed (exit %d)", code);
	boot_close(&boot);
	secret_free(&boot.admin_password);
	return code;
}

/* ---- wait ---- */

/*
 * When the last run stopped at a partial seed, says so in reason: no later
 * run completes until an operator decides, so waiting alone will not help.
 */
static void wait_partial(PGconn *conn, const struct plan *plan, char *reason,
                         size_t size)
{
	char sql[512], value[32];
	char *schema = pg_ident(conn, plan->state_schema);
	struct pg_error error = {"", ""};
	bool found = false;

	if (schema == NULL)
		return;
	snprintf(
	        sql, sizeof(sql),
	        "select id from %s.runs where id = (select max(id) from %s.runs)"
	        " and seed = 'partial' and outcome <> 'done'",
	        schema, schema);
	PQfreemem(schema);
	if (pg_value(conn, sql, 0, NULL, value, sizeof(value), &found,
	             &error) &&
	    found)
		snprintf(
		        reason, size,
		        "the last run (%s) ended with a partial seed; an operator must check the data and run the bootstrap with --mark-seeded or --reseed-partial",
		        value);
}

/* One look at the state; returns true when a completed run is there. */
static bool wait_look(PGconn *conn, const struct plan *plan,
                      const char *revision, char *reason, size_t size)
{
	char sql[512], value[128];
	char *schema = pg_ident(conn, plan->state_schema);
	const char *params[] = {revision};
	struct pg_error error = {"", ""};
	bool found = false;

	if (schema == NULL)
		return false;
	snprintf(sql, sizeof(sql),
	         "select id || ' finished at ' || finished_at from %s.runs"
	         " where outcome = 'done' and ($1 = '' or revision = $1)"
	         " order by id desc limit 1",
	         schema);
	PQfreemem(schema);
	if (!pg_value(conn, sql, 1, params, value, sizeof(value), &found,
	              &error)) {
		snprintf(reason, size, "%s",
		         strcmp(error.sqlstate, "42P01") == 0 ||
		                         strcmp(error.sqlstate, "3F000") == 0
		                 ? "no bootstrap has recorded anything yet"
		                 : error.message);
		return false;
	}
	if (found) {
		snprintf(reason, size, "run %s", value);
		return true;
	}
	if (revision[0] != '\0')
		snprintf(reason, size,
		         "no completed bootstrap for revision %s yet",
		         revision);
	else
		snprintf(reason, size, "no completed bootstrap yet");
	wait_partial(conn, plan, reason, size);
	return false;
}

static int cmd_wait(struct options *opt, struct plan *plan)
{
	const char *db = getenv("ALGA_BOOTSTRAP_DATABASE");
	long long deadline_ms = opt->deadline_ms >= 0 ? opt->deadline_ms
	                                              : plan->wait_deadline_ms;
	long long until = log_clock_ms() + deadline_ms;
	struct boot boot;
	struct pg_target target;
	struct pg_error error = {"", ""};
	enum pg_outcome outcome;
	char reason[PG_MESSAGE_MAX] = "";
	PGconn *conn = NULL;
	int code;

	memset(&boot, 0, sizeof(boot));
	boot.plan = plan;
	boot.revision = pick_revision(opt, plan);
	snprintf(boot.port, sizeof(boot.port), "%ld", plan->port);
	log_phase("wait");
	if ((code = read_admin_password(&boot)) >= 0)
		return code;
	boot_target(&boot,
	            db != NULL && db[0] != '\0' ? db : plan->state_database,
	            &target);
	log_info(
	        "waiting for a completed bootstrap%s%s in database %s at %s:%s as %s (deadline %lld s)",
	        boot.revision[0] ? " for revision " : "", boot.revision,
	        target.dbname, target.host, target.port, target.user,
	        deadline_ms / 1000);
	code = BOOT_WAIT;
	for (unsigned attempt = 0; interrupt_pending() == 0; attempt++) {
		long long left = until - log_clock_ms(), delay;
		if (conn == NULL) {
			conn = pg_connect_once(
			        &target,
			        left < 10000 ? (left > 0 ? left : 1) : 10000,
			        &outcome, &error);
			if (conn == NULL)
				snprintf(reason, sizeof(reason), "%s",
				         error.message);
		}
		if (conn != NULL && wait_look(conn, plan, boot.revision, reason,
		                              sizeof(reason))) {
			log_info("bootstrap complete: %s", reason);
			code = BOOT_OK;
			break;
		}
		if (conn != NULL && PQstatus(conn) != CONNECTION_OK) {
			PQfinish(conn);
			conn = NULL;
		}
		left = until - log_clock_ms();
		if (left <= 0) {
			log_error("no completed bootstrap within %lld s: %s",
			          deadline_ms / 1000, reason);
			log_hint("look at the log of the bootstrap Job");
			break;
		}
		delay = 250LL << (attempt < 5 ? attempt : 5);
		if (delay > MAIN_WAIT_POLL_MAX_MS)
			delay = MAIN_WAIT_POLL_MAX_MS;
		if (delay > left)
			delay = left;
		log_info("waiting: %s; next look in %lld ms", reason, delay);
		interrupt_sleep_ms(delay);
	}
	if (interrupt_pending() != 0)
		code = BOOT_INTERRUPTED;
	PQfinish(conn);
	secret_free(&boot.admin_password);
	return code;
}

/* ---- status ---- */

static const char status_json_sql[] =
        "select json_build_object("
        "'migration_fingerprint', (select value from {schema}.state"
        " where key = 'migration_fingerprint'),"
        "'seed', (select json_build_object('status', value, 'revision',"
        " revision, 'updated_at', updated_at) from {schema}.state"
        " where key = 'seed'),"
        "'runs', coalesce((select json_agg(r order by r.id desc) from"
        " (select * from {schema}.runs order by id desc limit 20) r), '[]'))";

static const char status_text_sql[] =
        "select id, revision, coalesce(left(fingerprint, 12), '-'), migration,"
        " seed, outcome, to_char(started_at at time zone 'UTC',"
        " 'YYYY-MM-DD HH24:MI:SS'), coalesce(duration_ms::text, '-'),"
        " coalesce(message, '') from {schema}.runs order by id desc limit 20";

static void status_print_text(PGresult *res)
{
	printf("%-5s %-12s %-12s %-9s %-8s %-11s %-19s %8s  %s\n", "run",
	       "revision", "fingerprint", "migration", "seed", "outcome",
	       "started (UTC)", "ms", "message");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-5s %-12s %-12s %-9s %-8s %-11s %-19s %8s  %s\n",
		       PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		       PQgetvalue(res, i, 4), PQgetvalue(res, i, 5),
		       PQgetvalue(res, i, 6), PQgetvalue(res, i, 7),
		       PQgetvalue(res, i, 8));
}

static bool status_query(PGconn *conn, const struct plan *plan,
                         const char *tmpl, PGresult **res,
                         struct pg_error *error)
{
	char sql[2048];

	if (!pg_with_ident(conn, tmpl, plan->state_schema, sql, sizeof(sql)))
		return false;
	return pg_exec(conn, sql, 0, NULL, res, error);
}

static int cmd_status(struct options *opt, struct plan *plan)
{
	const char *db = getenv("ALGA_BOOTSTRAP_DATABASE");
	struct boot boot;
	struct pg_target target;
	struct pg_error error = {"", ""};
	enum pg_outcome outcome;
	PGresult *res = NULL;
	PGconn *conn;
	int code;

	memset(&boot, 0, sizeof(boot));
	boot.plan = plan;
	snprintf(boot.port, sizeof(boot.port), "%ld", plan->port);
	log_phase("status");
	if ((code = read_admin_password(&boot)) >= 0)
		return code;
	boot_target(&boot,
	            db != NULL && db[0] != '\0' ? db : plan->state_database,
	            &target);
	conn = pg_connect_once(&target, 10000, &outcome, &error);
	secret_free(&boot.admin_password);
	if (conn == NULL)
		return connect_failure(&boot, target.dbname, outcome, &error,
		                       10000);
	if (!status_query(conn, plan,
	                  opt->json ? status_json_sql : status_text_sql, &res,
	                  &error)) {
		if (strcmp(error.sqlstate, "42P01") == 0 ||
		    strcmp(error.sqlstate, "3F000") == 0) {
			printf(opt->json ? "{\"runs\":[]}\n"
			                 : "no bootstrap has run yet\n");
			code = BOOT_OK;
		} else {
			log_error("cannot read the state: %s", error.message);
			code = BOOT_PROVISION;
		}
	} else {
		if (opt->json)
			printf("%s\n", PQgetvalue(res, 0, 0));
		else
			status_print_text(res);
		code = BOOT_OK;
	}
	PQclear(res);
	PQfinish(conn);
	return code;
}

int main(int argc, char **argv)
{
	struct options opt;
	struct plan plan;
	int code;

	memset(&opt, 0, sizeof(opt));
	memset(&plan, 0, sizeof(plan));
	if ((code = parse_args(&opt, argc, argv)) >= 0)
		return code;
	log_init("alga-bootstrap", opt.log_format, stderr);
	interrupt_install();
	code = load_plan(&opt, &plan, strcmp(opt.command, "run") == 0);
	if (code < 0) {
		if (strcmp(opt.command, "run") == 0)
			code = cmd_run(&opt, &plan);
		else if (strcmp(opt.command, "wait") == 0)
			code = cmd_wait(&opt, &plan);
		else
			code = cmd_status(&opt, &plan);
	}
	plan_free(&plan);
	free(opt.plan_env);
	log_redact_clear();
	return code;
}
