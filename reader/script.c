/* script.c — `pyagent script`: merges the call segments, regions and instant events of
 * the selected threads by time and prints one line each. The calls come from calls.c
 * already filtered; the counter deltas from deltas.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "calls.h"
#include "deltas.h"
#include "idmap.h"
#include "json.h"
#include "pa_mem.h"
#include "profile.h"
#include "script.h"

enum { F_TIME, F_THREAD, F_DEPTH, F_DURATION, F_CPU, F_ALLOC, F_EVENT, F_FUNCTION, F_FILE };
#define MAX_COLS 32
#define LABEL_MIN 40  /* width of the function column when more columns follow */
#define FIELDS_MAX_DEPTH 64

struct col {
    int kind, ev; /* ev: F_EVENT's event index */
};

/* The calls shown on a thread that may still be open: for indenting what happens inside. */
struct tstack {
    uint64_t *end;
    uint16_t *rd;
    size_t n, cap, rd_cap;
};

struct ctx {
    pa_trace_t *t;
    const struct pa_script_opts *o;
    pa_sbuf_t *out, label;
    uint64_t base, since, until;
    uint64_t *serials;
    size_t nserials;
    struct pa_calls calls;
    struct pa_region *regions;
    size_t nregions;
    struct pa_deltas d;
    struct col cols[MAX_COLS];
    size_t ncols;
    int thread_w;
    pa_idmap_t tix;
    struct tstack *ts;
    size_t nts, ts_cap;
};

/* One line's content, whatever produced it. */
struct line {
    uint64_t serial, t;
    int has_dur, has_depth, has_deltas;
    uint64_t dur, depth, indent;
    struct pa_delta delta;
    const char *file; /* function column's location; NULL: none */
    uint64_t line;
};

int pa_parse_time(const char *s, uint64_t *ns)
{
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = { { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 }, { "", 1000000000 } };
    uint64_t whole = 0, frac = 0, scale = 1;
    const char *p = s;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (whole > (UINT64_MAX - 9) / 10)
            return -1;
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (scale < 1000000000000000000ull) /* digits past 10^-18 cannot matter */
                frac = frac * 10 + (uint64_t)(*p - '0'), scale *= 10;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(p, units[i].suffix) != 0)
            continue;
        uint64_t m = units[i].mult;
        if (whole > UINT64_MAX / m)
            return -1;
        uint64_t f = (uint64_t)((unsigned __int128)frac * m / scale);
        if (whole * m > UINT64_MAX - f)
            return -1;
        *ns = whole * m + f;
        return 0;
    }
    return -1;
}

/* ---- options ---- */

static int add_col(struct ctx *x, int kind, int ev)
{
    if (x->ncols >= MAX_COLS)
        return -1;
    x->cols[x->ncols++] = (struct col){ kind, ev };
    return 0;
}

static int field_kind(const struct ctx *x, const char *name, int *ev)
{
    static const char *const names[] = { [F_TIME] = "time",         [F_THREAD] = "thread", [F_DEPTH] = "depth",
                                         [F_DURATION] = "duration", [F_CPU] = "cpu",       [F_ALLOC] = "alloc",
                                         [F_FUNCTION] = "function", [F_FILE] = "file" };
    *ev = -1;
    for (int k = 0; k <= F_FILE; k++)
        if (names[k] && !strcmp(names[k], name))
            return k;
    for (size_t e = 0; e < x->d.nevents; e++)
        if (!strcmp(x->d.names[e], name)) {
            *ev = (int)e;
            return F_EVENT;
        }
    return -1;
}

