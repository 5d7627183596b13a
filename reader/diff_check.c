/* diff_check.c — `pyagent diff --fail-if 'TARGET:METRIC OP CHANGE'`: the grammar, the
 * metric names, and which rows cross a threshold. Only a significant change (beyond
 * noise, see diff.c) can trip a check, so an unchanged run does not fail CI. */
#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diff_int.h"
#include "idmap.h"
#include "pa_mem.h"

#define EXAMPLE "e.g. 'handle_request:cpu>+10%', '*:cpu>+20%' or 'leaks:bytes>+0'"

static int bad(pa_sbuf_t *err, const char *expr, const char *why)
{
    pa_sbuf_printf(err, "--fail-if '%s': %s\n", expr, why);
    return -2;
}

/* Copies s[0..n) without surrounding blanks. @return 0, or -1 when it does not fit. */
static int copy_trimmed(char *dst, size_t cap, const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= cap)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

static const struct suffix {
    const char *name;
    int unit; /* enum pa_diff_unit */
    double scale;
} suffixes[] = {
    { "ns", PA_DIFF_NS, 1 },         { "us", PA_DIFF_NS, 1e3 },          { "ms", PA_DIFF_NS, 1e6 },
    { "s", PA_DIFF_NS, 1e9 },        { "B", PA_DIFF_BYTES, 1 },          { "K", PA_DIFF_BYTES, 1024.0 },
    { "KiB", PA_DIFF_BYTES, 1024.0 }, { "M", PA_DIFF_BYTES, 1048576.0 }, { "MiB", PA_DIFF_BYTES, 1048576.0 },
    { "G", PA_DIFF_BYTES, 1073741824.0 }, { "GiB", PA_DIFF_BYTES, 1073741824.0 },
};

/* CHANGE: [+|-]NUMBER[%|ns|us|ms|s|B|K|KiB|M|MiB|G|GiB]. */
static int parse_change(const char *s, struct pa_diff_check *c, pa_sbuf_t *err)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    const char *digits = s + (*s == '+' || *s == '-');
    if (!isdigit((unsigned char)*digits) && !(*digits == '.' && isdigit((unsigned char)digits[1])))
        return bad(err, c->expr, "the change after the comparison must be a number such as +10%, 0, 5ms or 1M");
    c->change = strtod(s, &end);
    if (!(c->change > -1e300 && c->change < 1e300))
        return bad(err, c->expr, "the change is out of range");
    char unit[8];
    if (copy_trimmed(unit, sizeof unit, end, strlen(end)) < 0)
        return bad(err, c->expr, "unknown unit after the number (use %, ns, us, ms, s, B, K, M or G)");
    if (!strcmp(unit, "%")) {
        c->relative = 1;
        return 0;
    }
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (!strcmp(unit, suffixes[i].name)) {
            c->unit_given = suffixes[i].unit;
            c->change *= suffixes[i].scale;
            return 0;
        }
    if (unit[0])
        return bad(err, c->expr, "unknown unit after the number (use %, ns, us, ms, s, B, K, M or G)");
    return 0;
}

int pa_diff_check_parse(const char *expr, struct pa_diff_check *c, pa_sbuf_t *err)
{
    memset(c, 0, sizeof *c);
    c->expr = expr, c->unit_given = -1;
    const char *colon = strchr(expr, ':');
    if (!colon)
        return bad(err, expr, "expected TARGET:METRIC OP CHANGE, " EXAMPLE);
    if (copy_trimmed(c->target, sizeof c->target, expr, (size_t)(colon - expr)) < 0)
        return bad(err, expr, "the target is too long");
    if (!c->target[0])
        return bad(err, expr, "no target before ':' (a function name or pattern, *, total, alloc or leaks)");
    const char *op = strpbrk(colon + 1, "<>");
    if (!op)
        return bad(err, expr, "no comparison: expected > or < after the metric, " EXAMPLE);
    if (copy_trimmed(c->metric, sizeof c->metric, colon + 1, (size_t)(op - colon - 1)) < 0)
        return bad(err, expr, "the metric name is too long");
    if (!c->metric[0] || strpbrk(c->metric, " \t"))
        return bad(err, expr, "expected one metric name between ':' and the comparison (cpu, time, alloc_bytes ...)");
    c->op = *op == '>' ? '>' : '<';
    c->or_equal = op[1] == '=';
    c->scope = !strcmp(c->target, "total") || !strcmp(c->target, "alloc") || !strcmp(c->target, "leaks");
    return parse_change(op + 1 + c->or_equal, c, err);
}

void pa_diff_check_free(struct pa_diff_check *c)
{
    pa_mem_free(c->trips);
    c->trips = NULL;
    c->ntrips = c->nmatched = 0;
}

/* ---- metrics ---- */

