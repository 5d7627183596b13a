/* sampler.h — CPU sampling: per-thread counter groups whose leader overflows into a
 * realtime signal delivered to that thread; the handler only copies raw frames and
 * counter deltas into the thread's sample ring, and ordinary agent code (the
 * thread's next hook, any flush, thread end, exit) turns them into trace events. */
#ifndef PA_SAMPLER_H
#define PA_SAMPLER_H

#include <stdint.h>

#include "thread.h"

/* At activation (GIL held): chooses the events, installs the handler, opens the
 * counters of every thread already running, writes the SAMPLING record. A problem
 * is one pyagent: line and sampling stays off. */
void pa_sampler_start(void);

/* A new thread, in the thread itself before its start routine runs. */
void pa_sampler_thread_begin(void);

/* Thread end (its pthread key destructor): last samples drained, counters closed. */
void pa_sampler_thread_end(pa_thread_t *t);

/* The calling thread's samples, if any are waiting (cheap otherwise). */
void pa_sampler_poll(pa_thread_t *t);

/* Every thread's waiting samples (the writer, before a flush). */
void pa_sampler_drain_all(void);

/* Program end (before the interpreter finalises: its thread states are freed then,
 * and a sample must not walk them) and exit: counters stopped, samples drained. */
void pa_sampler_stop(void);

/* Samples lost because a ring was full; threads whose counters opened. */
uint64_t pa_sampler_lost(void);
uint64_t pa_sampler_threads(void);

/* fork child: the parent's counters are closed, this thread's reopened. */
void pa_sampler_fork_child(void);

#endif
