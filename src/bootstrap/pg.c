/*
 * pg: connect with a deadline, classify failures, run queries.
 */
#include "bootstrap/pg.h"

#include "lib/interrupt.h"
#include "lib/log.h"

#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PG_BACKOFF_FIRST_MS 100
#define PG_BACKOFF_MAX_MS 5000
#define PG_ATTEMPT_MAX_MS 10000

/* ---- errors ---- */

/* Finds "ERROR:  " or "FATAL:  " followed by a five-character SQLSTATE. */
static const char *pg_find_sqlstate(const char *text)
{
	static const char *const severities[] = {
	        "FATAL:  ", "ERROR:  ", "PANIC:  "};

	for (size_t i = 0; i < 3; i++) {
		const char *p = strstr(text, severities[i]);
		if (p == NULL)
			continue;
		p += strlen(severities[i]);
		if (strlen(p) >= 7 && p[5] == ':' && p[6] == ' ') {
			bool ok = true;
			for (int j = 0; j < 5; j++)
				ok = ok && isalnum((unsigned char)p[j]) &&
				     !islower((unsigned char)p[j]);
			if (ok)
				return p;
		}
	}
	return NULL;
}

void pg_parse_error(const char *text, struct pg_error *error)
{
	const char *state = pg_find_sqlstate(text);
	size_t o = 0;

	error->sqlstate[0] = '\0';
	if (state != NULL) {
		memcpy(error->sqlstate, state, 5);
		error->sqlstate[5] = '\0';
	}
	/* One line, without the verbose SQLSTATE and LOCATION parts. */
	for (const char *p = text; *p != '\0' && o + 1 < PG_MESSAGE_MAX; p++) {
		if (p == state) {
			p += 6;
			continue;
		}
		if (strncmp(p, "\nLOCATION:", 10) == 0) {
			while (p[1] != '\0' && p[1] != '\n')
				p++;
			continue;
		}
		if (*p == '\t')
			continue;
		if (*p == '\n') {
			if (p[1] != '\0' && o > 0)
				error->message[o++] = ';';
			if (p[1] != '\0' && o + 1 < PG_MESSAGE_MAX)
				error->message[o++] = ' ';
			continue;
		}
		error->message[o++] = *p;
	}
	while (o > 0 &&
	       (error->message[o - 1] == ' ' || error->message[o - 1] == ';'))
		o--;
	error->message[o] = '\0';
}

enum pg_outcome pg_classify(const char *sqlstate)
{
	if (sqlstate[0] == '\0')
		return PG_TRANSIENT;
	if (strcmp(sqlstate, "28P01") == 0 || strcmp(sqlstate, "28000") == 0)
		return PG_REJECTED;
	if (strcmp(sqlstate, "3D000") == 0)
		return PG_NO_DATABASE;
	if (strncmp(sqlstate, "08", 2) == 0 ||
	    strncmp(sqlstate, "53", 2) == 0 || strncmp(sqlstate, "57", 2) == 0)
		return PG_TRANSIENT;
	return PG_FAILED;
}

const char *pg_error_text(const struct pg_error *error, char *buf, size_t size)
{
	if (error->sqlstate[0] != '\0')
		snprintf(buf, size, "%s (SQLSTATE %s)", error->message,
		         error->sqlstate);
	else
		snprintf(buf, size, "%s", error->message);
	return buf;
}

/* ---- connecting ---- */

/* Drives PQconnectPoll until done, the timeout or a signal. */
static PostgresPollingStatusType pg_poll(PGconn *conn, long long until)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	for (;;) {
		struct pollfd pfd = {.fd = PQsocket(conn), .events = 0};
		long long left = until - log_clock_ms();
		int ready;

		if (st == PGRES_POLLING_OK || st == PGRES_POLLING_FAILED)
			return st;
		if (left <= 0 || interrupt_pending() != 0 || pfd.fd < 0)
			return PGRES_POLLING_FAILED;
		pfd.events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		ready = poll(&pfd, 1, left > 100 ? 100 : (int)left);
		if (ready > 0)
			st = PQconnectPoll(conn);
	}
}

PGconn *pg_connect_once(const struct pg_target *target, long long timeout_ms,
                        enum pg_outcome *outcome, struct pg_error *error)
{
	const char *keys[] = {
	        "host",
	        "port",
	        "user",
	        "password",
	        "dbname",
	        "sslmode",
	        "application_name",
	        "client_encoding",
	        NULL,
	};
	const char *values[] = {
	        target->host,
	        target->port,
	        target->user,
	        target->password,
	        target->dbname,
	        target->sslmode,
	        target->application_name,
	        "UTF8",
	        NULL,
	};
	long long until = log_clock_ms() + timeout_ms;
	PGconn *conn;

	error->sqlstate[0] = '\0';
	error->message[0] = '\0';
	conn = PQconnectStartParams(keys, values, 0);
	if (conn == NULL) {
		snprintf(error->message, sizeof(error->message),
		         "out of memory");
		*outcome = PG_FAILED;
		return NULL;
	}
	/* Verbose errors carry the SQLSTATE even for a failed connection. */
	PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
	if (PQstatus(conn) != CONNECTION_BAD &&
	    pg_poll(conn, until) == PGRES_POLLING_OK &&
	    PQstatus(conn) == CONNECTION_OK) {
		PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
		*outcome = PG_CONNECTED;
		return conn;
	}
	if (interrupt_pending() != 0) {
		*outcome = PG_INTERRUPTED;
		snprintf(error->message, sizeof(error->message),
		         "interrupted by signal %d", interrupt_pending());
	} else if (PQstatus(conn) != CONNECTION_BAD) {
		*outcome = PG_TRANSIENT;
		snprintf(error->message, sizeof(error->message),
		         "no answer within %lld ms", timeout_ms);
	} else {
		pg_parse_error(PQerrorMessage(conn), error);
		*outcome = pg_classify(error->sqlstate);
		/*
		 * PgBouncer reports a failed login, and a database it has no
		 * entry for, as protocol errors (08P01): final, not transient.
		 */
		if (strstr(error->message, "authentication failed") != NULL)
			*outcome = PG_REJECTED;
		else if (strstr(error->message, "no such database") != NULL)
			*outcome = PG_NO_DATABASE;
	}
	PQfinish(conn);
	return NULL;
}

