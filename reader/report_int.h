/* report_int.h — what report.c (options, rows, text) shares with report_json.c. */
#ifndef PA_REPORT_INT_H
#define PA_REPORT_INT_H

#include "profile.h"
#include "report.h"

/* One table row: a func or a module of the profile (idx), with one event's values. */
struct pa_report_row {
    uint64_t self, total;
    const char *name, *file;
    uint64_t line;
    size_t idx;
};

struct pa_report_ctx {
    pa_trace_t *t;
    const struct pa_report_opts *o;
    struct pa_profile p;         /* the selected threads */
    uint64_t *serials;           /* the thread selection; NULL: all */
    size_t nserials;
    int ev_first, ev_last;       /* events shown, inclusive; ev_last < ev_first: none */
    int have_lost;
    uint64_t lost;               /* PA_STAT_SAMPLES_LOST */
};

/* Rows with a nonzero total for event e, in the order asked. *out is allocated (free
 * with pa_mem_free). @return the count, or (size_t)-1 when out of memory. */
size_t pa_report_func_rows(const struct pa_profile *p, int e, enum pa_report_sort s, struct pa_report_row **out);
size_t pa_report_module_rows(const struct pa_profile *p, int e, enum pa_report_sort s, struct pa_report_row **out);
/* The profile of one thread in the report's view. @return as pa_profile_build. */
int pa_report_thread_profile(const struct pa_report_ctx *c, uint64_t serial, struct pa_profile *out);
/* @return 0, or -1 when out of memory. */
int pa_report_json(const struct pa_report_ctx *c, pa_sbuf_t *out);

#endif
