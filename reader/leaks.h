/* leaks.h — leak analysis (grouping, ordering, the residue rule) and its text and
 * JSON renderings. The agent prints the same report at exit, so both share this code. */
#ifndef PA_LEAKS_H
#define PA_LEAKS_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"
#include "trace.h"

struct pa_leaks_opts {
    int json;              /* JSON for scripts instead of text */
    int all;               /* also show residue */
    int top;               /* groups shown at most; 0 = all */
    int full_stacks;       /* text: no collapsing of interpreter / outer native frames */
    const char *trace_path; /* named at the end of the text report; may be NULL */
};

/* Where the groups came from. */
enum pa_leak_source {
    PA_LEAKS_NONE = 0,    /* no LEAK records and nothing live in the replay */
    PA_LEAKS_RECORDS = 1, /* LEAK records written by the agent at exit */
    PA_LEAKS_REPLAY = 2,  /* no LEAK records: blocks live at the last event */
};

struct pa_leak_group {
    uint64_t stack, bytes, count, flags; /* flags: PA_LEAK_* */
    int residue;                         /* hidden unless opts.all */
};

struct pa_leak_set {
    enum pa_leak_source source;
    int complete;                 /* the trace has an EXIT checkpoint */
    struct pa_leak_group *groups; /* by bytes desc, count desc, stack, flags */
    size_t n;
    size_t shown, hidden;         /* groups not residue / residue */
    uint64_t shown_bytes, shown_count, hidden_bytes, hidden_count;
};

/* Builds the groups: LEAK records of the EXIT checkpoint (else of the latest kind
 * present) merged per (stack, flags), or the replay fallback. Calls pa_trace_finish.
 * @return 0, or -1 when out of memory (set is then empty). Free with pa_leaks_set_free. */
int pa_leaks_collect(pa_trace_t *t, struct pa_leak_set *set);
void pa_leaks_set_free(struct pa_leak_set *set);

/* The residue rule (see leaks.c) for one stack. @return 1 residue, 0 shown,
 * -1 out of memory. Requires pa_trace_finish. */
int pa_leaks_is_residue(const pa_trace_t *t, uint64_t stack, uint64_t flags);

/* Renders the leak report (text or JSON per o) by appending to out.
 * @return 0, or -1 when out of memory (out may hold a partial report). */
int pa_leaks_render(pa_trace_t *t, const struct pa_leaks_opts *o, pa_sbuf_t *out);

#endif
