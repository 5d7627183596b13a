/* clock.h — the clock of every event in the trace (calls, allocations, samples,
 * markers), so that they order correctly against each other: in trace mode the TSC
 * (~11 ns here, against ~27 ns for the kvm-clock vDSO) converted to CLOCK_MONOTONIC
 * nanoseconds, else CLOCK_MONOTONIC itself. Async-signal-safe. */
#ifndef PA_CLOCK_H
#define PA_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>
#include <x86intrin.h>

/* Calibrates against CLOCK_MONOTONIC (about two milliseconds) when the CPU has an
 * invariant TSC; otherwise every reading is a clock_gettime. Ordinary context. */
void pa_clock_init(void);

/* Now, in CLOCK_MONOTONIC nanoseconds (the same time base as pa_now_ns). */
uint64_t pa_clock_ns(void);

/* The same, inline, for trace mode's per-call path (two readings per call). */
typedef struct pa_clock_anchor { uint64_t tsc, ns; } pa_clock_anchor_t;
extern int pa_clock_tsc;           /* 0: CLOCK_MONOTONIC */
extern uint64_t pa_clock_mult;     /* ns per tick, 32.32 fixed point */
extern _Atomic(pa_clock_anchor_t *) pa_clock_current;

static inline uint64_t pa_clock_fast(void)
{
    if (__builtin_expect(!pa_clock_tsc, 0))
        return pa_clock_ns();
    const pa_clock_anchor_t *a = atomic_load_explicit(&pa_clock_current, memory_order_acquire);
    uint64_t t = __rdtsc();
    if (__builtin_expect(t < a->tsc, 0))
        return a->ns;
    return a->ns + (uint64_t)(((unsigned __int128)(t - a->tsc) * pa_clock_mult) >> 32);
}

/* Re-anchors the conversion to CLOCK_MONOTONIC (keeps drift below a microsecond a
 * second); cheap, called at buffer boundaries and writer flushes. Any thread. */
void pa_clock_anchor(void);

#endif
