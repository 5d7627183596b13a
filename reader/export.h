/* export.h — `pyagent export`: a trace in formats other tools open. Chrome trace event
 * JSON (Perfetto, chrome://tracing) and speedscope JSON. Times are relative to the
 * process start. */
#ifndef PA_EXPORT_H
#define PA_EXPORT_H

#include "sbuf.h"
#include "trace.h"

enum pa_export_format { PA_EXPORT_CHROME = 1, PA_EXPORT_SPEEDSCOPE = 2 };

struct pa_export_opts {
    enum pa_export_format format;
    /* As in pa_script_opts: called when out holds at least PA_EXPORT_FLUSH_BYTES. */
    int (*flush)(pa_sbuf_t *out, void *arg);
    void *flush_arg;
};

#define PA_EXPORT_FLUSH_BYTES (1u << 20)

/* Chrome (object form): {"displayTimeUnit": "ns", "otherData": {...}, "traceEvents": [...]}
 * with ts and dur in microseconds (three decimals: exact nanoseconds):
 *   "M" process_name, thread_name and thread_sort_index per thread (and per region track);
 *   calls: "X" on their thread (cat "python" or "c"), args file, line, depth, exit,
 *     resumed, unfinished and the counter deltas as in `pyagent script --json`;
 *   regions: "X" (cat "region") on a track of their own per thread, tid 2^31 + serial,
 *     named "THREAD regions" (regions need not nest with calls);
 *   marks: "i" (scope thread, cat "mark"), args = the mark's fields;
 *   counters: "C", args {"value": v};
 *   pause/resume: "i" (scope process, cat "toggle"), args {"cause"};
 *   without CALLS records, CPU samples: "i" (cat "sample") named after the innermost
 *     frame, args {"stack": [outermost ... innermost], event: value ...}.
 * Speedscope (https://www.speedscope.app/file-format-schema.json): shared.frames, and
 * per thread one "evented" profile (O/C events in ns) from the calls, or, without
 * CALLS records, one "sampled" profile from the CPU samples in time order, weighted by
 * the leader event (unit "nanoseconds" for a time event, else "none").
 * @return 0 (err may hold a note: nothing to export), -1 out of memory or flush failure. */
int pa_export_render(pa_trace_t *t, const struct pa_export_opts *o, pa_sbuf_t *out, pa_sbuf_t *err);

#endif
