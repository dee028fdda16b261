/*
 * state: the run table and the key-value table of alga_bootstrap.
 */
#include "bootstrap/state.h"

#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATE_SQL_MAX 2048

static const char state_tables[] =
        "create table if not exists {schema}.runs ("
        " id bigserial primary key,"
        " revision text not null,"
        " fingerprint text,"
        " migration text not null default 'pending',"
        " seed text not null default 'pending',"
        " outcome text not null default 'running',"
        " message text,"
        " host text,"
        " pid integer,"
        " started_at timestamptz not null default now(),"
        " finished_at timestamptz,"
        " duration_ms bigint);"
        "create table if not exists {schema}.state ("
        " key text primary key,"
        " value text not null,"
        " revision text,"
        " updated_at timestamptz not null default now())";

/* Runs sql with the quoted schema name for {schema}. */
static bool state_schema_sql(struct boot *boot, PGconn *conn, const char *tmpl,
                             struct pg_error *error)
{
	char sql[STATE_SQL_MAX];

	if (!pg_with_ident(conn, tmpl, boot->plan->state_schema, sql,
	                   sizeof(sql))) {
		snprintf(error->message, sizeof(error->message),
		         "cannot quote the state schema name");
		return false;
	}
	return pg_command(conn, sql, error);
}

static bool state_exists(PGconn *conn, const char *schema, bool *exists,
                         struct pg_error *error)
{
	const char *params[] = {schema};
	char value[8];

	return pg_value(conn,
	                "select 1 from pg_tables where schemaname = $1"
	                " and tablename in ('runs', 'state')"
	                " having count(*) = 2",
	                1, params, value, sizeof(value), exists, error);
}

/* Grants each reader USAGE on the schema and SELECT on its tables. */
static bool state_grant(struct boot *boot, PGconn *conn, struct pg_error *error)
{
	const struct plan_list *readers = &boot->plan->state_readers;
	char *schema = pg_ident(conn, boot->plan->state_schema);
	char sql[STATE_SQL_MAX];
	bool ok = schema != NULL;

	for (size_t i = 0; ok && i < readers->count; i++) {
		char *role = pg_ident(conn, readers->items[i]);
		if (role == NULL) {
			ok = false;
			break;
		}
		snprintf(sql, sizeof(sql),
		         "grant usage on schema %s to %s;"
		         "grant select on all tables in schema %s to %s",
		         schema, role, schema, role);
		PQfreemem(role);
		ok = pg_command(conn, sql, error);
	}
	PQfreemem(schema);
	return ok;
}

bool state_prepare(struct boot *boot)
{
	PGconn *conn = boot_db(boot, boot->plan->state_database);
	struct pg_error error = {"", ""};
	bool exists = false;

	if (conn == NULL)
		return false;
	if (!state_exists(conn, boot->plan->state_schema, &exists, &error))
		goto fail;
	if (!exists) {
		if (!state_schema_sql(boot, conn,
		                      "create schema if not exists {schema}",
		                      &error) &&
		    !pg_is_race(&error))
			goto fail;
		if (!state_schema_sql(boot, conn, state_tables, &error) &&
		    !pg_is_race(&error))
			goto fail;
		log_info("state tables created in %s.%s",
		         boot->plan->state_database, boot->plan->state_schema);
	}
	if (!state_grant(boot, conn, &error))
		goto fail;
	return true;
fail:
	log_error("cannot prepare the state tables in database %s: %s",
	          boot->plan->state_database, error.message);
	return false;
}

static PGconn *state_conn(struct boot *boot)
{
	return boot_db(boot, boot->plan->state_database);
}

/* Builds a statement with the quoted schema name for {schema}. */
static bool state_sql(struct boot *boot, PGconn *conn, const char *tmpl,
                      char *sql, size_t size)
{
	return pg_with_ident(conn, tmpl, boot->plan->state_schema, sql, size);
}

