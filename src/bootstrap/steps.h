/*
 * steps: the migration and the seed gate of `alga-bootstrap run`.
 * Each returns an exit code (BOOT_OK when the run may go on).
 */
#ifndef ALGA_STEPS_H
#define ALGA_STEPS_H

#include "bootstrap/boot.h"

int steps_migrate(struct boot *boot);
int steps_seed(struct boot *boot);
/*
 * Expands ${host}, ${port}, ${user}, ${database}, ${sslmode},
 * ${directory} and ${revision} in text; NULL (with error set) on an
 * unknown placeholder. The result is malloc'ed.
 */
char *steps_expand(const struct boot *boot, const char *text, char *error,
                   size_t error_size);

#endif
