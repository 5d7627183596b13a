/* unwind.h — native call stacks of the calling thread, without the agent's frames. */
#ifndef PA_UNWIND_H
#define PA_UNWIND_H

#include <stdint.h>

/* Finds the agent's own code range. Returns 0 or -1. */
int pa_unwind_init(void);

/* Return addresses, innermost first, starting at the agent's caller (the code that
 * called malloc). At most max entries; scratch must hold max + PA_UNWIND_SLACK. */
#define PA_UNWIND_SLACK 16
int pa_unwind(uintptr_t *ips, int max, void **scratch);

/* From a signal handler: the interrupted code's frames, innermost (start, the
 * interrupted instruction) first; just start if libunwind cannot cross the signal
 * frame. Same scratch rule. */
int pa_unwind_from(uintptr_t *ips, int max, void **scratch, uintptr_t start);

/* Around fork (session.c): prepare waits until no thread is inside libunwind and keeps
 * new unwinds out (they return no frame) until parent or child runs. */
void pa_unwind_fork_prepare(void);
void pa_unwind_fork_parent(void);
void pa_unwind_fork_child(void);

#endif
