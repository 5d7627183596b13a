/* mem.h — the agent's own memory: a private mimalloc (dlopen RTLD_LOCAL), never the
 * hooked malloc, so the agent neither recurses nor shows up in the host's heap. */
#ifndef PA_AGENT_MEM_H
#define PA_AGENT_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "pa_mem.h" /* pa_mem_alloc & co, shared with the reader code linked in */

/* Loads libmimalloc.so.2 privately. Returns 0, or -1 after logging why. */
int pa_mem_init(void);

/* Bytes the agent holds now and at its peak (mimalloc usable sizes). */
uint64_t pa_mem_bytes(void);
uint64_t pa_mem_peak(void);

#endif
