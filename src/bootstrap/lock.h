/*
 * lock: one bootstrap at a time, by a session advisory lock held on the
 * dedicated connection to the maintenance database; and the refusal to
 * run through a transaction pooler, where a session lock means nothing.
 */
#ifndef ALGA_LOCK_H
#define ALGA_LOCK_H

#include "bootstrap/boot.h"

#include <stdbool.h>

enum lock_outcome {
	LOCK_HELD,
	LOCK_DEADLINE,
	LOCK_INTERRUPTED,
	LOCK_ERROR,
};

/*
 * True when conn reaches a PostgreSQL backend of its own for the whole
 * session. other is a second connection with the same target; it is used
 * only when conn looks pooled, to see whether the pooler hands the session
 * to another backend between transactions.
 */
bool lock_check_session(PGconn *conn, PGconn *other, bool *pooled,
                        struct pg_error *error);
/* Polls pg_try_advisory_lock until held or deadline (absolute ms). */
enum lock_outcome lock_acquire(PGconn *conn, long long key, long long deadline,
                               struct pg_error *error);

#endif