bool state_begin_run(struct boot *boot)
{
	PGconn *conn = state_conn(boot);
	char sql[STATE_SQL_MAX], host[256] = "", pid[16], value[32];
	const char *params[] = {boot->revision, host, pid};
	struct pg_error error = {"", ""};
	bool found;

	if (conn == NULL)
		return false;
	gethostname(host, sizeof(host) - 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	/* We hold the lock: a run still marked running was killed. */
	if (!state_sql(boot, conn,
	               "update {schema}.runs set outcome = 'abandoned',"
	               " message = 'the run ended without recording an outcome'"
	               " where outcome = 'running'",
	               sql, sizeof(sql)) ||
	    !pg_command(conn, sql, &error))
		goto fail;
	if (!state_sql(boot, conn,
	               "insert into {schema}.runs (revision, host, pid)"
	               " values ($1, $2, $3::integer) returning id",
	               sql, sizeof(sql)) ||
	    !pg_value(conn, sql, 3, params, value, sizeof(value), &found,
	              &error))
		goto fail;
	boot->run_id = atoll(value);
	return true;
fail:
	log_error("cannot record the run in database %s: %s",
	          boot->plan->state_database, error.message);
	return false;
}

bool state_end_run(struct boot *boot, const char *outcome)
{
	PGconn *conn = state_conn(boot);
	char sql[STATE_SQL_MAX], id[32], ms[32];
	const char *params[] = {
	        id,
	        boot->fingerprint[0] != '\0' ? boot->fingerprint : NULL,
	        boot->migration,
	        boot->seed,
	        outcome,
	        boot->message[0] != '\0' ? boot->message : NULL,
	        ms,
	};
	struct pg_error error = {"", ""};

	if (conn == NULL || boot->run_id == 0)
		return false;
	snprintf(id, sizeof(id), "%lld", boot->run_id);
	snprintf(ms, sizeof(ms), "%lld", log_total_ms());
	if (!state_sql(
	            boot, conn,
	            "update {schema}.runs set fingerprint = $2, migration = $3,"
	            " seed = $4, outcome = $5, message = $6,"
	            " finished_at = now(), duration_ms = $7::bigint"
	            " where id = $1::bigint",
	            sql, sizeof(sql)) ||
	    !pg_exec(conn, sql, 7, params, NULL, &error)) {
		log_error("cannot record the outcome of run %lld: %s",
		          boot->run_id, error.message);
		return false;
	}
	return true;
}

bool state_get(struct boot *boot, const char *key, char *value, size_t size,
               bool *found, char *updated, size_t updated_size)
{
	PGconn *conn = state_conn(boot);
	char sql[STATE_SQL_MAX];
	const char *params[] = {key};
	struct pg_error error = {"", ""};
	PGresult *res;

	*found = false;
	value[0] = '\0';
	if (updated != NULL)
		updated[0] = '\0';
	if (conn == NULL ||
	    !state_sql(boot, conn,
	               "select value, to_char(updated_at at time zone 'UTC',"
	               " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	               " from {schema}.state where key = $1",
	               sql, sizeof(sql)))
		return false;
	if (!pg_exec(conn, sql, 1, params, &res, &error)) {
		log_error("cannot read %s from the state table: %s", key,
		          error.message);
		return false;
	}
	if (PQntuples(res) == 1) {
		*found = true;
		snprintf(value, size, "%s", PQgetvalue(res, 0, 0));
		if (updated != NULL)
			snprintf(updated, updated_size, "%s",
			         PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return true;
}

bool state_set(struct boot *boot, const char *key, const char *value)
{
	PGconn *conn = state_conn(boot);
	char sql[STATE_SQL_MAX];
	const char *params[] = {key, value, boot->revision};
	struct pg_error error = {"", ""};

	if (conn == NULL ||
	    !state_sql(boot, conn,
	               "insert into {schema}.state (key, value, revision)"
	               " values ($1, $2, $3) on conflict (key) do update"
	               " set value = excluded.value,"
	               " revision = excluded.revision, updated_at = now()",
	               sql, sizeof(sql)))
		return false;
	if (!pg_exec(conn, sql, 3, params, NULL, &error)) {
		log_error("cannot write %s to the state table: %s", key,
		          error.message);
		return false;
	}
	return true;
}
