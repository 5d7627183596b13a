/* calls.c — matches each thread's call events into call segments with one stack walk
 * over its CALLS records in time order, keeping only the segments the filters pass, and
 * pairs regions. Memory: one frame per open call, plus the segments kept. */
#include <string.h>

#include "calls.h"
#include "idmap.h"
#include "pa_mem.h"

/* An open call. mroot: depth of the --function match it is under, -1 if none. */
struct frame {
    uint64_t start, func, seq;
    int64_t mroot;
    uint8_t flags;
};

struct walk {
    const pa_trace_t *t;
    const struct pa_calls_opts *o;
    struct pa_calls *c;
    pa_idmap_t match; /* function id -> 1 matches --function, 2 does not */
    struct frame *stack;
    size_t depth, cap;
    uint64_t over;    /* entries beyond the depth limit still open */
    uint64_t serial, seq, now;
};

int pa_calls_name_matches(const char *name, const char *spec)
{
    size_t n = strlen(name), k = strlen(spec);
    if (k == 0 || k > n)
        return 0;
    return strcmp(name + n - k, spec) == 0 && (n == k || name[n - k - 1] == '.');
}

int pa_calls_has_serial(const uint64_t *serials, size_t n, uint64_t serial)
{
    size_t lo = 0, hi = n;
    if (!serials)
        return 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (serials[mid] == serial)
            return 1;
        if (serials[mid] < serial)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

uint64_t pa_calls_base_ns(const pa_trace_t *t)
{
    const struct pa_process *p = pa_trace_process(t);
    const struct pa_call_record *r;
    const struct pa_annot *a;
    const struct pa_sample *s;
    size_t nr = pa_trace_call_records(t, &r), na = pa_trace_annots(t, &a), ns = pa_trace_samples(t, &s);
    uint64_t base = UINT64_MAX;
    if (p->present)
        return p->start_mono_ns;
    for (size_t i = 0; i < nr; i++)
        base = r[i].base_ns < base ? r[i].base_ns : base;
    if (na && a[0].t < base)
        base = a[0].t;
    for (size_t i = 0; i < ns; i++)
        base = s[i].t < base ? s[i].t : base;
    return base == UINT64_MAX ? 0 : base;
}

/* @return 1 when function id f matches --function, 0 if not, -1 out of memory. */
static int matches(struct walk *w, uint64_t f)
{
    uint32_t v;
    const char *name, *file;
    uint64_t line;
    if (pa_idmap_get(&w->match, f, &v) == 0)
        return v == 1;
    pa_trace_function(w->t, f, &name, &file, &line);
    v = pa_calls_name_matches(name, w->o->function) ? 1 : 2;
    return pa_idmap_put(&w->match, f, v) < 0 ? -1 : v == 1;
}

static int enter(struct walk *w, const struct pa_call_ev *ev)
{
    int64_t mroot = w->o->function ? -1 : 0;
    if (w->over || w->depth >= PA_CALLS_MAX_DEPTH) {
        w->over++;
        w->c->too_deep++;
        return 0;
    }
    if (pa_vec_reserve((void **)&w->stack, &w->cap, w->depth + 1, sizeof *w->stack) < 0)
        return -1;
    if (w->o->function) {
        int m = matches(w, ev->func);
        if (m < 0)
            return -1;
        mroot = w->depth && w->stack[w->depth - 1].mroot >= 0 ? w->stack[w->depth - 1].mroot
                : m                                           ? (int64_t)w->depth
                                                              : -1;
    }
    w->stack[w->depth++] = (struct frame){ ev->t, ev->func, w->seq++, mroot,
                                           (uint8_t)(ev->resumed ? PA_CALLF_RESUMED : 0) };
    return 0;
}

/* Closes the innermost open call at end; kept when the filters pass. */
static int close_top(struct walk *w, uint64_t end, unsigned exit_kind)
{
    const struct frame *f = &w->stack[--w->depth];
    const struct pa_calls_opts *o = w->o;
    struct pa_calls *c = w->c;
    uint64_t rdepth = w->depth - (uint64_t)(f->mroot < 0 ? 0 : f->mroot);
    if (f->mroot < 0)
        return 0;
    if (o->function && (uint64_t)f->mroot == w->depth) {
        if (pa_vec_reserve((void **)&c->spans, &c->spans_cap, c->nspans + 1, sizeof *c->spans) < 0)
            return -1;
        c->spans[c->nspans++] = (struct pa_call_span){ w->serial, f->start, end };
    }
    if ((o->max_depth >= 0 && rdepth > (uint64_t)o->max_depth) || f->start > o->until || end < o->since)
        return 0;
    if (c->n >= PA_CALLS_MAX_KEPT) {
        c->not_kept++;
        return 0;
    }
    if (pa_vec_reserve((void **)&c->v, &c->cap, c->n + 1, sizeof *c->v) < 0)
        return -1;
    const char *name, *file;
    uint64_t line;
    c->unknown_funcs += !pa_trace_function(w->t, f->func, &name, &file, &line);
    c->v[c->n++] = (struct pa_call){ f->start, end, w->serial, f->func, f->seq, (uint32_t)w->depth,
                                     (uint16_t)(rdepth < UINT16_MAX ? rdepth : UINT16_MAX), (uint8_t)exit_kind,
                                     (uint8_t)(f->flags | (exit_kind == PA_CALL_ENTER ? PA_CALLF_UNFINISHED : 0)) };
    return 0;
}

static int on_event(struct walk *w, const struct pa_call_ev *ev)
{
    if (ev->kind == PA_CALL_ENTER)
        return enter(w, ev);
    if (w->over) {
        w->over--;
        return 0;
    }
    if (w->depth == 0) {
        w->c->unmatched_exits++;
        return 0;
    }
    return close_top(w, ev->t, ev->kind);
}

/* One thread: its records r[0..n) in time order. A record starting before the previous
 * one ended (not written by the agent) has its times raised, so calls still nest. */
static int walk_thread(struct walk *w, const struct pa_call_record *r, size_t n)
{
    struct pa_call_ev ev;
    uint64_t last = pa_trace_thread_last_ns(w->t, r[0].serial);
    w->serial = r[0].serial, w->seq = 0, w->depth = 0, w->over = 0, w->now = 0;
    for (size_t i = 0; i < n; i++) {
        struct pa_call_cursor cur = pa_call_cursor_at(&r[i]);
        for (const uint8_t *p = r[i].body, *end = p + r[i].len; p < end;) {
            if (pa_call_next(&p, end, &cur, &ev) < 0)
                break; /* validated when fed: cannot happen */
            if (ev.t < w->now)
                ev.t = w->now;
            w->now = ev.t;
            if (on_event(w, &ev) < 0)
                return -1;
        }
    }
    if (last < w->now)
        last = w->now;
    while (w->depth)
        if (close_top(w, last, PA_CALL_ENTER) < 0)
            return -1;
    return 0;
}

static int call_cmp(const void *a, const void *b)
{
    const struct pa_call *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->serial != y->serial)
        return x->serial < y->serial ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int span_cmp(const void *a, const void *b)
{
    const struct pa_call_span *x = a, *y = b;
    if (x->serial != y->serial)
        return x->serial < y->serial ? -1 : 1;
    return (x->start > y->start) - (x->start < y->start);
}

int pa_calls_build(const pa_trace_t *t, const struct pa_calls_opts *o, struct pa_calls *c)
{
    const struct pa_call_record *r;
    size_t nr = pa_trace_call_records(t, &r);
    struct walk w = { .t = t, .o = o, .c = c };
    int rc = 0;
    memset(c, 0, sizeof *c);
    pa_idmap_init(&w.match);
    for (size_t i = 0, j; i < nr && rc == 0; i = j) {
        for (j = i + 1; j < nr && r[j].serial == r[i].serial;)
            j++;
        if (pa_calls_has_serial(o->serials, o->nserials, r[i].serial))
            rc = walk_thread(&w, r + i, j - i);
    }
    pa_idmap_free(&w.match);
    pa_mem_free(w.stack);
    if (rc < 0) {
        pa_calls_free(c);
        return -1;
    }
    pa_vec_sort(c->v, c->n, sizeof *c->v, call_cmp);
    pa_vec_sort(c->spans, c->nspans, sizeof *c->spans, span_cmp);
    return 0;
}

void pa_calls_free(struct pa_calls *c)
{
    pa_mem_free(c->v);
    pa_mem_free(c->spans);
    memset(c, 0, sizeof *c);
}

/* ---- regions ---- */

struct open_region {
    uint64_t serial, name, start, seq;
};

static int region_cmp(const void *a, const void *b)
{
    const struct pa_region *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->serial != y->serial)
        return x->serial < y->serial ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int add_region(struct pa_region **out, size_t *n, size_t *cap, const struct open_region *o, uint64_t end,
                      int unfinished)
{
    if (pa_vec_reserve((void **)out, cap, *n + 1, sizeof **out) < 0)
        return -1;
    (*out)[(*n)++] = (struct pa_region){ o->start, end, o->serial, o->name, o->seq, unfinished };
    return 0;
}

/* Open regions of all threads in one list: an end closes the latest open region of its
 * thread with its name, so a region left open by mistake does not swallow the others.
 * The list is bounded, so hostile input costs at most PA_REGIONS_MAX_OPEN per end. */
size_t pa_regions_build(const pa_trace_t *t, const uint64_t *serials, size_t nserials, struct pa_region **out)
{
    const struct pa_annot *a;
    size_t na = pa_trace_annots(t, &a), n = 0, cap = 0, nopen = 0, open_cap = 0;
    struct open_region *open = NULL;
    int rc = 0;
    *out = NULL;
    for (size_t i = 0; i < na && rc == 0; i++) {
        if (a[i].type != PA_EV_REGION || !pa_calls_has_serial(serials, nserials, a[i].serial))
            continue;
        if (a[i].arg == 1 && nopen >= PA_REGIONS_MAX_OPEN)
            continue;
        if (a[i].arg == 1) {
            rc = pa_vec_reserve((void **)&open, &open_cap, nopen + 1, sizeof *open);
            if (rc == 0)
                open[nopen++] = (struct open_region){ a[i].serial, a[i].name, a[i].t, a[i].seq };
            continue;
        }
        for (size_t k = nopen; k-- > 0;)
            if (open[k].serial == a[i].serial && open[k].name == a[i].name) {
                rc = add_region(out, &n, &cap, &open[k], a[i].t, 0);
                memmove(&open[k], &open[k + 1], (nopen - k - 1) * sizeof *open);
                nopen--;
                break;
            }
    }
    for (size_t k = 0; k < nopen && rc == 0; k++) {
        uint64_t last = pa_trace_thread_last_ns(t, open[k].serial);
        rc = add_region(out, &n, &cap, &open[k], last > open[k].start ? last : open[k].start, 1);
    }
    pa_mem_free(open);
    if (rc < 0) {
        pa_mem_free(*out);
        *out = NULL;
        return (size_t)-1;
    }
    pa_vec_sort(*out, n, sizeof **out, region_cmp);
    return n;
}
