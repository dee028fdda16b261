/*
 * secret: read a password file without leaking it.
 */
#include "lib/secret.h"

#include "lib/interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads at most SECRET_MAX + 1 bytes so that an oversized file is noticed. */
static bool secret_slurp(int fd, char *buf, size_t *len)
{
	size_t got = 0;

	while (got < SECRET_MAX + 1) {
		ssize_t n = read(fd, buf + got, SECRET_MAX + 1 - got);
		/* A FIFO may block for ever: give way to SIGTERM. */
		if (n < 0 && errno == EINTR && interrupt_pending() == 0)
			continue;
		if (n < 0)
			return false;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	return true;
}

bool secret_read(const char *path, struct secret *out, char *error,
                 size_t error_size)
{
	char *buf = NULL;
	size_t len = 0;
	int fd;

	out->text = NULL;
	out->len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(error, error_size, "cannot read password file %s: %s",
		         path, strerror(errno));
		return false;
	}
	buf = malloc(SECRET_MAX + 2);
	if (buf == NULL || !secret_slurp(fd, buf, &len)) {
		snprintf(error, error_size, "cannot read password file %s: %s",
		         path, buf == NULL ? "out of memory" : strerror(errno));
		goto fail;
	}
	if (len > SECRET_MAX) {
		snprintf(error, error_size,
		         "password file %s is larger than %d bytes", path,
		         SECRET_MAX);
		goto fail;
	}
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(error, error_size,
		         "password file %s contains a NUL byte", path);
		goto fail;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == 0) {
		snprintf(error, error_size, "password file %s is empty", path);
		goto fail;
	}
	if (len < SECRET_MIN) {
		snprintf(
		        error, error_size,
		        "password in %s is shorter than %d bytes: set a longer password (the appliance generates 24 characters)",
		        path, SECRET_MIN);
		goto fail;
	}
	buf[len] = '\0';
	close(fd);
	out->text = buf;
	out->len = len;
	return true;
fail:
	if (buf != NULL) {
		explicit_bzero(buf, SECRET_MAX + 2);
		free(buf);
	}
	close(fd);
	return false;
}

void secret_free(struct secret *secret)
{
	if (secret->text != NULL) {
		explicit_bzero(secret->text, secret->len);
		free(secret->text);
	}
	secret->text = NULL;
	secret->len = 0;
}
