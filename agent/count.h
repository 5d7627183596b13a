/* count.h — PYAGENT_COUNT: calls of named functions counted with their duration,
 * thread CPU time and allocations, in any mode, as PA_EV_COUNTED events. */
#ifndef PA_COUNT_H
#define PA_COUNT_H

#include "python.h"
#include "thread.h"

/* Parses PYAGENT_COUNT. @return the number of patterns (0: nothing to count). */
int pa_count_init(void);

/* Whether a code object is one of the counted functions (GIL held; cached). */
int pa_count_matches(PyObject *code);

/* Frame events of a counted code object (GIL held). */
void pa_count_enter(pa_thread_t *t, PyObject *code, int resumed);
void pa_count_exit(pa_thread_t *t, PyObject *code);

/* The patterns, for the TRACING record. */
int pa_count_patterns(const char **out, int max);

#endif
