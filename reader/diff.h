/* diff.h — `pyagent diff A B`: two traces of a program compared per function: each
 * sampled event (self and total), call times and counts (trace mode or PYAGENT_COUNT),
 * allocations and leaks, with a noise model that says which changes sampling explains,
 * and the --fail-if checks CI uses to stop a regression. */
#ifndef PA_DIFF_H
#define PA_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "sbuf.h"
#include "trace.h"

/* A change is significant when |z| >= PA_DIFF_Z, z = delta / (its standard error). */
#define PA_DIFF_Z 3.0
/* Functions with at least this many samples (or timed calls) in both traces set a
 * table's scale and jitter; at least PA_DIFF_SCALE_FUNCS of them are needed. */
#define PA_DIFF_MIN_N 50
#define PA_DIFF_SCALE_FUNCS 3
/* Of those, the ones with the most time considered, at most (the grouping is quadratic). */
#define PA_DIFF_SCALE_MAX 256
/* The least run-to-run jitter assumed for a measured (not counted) value: 5%. */
#define PA_DIFF_JITTER_MIN 0.05
/* Rows per table in text when --top is not given (JSON: all). */
#define PA_DIFF_TOP_DEFAULT (-1)
#define PA_DIFF_TEXT_ROWS 20
/* --fail-if expressions, at most. */
#define PA_DIFF_MAX_CHECKS 64

enum pa_diff_sort {
    PA_DIFF_SORT_DELTA = 0, /* absolute change of the table's first measure (self, time, bytes) */
    PA_DIFF_SORT_TOTAL,     /* absolute change of the second one (total, calls, blocks) */
    PA_DIFF_SORT_PCT,       /* absolute relative change; new and gone rows first */
    PA_DIFF_SORT_BASELINE,  /* baseline value, largest first */
    PA_DIFF_SORT_NEW,       /* new value, largest first */
    PA_DIFF_SORT_NAME,
};

enum pa_diff_unit { PA_DIFF_NS = 0, PA_DIFF_COUNT, PA_DIFF_BYTES };

/* One measure in both traces (index 0 the baseline, 1 the new trace). */
struct pa_diff_meas {
    double v[2];   /* the values */
    double var[2]; /* their sampling variance (Poisson, or the calls' spread); 0 when exact */
    uint64_t n[2]; /* samples, calls or blocks behind each value */
    int exact;     /* counted, not estimated: any change is real */
    double scale;  /* the new run's scale for this measure: New is compared with scale x Baseline */
    double jitter; /* relative run-to-run variation beyond sampling (0 when exact) */
};

/* Derived from a pa_diff_meas by pa_diff_stat. */
struct pa_diff_stat {
    double expected; /* scale x baseline */
    double delta;    /* new - expected */
    double pct;      /* 100 * delta / expected; meaningless when !have_pct */
    int have_pct;    /* expected is nonzero */
    double z;        /* delta / standard error; +-INFINITY for exact or noise-free changes */
    int significant; /* |z| >= PA_DIFF_Z */
};
void pa_diff_stat(const struct pa_diff_meas *m, struct pa_diff_stat *s);

enum pa_diff_table_kind { PA_DIFF_SAMPLED = 0, PA_DIFF_CALLS, PA_DIFF_ALLOC, PA_DIFF_LEAKS };

#define PA_DIFF_MAX_MEAS 3

/* A function (a leak site for LEAKS) in either trace. */
struct pa_diff_row {
    const char *name; /* never NULL */
    const char *file; /* NULL for C functions and pseudo frames */
    uint64_t line;    /* first line (LEAKS: the allocating line); 0 unknown */
    int in[2];        /* present in the baseline / new trace */
    struct pa_diff_meas m[PA_DIFF_MAX_MEAS];
};

struct pa_diff_table {
    enum pa_diff_table_kind kind;
    const char *event;  /* SAMPLED: the event (the baseline's name for the CPU event) */
    int cpu;            /* SAMPLED: the CPU time event (task-clock, cpu-clock) */
    const char *source; /* CALLS: "trace" (trace mode) or "counted" (PYAGENT_COUNT) */
    size_t nmeas;
    /* JSON keys: "self", "total"; "time", "calls", "time_per_call"; "bytes", "blocks" */
    const char *meas[PA_DIFF_MAX_MEAS];
    enum pa_diff_unit unit[PA_DIFF_MAX_MEAS];
    int exact[PA_DIFF_MAX_MEAS]; /* counted, not measured: never scaled, no noise */
    struct pa_diff_row *rows;
    size_t nrows;
    size_t scale_from[PA_DIFF_MAX_MEAS];          /* functions the scale came from; 0: scale 1 */
    size_t scale_of[PA_DIFF_MAX_MEAS];            /* functions that could inform it */
    struct pa_diff_meas totals[PA_DIFF_MAX_MEAS]; /* the whole trace (scale 1) */
    struct pa_diff_meas peak;                     /* ALLOC: peak live bytes */
};

