/* report_json.c — `pyagent report --json`: the same tables as the text report, with
 * every row (unless --top), raw values (nanoseconds for time events) and sample counts. */
#include "counted.h"
#include "json.h"
#include "pa_mem.h"
#include "report_int.h"

static const char *const kind_names[] = {
    [PA_PROF_PYTHON] = "python",       [PA_PROF_NATIVE] = "native",       [PA_PROF_PY_UNKNOWN] = "python_unknown",
    [PA_PROF_UNKNOWN] = "unknown",     [PA_PROF_NO_PYTHON] = "no_python", [PA_PROF_NO_FRAMES] = "no_frames",
};

/* Keys of the derived metrics v allows; lead goes before the first ("" or ", "). */
static void json_metrics(pa_sbuf_t *o, const struct pa_profile *p, const uint64_t *v, const char *lead)
{
    struct pa_prof_metrics m;
    const char *s = lead;
    pa_profile_metrics(p, v, &m);
    if (m.have_ipc)
        pa_sbuf_printf(o, "%s\"ipc\": %.6g", s, m.ipc), s = ", ";
    if (m.have_mpki)
        pa_sbuf_printf(o, "%s\"mpki\": %.6g", s, m.mpki), s = ", ";
    if (m.have_branch)
        pa_sbuf_printf(o, "%s\"%s\": %.6g", s, m.branch_per_kinst ? "branch_misses_per_kinst" : "branch_miss_rate",
                       m.branch);
}

static void json_func(pa_sbuf_t *o, const struct pa_profile *p, const struct pa_report_row *r)
{
    const struct pa_prof_func *f = &p->funcs[r->idx];
    pa_sbuf_puts(o, "{\"function\": ");
    pa_json_strz(o, f->name);
    pa_sbuf_puts(o, ", \"file\": ");
    pa_json_strz(o, f->file);
    pa_sbuf_printf(o, ", \"line\": %llu, \"self\": %llu, \"total\": %llu, \"self_samples\": %llu, "
                      "\"total_samples\": %llu, \"kind\": \"%s\"",
                   (unsigned long long)f->line, (unsigned long long)r->self, (unsigned long long)r->total,
                   (unsigned long long)f->self_samples, (unsigned long long)f->total_samples, kind_names[f->kind]);
    json_metrics(o, p, f->self, ", ");
    pa_sbuf_putc(o, '}');
}

static void json_module(pa_sbuf_t *o, const struct pa_profile *p, const struct pa_report_row *r)
{
    const struct pa_prof_module *m = &p->modules[r->idx];
    pa_sbuf_puts(o, "{\"module\": ");
    pa_json_strz(o, m->path);
    pa_sbuf_printf(o, ", \"self\": %llu, \"total\": %llu, \"self_samples\": %llu, \"total_samples\": %llu}",
                   (unsigned long long)r->self, (unsigned long long)r->total, (unsigned long long)m->self_samples,
                   (unsigned long long)m->total_samples);
}

static size_t rows_shown(const struct pa_report_ctx *c, size_t n)
{
    size_t top = c->o->top > 0 ? (size_t)c->o->top : 0;
    return top && top < n ? top : n;
}

/* "functions" (and "modules" with --native) of event e. */
static int json_tables(pa_sbuf_t *o, const struct pa_report_ctx *c, const struct pa_profile *p, int e)
{
    struct pa_report_row *r;
    size_t n = pa_report_func_rows(p, e, c->o->sort, &r);
    if (n == (size_t)-1)
        return -1;
    pa_sbuf_puts(o, ", \"functions\": [");
    for (size_t i = 0; i < rows_shown(c, n); i++) {
        pa_sbuf_puts(o, i ? ", " : "");
        json_func(o, p, &r[i]);
    }
    pa_sbuf_putc(o, ']');
    pa_mem_free(r);
    if (!c->o->native)
        return 0;
    if ((n = pa_report_module_rows(p, e, c->o->sort, &r)) == (size_t)-1)
        return -1;
    pa_sbuf_puts(o, ", \"modules\": [");
    for (size_t i = 0; i < rows_shown(c, n); i++) {
        pa_sbuf_puts(o, i ? ", " : "");
        json_module(o, p, &r[i]);
    }
    pa_sbuf_putc(o, ']');
    pa_mem_free(r);
    return 0;
}

