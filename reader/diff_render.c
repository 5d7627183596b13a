/* diff_render.c — `pyagent diff` as text (one table per measure set, biggest changes
 * first, changes within noise marked) and as one JSON document with the same rows. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "diff_int.h"
#include "idmap.h"
#include "json.h"
#include "pa_mem.h"
#include "summary.h"

void pa_diff_put_value(pa_sbuf_t *o, enum pa_diff_unit u, double v, int is_signed)
{
    char num[PA_NUM_BUFLEN];
    double a = v < 0 ? -v : v;
    uint64_t r = a >= 1.8e19 ? UINT64_MAX : (uint64_t)(a + 0.5);
    if (is_signed || v < 0)
        pa_sbuf_putc(o, v < 0 ? '-' : '+');
    if (u == PA_DIFF_NS)
        pa_sbuf_puts(o, pa_fmt_dur(num, r));
    else
        pa_sbuf_printf(o, "%s%s", pa_fmt_num(num, r), u == PA_DIFF_BYTES ? " B" : "");
}

/* ---- row order ---- */

struct sorted {
    const struct pa_diff_row *r;
    double k1, k2, k3; /* k3: the larger value, so unchanged rows go biggest first */
};

static int by_keys(const void *a, const void *b)
{
    const struct sorted *x = a, *y = b;
    if (x->k1 != y->k1)
        return x->k1 < y->k1 ? 1 : -1;
    if (x->k2 != y->k2)
        return x->k2 < y->k2 ? 1 : -1;
    if (x->k3 != y->k3)
        return x->k3 < y->k3 ? 1 : -1;
    int c = strcmp(x->r->name, y->r->name);
    if (!c)
        c = strcmp(x->r->file ? x->r->file : "", y->r->file ? y->r->file : "");
    return c ? c : (x->r->line > y->r->line) - (x->r->line < y->r->line);
}

static double abs_delta(const struct pa_diff_meas *m)
{
    struct pa_diff_stat s;
    pa_diff_stat(m, &s);
    return s.delta < 0 ? -s.delta : s.delta;
}

static double abs_pct(const struct pa_diff_meas *m)
{
    struct pa_diff_stat s;
    pa_diff_stat(m, &s);
    return !s.have_pct ? (s.delta ? INFINITY : 0) : s.pct < 0 ? -s.pct : s.pct;
}

/* The table's rows in the order asked. @return an array (pa_mem_free), or NULL. */
static struct sorted *sort_rows(const struct pa_diff_table *tb, enum pa_diff_sort s)
{
    struct sorted *v = pa_mem_calloc(tb->nrows + 1, sizeof *v);
    for (size_t i = 0; v && i < tb->nrows; i++) {
        const struct pa_diff_row *r = &tb->rows[i];
        const struct pa_diff_meas *m0 = &r->m[0], *m1 = &r->m[1];
        v[i].r = r;
        v[i].k3 = m0->v[0] > m0->v[1] ? m0->v[0] : m0->v[1];
        switch (s) {
        case PA_DIFF_SORT_TOTAL: v[i].k1 = abs_delta(m1), v[i].k2 = abs_delta(m0); break;
        case PA_DIFF_SORT_PCT: v[i].k1 = abs_pct(m0), v[i].k2 = abs_delta(m0); break;
        case PA_DIFF_SORT_BASELINE: v[i].k1 = m0->v[0], v[i].k2 = m0->v[1]; break;
        case PA_DIFF_SORT_NEW: v[i].k1 = m0->v[1], v[i].k2 = m0->v[0]; break;
        case PA_DIFF_SORT_NAME: v[i].k3 = 0; break;
        default: v[i].k1 = abs_delta(m0), v[i].k2 = abs_delta(m1); break;
        }
    }
    if (v)
        pa_vec_sort(v, tb->nrows, sizeof *v, by_keys);
    return v;
}

/* --event NAME shows one sampled event ("cpu": the CPU time event); other tables stay. */
static int wanted(const struct pa_diff_table *tb, const struct pa_diff_opts *o)
{
    if (tb->kind != PA_DIFF_SAMPLED || !o->event)
        return 1;
    return pa_diff_event_is(tb->event, o->event) || (tb->cpu && pa_diff_event_is("cpu", o->event));
}

static size_t rows_shown(const struct pa_diff_opts *o, size_t n)
{
    size_t top = o->top == PA_DIFF_TOP_DEFAULT ? (o->json ? 0 : PA_DIFF_TEXT_ROWS) : (size_t)o->top;
    return top && top < n ? top : n;
}

