/*
 * fingerprint: what identifies a migration set, so that a restart with the
 * same one skips the migration command. SHA-256 over the sorted relative
 * paths and contents of the regular files under a directory (recursively,
 * following symbolic links, skipping names that start with a dot, such as
 * the ..data links of a Kubernetes volume), then the revision string.
 */
#ifndef ALGA_FINGERPRINT_H
#define ALGA_FINGERPRINT_H

#include "lib/sha256.h"

#include <stdbool.h>
#include <stddef.h>

/* hex gets 64 lowercase hex digits; *files the number of files hashed. */
bool fingerprint_compute(const char *directory, const char *revision,
                         char hex[SHA256_HEX_SIZE], size_t *files, char *error,
                         size_t error_size);

#endif
