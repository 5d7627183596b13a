/* flamegraph.h — `pyagent flamegraph`: CPU samples as folded stacks (Brendan Gregg's
 * "frame;frame;frame value" lines) or as the JSON blob an HTML flame graph page shows
 * (flamegraph_html.h). Frames are "function (file.py:line)" with the executing line,
 * native ones "symbol [module]"; Python frames only unless native. */
#ifndef PA_FLAMEGRAPH_H
#define PA_FLAMEGRAPH_H

#include "sbuf.h"
#include "trace.h"

struct pa_flame_opts {
    const char *event;  /* folded: the event whose values are printed; NULL: the leader */
    const char *thread; /* only threads matching "NAME", "TID" or "#SERIAL"; NULL: all */
    int native;         /* keep native frames (default: Python frames only) */
};

/* Each renderer calls pa_trace_finish and appends to out.
 * @return 0 (err may then hold a note, e.g. that there are no samples); -1 when out of
 * memory; -2 when an option does not fit the trace: err holds one line saying why. */

/* One line per distinct stack with a nonzero value, outermost frame first, sorted.
 * ';' in names becomes ',' and control characters '?', so every line parses. */
int pa_flame_folded(pa_trace_t *t, const struct pa_flame_opts *o, pa_sbuf_t *out, pa_sbuf_t *err);

/* {"title": str, "events": [name], "unit": ["ns" | "count"], "threads": [{"name": str,
 *  "tid": int, "serial": int}], "stacks": [{"t": thread index, "f": [frame index,
 *  outermost first], "v": [value per event]}], "frames": [name]}. Stacks are distinct
 * per thread; frames are distinct names. Unnamed threads are named "#SERIAL". */
int pa_flame_json(pa_trace_t *t, const struct pa_flame_opts *o, pa_sbuf_t *out, pa_sbuf_t *err);

/* The self-contained HTML page of pa_flame_json's blob. */
int pa_flame_page(pa_trace_t *t, const struct pa_flame_opts *o, pa_sbuf_t *out, pa_sbuf_t *err);

#endif