/* ---- text ---- */

static void text_pct(pa_sbuf_t *o, const struct pa_diff_meas *m, const int *in, int width)
{
    struct pa_diff_stat s;
    char buf[32];
    pa_diff_stat(m, &s);
    if (in && !in[0])
        snprintf(buf, sizeof buf, "new");
    else if (in && !in[1])
        snprintf(buf, sizeof buf, "gone");
    else if (s.have_pct)
        snprintf(buf, sizeof buf, "%+.1f%%", s.pct);
    else
        snprintf(buf, sizeof buf, "%s", s.delta ? "new" : "-");
    pa_sbuf_printf(o, "%*s", width, buf);
}

static void text_cell(pa_sbuf_t *o, enum pa_diff_unit u, double v, int is_signed, int width)
{
    pa_sbuf_t cell;
    pa_sbuf_init(&cell);
    pa_diff_put_value(&cell, u, v, is_signed);
    pa_sbuf_printf(o, "%*s", width, pa_sbuf_cstr(&cell));
    if (cell.failed)
        o->failed = 1;
    pa_sbuf_free(&cell);
}

static void text_location(pa_sbuf_t *o, const struct pa_diff_row *r)
{
    if (r->file && r->line)
        pa_sbuf_printf(o, "%s:%llu", r->file, (unsigned long long)r->line);
    else if (r->file)
        pa_sbuf_puts(o, r->file);
}

static int name_width(const struct sorted *v, size_t n)
{
    size_t w = 8;
    for (size_t i = 0; i < n; i++)
        if (strlen(v[i].r->name) > w)
            w = strlen(v[i].r->name);
    return w > 40 ? 40 : (int)w;
}

/* The columns after Delta%: how the second measure moved. */
static void text_second_head(pa_sbuf_t *o, const struct pa_diff_table *tb)
{
    if (tb->kind == PA_DIFF_SAMPLED)
        pa_sbuf_printf(o, "  %11s", "TotalDelta%");
    else if (tb->kind == PA_DIFF_CALLS)
        pa_sbuf_printf(o, "  %21s  %9s", "Calls", "PerCall%");
    else
        pa_sbuf_printf(o, "  %21s", "Blocks");
}

static void text_second(pa_sbuf_t *o, const struct pa_diff_table *tb, const struct pa_diff_row *r)
{
    char a[PA_NUM_BUFLEN], b[PA_NUM_BUFLEN], both[2 * PA_NUM_BUFLEN + 8];
    if (tb->kind == PA_DIFF_SAMPLED) {
        pa_sbuf_puts(o, "  ");
        text_pct(o, &r->m[1], r->in, 11);
        return;
    }
    snprintf(both, sizeof both, "%s -> %s", pa_fmt_num(a, (uint64_t)r->m[1].v[0]),
             pa_fmt_num(b, (uint64_t)r->m[1].v[1]));
    pa_sbuf_printf(o, "  %21s", both);
    if (tb->kind == PA_DIFF_CALLS) {
        pa_sbuf_puts(o, "  ");
        text_pct(o, &r->m[2], r->in, 9);
    }
}

static void text_row(pa_sbuf_t *o, const struct pa_diff_table *tb, const struct pa_diff_row *r, int w)
{
    struct pa_diff_stat s;
    enum pa_diff_unit u = tb->unit[0];
    pa_diff_stat(&r->m[0], &s);
    pa_sbuf_puts(o, s.delta != 0 && !s.significant ? "~" : " ");
    if (r->in[0])
        text_cell(o, u, r->m[0].v[0], 0, 15);
    else
        pa_sbuf_printf(o, "%15s", "-");
    if (r->in[1])
        text_cell(o, u, r->m[0].v[1], 0, 15);
    else
        pa_sbuf_printf(o, "%15s", "-");
    text_cell(o, u, s.delta, s.delta != 0, 16);
    pa_sbuf_puts(o, "  ");
    text_pct(o, &r->m[0], r->in, 8);
    text_second(o, tb, r);
    pa_sbuf_printf(o, "  %-*s  ", w, r->name);
    text_location(o, r);
    while (o->len && o->buf[o->len - 1] == ' ' && !o->failed)
        o->buf[--o->len] = '\0';
    pa_sbuf_putc(o, '\n');
}