static int parse_fields(struct ctx *x, pa_sbuf_t *err)
{
    const char *s = x->o->fields;
    char name[128];
    if (!s) {
        add_col(x, F_TIME, -1), add_col(x, F_THREAD, -1), add_col(x, F_DURATION, -1);
        if (x->d.cpu >= 0)
            add_col(x, F_CPU, -1);
        if (x->d.have_alloc)
            add_col(x, F_ALLOC, -1);
        add_col(x, F_FUNCTION, -1), add_col(x, F_FILE, -1);
        return 0;
    }
    while (*s) {
        size_t n = strcspn(s, ",");
        int ev, kind;
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), s);
        if ((kind = field_kind(x, name, &ev)) < 0 || add_col(x, kind, ev) < 0) {
            pa_sbuf_printf(err, kind < 0 ? "unknown field \"%s\"; fields: " PA_SCRIPT_FIELDS "\n"
                                         : "too many fields (at most 32)\n",
                           name);
            return -2;
        }
        s += n + (s[n] == ',');
    }
    if (x->ncols == 0) {
        pa_sbuf_puts(err, "--fields names no field; fields: " PA_SCRIPT_FIELDS "\n");
        return -2;
    }
    return 0;
}

/* ---- per-thread indentation ---- */

static struct tstack *tstack_of(struct ctx *x, uint64_t serial)
{
    uint32_t i;
    if (pa_idmap_get(&x->tix, serial, &i) == 0)
        return &x->ts[i];
    if (pa_vec_reserve((void **)&x->ts, &x->ts_cap, x->nts + 1, sizeof *x->ts) < 0 ||
        pa_idmap_put(&x->tix, serial, (uint32_t)x->nts) < 0)
        return NULL;
    memset(&x->ts[x->nts], 0, sizeof x->ts[x->nts]);
    return &x->ts[x->nts++];
}

/* Indent of something at time t: one below the innermost shown call still open. */
static int indent_at(struct ctx *x, uint64_t serial, uint64_t t, uint64_t *indent)
{
    struct tstack *s = tstack_of(x, serial);
    if (!s)
        return -1;
    while (s->n && s->end[s->n - 1] < t)
        s->n--;
    *indent = s->n ? (uint64_t)s->rd[s->n - 1] + 1 : 0;
    return 0;
}

static int push_call(struct ctx *x, const struct pa_call *c)
{
    struct tstack *s = tstack_of(x, c->serial);
    if (!s)
        return -1;
    while (s->n && s->rd[s->n - 1] >= c->rdepth)
        s->n--;
    if (pa_vec_reserve((void **)&s->end, &s->cap, s->n + 1, sizeof *s->end) < 0 ||
        pa_vec_reserve((void **)&s->rd, &s->rd_cap, s->n + 1, sizeof *s->rd) < 0)
        return -1;
    s->end[s->n] = c->end;
    s->rd[s->n++] = c->rdepth;
    return 0;
}

/* ---- text ---- */

static void thread_label(const struct ctx *x, uint64_t serial, char *buf, size_t len)
{
    const struct pa_thread *th = pa_trace_thread(x->t, serial);
    if (th && th->name)
        snprintf(buf, len, "%s", th->name);
    else
        snprintf(buf, len, "#%llu", (unsigned long long)serial);
}

static uint64_t rel(const struct ctx *x, uint64_t t)
{
    return t > x->base ? t - x->base : 0;
}

