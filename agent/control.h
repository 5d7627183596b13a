/* control.h — pausing and resuming what is recorded (trace-mode calls, CPU samples,
 * counted calls) from the program (pyagent.pause/resume, the C API) or from outside
 * (PYAGENT_TOGGLE_SIGNAL), and starting paused (PYAGENT_START=paused). Allocation
 * tracking never pauses: a leak report must see every block. */
#ifndef PA_CONTROL_H
#define PA_CONTROL_H

#include <stdatomic.h>

#include "common.h"
#include "thread.h"

extern atomic_int pa_paused;

static inline int pa_control_paused(void) { return atomic_load_explicit(&pa_paused, memory_order_relaxed); }

/* At activation: the initial state and the toggle signal's handler. */
void pa_control_start(void);

/* Pause (on = 1) or resume (on = 0); records a TOGGLE event. cause: enum pa_toggle_cause. */
void pa_control_set(int on, unsigned cause);

/* Records toggles that arrived by signal (the handler cannot write events). Cheap:
 * one relaxed load unless a toggle is waiting. */
extern atomic_uint pa_toggles_pending;
void pa_control_take_toggles(pa_thread_t *t);

static inline void pa_control_poll(pa_thread_t *t)
{
    if (PA_UNLIKELY(atomic_load_explicit(&pa_toggles_pending, memory_order_relaxed)))
        pa_control_take_toggles(t);
}

#endif