static void text_total(pa_sbuf_t *o, const struct pa_diff_table *tb, const struct pa_diff_meas *m, const char *what)
{
    struct pa_diff_stat s;
    char n0[PA_NUM_BUFLEN], n1[PA_NUM_BUFLEN];
    pa_diff_stat(m, &s);
    pa_diff_put_value(o, tb->unit[0], m->v[0], 0);
    if (what)
        pa_sbuf_printf(o, " in %s %s%s", pa_fmt_num(n0, m->n[0]), what, m->n[0] == 1 ? "" : "s");
    pa_sbuf_puts(o, " -> ");
    pa_diff_put_value(o, tb->unit[0], m->v[1], 0);
    if (what)
        pa_sbuf_printf(o, " in %s %s%s", pa_fmt_num(n1, m->n[1]), what, m->n[1] == 1 ? "" : "s");
    if (s.have_pct)
        pa_sbuf_printf(o, " (%+.1f%%%s)", s.pct, s.delta != 0 && !s.significant ? ", within noise" : "");
}

/* How the first measure's rows are compared: with a scale, New against scale x Baseline. */
static void text_scale(pa_sbuf_t *o, const struct pa_diff_table *tb, int raw)
{
    const struct pa_diff_meas *m = tb->nrows ? &tb->rows[0].m[0] : NULL;
    if (!m || m->exact)
        return;
    if (tb->scale_from[0])
        pa_sbuf_printf(o, "  scale x%.3f (the median change of the %zu of %zu functions with %d+ %s that agree): "
                          "Delta = New - %.3f x Baseline; ",
                       m->scale, tb->scale_from[0], tb->scale_of[0], PA_DIFF_MIN_N,
                       tb->kind == PA_DIFF_SAMPLED ? "samples" : "calls", m->scale);
    else
        pa_sbuf_printf(o, "  no scale (%s): values compared as they are; ",
                       raw ? "--raw" : "too few functions to tell");
    pa_sbuf_printf(o, "jitter %.1f%%\n", 100.0 * m->jitter);
}

static void text_title(pa_sbuf_t *o, const struct pa_diff_table *tb, int raw)
{
    switch (tb->kind) {
    case PA_DIFF_SAMPLED:
        pa_sbuf_printf(o, "\n%s%s%s: self per function, ", tb->cpu ? "cpu (" : "", tb->event, tb->cpu ? ")" : "");
        text_total(o, tb, &tb->totals[0], "sample");
        break;
    case PA_DIFF_CALLS:
        if (!strcmp(tb->source, "trace"))
            pa_sbuf_puts(o, "\ncall times (trace mode): time in calls per function, recursion counted once; "
                            "outermost calls ");
        else
            pa_sbuf_puts(o, "\ncall times (PYAGENT_COUNT): time in counted calls per function; all of them ");
        text_total(o, tb, &tb->totals[0], NULL);
        break;
    case PA_DIFF_ALLOC:
        pa_sbuf_puts(o, "\nallocations by innermost Python function: ");
        text_total(o, tb, &tb->totals[0], "block");
        pa_sbuf_puts(o, "; peak live ");
        pa_diff_put_value(o, PA_DIFF_BYTES, tb->peak.v[0], 0);
        pa_sbuf_puts(o, " -> ");
        pa_diff_put_value(o, PA_DIFF_BYTES, tb->peak.v[1], 0);
        break;
    case PA_DIFF_LEAKS:
        pa_sbuf_puts(o, "\nleaks by site (innermost Python line): ");
        text_total(o, tb, &tb->totals[0], "block");
        break;
    }
    pa_sbuf_putc(o, '\n');
    text_scale(o, tb, raw);
}

static int text_table(pa_sbuf_t *o, const struct pa_diff_table *tb, const struct pa_diff_opts *opt)
{
    struct sorted *v = sort_rows(tb, opt->sort);
    size_t shown = rows_shown(opt, tb->nrows);
    if (!v)
        return -1;
    text_title(o, tb, opt->raw);
    if (tb->nrows == 0) {
        pa_sbuf_puts(o, "  (none in either trace)\n");
        pa_mem_free(v);
        return 0;
    }
    int w = name_width(v, shown);
    pa_sbuf_printf(o, " %15s%15s%16s  %8s", "Baseline", "New", "Delta", "Delta%");
    text_second_head(o, tb);
    pa_sbuf_printf(o, "  %-*s  Location\n", w, "Function");
    for (size_t i = 0; i < shown; i++)
        text_row(o, tb, v[i].r, w);
    if (shown < tb->nrows)
        pa_sbuf_printf(o, "  ... %zu more (--top 0 shows all)\n", tb->nrows - shown);
    pa_mem_free(v);
    return 0;
}


