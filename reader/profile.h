/* profile.h — CPU samples aggregated per function (self and total, per event), per
 * source line or per native frame and shared object, optionally for some threads only.
 * `pyagent report` renders it; `pyagent flamegraph` walks its stacks. */
#ifndef PA_PROFILE_H
#define PA_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"
#include "trace.h"

/* Views. The default (Python) view skips native frames: a sample's self goes to its
 * innermost Python frame, and a sample without one to a "[native] MODULE" entry named
 * after its innermost native frame's shared object ("[no frames]" when the stack is
 * empty). With native, every frame counts and self goes to the innermost frame. */
struct pa_profile_opts {
    int lines;               /* Python frames keyed by function and executing line */
    int native;              /* keep native frames; also aggregate per shared object */
    const uint64_t *serials; /* only samples of these thread serials; NULL: all */
    size_t nserials;
};

enum pa_prof_kind {
    PA_PROF_PYTHON = 1, /* name, file, line */
    PA_PROF_NATIVE,     /* name: symbol, else "module+0xOFF"; file: the module's path */
    PA_PROF_PY_UNKNOWN, /* a Python frame whose code could not be named */
    PA_PROF_UNKNOWN,    /* a stack node never defined (damaged trace) */
    PA_PROF_NO_PYTHON,  /* Python view, no Python frame: file = innermost native module or NULL */
    PA_PROF_NO_FRAMES,  /* stack 0: the agent captured no frame */
};

#define PA_PROF_NOMOD UINT32_MAX

struct pa_prof_func {
    unsigned kind;      /* enum pa_prof_kind */
    const char *name;   /* never NULL; owned by the profile or the trace */
    const char *file;   /* PYTHON: source file; NATIVE and NO_PYTHON: module path; or NULL */
    uint64_t line;      /* PYTHON: first line, or with opts.lines the executing line; else 0 */
    uint32_t module;    /* with opts.native: index in modules, else PA_PROF_NOMOD */
    uint64_t self[PA_SAMPLE_MAX_EVENTS], total[PA_SAMPLE_MAX_EVENTS];
    uint64_t self_samples, total_samples;
};

/* With opts.native: a shared object (NATIVE frames), or "[python]", "[unknown]",
 * "[no frames]" for the other kinds. Totals count each module once per sample. */
struct pa_prof_module {
    const char *path;
    uint64_t self[PA_SAMPLE_MAX_EVENTS], total[PA_SAMPLE_MAX_EVENTS];
    uint64_t self_samples, total_samples;
};

/* A thread that has samples passing the filter. */
struct pa_prof_thread {
    uint64_t serial, tid; /* tid 0: no THREAD record */
    const char *name;     /* NULL when unnamed */
    uint64_t samples, total[PA_SAMPLE_MAX_EVENTS];
};

/* The samples of one thread with one stack, summed. */
struct pa_prof_stack {
    uint64_t serial, stack, samples, v[PA_SAMPLE_MAX_EVENTS];
};

struct pa_prof_event {
    const char *name; /* "event1" ... when the trace has no SAMPLING record */
    uint64_t type, config, flags;
};

/* Indices of the events derived metrics need (-1: absent), found by perf type and
 * config (PERF_TYPE_HARDWARE) or by name ("cycles", "perf::INSTRUCTIONS:u" ...). */
struct pa_prof_roles {
    int cycles, instructions, cache_misses, branches, branch_misses;
};

struct pa_profile {
    size_t nevents;
    struct pa_prof_event events[PA_SAMPLE_MAX_EVENTS]; /* in SAMPLING order */
    struct pa_prof_roles roles;
    uint64_t samples, total[PA_SAMPLE_MAX_EVENTS];      /* samples passing the filter */
    struct pa_prof_func *funcs;
    size_t nfuncs;
    struct pa_prof_module *modules;
    size_t nmodules;
    struct pa_prof_thread *threads; /* by serial */
    size_t nthreads;
    struct pa_prof_stack *stacks; /* by serial, then stack id */
    size_t nstacks;
    struct pa_prof_priv *priv;
};

/* Aggregates t's samples (t must be finished). @return 0, or -1 when out of memory
 * (p is then empty). Free with pa_profile_free even after an error. */
int pa_profile_build(const pa_trace_t *t, const struct pa_profile_opts *o, struct pa_profile *p);
void pa_profile_free(struct pa_profile *p);

/* The view's frames of a stack, innermost first, as indices into p->funcs; at least one
 * (a pseudo frame when nothing else is left), at most PA_STACK_MAX_DEPTH + 1. *out is
 * owned by p and valid until the next call. New frames are added to p->funcs with zero
 * counts. @return the number of frames, or 0 when out of memory. */
size_t pa_profile_frames(struct pa_profile *p, uint64_t stack, const uint32_t **out);

/* Threads matching spec: "#N" is serial N, digits a tid, anything else a thread name.
 * @return the number of serials written to out (at most max), by serial. */
size_t pa_profile_select_threads(const pa_trace_t *t, const char *spec, uint64_t *out, size_t max);

/* The serials for a --thread option (spec NULL: *serials = NULL, all threads).
 * @return 0 (*serials allocated, free with pa_mem_free), -1 out of memory, or -2 when
 * no thread matches: err then holds one line naming the threads there are. */
int pa_profile_pick_threads(const pa_trace_t *t, const char *spec, uint64_t **serials, size_t *n, pa_sbuf_t *err);

/* Derived metrics of a set of values (one function's self, or the totals). */
struct pa_prof_metrics {
    int have_ipc, have_mpki, have_branch;
    int branch_per_kinst; /* branch-misses per 1000 instructions (no branches event) */
    double ipc, mpki, branch; /* branch: a fraction of branches, or per 1000 instructions */
};
void pa_profile_metrics(const struct pa_profile *p, const uint64_t *v, struct pa_prof_metrics *m);

/* Index of the event named name, or of the leader when name is NULL (the first event
 * when no event is flagged). @return -1 when there is no such event. */
int pa_profile_event(const struct pa_profile *p, const char *name);

#endif
