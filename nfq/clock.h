/*
 * clock: the daemon's two clocks, read in one place.  Real time stamps
 * what is logged (event "ts", the start time); monotonic time measures
 * intervals (refresh ages, waits, ticks) and never jumps with the wall
 * clock.
 */
#ifndef PORTCLASS_NFQ_CLOCK_H
#define PORTCLASS_NFQ_CLOCK_H

#include <stdint.h>

/* Nanoseconds since the epoch (CLOCK_REALTIME). */
uint64_t clock_real_ns(void);

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t clock_mono_ns(void);

#endif