static void text_side(pa_sbuf_t *o, const char *label, const struct pa_diff_side *s)
{
    char num[PA_NUM_BUFLEN];
    pa_sbuf_printf(o, "%-9s %s: ", label, s->path);
    pa_summary_process_line(o, s->t);
    if (s->have_duration)
        pa_sbuf_printf(o, ", %s", pa_fmt_ns(num, s->duration_ns));
    pa_sbuf_printf(o, ", %s samples\n", pa_fmt_num(num, s->prof.samples));
}

/* The table's short name in the closing line. */
static const char *short_name(const struct pa_diff_table *tb)
{
    static const char *const names[] = { "", "call times", "allocations", "leaks" };
    return tb->kind == PA_DIFF_SAMPLED ? (tb->cpu ? "cpu" : tb->event) : names[tb->kind];
}

/* "beyond noise: cpu 1 (crunch), leaks 1 (leak_buffers)" or "beyond noise: nothing". */
static void text_verdict(pa_sbuf_t *o, const struct pa_diff *d, const struct pa_diff_opts *opt)
{
    size_t tables = 0;
    pa_sbuf_puts(o, "\nbeyond noise:");
    for (size_t i = 0; i < d->ntables; i++) {
        const struct pa_diff_table *tb = &d->tables[i];
        size_t n = 0;
        const char *top = NULL;
        double top_delta = -1;
        for (size_t r = 0; wanted(tb, opt) && r < tb->nrows; r++) {
            struct pa_diff_stat s;
            pa_diff_stat(&tb->rows[r].m[0], &s);
            n += s.significant;
            if (s.significant && (s.delta < 0 ? -s.delta : s.delta) > top_delta)
                top = tb->rows[r].name, top_delta = s.delta < 0 ? -s.delta : s.delta;
        }
        if (n)
            pa_sbuf_printf(o, "%s %s %zu (%s%s)", tables++ ? "," : "", short_name(tb), n, n > 1 ? "most: " : "", top);
    }
    pa_sbuf_puts(o, tables ? "\n" : " nothing\n");
}

static int render_text(const struct pa_diff *d, const struct pa_diff_opts *o, pa_sbuf_t *out)
{
    pa_sbuf_puts(out, "pyagent diff\n");
    text_side(out, "baseline:", &d->side[0]);
    text_side(out, "new:", &d->side[1]);
    pa_sbuf_printf(out, "noise: ~ marks changes within noise, under %.0f standard errors (sampling: Poisson sample "
                        "counts, or the calls' spread; plus the run-to-run jitter); counts are exact\n",
                   PA_DIFF_Z);
    pa_sbuf_puts(out, pa_sbuf_cstr(&d->notes));
    for (size_t i = 0; i < d->ntables; i++)
        if (wanted(&d->tables[i], o) && text_table(out, &d->tables[i], o) < 0)
            return -1;
    text_verdict(out, d, o);
    return out->failed ? -1 : 0;
}

/* ---- JSON ---- */

static void json_num(pa_sbuf_t *o, double v)
{
    if (v != v || v == INFINITY || v == -INFINITY)
        pa_sbuf_puts(o, "null");
    else if (v > -9e15 && v < 9e15 && (double)(int64_t)v == v)
        pa_sbuf_printf(o, "%lld", (long long)v);
    else
        pa_sbuf_printf(o, "%.6f", v);
}

static void json_meas(pa_sbuf_t *o, const char *key, const struct pa_diff_meas *m)
{
    struct pa_diff_stat s;
    pa_diff_stat(m, &s);
    pa_json_key(o, key);
    pa_sbuf_puts(o, "{\"baseline\": ");
    json_num(o, m->v[0]);
    pa_sbuf_puts(o, ", \"new\": ");
    json_num(o, m->v[1]);
    pa_sbuf_puts(o, ", \"delta\": ");
    json_num(o, s.delta);
    pa_sbuf_puts(o, ", \"delta_pct\": ");
    json_num(o, s.have_pct ? s.pct : NAN);
    pa_sbuf_puts(o, ", \"expected\": ");
    json_num(o, s.expected);
    pa_sbuf_puts(o, ", \"z\": ");
    json_num(o, m->exact ? NAN : s.z);
    pa_sbuf_printf(o, ", \"exact\": %s, \"significant\": %s, \"baseline_n\": %llu, \"new_n\": %llu}",
                   m->exact ? "true" : "false", s.significant ? "true" : "false", (unsigned long long)m->n[0],
                   (unsigned long long)m->n[1]);
}

