/* stats.h — the live view behind pyagent.stats(). */
#ifndef PA_STATS_H
#define PA_STATS_H

#include <stdint.h>

#include "sbuf.h"

/* A CPU sample of thread serial/tid whose innermost Python frame is fn (0: none),
 * with its n counter deltas (the first: the sampling event's). */
void pa_stats_sample(uint32_t serial, int tid, uint32_t fn, const uint64_t *vals, int n);

/* A counted call of fn that lasted duration_ns. */
void pa_stats_counted(uint32_t fn, uint64_t duration_ns);

/* Appends the view as a JSON object, with the figures other modules keep (the caller
 * drains the sample rings first). @return 0 or -1. */
int pa_stats_json(pa_sbuf_t *out, int paused, uint64_t call_events, uint64_t lost);

#endif
