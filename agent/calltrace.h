/* calltrace.h — trace mode: every Python function entry and exit (optionally calls
 * into C functions) as compact call events in per-thread buffers, written as
 * PA_REC_CALLS_DELTA records. Every function here runs with the GIL held: the GIL is what
 * lets a flush take other threads' buffers without any lock on the per-call path. */
#ifndef PA_CALLTRACE_H
#define PA_CALLTRACE_H

#include <stdint.h>

#include "python.h"
#include "thread.h"

/* A Python frame starts (resumed: a generator or coroutine continues). */
void pa_calls_enter(pa_thread_t *t, PyObject *code, int resumed);

/* A call into C: fn identifies the C function (its PyMethodDef), named on first sight
 * as owner.name (owner: a module or type name, or NULL). */
void pa_calls_enter_c(pa_thread_t *t, const void *fn, const char *owner);

/* The innermost open frame (Python or C) exits (enum pa_call_kind). */
void pa_calls_exit(pa_thread_t *t, unsigned kind);

/* The frame evaluator (evalhook.c) keeps each entry with its exit: it uses
 * pa_calls_begin and pa_calls_end, inline, from calltrace_fast.h. */

/* Every thread's buffered call events to the writer (GIL held, or the process is
 * down to one thread running Python: exit). */
void pa_calls_flush_all(void);

/* fork child: the parent's buffers dropped. */
void pa_calls_fork_child(void);

/* Call events recorded so far (all threads). */
uint64_t pa_calls_events(void);

#endif