struct pa_diff_side {
    const char *path;
    pa_trace_t *t;
    struct pa_profile prof; /* Python view, all threads */
    int have_duration;
    uint64_t duration_ns;
    int cpu_event; /* index of its CPU time event, or -1 */
    int have_calls, have_counted, have_alloc;
};

struct pa_diff {
    struct pa_diff_side side[2];
    struct pa_diff_table *tables;
    size_t ntables;
    pa_sbuf_t notes; /* lines on what could not be compared ("events only in ...") */
    int raw;         /* opts.raw */
};

struct pa_diff_check;

struct pa_diff_opts {
    int json;
    int all;                /* leaks: also interpreter, import and startup residue */
    int raw;                /* scale 1: compare values as they are */
    int top;                /* rows per table; 0 = all; PA_DIFF_TOP_DEFAULT */
    enum pa_diff_sort sort;
    const char *event;      /* only this sampled event ("cpu" names the CPU event); NULL: all */
    const struct pa_diff_check *checks; /* evaluated --fail-if checks for JSON; may be NULL */
    size_t nchecks;
};

/* Compares base (the baseline) with cur (both decoded; finished here). The paths are
 * shown as given. @return 0; -1 out of memory; -2 when opts.event names no event
 * (err holds one line). Free d with pa_diff_free even after an error. */
int pa_diff_build(pa_trace_t *base, const char *base_path, pa_trace_t *cur, const char *cur_path,
                  const struct pa_diff_opts *o, struct pa_diff *d, pa_sbuf_t *err);
void pa_diff_free(struct pa_diff *d);

/* Appends the diff as text or JSON. @return 0, or -1 when out of memory. */
int pa_diff_render(const struct pa_diff *d, const struct pa_diff_opts *o, pa_sbuf_t *out);

/* ---- --fail-if (diff_check.c) ---- */

/* One failed comparison of a check. */
struct pa_diff_trip {
    const struct pa_diff_table *table;
    const struct pa_diff_row *row; /* NULL: the table's totals */
    size_t meas;                   /* index in the table's measures, or PA_DIFF_PEAK */
};
#define PA_DIFF_PEAK ((size_t)-1)

/* A parsed expression "TARGET:METRIC OP CHANGE" (the grammar is in main.c's help). */
struct pa_diff_check {
    const char *expr;       /* as given, not owned */
    char target[256], metric[128];
    int scope;              /* 0 functions matching target; 1 the whole trace */
    int op;                 /* '>' or '<' */
    int or_equal;           /* ">=" or "<=" */
    int relative;           /* CHANGE was a percentage */
    double change;          /* percent, or absolute in the unit's base (ns, bytes, count) */
    int unit_given;         /* -1: no suffix; else the enum pa_diff_unit the suffix implies */
    /* after pa_diff_check_run: */
    size_t nmatched;        /* rows the target matched */
    struct pa_diff_trip *trips; /* owned; free with pa_diff_check_free */
    size_t ntrips;
};

/* Parses expr into c. @return 0, or -2 with one line in err naming expr and the problem. */
int pa_diff_check_parse(const char *expr, struct pa_diff_check *c, pa_sbuf_t *err);
/* Evaluates c against d: a row trips when its change passes the threshold and is
 * significant. @return the number of trips; -1 out of memory; -2 when the metric is
 * unknown or the traces lack its data (one line in err). */
int pa_diff_check_run(const struct pa_diff *d, struct pa_diff_check *c, pa_sbuf_t *err);
void pa_diff_check_free(struct pa_diff_check *c);
/* Appends one line per trip ("--fail-if 'EXPR': FUNC (FILE:LINE) METRIC OLD -> NEW (+X%)"). */
void pa_diff_check_describe(const struct pa_diff_check *c, pa_sbuf_t *out);

/* For renderers: the check's metric name for a trip ("cpu", "alloc_bytes" ...). */
const char *pa_diff_metric_name(const struct pa_diff_table *t, size_t meas, char *buf, size_t len);
/* Appends v in the unit: "1.500 ms", "12,345", "1,024 B"; signed adds "+" or "-". */
void pa_diff_put_value(pa_sbuf_t *o, enum pa_diff_unit u, double v, int is_signed);

#endif
