/*
 * appliance_tap.h: TAP lines for the alga-appliance unit tests, in the form
 * tests/run counts ("ok N - what", "not ok N - what", "# skip why").
 * Static functions only: each test file includes it once.
 */
#ifndef ALGA_APPLIANCE_TAP_H
#define ALGA_APPLIANCE_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

__attribute__((format(printf, 2, 3))) static bool tap_ok(bool passed,
                                                         const char *fmt, ...)
{
	va_list args;

	tap_count++;
	if (!passed)
		tap_failed++;
	printf("%sok %d - ", passed ? "" : "not ", tap_count);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
	fflush(stdout);
	return passed;
}

__attribute__((unused)) static void tap_skip(const char *what, const char *why)
{
	printf("ok %d - %s # skip %s\n", ++tap_count, what, why);
}

/* Equal strings pass; a failure shows both. */
__attribute__((unused)) static bool tap_is(const char *got, const char *want,
                                           const char *what)
{
	bool same = got && want && strcmp(got, want) == 0;

	tap_ok(same, "%s", what);
	if (!same)
		printf("#   got:  %s\n#   want: %s\n", got ? got : "(null)",
		       want ? want : "(null)");
	return same;
}

static int tap_done(void)
{
	return tap_failed ? 1 : 0;
}

#endif
