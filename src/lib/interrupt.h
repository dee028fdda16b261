/*
 * interrupt: SIGTERM and SIGINT become a flag that long waits check, so
 * that a program can stop its child, release what it holds and exit with
 * the interrupted status instead of dying in the middle of a step.
 */
#ifndef ALGA_INTERRUPT_H
#define ALGA_INTERRUPT_H

#include <stdbool.h>

void interrupt_install(void);
/* The signal that arrived (SIGTERM or SIGINT), or 0. */
int interrupt_pending(void);
/* Sleeps ms milliseconds; returns false early when a signal arrived. */
bool interrupt_sleep_ms(long long ms);

#endif
