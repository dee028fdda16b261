/*
 * log: the line format of both programs and the redaction of secrets.
 */
#include "lib/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_LINE_MAX 4096
#define LOG_REDACT_MAX 32
#define LOG_REDACTED "[redacted]"

static const char *log_program = "alga";
static enum log_format log_fmt = LOG_TEXT;
static FILE *log_out;
static const char *log_phase_name = "start";
static long long log_start;
static long long log_phase_start;
static char *log_secrets[LOG_REDACT_MAX];
static size_t log_secret_count;
static char **log_verbatims;
static size_t log_verbatim_count;

long long log_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void log_init(const char *program, enum log_format format, FILE *out)
{
	log_program = program;
	log_fmt = format;
	log_out = out;
	log_start = log_clock_ms();
	log_phase_start = log_start;
}

bool log_format_parse(const char *text, enum log_format *format)
{
	if (strcmp(text, "text") == 0)
		*format = LOG_TEXT;
	else if (strcmp(text, "json") == 0)
		*format = LOG_JSON;
	else
		return false;
	return true;
}

void log_phase(const char *phase)
{
	log_phase_name = phase;
	log_phase_start = log_clock_ms();
}

void log_phase_from_start(const char *phase)
{
	log_phase_name = phase;
	log_phase_start = log_start;
}

const char *log_current_phase(void)
{
	return log_phase_name;
}

long long log_phase_ms(void)
{
	return log_clock_ms() - log_phase_start;
}

long long log_total_ms(void)
{
	return log_clock_ms() - log_start;
}

/* ---- redaction ---- */

void log_redact(const char *secret)
{
	if (secret == NULL || secret[0] == '\0' ||
	    log_secret_count == LOG_REDACT_MAX)
		return;
	log_secrets[log_secret_count] = strdup(secret);
	if (log_secrets[log_secret_count] != NULL)
		log_secret_count++;
}

void log_verbatim(const char *text)
{
	char **grown;

	if (text == NULL || text[0] == '\0')
		return;
	grown = realloc(log_verbatims,
	                (log_verbatim_count + 1) * sizeof(*log_verbatims));
	if (grown == NULL)
		return;
	log_verbatims = grown;
	log_verbatims[log_verbatim_count] = strdup(text);
	if (log_verbatims[log_verbatim_count] != NULL)
		log_verbatim_count++;
}

void log_redact_clear(void)
{
	for (size_t i = 0; i < log_secret_count; i++) {
		explicit_bzero(log_secrets[i], strlen(log_secrets[i]));
		free(log_secrets[i]);
		log_secrets[i] = NULL;
	}
	log_secret_count = 0;
	for (size_t i = 0; i < log_verbatim_count; i++)
		free(log_verbatims[i]);
	free(log_verbatims);
	log_verbatims = NULL;
	log_verbatim_count = 0;
}

/* Marks in keep every byte of src that belongs to a verbatim text. */
static void log_mark_verbatim(const char *src, size_t len, bool *keep)
{
	memset(keep, 0, len);
	for (size_t i = 0; i < log_verbatim_count; i++) {
		size_t n = strlen(log_verbatims[i]);
		for (const char *at = strstr(src, log_verbatims[i]);
		     at != NULL && (size_t)(at - src) + n <= len;
		     at = strstr(at + 1, log_verbatims[i]))
			memset(keep + (at - src), 1, n);
	}
}

/* The registered secret that starts at src[i] and overlaps no kept byte. */
static const char *log_secret_at(const char *src, size_t len, size_t i,
                                 const bool *keep)
{
	for (size_t s = 0; s < log_secret_count; s++) {
		size_t n = strlen(log_secrets[s]);
		if (i + n > len || strncmp(src + i, log_secrets[s], n) != 0 ||
		    memchr(keep + i, 1, n) != NULL)
			continue;
		return log_secrets[s];
	}
	return NULL;
}

char *log_redacted(const char *src, char *dst, size_t size)
{
	size_t len = strnlen(src, LOG_LINE_MAX - 1), i = 0, o = 0;
	size_t mark = strlen(LOG_REDACTED);
	bool keep[LOG_LINE_MAX];

	if (size == 0)
		return dst;
	log_mark_verbatim(src, len, keep);
	while (i < len && o + 1 < size) {
		const char *secret = log_secret_at(src, len, i, keep);
		if (secret == NULL) {
			dst[o++] = src[i++];
			continue;
		}
		if (o + mark + 1 > size)
			break;
		memcpy(dst + o, LOG_REDACTED, mark);
		o += mark;
		i += strlen(secret);
	}
	dst[o] = '\0';
	return dst;
}

/* ---- output ---- */

static void log_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void log_json_time(FILE *out)
{
	struct timespec ts;
	struct tm tm;
	char buf[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(out, "\"time\":\"%s.%03ldZ\"", buf, ts.tv_nsec / 1000000);
}

static void log_emit(const char *level, const char *message, bool child)
{
	FILE *out = log_out != NULL ? log_out : stderr;
	char clean[LOG_LINE_MAX];

	log_redacted(message, clean, sizeof(clean));
	if (log_fmt == LOG_JSON) {
		fputc('{', out);
		log_json_time(out);
		fprintf(out, ",\"program\":\"%s\",\"level\":\"%s\",\"phase\":",
		        log_program, level);
		log_json_string(out, log_phase_name);
		fputs(child ? ",\"output\":" : ",\"message\":", out);
		log_json_string(out, clean);
		if (!child)
			fprintf(out, ",\"elapsed_ms\":%lld", log_phase_ms());
		fputs("}\n", out);
	} else if (child) {
		fprintf(out, "%s: %s | %s\n", log_program, log_phase_name,
		        clean);
	} else {
		const char *tag = strcmp(level, "info") == 0 ? "" : level;
		fprintf(out, "%s: %s %s%s%s (%lld ms)\n", log_program,
		        log_phase_name, tag, tag[0] != '\0' ? ": " : "", clean,
		        log_phase_ms());
	}
	fflush(out);
}

LOG_PRINTF(2, 0)
static void log_vline(const char *level, const char *fmt, va_list ap)
{
	char message[LOG_LINE_MAX];

	vsnprintf(message, sizeof(message), fmt, ap);
	log_emit(level, message, false);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("info", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("warning", fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("error", fmt, ap);
	va_end(ap);
}

void log_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline("hint", fmt, ap);
	va_end(ap);
}

void log_child(const char *line)
{
	log_emit("output", line, true);
}
