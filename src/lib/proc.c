/*
 * proc: fork, exec, stream, stop.
 */
#include "lib/proc.h"

#include "lib/interrupt.h"
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROC_LINE_MAX 4096

struct proc_lines {
	char buf[PROC_LINE_MAX];
	size_t used;
};

/* Runs in the child: never returns. */
static void proc_exec(const struct proc_spec *spec, int out, pid_t parent)
{
	struct sigaction sa;

	setpgid(0, 0);
	/* Dies with us even when we are killed outright (SIGKILL). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(127);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	if (out > STDERR_FILENO)
		close(out);
	for (size_t i = 0; spec->env != NULL && spec->env[i] != NULL; i++)
		putenv(spec->env[i]);
	if (spec->workdir != NULL && chdir(spec->workdir) != 0) {
		dprintf(STDERR_FILENO, "cannot change to directory %s: %s\n",
		        spec->workdir, strerror(errno));
		_exit(127);
	}
	execvp(spec->argv[0], spec->argv);
	dprintf(STDERR_FILENO, "cannot run %s: %s\n", spec->argv[0],
	        strerror(errno));
	_exit(127);
}

/*
 * Runs in the guard: a process outside the child's group that kills the
 * whole group (the child's own children too, which PR_SET_PDEATHSIG does
 * not reach) when we vanish without saying that the child is done: the
 * end of file on its pipe without a byte. Never returns.
 */
static void proc_guard(int fd, pid_t group)
{
	long max = sysconf(_SC_OPEN_MAX);
	char done;
	ssize_t n;

	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	/* Not to keep our database sessions open once we are gone. */
	for (int i = 3; i < (max > 0 && max < 65536 ? max : 1024); i++)
		if (i != fd)
			close(i);
	while ((n = read(fd, &done, 1)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		kill(-group, SIGKILL);
	_exit(0);
}

/* Starts the guard of group; returns its pid (or -1) and the pipe's end. */
static pid_t proc_guard_start(pid_t group, int *fd)
{
	int pipefd[2];
	pid_t pid;

	*fd = -1;
	if (pipe(pipefd) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(pipefd[1]);
		proc_guard(pipefd[0], group);
	}
	close(pipefd[0]);
	if (pid < 0) {
		close(pipefd[1]);
		return -1;
	}
	fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
	*fd = pipefd[1];
	return pid;
}

/* Tells the guard the group is gone, and reaps it. */
static void proc_guard_stop(pid_t pid, int fd)
{
	if (pid < 0)
		return;
	while (write(fd, "", 1) < 0 && errno == EINTR)
		;
	close(fd);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void proc_flush_line(struct proc_lines *lines)
{
	lines->buf[lines->used] = '\0';
	log_child(lines->buf);
	lines->used = 0;
}

/* Splits what was read into lines; a too long line is cut into pieces. */
static void proc_feed(struct proc_lines *lines, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			proc_flush_line(lines);
			continue;
		}
		if (data[i] == '\r')
			continue;
		lines->buf[lines->used++] = data[i];
		if (lines->used == PROC_LINE_MAX - 1)
			proc_flush_line(lines);
	}
}

/* Reads what is there; false on end of file. */
static bool proc_drain(int fd, struct proc_lines *lines, int wait_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char chunk[4096];
	ssize_t n;

	if (poll(&pfd, 1, wait_ms) <= 0)
		return true;
	n = read(fd, chunk, sizeof(chunk));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	proc_feed(lines, chunk, (size_t)n);
	return true;
}

/* Signals the group, waits up to the grace period, then kills it. */
static int proc_stop(pid_t pid, int sig, long long grace_ms)
{
	long long until = log_clock_ms() + grace_ms;
	int status = 0;

	kill(-pid, sig);
	while (log_clock_ms() < until) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			goto out;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 20000000};
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
out:
	/* Whatever the child left behind in its group goes too. */
	kill(-pid, SIGKILL);
	return status;
}

static void proc_set_status(struct proc_result *result, int status)
{
	if (WIFEXITED(status)) {
		result->outcome = PROC_EXITED;
		result->status = WEXITSTATUS(status);
	} else {
		result->outcome = PROC_SIGNALED;
		result->status = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
}

/* Streams output until the child is gone, a timeout or a signal. */
static void proc_watch(const struct proc_spec *spec, pid_t pid, int fd,
                       struct proc_result *result, long long started)
{
	struct proc_lines lines = {.used = 0};
	bool open = true;
	int status;

	for (;;) {
		if (interrupt_pending() != 0) {
			proc_stop(pid, interrupt_pending(), spec->grace_ms);
			result->outcome = PROC_INTERRUPTED;
			result->status = interrupt_pending();
			break;
		}
		if (spec->timeout_ms > 0 &&
		    log_clock_ms() - started > spec->timeout_ms) {
			proc_stop(pid, SIGTERM, spec->grace_ms);
			result->outcome = PROC_TIMED_OUT;
			break;
		}
		if (open)
			open = proc_drain(fd, &lines, 100);
		else
			interrupt_sleep_ms(50);
		if (waitpid(pid, &status, WNOHANG) == pid) {
			while (open && proc_drain(fd, &lines, 0))
				;
			proc_set_status(result, status);
			kill(-pid, SIGKILL);
			break;
		}
	}
	if (lines.used > 0)
		proc_flush_line(&lines);
}

bool proc_run(const struct proc_spec *spec, struct proc_result *result)
{
	long long started = log_clock_ms();
	pid_t parent = getpid(), pid, guard;
	int pipefd[2], guard_fd;

	result->outcome = PROC_NOT_STARTED;
	result->status = 0;
	result->error = 0;
	result->elapsed_ms = 0;
	result->timeout_ms = spec->timeout_ms;
	result->grace_ms = spec->grace_ms;
	if (pipe(pipefd) != 0) {
		result->error = errno;
		return false;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		result->error = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return false;
	}
	if (pid == 0) {
		close(pipefd[0]);
		proc_exec(spec, pipefd[1], parent);
	}
	/* Both sides set the group, so that a signal cannot miss it. */
	setpgid(pid, pid);
	close(pipefd[1]);
	fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
	guard = proc_guard_start(pid, &guard_fd);
	proc_watch(spec, pid, pipefd[0], result, started);
	proc_guard_stop(guard, guard_fd);
	close(pipefd[0]);
	result->elapsed_ms = log_clock_ms() - started;
	return result->outcome == PROC_EXITED && result->status == 0;
}

void proc_describe(const struct proc_result *result, const char *what,
                   char *buf, size_t size)
{
	switch (result->outcome) {
	case PROC_EXITED:
		snprintf(buf, size, "%s exited with status %d", what,
		         result->status);
		break;
	case PROC_SIGNALED:
		snprintf(buf, size, "%s was killed by signal %d", what,
		         result->status);
		break;
	case PROC_TIMED_OUT:
		snprintf(buf, size,
		         "%s timed out after %lld s and was stopped (SIGTERM, "
		         "then SIGKILL after a grace of %lld s; %lld s in all)",
		         what, result->timeout_ms / 1000,
		         result->grace_ms / 1000, result->elapsed_ms / 1000);
		break;
	case PROC_INTERRUPTED:
		snprintf(buf, size, "%s was stopped by signal %d", what,
		         result->status);
		break;
	case PROC_NOT_STARTED:
		snprintf(buf, size, "%s could not be started%s%s", what,
		         result->error != 0 ? ": " : "",
		         result->error != 0 ? strerror(result->error) : "");
		break;
	}
}
