/* counters.h — performance counters for the CPU profiler: libpfm4 event names encoded
 * into perf_event attributes, the default set with its software fallback, and
 * per-thread counter groups, and how a set is split into groups for sampling. */
#ifndef PA_COUNTERS_H
#define PA_COUNTERS_H

#include <linux/perf_event.h>
#include <stddef.h>
#include <stdint.h>

#define PA_MAX_EVENTS 8
#define PA_EVENT_NAME 64

typedef struct pa_counter_event {
    char name[PA_EVENT_NAME];   /* as given by the user (or the default list) */
    struct perf_event_attr attr;
} pa_event_t;

typedef struct pa_event_set {
    int n;
    pa_event_t ev[PA_MAX_EVENTS];
} pa_event_set_t;

/* The default when PYAGENT_EVENTS is not set, and its fallback without a PMU. */
#define PA_EVENTS_HARDWARE "cycles,instructions,cache-misses,branch-misses"
#define PA_EVENTS_SOFTWARE "task-clock,page-faults,context-switches"

/* Encodes a comma-separated list of libpfm4 event names (generic names, PMU-specific
 * names, perf::... software events, modifiers such as :u). Nothing is opened.
 * @return 0, or -1 with a message naming the offending event in err. */
int pa_events_encode(const char *list, pa_event_set_t *out, char *err, size_t errlen);

/* The same for the generic names of the default sets (cycles, instructions,
 * cache-misses, branch-misses, task-clock, page-faults, context-switches) without
 * libpfm4. @return 0, or -1 for any other name. */
int pa_events_encode_generic(const char *list, pa_event_set_t *out);

/* Whether the kernel lets this thread count with every event of the set: only a
 * successful perf_event_open counts (on VMs hardware events encode but fail with
 * ENOENT). @return 0, or the errno of the first event that failed, named in why. */
int pa_events_probe(const pa_event_set_t *set, char *why, size_t whylen);

/* The default set: the hardware one where it opens here, else the software one;
 * `note` then says what fell back and why (one line for the user). @return 0 or -1. */
int pa_events_default(pa_event_set_t *out, char *note, size_t notelen);

/* Opens the set on the calling thread as one group (the first event leads), counting
 * from now. fds receives set->n descriptors. @return 0 or -errno (nothing left open). */
int pa_group_open(const pa_event_set_t *set, int *fds);

/* Reads the group: values scaled by time_enabled / time_running when the kernel
 * multiplexed it (*scaled set to 1 then). @return 0 or -errno. */
int pa_group_read(int leader, int n, uint64_t *values, int *scaled);

void pa_group_close(int *fds, int n);

/* Hardware events counted together with the sampling leader; more would not fit the
 * PMUs of common x86 cores (4 general-purpose counters per thread). */
#define PA_GROUP_HW_MAX 4

/* Splits a set for sampling: the first event leads (it samples), every software
 * event and up to PA_GROUP_HW_MAX hardware events count in its group (their indices
 * go to lead, leader first), the remaining hardware events in groups of their own
 * that the kernel time-shares (PA_EVF_MULTIPLEXED; read with scaling). flags[i]
 * gets PA_EVF_* for event i. @return the number of events in the leader's group. */
int pa_events_plan(const pa_event_set_t *set, unsigned *flags, int *lead);

#endif
