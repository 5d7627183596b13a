/* script.h — `pyagent script`: a trace-mode trace as a chronological list like perf
 * script: each call once, at its start, with its duration and counter deltas, indented
 * by depth; marks, counters, regions and pause/resume toggles in between. Text or JSON
 * lines. Times are relative to the process start. */
#ifndef PA_SCRIPT_H
#define PA_SCRIPT_H

#include <stdint.h>

#include "sbuf.h"
#include "trace.h"

struct pa_script_opts {
    int json;             /* JSON lines instead of text */
    const char *thread;   /* only threads matching "NAME", "TID" or "#SERIAL"; NULL: all */
    const char *function; /* only calls of this function with their callees; NULL: all */
    int has_since, has_until;
    uint64_t since_ns, until_ns; /* relative to the process start */
    int max_depth;        /* < 0: all; else the deepest depth shown (0: top level) */
    const char *fields;   /* text columns, comma-separated; NULL: the default */
    /* Called when out holds at least PA_SCRIPT_FLUSH_BYTES: writes and empties it.
     * NULL keeps everything in out. @return 0, or -1 to stop (render then returns -1). */
    int (*flush)(pa_sbuf_t *out, void *arg);
    void *flush_arg;
};

#define PA_SCRIPT_FLUSH_BYTES (1u << 20)

/* The text columns, for help and errors. */
#define PA_SCRIPT_FIELDS "time, thread, depth, duration, cpu, alloc, function, file, or a sampled event's name"

/* Renders t (calls pa_trace_finish) by appending to out.
 * @return 0 (err may hold notes: nothing to show, segments dropped); -1 out of memory or
 * flush failure; -2 when an option does not fit the trace (no such thread, field):
 * err then holds one line saying why. */
int pa_script_render(pa_trace_t *t, const struct pa_script_opts *o, pa_sbuf_t *out, pa_sbuf_t *err);

/* Parses a time: "1.5s", "200ms", "300us", "123ns", or plain seconds ("2", "0.25").
 * @return 0, or -1 when malformed or beyond 2^64 ns. */
int pa_parse_time(const char *s, uint64_t *ns);

#endif
