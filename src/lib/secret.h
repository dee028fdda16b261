/*
 * secret: passwords read from mounted files (a Kubernetes Secret key, say).
 *
 * A file is read once, capped at SECRET_MAX bytes; only trailing CR and LF
 * are stripped (a password may begin or end with a space); a NUL byte or
 * nothing left after stripping is an error, and so is a password shorter
 * than SECRET_MIN bytes: a short secret would be found inside ordinary log
 * text (paths, words) and redacting it there would both mangle the line and
 * hint at the password. The buffer is wiped on free.
 * Error messages name the file, never any part of its content or its size.
 * A read or open interrupted by SIGTERM or SIGINT (interrupt_pending) fails;
 * the caller looks at interrupt_pending before calling it an error.
 */
#ifndef ALGA_SECRET_H
#define ALGA_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_MAX 4096
#define SECRET_MIN 8

struct secret {
	char *text; /* NUL-terminated, no NUL inside */
	size_t len;
};

bool secret_read(const char *path, struct secret *out, char *error,
                 size_t error_size);
/* Wipes and frees; safe on a zeroed or already freed secret. */
void secret_free(struct secret *secret);

#endif
