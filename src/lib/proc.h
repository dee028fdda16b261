/*
 * proc: run a command as a child process in its own process group, stream
 * its output (stdout and stderr together) line by line into the log, and
 * stop the whole group on a timeout or when we are interrupted: SIGTERM
 * (or the signal we received) first, SIGKILL after a grace period.
 * When we are killed outright (SIGKILL), the group dies too: the child by
 * PR_SET_PDEATHSIG, the rest of its group by a small guard process that
 * waits on a pipe from us. No orphan goes on migrating next to the next run.
 */
#ifndef ALGA_PROC_H
#define ALGA_PROC_H

#include <stdbool.h>
#include <stddef.h>

struct proc_spec {
	char *const *argv;    /* argv[0] looked up in PATH, no shell */
	char *const *env;     /* "NAME=value" set on top of ours, or NULL */
	const char *workdir;  /* or NULL to stay where we are */
	long long timeout_ms; /* 0: no timeout */
	long long grace_ms;   /* from SIGTERM to SIGKILL */
};

enum proc_outcome {
	PROC_EXITED,
	PROC_SIGNALED,
	PROC_TIMED_OUT,
	PROC_INTERRUPTED,
	PROC_NOT_STARTED,
};

struct proc_result {
	enum proc_outcome outcome;
	int status; /* exit status, or the signal that ended it */
	int error;  /* PROC_NOT_STARTED: the errno of pipe or fork, or 0 */
	long long elapsed_ms; /* the stop grace included */
	long long timeout_ms; /* from the spec, for the message */
	long long grace_ms;
};

/* True when the child exited with status 0. */
bool proc_run(const struct proc_spec *spec, struct proc_result *result);
/*
 * "exited with status 1", "killed by signal 9", "timed out after 30 s and
 * was stopped (grace 10 s; 34 s in all)" ...
 */
void proc_describe(const struct proc_result *result, const char *what,
                   char *buf, size_t size);

#endif