static void text_cell(struct ctx *x, const struct col *c, const struct line *l, int last)
{
    pa_sbuf_t *o = x->out;
    char num[PA_NUM_BUFLEN + 4], th[64];
    const struct pa_delta *d = &l->delta;
    uint64_t r = rel(x, l->t);
    switch (c->kind) {
    case F_TIME: pa_sbuf_printf(o, "%6llu.%09llu", (unsigned long long)(r / 1000000000u), (unsigned long long)(r % 1000000000u)); break;
    case F_THREAD:
        thread_label(x, l->serial, th, sizeof th);
        pa_sbuf_printf(o, "%-*s", x->thread_w, th);
        break;
    case F_DEPTH: l->has_depth ? pa_sbuf_printf(o, "%5llu", (unsigned long long)l->depth) : pa_sbuf_printf(o, "%5s", ""); break;
    case F_DURATION: pa_sbuf_printf(o, "%12s", l->has_dur ? pa_fmt_dur(num, l->dur) : ""); break;
    case F_CPU:
        pa_sbuf_printf(o, "%12s", !l->has_deltas ? "" : d->have_samples && x->d.cpu >= 0 ? pa_fmt_dur(num, d->v[x->d.cpu]) : "-");
        break;
    case F_ALLOC:
        if (l->has_deltas && x->d.have_alloc)
            snprintf(num + strlen(pa_fmt_num(num, d->alloc_bytes)), 4, " B");
        pa_sbuf_printf(o, "%14s", !l->has_deltas ? "" : x->d.have_alloc ? num : "-");
        break;
    case F_EVENT:
        if (l->has_deltas && d->have_samples)
            x->d.time_ev[c->ev] ? pa_fmt_dur(num, d->v[c->ev]) : pa_fmt_num(num, d->v[c->ev]);
        pa_sbuf_printf(o, "%14s", !l->has_deltas ? "" : d->have_samples ? num : "-");
        break;
    case F_FUNCTION: {
        uint64_t ind = l->indent < 200 ? l->indent : 200;
        size_t start = o->len;
        pa_sbuf_printf(o, "%*s%s", (int)(2 * ind), "", pa_sbuf_cstr(&x->label));
        if (!last && o->len - start < LABEL_MIN)
            pa_sbuf_printf(o, "%*s", (int)(LABEL_MIN - (o->len - start)), "");
        break;
    }
    case F_FILE:
        if (l->file && l->line)
            pa_sbuf_printf(o, "%s:%llu", l->file, (unsigned long long)l->line);
        else if (l->file)
            pa_sbuf_puts(o, l->file);
        break;
    }
}

static void text_line(struct ctx *x, const struct line *l)
{
    pa_sbuf_t *o = x->out;
    pa_sbuf_puts(o, " ");
    for (size_t i = 0; i < x->ncols; i++) {
        pa_sbuf_puts(o, " ");
        text_cell(x, &x->cols[i], l, i + 1 == x->ncols);
    }
    while (o->len && o->buf[o->len - 1] == ' ' && !o->failed)
        o->buf[--o->len] = '\0';
    pa_sbuf_putc(o, '\n');
}

static void text_header(struct ctx *x)
{
    pa_sbuf_t *o = x->out;
    const struct pa_process *p = pa_trace_process(x->t);
    if (p->present) {
        pa_sbuf_printf(o, "# pyagent script: pid %llu", (unsigned long long)p->pid);
        for (size_t i = 0; i < p->argc && i < 8; i++)
            pa_sbuf_printf(o, "%s%.60s", i ? " " : " (", p->argv[i]);
        pa_sbuf_puts(o, p->argc ? ")" : "");
        for (size_t i = 0; i < o->len && !o->failed; i++) /* `python -c` code spans lines */
            if ((unsigned char)o->buf[i] < 0x20)
                o->buf[i] = ' ';
        pa_sbuf_puts(o, "; ");
    } else {
        pa_sbuf_puts(o, "# pyagent script: ");
    }
    pa_sbuf_puts(o, "time in seconds since the process started\n#");
    for (size_t i = 0; i < x->ncols; i++) {
        const struct col *c = &x->cols[i];
        switch (c->kind) {
        case F_TIME: pa_sbuf_printf(o, " %16s", "TIME"); break;
        case F_THREAD: pa_sbuf_printf(o, " %-*s", x->thread_w, "THREAD"); break;
        case F_DEPTH: pa_sbuf_printf(o, " %5s", "DEPTH"); break;
        case F_DURATION: pa_sbuf_printf(o, " %12s", "DURATION"); break;
        case F_CPU: pa_sbuf_printf(o, " %12s", "CPU"); break;
        case F_ALLOC: pa_sbuf_printf(o, " %14s", "ALLOC"); break;
        case F_EVENT: pa_sbuf_printf(o, " %14.14s", x->d.names[c->ev]); break;
        case F_FUNCTION: pa_sbuf_printf(o, i + 1 < x->ncols ? " %-*s" : " %.*s", LABEL_MIN, "FUNCTION"); break;
        case F_FILE: pa_sbuf_puts(o, " FILE"); break;
        }
    }
    while (o->len && o->buf[o->len - 1] == ' ' && !o->failed)
        o->buf[--o->len] = '\0';
    pa_sbuf_putc(o, '\n');
}

