/*
 * quantity: parse the resource quantities of container requests and limits.
 */
#include "appliance/quantity.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct quantity_suffix {
	const char *text;
	double factor;
};

static const struct quantity_suffix quantity_suffixes[] = {
        {"Ki", 1024.0},
        {"Mi", 1024.0 * 1024},
        {"Gi", 1024.0 * 1024 * 1024},
        {"Ti", 1024.0 * 1024 * 1024 * 1024},
        {"k", 1e3},
        {"M", 1e6},
        {"G", 1e9},
        {"T", 1e12},
        {"m", 1e-3},
        {"", 1.0},
};

/* The number and suffix factor of a quantity; false when malformed. */
static bool quantity_parse(const char *text, double *value)
{
	char *end;
	double number;

	if (!text || !*text || isspace((unsigned char)*text) || *text == '-')
		return false;
	errno = 0;
	number = strtod(text, &end);
	if (errno || end == text || !(number >= 0 && number < 1e18) ||
	    strpbrk(text, "xXpPnN"))
		return false;
	for (size_t i = 0;
	     i < sizeof(quantity_suffixes) / sizeof(quantity_suffixes[0]);
	     i++) {
		if (strcmp(end, quantity_suffixes[i].text) == 0) {
			*value = number * quantity_suffixes[i].factor;
			return *value < 1e15;
		}
	}
	return false;
}

/* Kubernetes rounds a fraction of the smallest unit up. */
static long long quantity_round_up(double value)
{
	long long whole = (long long)value;

	return (double)whole + 1e-9 < value ? whole + 1 : whole;
}

bool quantity_cpu(const char *text, long *millicores)
{
	double value;

	if (!quantity_parse(text, &value))
		return false;
	*millicores = (long)quantity_round_up(value * 1000.0);
	return true;
}

bool quantity_memory(const char *text, long long *bytes)
{
	double value;

	if (!quantity_parse(text, &value))
		return false;
	*bytes = quantity_round_up(value);
	return true;
}

void quantity_format_cpu(long long millicores, char *text, size_t size)
{
	snprintf(text, size, "%lldm", millicores);
}

void quantity_format_memory(long long bytes, char *text, size_t size)
{
	double mib = (double)bytes / (1024.0 * 1024.0);

	if (mib >= 1024.0)
		snprintf(text, size, "%.2fGi", mib / 1024.0);
	else
		snprintf(text, size, "%.0fMi", mib);
}
