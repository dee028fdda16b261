/*
 * lock: the advisory lock, its holder, and the transaction-pooler check.
 */
#include "bootstrap/lock.h"

#include "lib/interrupt.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCK_POLL_MS 250
#define LOCK_REPORT_MS 2000

static bool lock_backend_pid(PGconn *conn, long *pid, struct pg_error *error)
{
	char value[32];
	bool found;

	if (!pg_value(conn, "select pg_backend_pid()", 0, NULL, value,
	              sizeof(value), &found, error))
		return false;
	*pid = atol(value);
	return true;
}

bool lock_check_session(PGconn *conn, PGconn *other, bool *pooled,
                        struct pg_error *error)
{
	long first, held, second;

	*pooled = false;
	if (!lock_backend_pid(conn, &first, error))
		return false;
	/* A pooler answers the startup with a backend key of its own. */
	if (first == PQbackendPID(conn))
		return true;
	*pooled = true;
	/*
	 * A session pooler keeps our backend ours. A transaction pooler gives
	 * it to the other client once our transaction ended, or gives us
	 * another one while the other client holds a transaction open.
	 * XXX: a pooler with several idle backends could, in principle, show
	 * neither; the proper fix is a pooler-independent session marker,
	 * which PostgreSQL does not offer.
	 */
	if (!pg_command(other, "begin", error) ||
	    !lock_backend_pid(other, &held, error) ||
	    !lock_backend_pid(conn, &second, error)) {
		PQclear(PQexec(other, "rollback"));
		return false;
	}
	PQclear(PQexec(other, "rollback"));
	return first == second && held != first;
}

/* Logs who holds the lock and since when. */
static void lock_report_holder(PGconn *conn, long long key, long long waited)
{
	static const char sql[] =
	        "select l.pid, coalesce(a.application_name, ''),"
	        " coalesce(round(extract(epoch from now() - a.backend_start)"
	        " * 1000)::bigint, 0)"
	        " from pg_locks l left join pg_stat_activity a on a.pid = l.pid"
	        " where l.locktype = 'advisory' and l.granted"
	        " and l.database = (select oid from pg_database"
	        " where datname = current_database())"
	        " and l.classid = (($1::bigint >> 32) & 4294967295)::oid"
	        " and l.objid = ($1::bigint & 4294967295)::oid"
	        " and l.objsubid = 1 limit 1";
	char keytext[32];
	const char *params[] = {keytext};
	struct pg_error error = {"", ""};
	PGresult *res;

	snprintf(keytext, sizeof(keytext), "%lld", key);
	if (!pg_exec(conn, sql, 1, params, &res, &error)) {
		log_info(
		        "waiting for the bootstrap lock (%lld ms so far); holder unknown: %s",
		        waited, error.message);
		return;
	}
	if (PQntuples(res) == 0)
		log_info(
		        "waiting for the bootstrap lock (%lld ms so far); it was just released",
		        waited);
	else
		log_info(
		        "waiting for the bootstrap lock (%lld ms so far): held by pid %s (application \"%s\", connected %s ms ago)",
		        waited, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
		        PQgetvalue(res, 0, 2));
	PQclear(res);
}

enum lock_outcome lock_acquire(PGconn *conn, long long key, long long deadline,
                               struct pg_error *error)
{
	long long started = log_clock_ms(), last_report = 0;
	char keytext[32], value[8];
	const char *params[] = {keytext};
	bool found;

	snprintf(keytext, sizeof(keytext), "%lld", key);
	for (bool first = true;; first = false) {
		long long now;
		if (!pg_value(conn, "select pg_try_advisory_lock($1::bigint)",
		              1, params, value, sizeof(value), &found, error))
			return LOCK_ERROR;
		if (strcmp(value, "t") == 0)
			return LOCK_HELD;
		now = log_clock_ms();
		if (now >= deadline)
			return LOCK_DEADLINE;
		if (first || now - last_report >= LOCK_REPORT_MS) {
			lock_report_holder(conn, key, now - started);
			last_report = now;
		}
		if (!interrupt_sleep_ms(LOCK_POLL_MS / 2 +
		                        random() % LOCK_POLL_MS))
			return LOCK_INTERRUPTED;
	}
}
