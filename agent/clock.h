/* clock.h — the clock of every event in the trace (calls, allocations, samples,
 * markers), so that they order correctly against each other: in trace mode the TSC
 * (~11 ns here, against ~27 ns for the kvm-clock vDSO) converted to CLOCK_MONOTONIC
 * nanoseconds, else CLOCK_MONOTONIC itself. Async-signal-safe. */
#ifndef PA_CLOCK_H
#define PA_CLOCK_H

#include <stdint.h>

/* Calibrates against CLOCK_MONOTONIC (about two milliseconds) when the CPU has an
 * invariant TSC; otherwise every reading is a clock_gettime. Ordinary context. */
void pa_clock_init(void);

/* Now, in CLOCK_MONOTONIC nanoseconds (the same time base as pa_now_ns). */
uint64_t pa_clock_ns(void);

/* Re-anchors the conversion to CLOCK_MONOTONIC (keeps drift below a microsecond a
 * second); cheap, called at buffer boundaries and writer flushes. Any thread. */
void pa_clock_anchor(void);

#endif