static const struct named {
    const char *name;
    enum pa_diff_table_kind kind;
    size_t meas;
} named[] = {
    { "cpu", PA_DIFF_SAMPLED, 0 },     { "cpu_total", PA_DIFF_SAMPLED, 1 },  { "time", PA_DIFF_CALLS, 0 },
    { "calls", PA_DIFF_CALLS, 1 },     { "time_per_call", PA_DIFF_CALLS, 2 }, { "alloc_bytes", PA_DIFF_ALLOC, 0 },
    { "alloc_blocks", PA_DIFF_ALLOC, 1 }, { "alloc_peak", PA_DIFF_ALLOC, PA_DIFF_PEAK },
    { "leak_bytes", PA_DIFF_LEAKS, 0 }, { "leak_blocks", PA_DIFF_LEAKS, 1 },
};

const char *pa_diff_metric_name(const struct pa_diff_table *t, size_t meas, char *buf, size_t len)
{
    if (t->kind == PA_DIFF_SAMPLED && !t->cpu) {
        snprintf(buf, len, "%s%s", t->event, meas ? "_total" : "");
        return buf;
    }
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (named[i].kind == t->kind && named[i].meas == meas)
            return named[i].name;
    return "?";
}

static const struct pa_diff_table *find_table(const struct pa_diff *d, enum pa_diff_table_kind kind, int cpu)
{
    for (size_t i = 0; i < d->ntables; i++)
        if (d->tables[i].kind == kind && (kind != PA_DIFF_SAMPLED || d->tables[i].cpu == cpu))
            return &d->tables[i];
    return NULL;
}

/* A sampled event other than the CPU one: "page-faults", "page-faults_total". */
static const struct pa_diff_table *find_event(const struct pa_diff *d, const char *metric, size_t *meas)
{
    size_t n = strlen(metric), k = strlen("_total");
    for (int total = 0; total < 2; total++)
        for (size_t i = 0; i < d->ntables; i++) {
            const struct pa_diff_table *t = &d->tables[i];
            if (t->kind != PA_DIFF_SAMPLED || t->cpu)
                continue;
            size_t m = total ? n - k : n;
            if ((!total || (n > k && !strcmp(metric + n - k, "_total"))) && strlen(t->event) == m &&
                !strncasecmp(t->event, metric, m)) {
                *meas = (size_t)total;
                return t;
            }
        }
    return NULL;
}

static const char *const needs[] = {
    [PA_DIFF_SAMPLED] = "CPU samples in both traces",
    [PA_DIFF_CALLS] = "call times in both traces (PYAGENT_MODE=trace, or PYAGENT_COUNT functions)",
    [PA_DIFF_ALLOC] = "allocation tracking in both traces",
    [PA_DIFF_LEAKS] = "allocation tracking in both traces",
};

/* "alloc:bytes", "leaks:blocks": the totals of those tables. @return 1 found, 0 not this
 * form, -1 the alloc or leaks target with another metric. */
static int short_form(const struct pa_diff_check *c, enum pa_diff_table_kind *kind, size_t *meas)
{
    int alloc = !strcmp(c->target, "alloc"), leaks = !strcmp(c->target, "leaks");
    if (!alloc && !leaks)
        return 0;
    *kind = alloc ? PA_DIFF_ALLOC : PA_DIFF_LEAKS;
    if (!strcmp(c->metric, "bytes"))
        *meas = 0;
    else if (!strcmp(c->metric, "blocks"))
        *meas = 1;
    else if (alloc && !strcmp(c->metric, "peak"))
        *meas = PA_DIFF_PEAK;
    else
        return -1;
    return 1;
}

static int resolve(const struct pa_diff *d, const struct pa_diff_check *c, const struct pa_diff_table **tb,
                   size_t *meas, pa_sbuf_t *err)
{
    enum pa_diff_table_kind kind;
    char why[320];
    int sf = short_form(c, &kind, meas);
    if (sf < 0)
        return bad(err, c->expr, !strcmp(c->target, "alloc") ? "the alloc target takes bytes, blocks or peak"
                                                             : "the leaks target takes bytes or blocks");
    for (size_t i = 0; !sf && i < sizeof named / sizeof named[0]; i++)
        if (!strcmp(c->metric, named[i].name))
            kind = named[i].kind, *meas = named[i].meas, sf = 1;
    if (sf && !(*tb = find_table(d, kind, 1))) {
        snprintf(why, sizeof why, "%s needs %s", c->metric,
                 kind == PA_DIFF_SAMPLED ? "a CPU time event (task-clock, cpu-clock) sampled in both traces"
                                         : needs[kind]);
        return bad(err, c->expr, why);
    }
    if (!sf && !(*tb = find_event(d, c->metric, meas))) {
        snprintf(why, sizeof why, "unknown metric %.100s: use cpu, cpu_total, time, calls, time_per_call, "
                                  "alloc_bytes, alloc_blocks, leak_bytes, leak_blocks or a sampled event in both "
                                  "traces (EVENT or EVENT_total)", c->metric);
        return bad(err, c->expr, why);
    }
    if (*meas == PA_DIFF_PEAK && !c->scope)
        return bad(err, c->expr, "the peak is the whole trace's: write alloc:peak or total:alloc_peak");
    enum pa_diff_unit u = *meas == PA_DIFF_PEAK ? PA_DIFF_BYTES : (*tb)->unit[*meas];
    if (c->unit_given >= 0 && c->unit_given != (int)u)
        return bad(err, c->expr, u == PA_DIFF_NS      ? "this metric is a time: use ns, us, ms, s or %"
                                 : u == PA_DIFF_BYTES ? "this metric is in bytes: use B, K, M, G or %"
                                                      : "this metric is a count: give a plain number or %");
    return 0;
}

