/* track.h — what a hook does once it has decided to record: stack, table, event. */
#ifndef PA_TRACK_H
#define PA_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "heap.h"
#include "pyagent/format.h"

/* Flags OR-ed into every new block: the phase of the process (startup, shutdown). */
extern _Atomic uint64_t pa_phase_flags;

/* Records a new block. Caller holds the re-entry guard. caller: the return address
 * of the allocation function (what called malloc), or NULL for no native frames. */
void pa_track_alloc(void *p, size_t size, unsigned allocator, const void *caller);

/* Records the free of p if it is tracked. may_flush = 0 when the caller may hold an
 * agent lock (frees made by code the agent called). */
void pa_track_free(void *p, int may_flush);

/* realloc: take the old block out before the real call (so no other thread can
 * see its address reused while it is still in the table), then either confirm the
 * free or put it back if the real call failed. */
int pa_track_take(void *p, pa_block_t *out);
void pa_track_put_back(const pa_block_t *b);
void pa_track_freed(void *p);

#endif
