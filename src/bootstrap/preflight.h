/*
 * preflight: what `alga-bootstrap run` checks before it connects, so that a
 * plan that cannot work fails on every run (exit 2), not at the first
 * upgrade that changes the migrations: the password files (regular files
 * are read and checked, then wiped), the working directories, the programs
 * and the migration directory. Every error names the plan key.
 */
#ifndef ALGA_PREFLIGHT_H
#define ALGA_PREFLIGHT_H

#include "bootstrap/plan.h"

#include <stdbool.h>

/* Logs every problem found; true when there is none. */
bool preflight_check(const struct plan *plan);
/* The plan key (or environment variable) that names the admin password. */
const char *preflight_admin_key(const struct plan *plan);

#endif