static void json_row(pa_sbuf_t *o, const struct pa_diff_table *tb, const struct pa_diff_row *r)
{
    pa_sbuf_puts(o, "{\"function\": ");
    pa_json_strz(o, r->name);
    pa_sbuf_puts(o, ", \"file\": ");
    pa_json_strz(o, r->file);
    pa_sbuf_printf(o, ", \"line\": %llu, \"status\": \"%s\"", (unsigned long long)r->line,
                   r->in[0] && r->in[1] ? "both" : r->in[0] ? "gone" : "new");
    for (size_t k = 0; k < tb->nmeas; k++) {
        pa_sbuf_puts(o, ", ");
        json_meas(o, tb->meas[k], &r->m[k]);
    }
    pa_sbuf_putc(o, '}');
}

static const char *const table_names[] = { "sampled", "calls", "alloc", "leaks" };
static const char *const unit_names[] = { "ns", "count", "bytes" };

static int json_table(pa_sbuf_t *o, const struct pa_diff_table *tb, const struct pa_diff_opts *opt)
{
    struct sorted *v = sort_rows(tb, opt->sort);
    size_t shown = rows_shown(opt, tb->nrows);
    if (!v)
        return -1;
    pa_sbuf_printf(o, "{\"table\": \"%s\", \"event\": ", table_names[tb->kind]);
    pa_json_strz(o, tb->event);
    pa_sbuf_printf(o, ", \"cpu\": %s, \"source\": ", tb->cpu ? "true" : "false");
    pa_json_strz(o, tb->source);
    pa_sbuf_puts(o, ", \"units\": {");
    for (size_t k = 0; k < tb->nmeas; k++)
        pa_sbuf_printf(o, "%s\"%s\": \"%s\"", k ? ", " : "", tb->meas[k], unit_names[tb->unit[k]]);
    pa_sbuf_puts(o, "}, \"scale\": {");
    for (size_t k = 0; k < tb->nmeas; k++) {
        pa_sbuf_printf(o, "%s\"%s\": ", k ? ", " : "", tb->meas[k]);
        json_num(o, tb->nrows ? (tb->rows[0].m[k].scale > 0 ? tb->rows[0].m[k].scale : 1) : 1);
    }
    pa_sbuf_puts(o, "}, \"scale_from\": {");
    for (size_t k = 0; k < tb->nmeas; k++)
        pa_sbuf_printf(o, "%s\"%s\": %zu", k ? ", " : "", tb->meas[k], tb->scale_from[k]);
    pa_sbuf_puts(o, "}, \"jitter\": {");
    for (size_t k = 0; k < tb->nmeas; k++) {
        pa_sbuf_printf(o, "%s\"%s\": ", k ? ", " : "", tb->meas[k]);
        json_num(o, tb->nrows ? tb->rows[0].m[k].jitter : 0);
    }
    pa_sbuf_puts(o, "}, \"totals\": {");
    for (size_t k = 0; k < tb->nmeas; k++) {
        if (k)
            pa_sbuf_puts(o, ", ");
        json_meas(o, tb->meas[k], &tb->totals[k]);
    }
    pa_sbuf_puts(o, "}");
    if (tb->kind == PA_DIFF_ALLOC) {
        pa_sbuf_puts(o, ", ");
        json_meas(o, "peak_bytes", &tb->peak);
    }
    pa_sbuf_printf(o, ", \"rows_total\": %zu, \"rows\": [", tb->nrows);
    for (size_t i = 0; i < shown; i++) {
        if (i)
            pa_sbuf_puts(o, ", ");
        json_row(o, tb, v[i].r);
    }
    pa_sbuf_puts(o, "]}");
    pa_mem_free(v);
    return 0;
}

static void json_side(pa_sbuf_t *o, const char *key, const struct pa_diff_side *s)
{
    const struct pa_process *p = pa_trace_process(s->t);
    pa_json_key(o, key);
    pa_sbuf_puts(o, "{\"trace\": ");
    pa_json_strz(o, s->path);
    pa_sbuf_puts(o, ", \"pid\": ");
    p->present ? pa_sbuf_printf(o, "%llu", (unsigned long long)p->pid) : pa_sbuf_puts(o, "null");
    pa_sbuf_puts(o, ", \"argv\": [");
    for (size_t i = 0; i < p->argc; i++) {
        if (i)
            pa_sbuf_puts(o, ", ");
        pa_json_strz(o, p->argv[i]);
    }
    pa_sbuf_puts(o, "], \"duration_ns\": ");
    s->have_duration ? pa_sbuf_printf(o, "%llu", (unsigned long long)s->duration_ns) : pa_sbuf_puts(o, "null");
    pa_sbuf_printf(o, ", \"samples\": %llu, \"events\": [", (unsigned long long)s->prof.samples);
    for (size_t e = 0; e < s->prof.nevents; e++) {
        if (e)
            pa_sbuf_puts(o, ", ");
        pa_json_strz(o, s->prof.events[e].name);
    }
    pa_sbuf_puts(o, "]}");
}

