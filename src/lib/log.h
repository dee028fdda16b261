/*
 * log: one line per event, "PROGRAM: PHASE MESSAGE (N ms)", or the same as
 * a JSON object per line. N is the time since the phase began, so the line
 * that ends a step carries that step's duration.
 *
 * Text that was registered with log_redact never reaches the output, not
 * even from a child process: it is replaced by a fixed marker, whatever its
 * length.
 */
#ifndef ALGA_LOG_H
#define ALGA_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum log_format {
	LOG_TEXT,
	LOG_JSON,
};

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- setup ---- */

void log_init(const char *program, enum log_format format, FILE *out);
bool log_format_parse(const char *text, enum log_format *format);
/* Starts a phase ("wait", "lock" ...): later lines name it and time from here. */
void log_phase(const char *phase);
/* The same, timed from log_init: for the line that ends the program. */
void log_phase_from_start(const char *phase);
const char *log_current_phase(void);
/* Milliseconds since the current phase began, and since log_init. */
long long log_phase_ms(void);
long long log_total_ms(void);
/* Monotonic clock in milliseconds. */
long long log_clock_ms(void);

/* ---- lines ---- */

void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
/* What the operator should do about the error just logged. */
void log_hint(const char *fmt, ...) LOG_PRINTF(1, 2);
/* One line of a child's output, shown under the current phase. */
void log_child(const char *line);

/* ---- secrets ---- */

/* Registers text (copied) that must never be printed; empty text is ignored. */
void log_redact(const char *secret);
/*
 * Registers text (copied) that is printed as it is: no secret is replaced
 * inside it. For the paths we print ourselves (a password file's name),
 * which a short secret could otherwise cut up.
 */
void log_verbatim(const char *text);
/* Wipes and forgets every registered text, secret or verbatim. */
void log_redact_clear(void);
/*
 * Copies src to dst (size bytes) with every registered secret replaced,
 * except where it overlaps a verbatim text; returns dst. src is cut at
 * 4095 bytes. Exposed for the tests.
 */
char *log_redacted(const char *src, char *dst, size_t size);

#endif
