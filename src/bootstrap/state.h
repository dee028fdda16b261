/*
 * state: what the bootstrap remembers, in schema alga_bootstrap (by
 * default) of the state database: one row per run, and a small key-value
 * table for the last applied migration fingerprint and the seed record.
 */
#ifndef ALGA_STATE_H
#define ALGA_STATE_H

#include "bootstrap/boot.h"

#include <stdbool.h>
#include <stddef.h>

/* Creates the schema and tables when missing; grants readers SELECT. */
bool state_prepare(struct boot *boot);
/* Marks runs that never finished as abandoned; inserts this run's row. */
bool state_begin_run(struct boot *boot);
/* Writes outcome (done, failed, interrupted) into this run's row. */
bool state_end_run(struct boot *boot, const char *outcome);
/* Reads key; found false when absent. updated gets its time (or NULL). */
bool state_get(struct boot *boot, const char *key, char *value, size_t size,
               bool *found, char *updated, size_t updated_size);
bool state_set(struct boot *boot, const char *key, const char *value);

#endif
