/*
 * quantity: Kubernetes resource quantities ("500m", "1.5", "512Mi", "2G").
 */
#ifndef ALGA_APPLIANCE_QUANTITY_H
#define ALGA_APPLIANCE_QUANTITY_H

#include <stdbool.h>
#include <stddef.h>

/* CPU in millicores; false when text is not a CPU quantity. */
bool quantity_cpu(const char *text, long *millicores);
/* Memory in bytes; false when text is not a memory quantity. */
bool quantity_memory(const char *text, long long *bytes);
/* "1500m" / "1.5Gi" style text for a table. */
void quantity_format_cpu(long long millicores, char *text, size_t size);
void quantity_format_memory(long long bytes, char *text, size_t size);

#endif
