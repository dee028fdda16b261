/*
 * scram: does a stored SCRAM-SHA-256 verifier (pg_authid.rolpassword)
 * belong to a password? Lets a restart leave an unchanged role password
 * alone instead of writing a new verifier on every run.
 */
#ifndef ALGA_SCRAM_H
#define ALGA_SCRAM_H

#include <stdbool.h>

/*
 * True only when verifier is "SCRAM-SHA-256$ITER:SALT$STORED:SERVER" and
 * password derives the same keys. False for anything else, including
 * passwords that are not printable ASCII: PostgreSQL runs those through
 * SASLprep, which is not done here, so the caller sets them anew instead
 * of risking a wrong "unchanged".
 * XXX: so a non-ASCII password is rewritten (new salt) on every run; the
 * proper fix is SASLprep (RFC 4013) here, as PostgreSQL's own
 * src/common/saslprep.c does.
 */
bool scram_verifier_matches(const char *verifier, const char *password);

#endif