static int thread_width(struct ctx *x)
{
    const struct pa_thread *th;
    size_t n = pa_trace_threads(x->t, &th), w = 6;
    for (size_t i = 0; i < n; i++)
        if (pa_calls_has_serial(x->serials, x->nserials, th[i].serial) && th[i].name && strlen(th[i].name) > w)
            w = strlen(th[i].name);
    return w > 24 ? 24 : (int)w;
}

/* ---- JSON ---- */

static void json_thread(struct ctx *x, uint64_t serial)
{
    const struct pa_thread *th = pa_trace_thread(x->t, serial);
    pa_sbuf_puts(x->out, ", \"thread\": ");
    pa_json_strz(x->out, th ? th->name : NULL);
    if (th)
        pa_sbuf_printf(x->out, ", \"tid\": %llu", (unsigned long long)th->tid);
    else
        pa_sbuf_puts(x->out, ", \"tid\": null");
}

static void json_deltas(struct ctx *x, const struct pa_delta *d)
{
    pa_sbuf_t *o = x->out;
    if (d->have_samples) {
        if (x->d.cpu >= 0)
            pa_sbuf_printf(o, ", \"cpu_ns\": %llu", (unsigned long long)d->v[x->d.cpu]);
        for (size_t e = 0; e < x->d.nevents; e++)
            if ((int)e != x->d.cpu) {
                pa_sbuf_puts(o, ", ");
                pa_json_strz(o, x->d.names[e]);
                pa_sbuf_printf(o, ": %llu", (unsigned long long)d->v[e]);
            }
    }
    if (x->d.have_alloc)
        pa_sbuf_printf(o, ", \"alloc_bytes\": %llu, \"alloc_count\": %llu", (unsigned long long)d->alloc_bytes,
                       (unsigned long long)d->alloc_count);
}

/* A mark's fields: the agent's JSON object as it is, when it is one. */
static void json_fields(pa_sbuf_t *o, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++, n--;
    pa_sbuf_puts(o, ", \"fields\": ");
    if (!s)
        pa_sbuf_puts(o, "null");
    else if (n && *s == '{' && pa_json_valid(s, n, FIELDS_MAX_DEPTH))
        pa_sbuf_append(o, s, n);
    else {
        pa_sbuf_puts(o, "null, \"fields_text\": ");
        pa_json_strz(o, s);
    }
}

/* ---- items ---- */

static const char *exit_name(unsigned kind)
{
    return kind == PA_CALL_RETURN ? "return" : kind == PA_CALL_YIELD ? "yield" : kind == PA_CALL_UNWIND ? "exception" : NULL;
}

static int show_call(struct ctx *x, const struct pa_call *c)
{
    const char *name, *file;
    uint64_t line;
    struct line l = { c->serial, c->start, 1, 1, 1, c->end - c->start, c->depth, c->rdepth, { 0 }, NULL, 0 };
    pa_trace_function(x->t, c->func, &name, &file, &line);
    pa_deltas_get(&x->d, c->serial, c->start, c->end, &l.delta);
    if (push_call(x, c) < 0)
        return -1;
    if (x->o->json) {
        pa_sbuf_t *o = x->out;
        pa_sbuf_puts(o, "{\"type\": \"call\", \"function\": ");
        pa_json_strz(o, name);
        pa_sbuf_puts(o, ", \"file\": ");
        pa_json_strz(o, file);
        pa_sbuf_printf(o, ", \"line\": %llu", (unsigned long long)line);
        json_thread(x, c->serial);
        pa_sbuf_printf(o, ", \"start_ns\": %llu, \"duration_ns\": %llu, \"depth\": %u, \"exit\": ",
                       (unsigned long long)rel(x, c->start), (unsigned long long)l.dur, c->depth);
        pa_json_strz(o, exit_name(c->exit));
        if (c->flags & PA_CALLF_RESUMED)
            pa_sbuf_puts(o, ", \"resumed\": true");
        if (c->flags & PA_CALLF_UNFINISHED)
            pa_sbuf_puts(o, ", \"unfinished\": true");
        json_deltas(x, &l.delta);
        return pa_sbuf_puts(o, "}\n");
    }
    const char *tag = c->exit == PA_CALL_YIELD ? "yield" : c->exit == PA_CALL_UNWIND ? "exception"
                      : c->flags & PA_CALLF_UNFINISHED                                ? "unfinished" : NULL;
    pa_sbuf_reset(&x->label);
    pa_sbuf_puts(&x->label, name);
    if (c->flags & PA_CALLF_RESUMED)
        pa_sbuf_printf(&x->label, " [resumed%s%s]", tag ? ", " : "", tag ? tag : "");
    else if (tag)
        pa_sbuf_printf(&x->label, " [%s]", tag);
    l.file = file, l.line = line;
    text_line(x, &l);
    return x->label.failed ? -1 : 0;
}

