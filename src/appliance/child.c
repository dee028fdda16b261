/*
 * child: run a program, capture stdout and stderr, report how it ended.
 */
#include "appliance/child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct child_sink {
	int fd;
	char *data;
	size_t len;
	size_t cap;
};

/* Appends what one read(2) returns; false on EOF or a read error. */
static bool child_sink_read(struct child_sink *sink, bool *failed)
{
	char chunk[16384];
	ssize_t n = read(sink->fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		*failed = n < 0;
		return false;
	}
	if (sink->len + (size_t)n + 1 > sink->cap) {
		size_t cap = sink->cap ? sink->cap : 65536;
		char *grown;

		while (sink->len + (size_t)n + 1 > cap)
			cap *= 2;
		grown = realloc(sink->data, cap);
		if (!grown) {
			*failed = true;
			return false;
		}
		sink->data = grown;
		sink->cap = cap;
	}
	memcpy(sink->data + sink->len, chunk, (size_t)n);
	sink->len += (size_t)n;
	sink->data[sink->len] = '\0';
	return true;
}

/* Reads both pipes until both reach EOF. */
static bool child_drain(struct child_sink sinks[2])
{
	bool open[2] = {true, true};
	bool failed = false;

	while ((open[0] || open[1]) && !failed) {
		struct pollfd fds[2];
		nfds_t n = 0;
		size_t which[2];

		for (size_t i = 0; i < 2; i++) {
			if (!open[i])
				continue;
			fds[n].fd = sinks[i].fd;
			fds[n].events = POLLIN;
			fds[n].revents = 0;
			which[n++] = i;
		}
		if (poll(fds, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		for (nfds_t i = 0; i < n; i++) {
			if (fds[i].revents == 0)
				continue;
			open[which[i]] =
			        child_sink_read(&sinks[which[i]], &failed);
		}
	}
	return !failed;
}

static char *child_take(struct child_sink *sink, size_t *len)
{
	char *data = sink->data ? sink->data : strdup("");

	*len = sink->len;
	sink->data = NULL;
	return data;
}

/* A pipe whose ends the child does not inherit (dup2 gives it its own). */
static bool child_pipe(int fds[2])
{
	if (pipe(fds) < 0)
		return false;
	return fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0 &&
	       fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0;
}

static bool child_spawn(const char *const argv[], int out_pipe[2],
                        int err_pipe[2], pid_t *pid, char *error,
                        size_t error_size)
{
	posix_spawn_file_actions_t actions;
	int rc;

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
	posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
	posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
	posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
	rc = posix_spawnp(pid, argv[0], &actions, NULL,
	                  (char *const *)(uintptr_t)argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	if (rc != 0)
		snprintf(error, error_size, "cannot run %s: %s", argv[0],
		         strerror(rc));
	return rc == 0;
}

static bool child_wait(pid_t pid, struct child_result *result, char *error,
                       size_t error_size)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(error, error_size, "cannot wait for child: %s",
			         strerror(errno));
			return false;
		}
	}
	if (WIFEXITED(status)) {
		result->exit_code = WEXITSTATUS(status);
		result->signal = 0;
	} else {
		result->exit_code = -1;
		result->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
	return true;
}

bool child_run(const char *const argv[], struct child_result *result,
               char *error, size_t error_size)
{
	int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
	struct child_sink sinks[2] = {{0}, {0}};
	pid_t pid;
	bool ok = false, drained;

	memset(result, 0, sizeof(*result));
	if (!child_pipe(out_pipe) || !child_pipe(err_pipe)) {
		snprintf(error, error_size, "cannot make a pipe: %s",
		         strerror(errno));
		goto out;
	}
	if (!child_spawn(argv, out_pipe, err_pipe, &pid, error, error_size))
		goto out;
	close(out_pipe[1]);
	close(err_pipe[1]);
	out_pipe[1] = err_pipe[1] = -1;
	sinks[0].fd = out_pipe[0];
	sinks[1].fd = err_pipe[0];
	drained = child_drain(sinks);
	if (!child_wait(pid, result, error, error_size))
		goto out;
	if (!drained) {
		snprintf(error, error_size, "cannot read the output of %s",
		         argv[0]);
		goto out;
	}
	result->out = child_take(&sinks[0], &result->out_len);
	result->err = child_take(&sinks[1], &result->err_len);
	ok = result->out && result->err;
	if (!ok)
		snprintf(error, error_size, "out of memory");
out:
	for (int i = 0; i < 2; i++) {
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
		if (err_pipe[i] >= 0)
			close(err_pipe[i]);
	}
	free(sinks[0].data);
	free(sinks[1].data);
	if (!ok)
		child_result_free(result);
	return ok;
}

void child_result_free(struct child_result *result)
{
	free(result->out);
	free(result->err);
	result->out = result->err = NULL;
	result->out_len = result->err_len = 0;
}

void child_describe_status(const struct child_result *result, char *text,
                           size_t text_size)
{
	if (result->exit_code >= 0)
		snprintf(text, text_size, "exited with status %d",
		         result->exit_code);
	else
		snprintf(text, text_size, "was killed by signal %d",
		         result->signal);
}

const char *child_stderr_tail(struct child_result *result)
{
	char *end;

	if (!result->err)
		return "";
	end = result->err + result->err_len;
	while (end > result->err && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	while (end > result->err && end[-1] != '\n')
		end--;
	return end;
}
