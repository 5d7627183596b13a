/* stats.h — the live view behind pyagent.stats(). */
#ifndef PA_STATS_H
#define PA_STATS_H

#include <stdint.h>

#include "sbuf.h"

/* A CPU sample whose innermost Python frame is fn (0: none), worth leader_value of
 * the sampling event. */
void pa_stats_sample(uint32_t fn, uint64_t leader_value);

/* A counted call of fn that lasted duration_ns. */
void pa_stats_counted(uint32_t fn, uint64_t duration_ns);

/* Appends the view as a JSON object, with the figures other modules keep (the caller
 * drains the sample rings first). @return 0 or -1. */
int pa_stats_json(pa_sbuf_t *out, int paused, uint64_t call_events, uint64_t lost);

#endif