static int json_events(pa_sbuf_t *o, const struct pa_report_ctx *c, const struct pa_profile *p)
{
    pa_sbuf_puts(o, ", \"events\": [");
    for (int e = c->ev_first; e <= c->ev_last; e++) {
        const struct pa_prof_event *ev = &p->events[e];
        pa_sbuf_puts(o, e > c->ev_first ? ", {\"name\": " : "{\"name\": ");
        pa_json_strz(o, ev->name);
        pa_sbuf_printf(o, ", \"unit\": \"%s\", \"leader\": ", ev->flags & PA_EVF_TIME ? "ns" : "count");
        pa_json_bool(o, (ev->flags & PA_EVF_LEADER) != 0);
        pa_sbuf_puts(o, ", \"multiplexed\": ");
        pa_json_bool(o, (ev->flags & PA_EVF_MULTIPLEXED) != 0);
        pa_sbuf_printf(o, ", \"total\": %llu, \"samples\": %llu", (unsigned long long)p->total[e],
                       (unsigned long long)p->samples);
        if (json_tables(o, c, p, e) < 0)
            return -1;
        pa_sbuf_putc(o, '}');
    }
    pa_sbuf_putc(o, ']');
    return 0;
}

static void json_thread_head(pa_sbuf_t *o, const struct pa_report_ctx *c, const struct pa_prof_thread *th)
{
    pa_sbuf_printf(o, "{\"serial\": %llu, \"tid\": %llu, \"name\": ", (unsigned long long)th->serial,
                   (unsigned long long)th->tid);
    pa_json_strz(o, th->name);
    pa_sbuf_printf(o, ", \"samples\": %llu, \"totals\": {", (unsigned long long)th->samples);
    for (size_t e = 0; e < c->p.nevents; e++) {
        pa_sbuf_puts(o, e ? ", " : "");
        pa_json_strz(o, c->p.events[e].name);
        pa_sbuf_printf(o, ": %llu", (unsigned long long)th->total[e]);
    }
    pa_sbuf_putc(o, '}');
}

static int json_threads(pa_sbuf_t *o, const struct pa_report_ctx *c)
{
    pa_sbuf_puts(o, ", \"threads\": [");
    for (size_t i = 0; i < c->p.nthreads; i++) {
        pa_sbuf_puts(o, i ? ", " : "");
        json_thread_head(o, c, &c->p.threads[i]);
        if (c->o->threads) {
            struct pa_profile tp;
            if (pa_report_thread_profile(c, c->p.threads[i].serial, &tp) < 0)
                return -1;
            int rc = json_events(o, c, &tp);
            pa_profile_free(&tp);
            if (rc < 0)
                return -1;
        }
        pa_sbuf_putc(o, '}');
    }
    pa_sbuf_putc(o, ']');
    return 0;
}

static void json_sampling(pa_sbuf_t *o, const struct pa_report_ctx *c)
{
    const struct pa_sampling *sp = pa_trace_sampling(c->t);
    size_t nmux = 0;
    pa_sbuf_puts(o, ", \"sampling\": ");
    if (sp->present)
        pa_sbuf_printf(o, "{\"mode\": \"%s\", \"rate\": %llu, \"signal\": %llu}",
                       sp->mode == PA_SAMPLE_FREQ ? "freq" : sp->mode == PA_SAMPLE_PERIOD ? "period" : "unknown",
                       (unsigned long long)sp->rate, (unsigned long long)sp->signal);
    else
        pa_sbuf_puts(o, "null");
    pa_sbuf_puts(o, ", \"multiplexed\": [");
    for (size_t e = 0; e < c->p.nevents; e++)
        if (c->p.events[e].flags & PA_EVF_MULTIPLEXED) {
            pa_sbuf_puts(o, nmux++ ? ", " : "");
            pa_json_strz(o, c->p.events[e].name);
        }
    pa_sbuf_puts(o, "], \"derived\": {");
    json_metrics(o, &c->p, c->p.total, "");
    pa_sbuf_putc(o, '}');
}

int pa_report_json(const struct pa_report_ctx *c, pa_sbuf_t *o)
{
    static const char *const views[] = { "python", "lines", "native", "native_lines" };
    static const char *const sorts[] = { [PA_SORT_SELF] = "self", [PA_SORT_TOTAL] = "total", [PA_SORT_NAME] = "name" };
    pa_sbuf_printf(o, "{\"samples\": %llu, \"lost\": ", (unsigned long long)c->p.samples);
    if (c->have_lost)
        pa_sbuf_printf(o, "%llu", (unsigned long long)c->lost);
    else
        pa_sbuf_puts(o, "null");
    pa_sbuf_printf(o, ", \"view\": \"%s\", \"sort\": \"%s\"", views[(c->o->lines ? 1 : 0) + (c->o->native ? 2 : 0)],
                   sorts[c->o->sort]);
    json_sampling(o, c);
    if (json_events(o, c, &c->p) < 0 || json_threads(o, c) < 0)
        return -1;
    if (c->p.samples == 0) {
        pa_sbuf_puts(o, ", \"message\": ");
        pa_json_strz(o, c->o->thread ? "no CPU samples in the selected threads" : PA_REPORT_NO_SAMPLES);
    }
    pa_sbuf_puts(o, ", ");
    if (pa_counted_json(c->t, c->serials, c->nserials, o) < 0)
        return -1;
    pa_sbuf_puts(o, "}\n");
    return o->failed ? -1 : 0;
}
