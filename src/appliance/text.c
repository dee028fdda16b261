/*
 * text: bounded formatting that says when it had to cut.
 */
#include "appliance/text.h"

#include <stdarg.h>
#include <stdio.h>

bool text_format(char *buf, size_t size, const char *fmt, ...)
{
	va_list args;
	int n;

	va_start(args, fmt);
	n = vsnprintf(buf, size, fmt, args);
	va_end(args);
	return n >= 0 && (size_t)n < size;
}