static int show_region(struct ctx *x, const struct pa_region *r)
{
    const char *name = pa_trace_string(x->t, r->name);
    struct line l = { r->serial, r->start, 1, 0, 1, r->end - r->start, 0, 0, { 0 }, NULL, 0 };
    if (indent_at(x, r->serial, r->start, &l.indent) < 0)
        return -1;
    pa_deltas_get(&x->d, r->serial, r->start, r->end, &l.delta);
    if (x->o->json) {
        pa_sbuf_t *o = x->out;
        pa_sbuf_puts(o, "{\"type\": \"region\", \"name\": ");
        pa_json_strz(o, name);
        json_thread(x, r->serial);
        pa_sbuf_printf(o, ", \"start_ns\": %llu, \"duration_ns\": %llu", (unsigned long long)rel(x, r->start),
                       (unsigned long long)l.dur);
        if (r->unfinished)
            pa_sbuf_puts(o, ", \"unfinished\": true");
        json_deltas(x, &l.delta);
        return pa_sbuf_puts(o, "}\n");
    }
    pa_sbuf_reset(&x->label);
    pa_sbuf_printf(&x->label, "[region] %s%s", name ? name : "", r->unfinished ? " [unfinished]" : "");
    text_line(x, &l);
    return x->label.failed ? -1 : 0;
}

static const char *cause_name(uint64_t c)
{
    return c == PA_TOGGLE_API ? "api" : c == PA_TOGGLE_SIGNAL ? "signal" : c == PA_TOGGLE_START ? "start" : NULL;
}

/* Text for the function column: control characters would break the line. */
static void label_clean(pa_sbuf_t *l, const char *s, size_t max)
{
    for (size_t i = 0; s && s[i] && i < max; i++)
        pa_sbuf_putc(l, (unsigned char)s[i] < 0x20 ? ' ' : s[i]);
}

static void json_annot(struct ctx *x, const struct pa_annot *a, const char *name)
{
    static const char *const types[] = { [PA_EV_MARK] = "mark", [PA_EV_COUNTER] = "counter", [PA_EV_TOGGLE] = "toggle" };
    pa_sbuf_t *o = x->out;
    pa_sbuf_printf(o, "{\"type\": \"%s\"", types[a->type]);
    if (a->type == PA_EV_TOGGLE) {
        pa_sbuf_printf(o, ", \"state\": \"%s\", \"cause\": ", a->arg ? "resumed" : "paused");
        if (cause_name(a->cause))
            pa_sbuf_printf(o, "\"%s\"", cause_name(a->cause));
        else
            pa_sbuf_printf(o, "%llu", (unsigned long long)a->cause);
    } else {
        pa_sbuf_puts(o, ", \"name\": ");
        pa_json_strz(o, name);
    }
    json_thread(x, a->serial);
    pa_sbuf_printf(o, ", \"t_ns\": %llu", (unsigned long long)rel(x, a->t));
    if (a->type == PA_EV_MARK)
        json_fields(o, pa_trace_string(x->t, a->arg));
    else if (a->type == PA_EV_COUNTER && !a->is_double)
        pa_sbuf_printf(o, ", \"value\": %lld", (long long)a->ival);
    else if (a->type == PA_EV_COUNTER && isfinite(a->dval))
        pa_sbuf_printf(o, ", \"value\": %.17g", a->dval);
    else if (a->type == PA_EV_COUNTER)
        pa_sbuf_puts(o, ", \"value\": null");
    pa_sbuf_puts(o, "}\n");
}

