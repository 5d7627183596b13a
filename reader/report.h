/* report.h — `pyagent report`: the hottest functions per sampled event, like perf
 * report: self and total per function (or line, or native frame and shared object),
 * derived metrics (IPC, MPKI, branch misses), per thread on request. Text or JSON. */
#ifndef PA_REPORT_H
#define PA_REPORT_H

#include "sbuf.h"
#include "trace.h"

enum pa_report_sort { PA_SORT_SELF = 0, PA_SORT_TOTAL, PA_SORT_NAME };

/* Rows per table when opts.top is PA_REPORT_TOP_DEFAULT: text shows this many (5 per
 * thread with --threads), JSON everything. */
#define PA_REPORT_TOP_DEFAULT (-1)
#define PA_REPORT_TEXT_ROWS 20
#define PA_REPORT_THREAD_ROWS 5

struct pa_report_opts {
    int json;
    enum pa_report_sort sort;
    const char *event;      /* only this event; NULL: all, in the trace's order */
    const char *thread;     /* only threads matching "NAME", "TID" or "#SERIAL"; NULL: all */
    int threads;            /* add a per-thread breakdown */
    int lines;              /* rows are source lines of the innermost Python frame */
    int native;             /* native frames count; adds a per-shared-object table */
    int top;                /* rows per table; 0 = all; PA_REPORT_TOP_DEFAULT */
};

/* Renders the report of t (calls pa_trace_finish) by appending to out.
 * @return 0; -1 when out of memory; -2 when an option does not fit the trace (no such
 * event, no such thread): err then holds one line saying why, out is unchanged. */
int pa_report_render(pa_trace_t *t, const struct pa_report_opts *o, pa_sbuf_t *out, pa_sbuf_t *err);

/* The text shown (and put in JSON as "message") when there is nothing to report. */
#define PA_REPORT_NO_SAMPLES "no CPU samples in this trace (sampling was off or the program ran too briefly)"

#endif
