/*
 * child: run Helm and kubectl as child processes and keep what they print.
 *
 * Both output pipes are drained together with poll(2), so a child that
 * writes a lot to stderr while we wait on stdout cannot deadlock either side.
 */
#ifndef ALGA_APPLIANCE_CHILD_H
#define ALGA_APPLIANCE_CHILD_H

#include <stdbool.h>
#include <stddef.h>

struct child_result {
	int exit_code; /* exit status, or -1 when killed by a signal */
	int signal;    /* the signal that ended it, or 0 */
	char *out;     /* everything written to stdout, NUL-terminated */
	size_t out_len;
	char *err; /* everything written to stderr, NUL-terminated */
	size_t err_len;
};

/*
 * Runs argv[0] (searched on PATH when it has no slash) with argv, stdin
 * from /dev/null, and waits for it. Returns false only when it could not be
 * started or read (error says why); a child that ran and failed returns
 * true with a non-zero exit_code. Free the result with child_result_free.
 */
bool child_run(const char *const argv[], struct child_result *result,
               char *error, size_t error_size);
void child_result_free(struct child_result *result);
/* "exited with status 2" or "was killed by signal 9" */
void child_describe_status(const struct child_result *result, char *text,
                           size_t text_size);
/* The last non-empty line of the child's stderr, or "" (points into it). */
const char *child_stderr_tail(struct child_result *result);

#endif
