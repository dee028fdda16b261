/*
 * pg: connections to PostgreSQL and the few query helpers the steps share.
 *
 * A connection attempt is classified by the SQLSTATE the server sent (read
 * from the verbose error text, since libpq keeps no SQLSTATE for a failed
 * connection): 57P03 (starting up), 53300 (too many connections), any
 * other class 08, 53 or 57 and errors without a server answer (refused, no
 * route, a host name not resolvable yet) are transient; 28P01 and 28000
 * (credentials) and 3D000 (no such database) are final.
 * XXX: reading the SQLSTATE from text depends on libpq's verbose format;
 * the proper fix is an API for it, which libpq 15 does not have.
 */
#ifndef ALGA_PG_H
#define ALGA_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#define PG_MESSAGE_MAX 1024

struct pg_target {
	const char *host;
	const char *port;
	const char *user;
	const char *password; /* never logged, never in a conninfo string */
	const char *dbname;
	const char *sslmode;
	const char *application_name;
};

enum pg_outcome {
	PG_CONNECTED,
	PG_TRANSIENT,   /* worth another try */
	PG_REJECTED,    /* credentials rejected */
	PG_NO_DATABASE, /* the database does not exist */
	PG_FAILED,      /* anything else final */
	PG_DEADLINE,    /* transient until the deadline passed */
	PG_INTERRUPTED, /* SIGTERM or SIGINT while connecting */
};

struct pg_error {
	char sqlstate[6]; /* "" when the server sent none */
	char message[PG_MESSAGE_MAX];
};

/* ---- connecting ---- */

/* One attempt that gives up after timeout_ms. */
PGconn *pg_connect_once(const struct pg_target *target, long long timeout_ms,
                        enum pg_outcome *outcome, struct pg_error *error);
/*
 * Attempts until connected, a final error or the deadline (an absolute
 * log_clock_ms time), with exponential backoff and jitter, logging each
 * retry with its reason under the current phase.
 */
PGconn *pg_connect_wait(const struct pg_target *target, long long deadline,
                        enum pg_outcome *outcome, struct pg_error *error);
/* Splits a libpq error text into SQLSTATE and a one-line message. */
void pg_parse_error(const char *text, struct pg_error *error);
/* The class of an attempt from its SQLSTATE ("" for client-side errors). */
enum pg_outcome pg_classify(const char *sqlstate);
/* "message (SQLSTATE 42501)", or the message alone when none is known. */
const char *pg_error_text(const struct pg_error *error, char *buf, size_t size);

/* ---- queries ---- */

/*
 * Runs sql with text parameters; on success *result (when result is not
 * NULL) holds the result, to be PQclear'ed. On failure fills error.
 */
bool pg_exec(PGconn *conn, const char *sql, int nparams,
             const char *const *params, PGresult **result,
             struct pg_error *error);
/* A command whose result is not needed. */
bool pg_command(PGconn *conn, const char *sql, struct pg_error *error);
/*
 * The first column of the first row as text in value (empty and *found
 * false when there is no row or it is NULL).
 */
bool pg_value(PGconn *conn, const char *sql, int nparams,
              const char *const *params, char *value, size_t size, bool *found,
              struct pg_error *error);
/* A concurrent creator got there first: 23505, 42P04, 42710, 42P06. */
bool pg_is_race(const struct pg_error *error);
/* The SQL identifier for name, quoted; free with PQfreemem. */
char *pg_ident(PGconn *conn, const char *name);
/*
 * Copies tmpl to sql with every "{schema}" replaced by name, quoted as an
 * identifier; false when it does not fit.
 */
bool pg_with_ident(PGconn *conn, const char *tmpl, const char *name, char *sql,
                   size_t size);
/* The SQL literal for text, quoted; free with PQfreemem. */
char *pg_literal(PGconn *conn, const char *text);

#endif
