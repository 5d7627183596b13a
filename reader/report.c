/* report.c — `pyagent report`: option checks, row selection and the text rendering;
 * the JSON rendering is in report_json.c. The numbers all come from profile.c. */
#include <stdio.h>
#include <string.h>

#include "counted.h"
#include "idmap.h"
#include "pa_mem.h"
#include "profile.h"
#include "report.h"
#include "report_int.h"
#include "summary.h"

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
    return (a < b) - (a > b);
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int by_name(const void *a, const void *b)
{
    const struct pa_report_row *x = a, *y = b;
    int c = cmp_str(x->name, y->name);
    if (!c)
        c = cmp_str(x->file, y->file);
    if (!c)
        c = (x->line > y->line) - (x->line < y->line);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int by_self(const void *a, const void *b)
{
    const struct pa_report_row *x = a, *y = b;
    int c = cmp_u64_desc(x->self, y->self);
    return c ? c : (c = cmp_u64_desc(x->total, y->total)) ? c : by_name(a, b);
}

static int by_total(const void *a, const void *b)
{
    const struct pa_report_row *x = a, *y = b;
    int c = cmp_u64_desc(x->total, y->total);
    return c ? c : (c = cmp_u64_desc(x->self, y->self)) ? c : by_name(a, b);
}

static void sort_rows(struct pa_report_row *r, size_t n, enum pa_report_sort s)
{
    pa_vec_sort(r, n, sizeof *r, s == PA_SORT_NAME ? by_name : s == PA_SORT_TOTAL ? by_total : by_self);
}

size_t pa_report_func_rows(const struct pa_profile *p, int e, enum pa_report_sort s, struct pa_report_row **out)
{
    size_t n = 0;
    if (!(*out = pa_mem_calloc(p->nfuncs ? p->nfuncs : 1, sizeof **out)))
        return (size_t)-1;
    for (size_t i = 0; i < p->nfuncs; i++) {
        const struct pa_prof_func *f = &p->funcs[i];
        if (f->total[e])
            (*out)[n++] = (struct pa_report_row){ f->self[e], f->total[e], f->name, f->file, f->line, i };
    }
    sort_rows(*out, n, s);
    return n;
}

size_t pa_report_module_rows(const struct pa_profile *p, int e, enum pa_report_sort s, struct pa_report_row **out)
{
    size_t n = 0;
    if (!(*out = pa_mem_calloc(p->nmodules ? p->nmodules : 1, sizeof **out)))
        return (size_t)-1;
    for (size_t i = 0; i < p->nmodules; i++) {
        const struct pa_prof_module *m = &p->modules[i];
        if (m->total[e])
            (*out)[n++] = (struct pa_report_row){ m->self[e], m->total[e], m->path, NULL, 0, i };
    }
    sort_rows(*out, n, s);
    return n;
}

/* ---- text ---- */

static void put_value(pa_sbuf_t *o, const struct pa_prof_event *ev, uint64_t v, int width)
{
    char num[PA_NUM_BUFLEN];
    pa_sbuf_printf(o, "%*s", width, ev->flags & PA_EVF_TIME ? pa_fmt_ns(num, v) : pa_fmt_num(num, v));
}

static void put_pct(pa_sbuf_t *o, uint64_t v, uint64_t total)
{
    pa_sbuf_printf(o, "%7.2f%%", total ? 100.0 * (double)v / (double)total : 0.0);
}


static void text_metrics(pa_sbuf_t *o, const struct pa_prof_metrics *m, const char *sep)
{
    const char *s = "";
    if (m->have_ipc)
        pa_sbuf_printf(o, "%sIPC %.2f", s, m->ipc), s = sep;
    if (m->have_mpki)
        pa_sbuf_printf(o, "%s%.2f cache misses per 1k instructions", s, m->mpki), s = sep;
    if (m->have_branch && m->branch_per_kinst)
        pa_sbuf_printf(o, "%s%.2f branch misses per 1k instructions", s, m->branch);
    else if (m->have_branch)
        pa_sbuf_printf(o, "%sbranch misses %.2f%% of branches", s, 100.0 * m->branch);
}

static void text_sampling(pa_sbuf_t *o, const struct pa_report_ctx *c)
{
    const struct pa_sampling *sp = pa_trace_sampling(c->t);
    const struct pa_profile *p = &c->p;
    char num[PA_NUM_BUFLEN];
    int lead = pa_profile_event(p, NULL);
    const char *leader = lead >= 0 ? p->events[lead].name : "?";
    pa_sbuf_printf(o, "samples: %s in %zu %s", pa_fmt_num(num, p->samples), p->nthreads,
                   p->nthreads == 1 ? "thread" : "threads");
    if (c->have_lost)
        pa_sbuf_printf(o, ", %s lost", pa_fmt_num(num, c->lost));
    if (sp->present && sp->mode == PA_SAMPLE_FREQ)
        pa_sbuf_printf(o, "; sampling %s Hz of %s", pa_fmt_num(num, sp->rate), leader);
    else if (sp->present && sp->mode == PA_SAMPLE_PERIOD)
        pa_sbuf_printf(o, "; a sample every %s %s", pa_fmt_num(num, sp->rate), leader);
    pa_sbuf_putc(o, '\n');
}

static void text_header(pa_sbuf_t *o, const struct pa_report_ctx *c)
{
    const struct pa_profile *p = &c->p;
    struct pa_prof_metrics m;
    size_t nmux = 0;
    pa_sbuf_puts(o, "pyagent report: ");
    pa_summary_process_line(o, c->t);
    pa_sbuf_putc(o, '\n');
    text_sampling(o, c);
    if (c->o->thread)
        pa_sbuf_printf(o, "threads: only %s\n", c->o->thread);
    for (size_t e = 0; e < p->nevents; e++)
        if (p->events[e].flags & PA_EVF_MULTIPLEXED)
            pa_sbuf_printf(o, "%s%s", nmux++ ? ", " : "events ", p->events[e].name);
    if (nmux)
        pa_sbuf_puts(o, " multiplexed: values scaled by time_enabled/time_running\n");
    pa_profile_metrics(p, p->total, &m);
    if (m.have_ipc || m.have_mpki || m.have_branch) {
        pa_sbuf_puts(o, "derived: ");
        text_metrics(o, &m, ", ");
        pa_sbuf_putc(o, '\n');
    }
}

/* Which derived columns a table has: those the trace's events allow. */
static void metric_head(pa_sbuf_t *o, const struct pa_profile *p)
{
    struct pa_prof_metrics m;
    uint64_t ones[PA_SAMPLE_MAX_EVENTS] = { 1, 1, 1, 1, 1, 1, 1, 1 };
    pa_profile_metrics(p, ones, &m);
    if (m.have_ipc)
        pa_sbuf_printf(o, " %6s", "IPC");
    if (m.have_mpki)
        pa_sbuf_printf(o, " %6s", "MPKI");
    if (m.have_branch)
        pa_sbuf_printf(o, " %7s", m.branch_per_kinst ? "BrMPKI" : "BrMiss%");
}

static void metric_cells(pa_sbuf_t *o, const struct pa_profile *p, const uint64_t *v)
{
    struct pa_prof_metrics m, can;
    uint64_t ones[PA_SAMPLE_MAX_EVENTS] = { 1, 1, 1, 1, 1, 1, 1, 1 };
    pa_profile_metrics(p, ones, &can);
    pa_profile_metrics(p, v, &m);
    if (can.have_ipc)
        m.have_ipc ? pa_sbuf_printf(o, " %6.2f", m.ipc) : pa_sbuf_printf(o, " %6s", "-");
    if (can.have_mpki)
        m.have_mpki ? pa_sbuf_printf(o, " %6.2f", m.mpki) : pa_sbuf_printf(o, " %6s", "-");
    if (can.have_branch && m.have_branch)
        pa_sbuf_printf(o, " %7.2f", m.branch_per_kinst ? m.branch : 100.0 * m.branch);
    else if (can.have_branch)
        pa_sbuf_printf(o, " %7s", "-");
}

static void text_location(pa_sbuf_t *o, const struct pa_prof_func *f)
{
    if (f->kind == PA_PROF_PYTHON && f->line)
        pa_sbuf_printf(o, "%s:%llu", f->file, (unsigned long long)f->line);
    else if ((f->kind == PA_PROF_PYTHON || f->kind == PA_PROF_NATIVE || f->kind == PA_PROF_NO_PYTHON) && f->file)
        pa_sbuf_puts(o, f->file);
}

static int name_width(const struct pa_report_row *r, size_t n)
{
    size_t w = 8;
    for (size_t i = 0; i < n; i++)
        if (strlen(r[i].name) > w)
            w = strlen(r[i].name);
    return w > 48 ? 48 : (int)w;
}

/* One event's table of rows (funcs, or modules when modules is set). */
static void text_rows(pa_sbuf_t *o, const struct pa_profile *p, int e, const struct pa_report_row *r, size_t n,
                      int modules)
{
    const struct pa_prof_event *ev = &p->events[e];
    int w = name_width(r, n);
    pa_sbuf_printf(o, "  %8s %12s %8s %12s", "Self%", "Self", "Total%", "Total");
    if (!modules)
        metric_head(o, p);
    if (modules)
        pa_sbuf_puts(o, "  Shared object\n");
    else
        pa_sbuf_printf(o, "  %-*s  Location\n", w, "Function");
    for (size_t i = 0; i < n; i++) {
        pa_sbuf_puts(o, "  ");
        put_pct(o, r[i].self, p->total[e]);
        put_value(o, ev, r[i].self, 13);
        pa_sbuf_putc(o, ' ');
        put_pct(o, r[i].total, p->total[e]);
        put_value(o, ev, r[i].total, 13);
        if (!modules)
            metric_cells(o, p, p->funcs[r[i].idx].self);
        pa_sbuf_printf(o, "  %-*s", modules ? 0 : w, r[i].name);
        if (!modules) {
            pa_sbuf_puts(o, "  ");
            text_location(o, &p->funcs[r[i].idx]);
        }
        while (o->len && o->buf[o->len - 1] == ' ' && !o->failed)
            o->buf[--o->len] = '\0';
        pa_sbuf_putc(o, '\n');
    }
}

static void text_more(pa_sbuf_t *o, size_t shown, size_t n)
{
    if (n > shown)
        pa_sbuf_printf(o, "  ... %zu more (--top 0 shows all)\n", n - shown);
}

static int text_event(pa_sbuf_t *o, const struct pa_report_ctx *c, const struct pa_profile *p, int e, size_t top)
{
    const struct pa_prof_event *ev = &p->events[e];
    struct pa_report_row *r;
    char num[PA_NUM_BUFLEN];
    size_t n = pa_report_func_rows(p, e, c->o->sort, &r);
    if (n == (size_t)-1)
        return -1;
    pa_sbuf_printf(o, "\n%s: ", ev->name);
    pa_sbuf_puts(o, ev->flags & PA_EVF_TIME ? pa_fmt_ns(num, p->total[e]) : pa_fmt_num(num, p->total[e]));
    pa_sbuf_printf(o, " in %s samples\n", pa_fmt_num(num, p->samples));
    text_rows(o, p, e, r, top && top < n ? top : n, 0);
    text_more(o, top && top < n ? top : n, n);
    pa_mem_free(r);
    if (!c->o->native)
        return 0;
    if ((n = pa_report_module_rows(p, e, c->o->sort, &r)) == (size_t)-1)
        return -1;
    pa_sbuf_printf(o, "\n%s by shared object:\n", ev->name);
    text_rows(o, p, e, r, top && top < n ? top : n, 1);
    text_more(o, top && top < n ? top : n, n);
    pa_mem_free(r);
    return 0;
}

static void text_thread_head(pa_sbuf_t *o, const struct pa_report_ctx *c, const struct pa_prof_thread *th)
{
    char num[PA_NUM_BUFLEN];
    pa_sbuf_printf(o, "\n== thread #%llu", (unsigned long long)th->serial);
    if (th->name)
        pa_sbuf_printf(o, " %s", th->name);
    pa_sbuf_printf(o, " (tid %llu): %s samples", (unsigned long long)th->tid, pa_fmt_num(num, th->samples));
    for (int e = c->ev_first; e <= c->ev_last; e++) {
        const struct pa_prof_event *ev = &c->p.events[e];
        pa_sbuf_printf(o, ", %s ", ev->name);
        pa_sbuf_puts(o, ev->flags & PA_EVF_TIME ? pa_fmt_ns(num, th->total[e]) : pa_fmt_num(num, th->total[e]));
    }
    pa_sbuf_puts(o, " ==\n");
}

static int text_threads(pa_sbuf_t *o, const struct pa_report_ctx *c)
{
    size_t top = c->o->top == PA_REPORT_TOP_DEFAULT ? PA_REPORT_THREAD_ROWS : (size_t)c->o->top;
    for (size_t i = 0; i < c->p.nthreads; i++) {
        struct pa_profile tp;
        if (pa_report_thread_profile(c, c->p.threads[i].serial, &tp) < 0)
            return -1;
        text_thread_head(o, c, &c->p.threads[i]);
        int rc = 0;
        for (int e = c->ev_first; e <= c->ev_last && rc == 0; e++)
            rc = text_event(o, c, &tp, e, top);
        pa_profile_free(&tp);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int render_text(const struct pa_report_ctx *c, pa_sbuf_t *o)
{
    size_t top = c->o->top == PA_REPORT_TOP_DEFAULT ? PA_REPORT_TEXT_ROWS : (size_t)c->o->top;
    if (c->p.samples == 0) {
        pa_sbuf_printf(o, "%s\n", c->o->thread ? "no CPU samples in the selected threads" : PA_REPORT_NO_SAMPLES);
        return pa_counted_text(c->t, c->serials, c->nserials, o) < 0 || o->failed ? -1 : 0;
    }
    text_header(o, c);
    for (int e = c->ev_first; e <= c->ev_last; e++)
        if (text_event(o, c, &c->p, e, top) < 0)
            return -1;
    if (c->o->threads && text_threads(o, c) < 0)
        return -1;
    if (pa_counted_text(c->t, c->serials, c->nserials, o) < 0)
        return -1;
    return o->failed ? -1 : 0;
}

/* ---- options against the trace ---- */

static int select_events(struct pa_report_ctx *c, pa_sbuf_t *err)
{
    const struct pa_profile *p = &c->p;
    c->ev_first = 0, c->ev_last = (int)p->nevents - 1;
    if (!c->o->event || p->nevents == 0) /* no samples at all: say that instead */
        return 0;
    int e = pa_profile_event(p, c->o->event);
    if (e >= 0) {
        c->ev_first = c->ev_last = e;
        return 0;
    }
    pa_sbuf_printf(err, "no event named %s; events:", c->o->event);
    for (size_t i = 0; i < p->nevents; i++)
        pa_sbuf_printf(err, "%s %s", i ? "," : "", p->events[i].name);
    pa_sbuf_puts(err, p->nevents ? "\n" : " none\n");
    return -2;
}

int pa_report_thread_profile(const struct pa_report_ctx *c, uint64_t serial, struct pa_profile *out)
{
    struct pa_profile_opts po = { .lines = c->o->lines, .native = c->o->native, .serials = &serial, .nserials = 1 };
    return pa_profile_build(c->t, &po, out);
}

int pa_report_render(pa_trace_t *t, const struct pa_report_opts *o, pa_sbuf_t *out, pa_sbuf_t *err)
{
    struct pa_report_ctx c = { .t = t, .o = o };
    size_t nst;
    const uint64_t *st;
    pa_trace_finish(t);
    st = pa_trace_stats(t, &nst);
    c.have_lost = nst > PA_STAT_SAMPLES_LOST;
    c.lost = c.have_lost ? st[PA_STAT_SAMPLES_LOST] : 0;
    int rc = pa_profile_pick_threads(t, o->thread, &c.serials, &c.nserials, err);
    if (rc == 0) {
        struct pa_profile_opts po = { .lines = o->lines, .native = o->native, .serials = c.serials,
                                      .nserials = c.nserials };
        rc = pa_profile_build(t, &po, &c.p);
    }
    if (rc == 0)
        rc = select_events(&c, err);
    if (rc == 0)
        rc = o->json ? pa_report_json(&c, out) : render_text(&c, out);
    pa_profile_free(&c.p);
    pa_mem_free(c.serials);
    return rc;
}
