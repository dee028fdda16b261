/*
 * provision: roles, databases, settings, extensions, schemas, grants and
 * default privileges, each created or brought in line only when the
 * catalogs say it differs, so that a restart changes nothing. Role
 * passwords are set on every run from their files, as SCRAM verifiers
 * computed here: the plaintext never travels in a statement.
 */
#ifndef ALGA_PROVISION_H
#define ALGA_PROVISION_H

#include "bootstrap/boot.h"

#include <stdbool.h>

/* Everything up to (not including) the migration. */
bool provision_run(struct boot *boot);
/* Table, sequence and function grants again, for what a migration made. */
bool provision_grants_after_migrate(struct boot *boot);

#endif
