/* diff_int.h — what diff.c (tables, matching, noise) shares with diff_items.c (each
 * trace's per-function measures) and diff_render.c. */
#ifndef PA_DIFF_INT_H
#define PA_DIFF_INT_H

#include "diff.h"

/* One function (or leak site) of one trace, with the measures of one table. */
struct pa_diff_item {
    const char *name, *file;
    uint64_t line;
    double v[PA_DIFF_MAX_MEAS], var[PA_DIFF_MAX_MEAS];
    uint64_t n[PA_DIFF_MAX_MEAS];
};

struct pa_diff_items {
    struct pa_diff_item *v;
    size_t n, cap;
    struct pa_diff_item total; /* the whole trace */
    double peak;               /* ALLOC: peak live bytes */
};

/* Appends a zeroed item. @return it, or NULL when out of memory. */
struct pa_diff_item *pa_diff_item_new(struct pa_diff_items *it, const char *name, const char *file, uint64_t line);
void pa_diff_items_free(struct pa_diff_items *it);

/* Per func of s->prof and event, the sums of squared sample values (self and total):
 * the variance of a sum of sampled values under the Poisson model. *self_sq and
 * *total_sq hold prof.nfuncs * prof.nevents doubles (pa_mem_free).
 * @return 0, or -1 when out of memory. */
int pa_diff_squares(struct pa_diff_side *s, double **self_sq, double **total_sq);
/* Items of sampled event e of s: v[0] self, v[1] total. */
int pa_diff_sampled_items(const struct pa_diff_side *s, int e, const double *self_sq, const double *total_sq,
                          struct pa_diff_items *out);
/* Items of trace-mode calls (v: time, calls, time per call), recursion counted once. */
int pa_diff_call_items(const pa_trace_t *t, struct pa_diff_items *out);
/* Items of PYAGENT_COUNT calls (v: time, calls, time per call). */
int pa_diff_counted_items(const pa_trace_t *t, struct pa_diff_items *out);
/* Items of allocations (v: bytes, blocks) by innermost Python function. */
int pa_diff_alloc_items(struct pa_diff_side *s, struct pa_diff_items *out);
/* Items of leak sites (v: bytes, blocks): the innermost Python frame's line. */
int pa_diff_leak_items(pa_trace_t *t, int all, struct pa_diff_items *out);

/* Sets the scale and jitter of measured (not exact) measure k of every row of tb, from
 * the rows' own changes (diff_noise.c); raw: scale 1. @return 0, or -1 out of memory. */
int pa_diff_calibrate(struct pa_diff_table *tb, size_t k, int raw);

/* 1 when an event named name is the one want names (case aside). */
int pa_diff_event_is(const char *name, const char *want);

/* The square root of x >= 0 (no libm in the reader library). */
double pa_diff_sqrt(double x);

#endif
