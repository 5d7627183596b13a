/* counted.h — PYAGENT_COUNT results: the PA_EV_COUNTED calls summed per function and
 * thread (calls, total, mean, min, max, CPU time, bytes allocated), for `pyagent summary`
 * and `pyagent report`, as a text table or a JSON array. */
#ifndef PA_COUNTED_H
#define PA_COUNTED_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"
#include "trace.h"

struct pa_counted_row {
    uint64_t func, serial, tid;  /* tid 0: no THREAD record */
    const char *name, *file;     /* file NULL: a C function */
    const char *thread;          /* NULL when unnamed */
    uint64_t line;               /* the function's first line */
    uint64_t calls, total_ns, min_ns, max_ns, cpu_ns, alloc_bytes, alloc_blocks;
};

/* Rows of the threads selected (serials sorted; NULL: all), by total time descending,
 * then name, then serial. *out is allocated (pa_mem_free).
 * @return the count, or (size_t)-1 when out of memory. */
size_t pa_counted_rows(const pa_trace_t *t, const uint64_t *serials, size_t nserials, struct pa_counted_row **out);

/* Appends the "counted functions" table; nothing when there are no counted calls.
 * @return 0, or -1 when out of memory. */
int pa_counted_text(const pa_trace_t *t, const uint64_t *serials, size_t nserials, pa_sbuf_t *o);

/* Appends `"counted": [{"function", "file", "line", "thread", "tid", "calls",
 * "total_ns", "mean_ns", "min_ns", "max_ns", "cpu_ns", "alloc_bytes", "alloc_blocks"}]`.
 * @return 0, or -1 when out of memory. */
int pa_counted_json(const pa_trace_t *t, const uint64_t *serials, size_t nserials, pa_sbuf_t *o);

#endif
