/*
 * text: bounded formatting that says when it had to cut.
 */
#ifndef ALGA_APPLIANCE_TEXT_H
#define ALGA_APPLIANCE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* snprintf into buf; false when the text did not fit (it is cut). */
__attribute__((format(printf, 3, 4))) bool text_format(char *buf, size_t size,
                                                       const char *fmt, ...);

#endif