/* ---- evaluation ---- */

static int crosses(const struct pa_diff_check *c, const struct pa_diff_meas *m)
{
    struct pa_diff_stat s;
    pa_diff_stat(m, &s);
    if (!s.significant)
        return 0;
    double x = !c->relative ? s.delta : s.have_pct ? s.pct : s.delta > 0 ? INFINITY : -INFINITY;
    if (c->op == '>')
        return c->or_equal ? x >= c->change : x > c->change;
    return c->or_equal ? x <= c->change : x < c->change;
}

/* A function pattern matches a qualified name or its last dotted parts, as --function. */
static int target_matches(const char *pattern, const char *name)
{
    if (fnmatch(pattern, name, 0) == 0)
        return 1;
    for (const char *p = name; (p = strchr(p, '.')) != NULL;)
        if (fnmatch(pattern, ++p, 0) == 0)
            return 1;
    return 0;
}

static int add_trip(struct pa_diff_check *c, size_t *cap, const struct pa_diff_trip *t)
{
    if (pa_vec_reserve((void **)&c->trips, cap, c->ntrips + 1, sizeof *c->trips) < 0)
        return -1;
    c->trips[c->ntrips++] = *t;
    return 0;
}

int pa_diff_check_run(const struct pa_diff *d, struct pa_diff_check *c, pa_sbuf_t *err)
{
    const struct pa_diff_table *tb;
    size_t meas, cap = 0;
    pa_diff_check_free(c);
    int rc = resolve(d, c, &tb, &meas, err);
    if (rc < 0)
        return rc;
    if (c->scope) {
        c->nmatched = 1;
        const struct pa_diff_meas *m = meas == PA_DIFF_PEAK ? &tb->peak : &tb->totals[meas];
        if (crosses(c, m) && add_trip(c, &cap, &(struct pa_diff_trip){ tb, NULL, meas }) < 0)
            return -1;
        return (int)c->ntrips;
    }
    for (size_t i = 0; i < tb->nrows; i++) {
        const struct pa_diff_row *r = &tb->rows[i];
        if (!target_matches(c->target, r->name))
            continue;
        c->nmatched++;
        if (crosses(c, &r->m[meas]) && add_trip(c, &cap, &(struct pa_diff_trip){ tb, r, meas }) < 0)
            return -1;
    }
    return c->ntrips > (size_t)INT32_MAX ? INT32_MAX : (int)c->ntrips;
}

void pa_diff_check_describe(const struct pa_diff_check *c, pa_sbuf_t *out)
{
    char metric[160];
    for (size_t i = 0; i < c->ntrips; i++) {
        const struct pa_diff_trip *t = &c->trips[i];
        const struct pa_diff_meas *m = t->meas == PA_DIFF_PEAK ? &t->table->peak
                                       : t->row                ? &t->row->m[t->meas]
                                                               : &t->table->totals[t->meas];
        enum pa_diff_unit u = t->meas == PA_DIFF_PEAK ? PA_DIFF_BYTES : t->table->unit[t->meas];
        struct pa_diff_stat s;
        pa_diff_stat(m, &s);
        pa_sbuf_printf(out, "--fail-if '%s': ", c->expr);
        if (!t->row)
            pa_sbuf_puts(out, "whole trace");
        else if (t->row->file && t->row->line)
            pa_sbuf_printf(out, "%s (%s:%llu)", t->row->name, t->row->file, (unsigned long long)t->row->line);
        else
            pa_sbuf_printf(out, "%s%s%s%s", t->row->name, t->row->file ? " (" : "", t->row->file ? t->row->file : "",
                           t->row->file ? ")" : "");
        pa_sbuf_printf(out, " %s ", pa_diff_metric_name(t->table, t->meas, metric, sizeof metric));
        pa_diff_put_value(out, u, m->v[0], 0);
        pa_sbuf_puts(out, " -> ");
        pa_diff_put_value(out, u, m->v[1], 0);
        if (!s.have_pct)
            pa_sbuf_puts(out, " (new)\n");
        else if (m->scale > 0 && m->scale != 1)
            pa_sbuf_printf(out, " (%+.1f%% against %.3f x baseline, the run's scale)\n", s.pct, m->scale);
        else
            pa_sbuf_printf(out, " (%+.1f%%)\n", s.pct);
    }
}
