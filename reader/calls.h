/* calls.h — trace mode: the CALLS records of each thread matched into call segments
 * (entry to return, yield or unwind), filtered by thread, a function's subtree, a time
 * window and depth; regions paired per thread. `pyagent script` and `export` render them. */
#ifndef PA_CALLS_H
#define PA_CALLS_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

/* Frames open at once per thread; entries beyond are dropped with their exits. The
 * agent tracks 1 << 17 frames per thread. */
#define PA_CALLS_MAX_DEPTH (1u << 17)
/* Call segments kept for rendering, at most (48 bytes each, about 1 GiB). */
#define PA_CALLS_MAX_KEPT ((size_t)22 << 20)

enum {
    PA_CALLF_RESUMED = 1,    /* entered as a generator or coroutine continuing */
    PA_CALLF_UNFINISHED = 2, /* never exited: closed at its thread's last event */
};

/* One call segment: a call, or one resume..yield stretch of a generator or coroutine. */
struct pa_call {
    uint64_t start, end; /* absolute ns */
    uint64_t serial;     /* thread */
    uint64_t func;       /* function id (pa_trace_function) */
    uint64_t seq;        /* entry order within the thread */
    uint32_t depth;      /* 0 = the outermost frame recorded on the thread */
    uint16_t rdepth;     /* depth below the --function match (= depth, capped, without one) */
    uint8_t exit;        /* PA_CALL_RETURN, YIELD or UNWIND; PA_CALL_ENTER when unfinished */
    uint8_t flags;       /* PA_CALLF_* */
};

/* A time span of one thread: a call matching --function (annotations inside it are shown). */
struct pa_call_span {
    uint64_t serial, start, end;
};

/* Regions open at once over all threads; later begins are ignored. */
#define PA_REGIONS_MAX_OPEN 1024

/* A region (PA_EV_REGION begin and end) of one thread. */
struct pa_region {
    uint64_t start, end, serial, name; /* name: sid */
    uint64_t seq;                      /* begin order */
    int unfinished;                    /* no end: closed at its thread's last event */
};

struct pa_calls_opts {
    const uint64_t *serials; /* only these threads; NULL: all */
    size_t nserials;
    const char *function; /* only calls of this function and their callees; NULL: all */
    uint64_t since, until; /* absolute ns: calls overlapping [since, until]; 0, UINT64_MAX: all */
    int max_depth;         /* < 0: any; else rdepth <= max_depth */
};

struct pa_calls {
    struct pa_call *v; /* sorted by start, then serial, then seq (per thread: preorder) */
    size_t n, cap;
    struct pa_call_span *spans; /* with opts.function: the matching calls, by serial then start */
    size_t nspans, spans_cap;
    uint64_t unmatched_exits; /* exits without an entry (tracing began inside the frame) */
    uint64_t too_deep;        /* entries beyond PA_CALLS_MAX_DEPTH, dropped */
    uint64_t not_kept;        /* segments beyond PA_CALLS_MAX_KEPT, dropped */
    uint64_t unknown_funcs;   /* segments whose function id is never defined */
};

/* Pairs and filters the calls of t (finished). @return 0, or -1 when out of memory
 * (c is then empty). Free with pa_calls_free even after an error. */
int pa_calls_build(const pa_trace_t *t, const struct pa_calls_opts *o, struct pa_calls *c);
void pa_calls_free(struct pa_calls *c);

/* The regions of the threads selected (serials NULL: all), sorted by start, then serial,
 * then begin order. An end without a begin is ignored. @return the count, or
 * (size_t)-1 when out of memory; *out is allocated (pa_mem_free). */
size_t pa_regions_build(const pa_trace_t *t, const uint64_t *serials, size_t nserials, struct pa_region **out);

/* 1 when name (a qualified name: "Class.method", "builtins.len") is spec or ends in
 * "." + spec: "method" and "Class.method" both match "mod.Class.method". */
int pa_calls_name_matches(const char *name, const char *spec);

/* Where relative times start: the process start, else the earliest call or event. */
uint64_t pa_calls_base_ns(const pa_trace_t *t);

/* 1 when serial is in the sorted list (serials NULL: every serial is). */
int pa_calls_has_serial(const uint64_t *serials, size_t n, uint64_t serial);

#endif
