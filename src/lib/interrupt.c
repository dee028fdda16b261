/*
 * interrupt: the signal flag and an interruptible sleep.
 */
#include "lib/interrupt.h"

#include <signal.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t interrupt_signal;

static void interrupt_handler(int sig)
{
	interrupt_signal = sig;
}

void interrupt_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = interrupt_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking wait should return and look at the flag. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int interrupt_pending(void)
{
	return interrupt_signal;
}

bool interrupt_sleep_ms(long long ms)
{
	while (ms > 0 && interrupt_signal == 0) {
		long long slice = ms > 50 ? 50 : ms;
		struct timespec ts = {
		        .tv_sec = 0,
		        .tv_nsec = (long)(slice * 1000000),
		};
		nanosleep(&ts, NULL);
		ms -= slice;
	}
	return interrupt_signal == 0;
}
