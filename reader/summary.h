/* summary.h — `pyagent summary`: process, interpreter, duration, threads, events,
 * memory counters and file health of a trace, as text or JSON. */
#ifndef PA_SUMMARY_H
#define PA_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"
#include "trace.h"

struct pa_summary_opts {
    int json;
    const char *trace_path; /* may be NULL */
};

/* Renders the summary of t (calls pa_trace_finish) by appending to out.
 * @return 0, or -1 when out of memory. */
int pa_summary_render(pa_trace_t *t, const struct pa_summary_opts *o, pa_sbuf_t *out);

/* "pid 1234 (python3 leaky.py)", argv cut short and made one line, for report headers. */
void pa_summary_process_line(pa_sbuf_t *o, const pa_trace_t *t);

/* The process's run time: from its start to its exit checkpoint (*to_exit = 1), else
 * to the last thing seen. @return 0, or -1 when the trace does not say. */
int pa_summary_duration(const pa_trace_t *t, uint64_t *ns, int *to_exit);

/* Formats Unix-epoch nanoseconds as UTC ISO-8601, "2024-05-01T12:34:56.789012Z".
 * out holds at least PA_UTC_BUFLEN bytes. @return out. */
#define PA_UTC_BUFLEN 40
char *pa_fmt_utc(char out[PA_UTC_BUFLEN], uint64_t real_ns);

#endif
