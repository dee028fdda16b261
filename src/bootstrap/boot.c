/*
 * boot: the connections of a run and the way a failed step ends it.
 */
#include "bootstrap/boot.h"

#include "bootstrap/state.h"
#include "lib/log.h"

#include <stdio.h>
#include <string.h>

void boot_target(const struct boot *boot, const char *dbname,
                 struct pg_target *target)
{
	target->host = boot->plan->host;
	target->port = boot->port;
	target->user = boot->plan->user;
	target->password = boot->admin_password.text;
	target->dbname = dbname;
	target->sslmode = boot->plan->sslmode;
	target->application_name = boot->plan->application_name;
}

PGconn *boot_db(struct boot *boot, const char *dbname)
{
	struct pg_target target;
	struct pg_error error = {"", ""};
	enum pg_outcome outcome;
	PGconn *conn;

	/* The maintenance database is the lock's session. */
	if (strcmp(dbname, boot->plan->database) == 0 && boot->lock_conn)
		return boot->lock_conn;
	for (size_t i = 0; i < boot->db_count; i++)
		if (strcmp(boot->dbs[i].name, dbname) == 0)
			return boot->dbs[i].conn;
	if (boot->db_count == BOOT_DB_MAX) {
		log_error("too many databases in one plan (at most %d)",
		          BOOT_DB_MAX);
		return NULL;
	}
	boot_target(boot, dbname, &target);
	conn = pg_connect_once(&target, 30000, &outcome, &error);
	if (conn == NULL) {
		log_error("cannot connect to database %s: %s", dbname,
		          error.message);
		return NULL;
	}
	boot->dbs[boot->db_count].name = dbname;
	boot->dbs[boot->db_count].conn = conn;
	boot->db_count++;
	return conn;
}

void boot_close(struct boot *boot)
{
	for (size_t i = 0; i < boot->db_count; i++)
		PQfinish(boot->dbs[i].conn);
	boot->db_count = 0;
	/* Closing the session releases the advisory lock. */
	if (boot->lock_conn != NULL)
		PQfinish(boot->lock_conn);
	boot->lock_conn = NULL;
}

int boot_fail(struct boot *boot, int code)
{
	const char *outcome =
	        code == BOOT_INTERRUPTED ? "interrupted" : "failed";

	if (boot->message[0] == '\0')
		snprintf(boot->message, sizeof(boot->message), "%s in phase %s",
		         outcome, log_current_phase());
	if (boot->run_id != 0)
		state_end_run(boot, outcome);
	return code;
}