static int show_annot(struct ctx *x, const struct pa_annot *a)
{
    const char *name = pa_trace_string(x->t, a->name);
    struct line l = { a->serial, a->t, 0, 0, 0, 0, 0, 0, { 0 }, NULL, 0 };
    if (x->o->json) {
        json_annot(x, a, name);
        return 0;
    }
    if (indent_at(x, a->serial, a->t, &l.indent) < 0)
        return -1;
    pa_sbuf_reset(&x->label);
    if (a->type == PA_EV_MARK) {
        pa_sbuf_puts(&x->label, "[mark] ");
        label_clean(&x->label, name, 200);
        if (a->arg)
            pa_sbuf_putc(&x->label, ' ');
        label_clean(&x->label, pa_trace_string(x->t, a->arg), 200);
    } else if (a->type == PA_EV_COUNTER) {
        pa_sbuf_puts(&x->label, "[counter] ");
        label_clean(&x->label, name, 200);
        if (a->is_double)
            pa_sbuf_printf(&x->label, " = %g", a->dval);
        else
            pa_sbuf_printf(&x->label, " = %lld", (long long)a->ival);
    } else {
        pa_sbuf_printf(&x->label, "[%s]", a->arg ? "resumed" : "paused");
        if (cause_name(a->cause))
            pa_sbuf_printf(&x->label, " (%s)", cause_name(a->cause));
        else
            pa_sbuf_printf(&x->label, " (cause %llu)", (unsigned long long)a->cause);
    }
    text_line(x, &l);
    return x->label.failed ? -1 : 0;
}

/* With --function: whether t lies in a matching call of the thread. */
static int in_span(const struct ctx *x, uint64_t serial, uint64_t t)
{
    const struct pa_call_span *s = x->calls.spans;
    size_t lo = 0, hi = x->calls.nspans;
    if (!x->o->function)
        return 1;
    while (lo < hi) { /* the first span after (serial, t) */
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].serial < serial || (s[mid].serial == serial && s[mid].start <= t))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && s[lo - 1].serial == serial && s[lo - 1].end >= t;
}

static int annot_shown(const struct ctx *x, const struct pa_annot *a)
{
    return a->type != PA_EV_REGION && a->t >= x->since && a->t <= x->until &&
           pa_calls_has_serial(x->serials, x->nserials, a->serial) && in_span(x, a->serial, a->t);
}

static int region_shown(const struct ctx *x, const struct pa_region *r)
{
    return r->start <= x->until && r->end >= x->since && in_span(x, r->serial, r->start);
}

/* Merges the three time-ordered lists; at equal times calls come first, then regions. */
static int merge(struct ctx *x)
{
    const struct pa_annot *a;
    size_t na = pa_trace_annots(x->t, &a), i = 0, j = 0, k = 0;
    int rc = 0;
    while (rc == 0 && !x->out->failed) {
        while (k < na && !annot_shown(x, &a[k]))
            k++;
        while (j < x->nregions && !region_shown(x, &x->regions[j]))
            j++;
        uint64_t tc = i < x->calls.n ? x->calls.v[i].start : UINT64_MAX;
        uint64_t tr = j < x->nregions ? x->regions[j].start : UINT64_MAX;
        uint64_t ta = k < na ? a[k].t : UINT64_MAX;
        if (i < x->calls.n && tc <= tr && tc <= ta)
            rc = show_call(x, &x->calls.v[i++]);
        else if (j < x->nregions && tr <= ta)
            rc = show_region(x, &x->regions[j++]);
        else if (k < na)
            rc = show_annot(x, &a[k++]);
        else
            break;
        if (rc == 0 && x->o->flush && x->out->len >= PA_SCRIPT_FLUSH_BYTES)
            rc = x->out->failed ? -1 : x->o->flush(x->out, x->o->flush_arg);
    }
    return rc < 0 || x->out->failed ? -1 : 0;
}

