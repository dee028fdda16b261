/*
 * tap.h: TAP lines from C unit tests, for tests/run.
 *
 *   TAP_OK(cond, "what %d", n)   prints "ok N - what" or "not ok N - what"
 *   TAP_IS_STR(got, want, what)  string equality, shows both on failure
 *   tap_skip(what, why)          prints "ok N - what # skip why"
 *   tap_done()                   the exit status: 1 when anything failed
 */
#ifndef ALGA_TAP_H
#define ALGA_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

__attribute__((format(printf, 2, 3))) static inline bool
tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

#define TAP_OK(cond, ...) tap_ok((cond), __VA_ARGS__)

static inline bool tap_is_str(const char *got, const char *want,
                              const char *what)
{
	bool same = got != NULL && want != NULL && strcmp(got, want) == 0;

	if (!tap_ok(same, "%s", what))
		printf("#   got:  %s\n#   want: %s\n", got ? got : "(null)",
		       want ? want : "(null)");
	return same;
}

#define TAP_IS_STR(got, want, what) tap_is_str((got), (want), (what))

static inline void tap_skip(const char *what, const char *why)
{
	printf("ok %d - %s # skip %s\n", ++tap_count, what, why);
}

static inline int tap_done(void)
{
	return tap_failed > 0 ? 1 : 0;
}

#endif
