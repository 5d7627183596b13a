/* stacks.h — capturing the calling thread's mixed Python + native stack and
 * interning it as a node of the stack tree (a small id). */
#ifndef PA_STACKS_H
#define PA_STACKS_H

#include <stdint.h>

#include "thread.h"

/* The stack of the current allocation, innermost frame = the allocator called.
 * native: include native frames (0 for PyMem domain allocations, whose native part
 * is the interpreter itself). t may be NULL (thread ending). Returns 0 on failure. */
uint32_t pa_stack_capture(pa_thread_t *t, unsigned allocator, int native);

#endif