static void notes(struct ctx *x, pa_sbuf_t *err)
{
    const struct pa_counts *n = pa_trace_counts(x->t);
    const struct pa_calls *c = &x->calls;
    char num[PA_NUM_BUFLEN];
    if (n->call_records == 0)
        pa_sbuf_puts(err, "no call events in this trace (record with PYAGENT_MODE=trace)\n");
    else if (x->o->function && c->nspans == 0)
        pa_sbuf_printf(err, "no call of %s in the threads selected\n", x->o->function);
    if (n->call_events_not_kept)
        pa_sbuf_printf(err, "call events not analysed (over the reader's memory cap): %s\n",
                       pa_fmt_num(num, n->call_events_not_kept));
    if (c->not_kept)
        pa_sbuf_printf(err, "calls not shown (over the reader's memory cap; narrow with --thread, --function, "
                            "--since/--until or --depth): %s\n", pa_fmt_num(num, c->not_kept));
    if (c->too_deep)
        pa_sbuf_printf(err, "calls deeper than %u frames, not shown: %s\n", PA_CALLS_MAX_DEPTH,
                       pa_fmt_num(num, c->too_deep));
    if (x->d.alloc_incomplete)
        pa_sbuf_puts(err, "allocations not attributed to calls: the trace holds more allocation events than the "
                          "reader keeps\n");
    if (c->unknown_funcs)
        pa_sbuf_printf(err, "calls of functions the trace does not define (shown as %s): %s\n", PA_UNKNOWN,
                       pa_fmt_num(num, c->unknown_funcs));
}

static int prepare(struct ctx *x, pa_sbuf_t *err)
{
    const struct pa_script_opts *o = x->o;
    int rc = pa_profile_pick_threads(x->t, o->thread, &x->serials, &x->nserials, err);
    if (rc < 0)
        return rc;
    x->base = pa_calls_base_ns(x->t);
    x->since = o->has_since ? x->base + (o->since_ns < UINT64_MAX - x->base ? o->since_ns : UINT64_MAX - x->base) : 0;
    x->until = o->has_until && o->until_ns < UINT64_MAX - x->base ? x->base + o->until_ns : UINT64_MAX;
    if (o->has_since && o->has_until && o->until_ns < o->since_ns) {
        pa_sbuf_puts(err, "--until is before --since\n");
        return -2;
    }
    if (pa_deltas_build(x->t, &x->d) < 0)
        return -1;
    if ((rc = parse_fields(x, err)) < 0)
        return rc;
    struct pa_calls_opts co = { x->serials, x->nserials, o->function, x->since, x->until, o->max_depth };
    if (pa_calls_build(x->t, &co, &x->calls) < 0)
        return -1;
    x->nregions = pa_regions_build(x->t, x->serials, x->nserials, &x->regions);
    if (x->nregions == (size_t)-1) {
        x->nregions = 0;
        return -1;
    }
    x->thread_w = thread_width(x);
    return 0;
}

int pa_script_render(pa_trace_t *t, const struct pa_script_opts *o, pa_sbuf_t *out, pa_sbuf_t *err)
{
    struct ctx x = { .t = t, .o = o, .out = out };
    pa_trace_finish(t);
    pa_sbuf_init(&x.label);
    pa_idmap_init(&x.tix);
    int rc = prepare(&x, err);
    if (rc == 0 && !o->json)
        text_header(&x);
    if (rc == 0)
        rc = merge(&x);
    if (rc == 0)
        notes(&x, err);
    for (size_t i = 0; i < x.nts; i++) {
        pa_mem_free(x.ts[i].end);
        pa_mem_free(x.ts[i].rd);
    }
    pa_mem_free(x.ts);
    pa_idmap_free(&x.tix);
    pa_sbuf_free(&x.label);
    pa_calls_free(&x.calls);
    pa_mem_free(x.regions);
    pa_deltas_free(&x.d);
    pa_mem_free(x.serials);
    return rc;
}