/* The next delay: doubled each time up to a cap, with +-25% jitter. */
static long long pg_backoff(unsigned attempt)
{
	long long base = PG_BACKOFF_FIRST_MS;

	for (unsigned i = 0; i < attempt && base < PG_BACKOFF_MAX_MS; i++)
		base *= 2;
	if (base > PG_BACKOFF_MAX_MS)
		base = PG_BACKOFF_MAX_MS;
	return base * 3 / 4 + random() % (base / 2 + 1);
}

PGconn *pg_connect_wait(const struct pg_target *target, long long deadline,
                        enum pg_outcome *outcome, struct pg_error *error)
{
	srandom((unsigned)getpid() ^ (unsigned)log_clock_ms());
	for (unsigned attempt = 0;; attempt++) {
		long long left = deadline - log_clock_ms();
		long long delay;
		PGconn *conn;

		if (left <= 0) {
			snprintf(error->message, sizeof(error->message),
			         "the deadline left no time for an attempt");
			*outcome = PG_DEADLINE;
			return NULL;
		}
		conn = pg_connect_once(
		        target,
		        left < PG_ATTEMPT_MAX_MS ? left : PG_ATTEMPT_MAX_MS,
		        outcome, error);

		if (conn != NULL || *outcome != PG_TRANSIENT)
			return conn;
		left = deadline - log_clock_ms();
		if (left <= 0) {
			*outcome = PG_DEADLINE;
			return NULL;
		}
		delay = pg_backoff(attempt);
		if (delay > left)
			delay = left;
		log_info("postgres at %s:%s not ready: %s; retrying in %lld ms",
		         target->host, target->port, error->message, delay);
		if (!interrupt_sleep_ms(delay)) {
			*outcome = PG_INTERRUPTED;
			return NULL;
		}
	}
}

/* ---- queries ---- */

static void pg_result_error(PGconn *conn, const PGresult *res,
                            struct pg_error *error)
{
	const char *state =
	        res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary =
	        res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
	                    : NULL;

	snprintf(error->sqlstate, sizeof(error->sqlstate), "%s",
	         state != NULL ? state : "");
	if (primary != NULL) {
		snprintf(error->message, sizeof(error->message), "%s", primary);
	} else {
		struct pg_error parsed;
		pg_parse_error(PQerrorMessage(conn), &parsed);
		snprintf(error->message, sizeof(error->message), "%s",
		         parsed.message);
	}
}

bool pg_exec(PGconn *conn, const char *sql, int nparams,
             const char *const *params, PGresult **result,
             struct pg_error *error)
{
	PGresult *res;
	ExecStatusType st;

	if (result != NULL)
		*result = NULL;
	res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		pg_result_error(conn, res, error);
		PQclear(res);
		return false;
	}
	if (result != NULL)
		*result = res;
	else
		PQclear(res);
	return true;
}

bool pg_command(PGconn *conn, const char *sql, struct pg_error *error)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st =
	        res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		pg_result_error(conn, res, error);
	PQclear(res);
	return ok;
}

bool pg_value(PGconn *conn, const char *sql, int nparams,
              const char *const *params, char *value, size_t size, bool *found,
              struct pg_error *error)
{
	PGresult *res;

	value[0] = '\0';
	*found = false;
	if (!pg_exec(conn, sql, nparams, params, &res, error))
		return false;
	if (PQntuples(res) > 0 && PQnfields(res) > 0 &&
	    !PQgetisnull(res, 0, 0)) {
		snprintf(value, size, "%s", PQgetvalue(res, 0, 0));
		*found = true;
	}
	PQclear(res);
	return true;
}

bool pg_is_race(const struct pg_error *error)
{
	static const char *const states[] = {"23505", "42P04", "42710",
	                                     "42P06"};

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(error->sqlstate, states[i]) == 0)
			return true;
	return false;
}

char *pg_ident(PGconn *conn, const char *name)
{
	return PQescapeIdentifier(conn, name, strlen(name));
}

char *pg_literal(PGconn *conn, const char *text)
{
	return PQescapeLiteral(conn, text, strlen(text));
}

bool pg_with_ident(PGconn *conn, const char *tmpl, const char *name, char *sql,
                   size_t size)
{
	static const char token[] = "{schema}";
	char *quoted = pg_ident(conn, name);
	size_t o = 0, qlen;
	bool ok = true;

	if (quoted == NULL)
		return false;
	qlen = strlen(quoted);
	while (*tmpl != '\0' && ok) {
		if (strncmp(tmpl, token, sizeof(token) - 1) == 0) {
			ok = o + qlen < size;
			if (ok)
				memcpy(sql + o, quoted, qlen);
			o += qlen;
			tmpl += sizeof(token) - 1;
		} else {
			ok = o + 1 < size;
			if (ok)
				sql[o++] = *tmpl++;
		}
	}
	if (ok)
		sql[o] = '\0';
	PQfreemem(quoted);
	return ok;
}
