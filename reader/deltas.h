/* deltas.h — what a time span of one thread cost: allocations (exact: the thread's
 * ALLOC events in [start, end)) and sampled counters (the deltas of the thread's
 * samples taken in (start, end], as a profiler credits a sample to what it saw). */
#ifndef PA_DELTAS_H
#define PA_DELTAS_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

struct pa_deltas {
    size_t nevents;                          /* sampled events (0: no samples) */
    const char *names[PA_SAMPLE_MAX_EVENTS]; /* "task-clock" ... ("eventN" without SAMPLING) */
    int time_ev[PA_SAMPLE_MAX_EVENTS];       /* the event counts nanoseconds */
    int cpu;                                 /* index of the first time event (cpu_ns), or -1 */
    int have_alloc;       /* the trace has ALLOC events and all were kept */
    int alloc_incomplete; /* it has some, but not all were kept: no alloc fields */
    struct pa_deltas_priv *priv;
};

/* The deltas of one span. */
struct pa_delta {
    int have_samples; /* the thread has samples: v holds the estimates */
    uint64_t v[PA_SAMPLE_MAX_EVENTS];
    uint64_t alloc_bytes, alloc_count; /* when have_alloc */
};

/* Indexes t's samples and allocations (t finished). @return 0, or -1 when out of memory
 * (d is then empty but usable: no fields). Free with pa_deltas_free. */
int pa_deltas_build(const pa_trace_t *t, struct pa_deltas *d);
void pa_deltas_free(struct pa_deltas *d);

/* The deltas of thread serial over [start, end]: its allocations in [start, end), and
 * the sample deltas of its samples taken in (start, end]. */
void pa_deltas_get(const struct pa_deltas *d, uint64_t serial, uint64_t start, uint64_t end, struct pa_delta *out);

#endif