static void json_trip(pa_sbuf_t *o, const struct pa_diff_trip *t)
{
    char metric[160];
    const struct pa_diff_meas *m = t->meas == PA_DIFF_PEAK ? &t->table->peak
                                   : t->row                ? &t->row->m[t->meas]
                                                           : &t->table->totals[t->meas];
    struct pa_diff_stat s;
    pa_diff_stat(m, &s);
    pa_sbuf_puts(o, "{\"function\": ");
    pa_json_strz(o, t->row ? t->row->name : NULL);
    pa_sbuf_puts(o, ", \"file\": ");
    pa_json_strz(o, t->row ? t->row->file : NULL);
    pa_sbuf_printf(o, ", \"line\": %llu, \"metric\": ", t->row ? (unsigned long long)t->row->line : 0ull);
    pa_json_strz(o, pa_diff_metric_name(t->table, t->meas, metric, sizeof metric));
    pa_sbuf_puts(o, ", \"baseline\": ");
    json_num(o, m->v[0]);
    pa_sbuf_puts(o, ", \"new\": ");
    json_num(o, m->v[1]);
    pa_sbuf_puts(o, ", \"delta\": ");
    json_num(o, s.delta);
    pa_sbuf_puts(o, ", \"delta_pct\": ");
    json_num(o, s.have_pct ? s.pct : NAN);
    pa_sbuf_putc(o, '}');
}

static void json_checks(pa_sbuf_t *o, const struct pa_diff_opts *opt)
{
    size_t failed = 0;
    pa_sbuf_puts(o, ", \"checks\": [");
    for (size_t i = 0; i < opt->nchecks; i++) {
        const struct pa_diff_check *c = &opt->checks[i];
        failed += c->ntrips > 0;
        pa_sbuf_puts(o, i ? ", {\"expr\": " : "{\"expr\": ");
        pa_json_strz(o, c->expr);
        pa_sbuf_printf(o, ", \"passed\": %s, \"matched\": %zu, \"failures\": [", c->ntrips ? "false" : "true",
                       c->nmatched);
        for (size_t j = 0; j < c->ntrips; j++) {
            if (j)
                pa_sbuf_puts(o, ", ");
            json_trip(o, &c->trips[j]);
        }
        pa_sbuf_puts(o, "]}");
    }
    pa_sbuf_printf(o, "], \"failed\": %s", failed ? "true" : "false");
}

static void json_notes(pa_sbuf_t *o, const pa_sbuf_t *notes)
{
    const char *p = pa_sbuf_cstr(notes);
    int first = 1;
    pa_sbuf_puts(o, ", \"notes\": [");
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        pa_sbuf_puts(o, first ? "" : ", ");
        pa_json_str(o, p, n);
        first = 0;
        p += n + (nl != NULL);
    }
    pa_sbuf_putc(o, ']');
}

static int render_json(const struct pa_diff *d, const struct pa_diff_opts *o, pa_sbuf_t *out)
{
    pa_sbuf_putc(out, '{');
    json_side(out, "baseline", &d->side[0]);
    pa_sbuf_puts(out, ", ");
    json_side(out, "new", &d->side[1]);
    pa_sbuf_printf(out, ", \"noise_z\": %.1f", PA_DIFF_Z);
    json_notes(out, &d->notes);
    pa_sbuf_puts(out, ", \"tables\": [");
    for (size_t i = 0, n = 0; i < d->ntables; i++) {
        if (!wanted(&d->tables[i], o))
            continue;
        if (n++)
            pa_sbuf_puts(out, ", ");
        if (json_table(out, &d->tables[i], o) < 0)
            return -1;
    }
    pa_sbuf_putc(out, ']');
    json_checks(out, o);
    pa_sbuf_puts(out, "}\n");
    return out->failed ? -1 : 0;
}

int pa_diff_render(const struct pa_diff *d, const struct pa_diff_opts *o, pa_sbuf_t *out)
{
    return o->json ? render_json(d, o, out) : render_text(d, o, out);
}
