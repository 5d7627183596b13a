/* diff_items.c — one trace's measures per function for `pyagent diff`: sampled events
 * with the sums of squared sample values the noise model needs, call times (trace mode
 * or PYAGENT_COUNT) with their spread, allocations and leak sites. */
#include <string.h>

#include "calls.h"
#include "diff_int.h"
#include "idmap.h"
#include "leaks.h"
#include "pa_mem.h"

struct pa_diff_item *pa_diff_item_new(struct pa_diff_items *it, const char *name, const char *file, uint64_t line)
{
    if (pa_vec_reserve((void **)&it->v, &it->cap, it->n + 1, sizeof *it->v) < 0)
        return NULL;
    struct pa_diff_item *x = &it->v[it->n++];
    memset(x, 0, sizeof *x);
    x->name = name ? name : PA_UNKNOWN, x->file = file, x->line = line;
    return x;
}

void pa_diff_items_free(struct pa_diff_items *it)
{
    pa_mem_free(it->v);
    memset(it, 0, sizeof *it);
}

/* ---- sampled events ---- */

/* Per distinct stack: its self func, then its distinct funcs (self included). */
struct span {
    uint32_t off, n;
};

struct stack_funcs {
    pa_idmap_t memo; /* stack id -> span index */
    struct span *spans;
    size_t nspans, spans_cap;
    uint32_t *ids;
    size_t nids, ids_cap;
    uint64_t *mark; /* per func: the span that last listed it (0: none) */
    size_t nmark, mark_cap;
};

static int add_span(struct pa_profile *p, struct stack_funcs *sf, uint64_t stack)
{
    const uint32_t *fr;
    size_t k = pa_profile_frames(p, stack, &fr);
    if (k == 0 || pa_vec_reserve((void **)&sf->mark, &sf->mark_cap, p->nfuncs, sizeof *sf->mark) < 0 ||
        pa_vec_reserve((void **)&sf->ids, &sf->ids_cap, sf->nids + k + 1, sizeof *sf->ids) < 0 ||
        pa_vec_reserve((void **)&sf->spans, &sf->spans_cap, sf->nspans + 1, sizeof *sf->spans) < 0 ||
        pa_idmap_put(&sf->memo, stack, (uint32_t)sf->nspans) < 0)
        return -1;
    for (; sf->nmark < p->nfuncs; sf->nmark++)
        sf->mark[sf->nmark] = 0;
    struct span *s = &sf->spans[sf->nspans++];
    s->off = (uint32_t)sf->nids, s->n = 0;
    sf->ids[sf->nids++] = fr[0];
    for (size_t j = 0; j < k; j++) {
        if (sf->mark[fr[j]] == sf->nspans) /* recursion: once per sample, as profile.c counts total */
            continue;
        sf->mark[fr[j]] = sf->nspans;
        sf->ids[sf->nids++] = fr[j];
        s->n++;
    }
    return 0;
}

static void stack_funcs_free(struct stack_funcs *sf)
{
    pa_idmap_free(&sf->memo);
    pa_mem_free(sf->spans);
    pa_mem_free(sf->ids);
    pa_mem_free(sf->mark);
}

/* The profile's "samples" pseudo event: samples without values count 1 each. */
static int counts_samples(const struct pa_diff_side *s)
{
    const struct pa_profile *p = &s->prof;
    return !pa_trace_sampling(s->t)->present && p->nevents == 1 && !strcmp(p->events[0].name, "samples");
}

static void add_squares(const struct pa_diff_side *s, const struct stack_funcs *sf, const struct pa_sample *smp,
                        double *self_sq, double *total_sq)
{
    size_t ne = s->prof.nevents, nf = s->prof.nfuncs;
    uint32_t k;
    pa_idmap_get(&sf->memo, smp->stack, &k);
    const struct span *sp = &sf->spans[k];
    for (size_t e = 0; e < ne; e++) {
        double x = counts_samples(s) ? 1.0 : (double)pa_trace_sample_value(s->t, smp, e);
        self_sq[sf->ids[sp->off] * ne + e] += x * x;
        total_sq[nf * ne + e] += x * x; /* the whole trace, after the funcs */
        for (uint32_t j = 0; j < sp->n; j++)
            total_sq[sf->ids[sp->off + 1 + j] * ne + e] += x * x;
    }
}

int pa_diff_squares(struct pa_diff_side *s, double **self_sq, double **total_sq)
{
    struct stack_funcs sf = { 0 };
    const struct pa_sample *smp;
    size_t n = pa_trace_samples(s->t, &smp);
    uint32_t k;
    int rc = 0;
    *self_sq = *total_sq = NULL;
    pa_idmap_init(&sf.memo);
    for (size_t i = 0; i < n && rc == 0; i++)
        if (pa_idmap_get(&sf.memo, smp[i].stack, &k) < 0)
            rc = add_span(&s->prof, &sf, smp[i].stack);
    size_t cells = (s->prof.nfuncs + 1) * (s->prof.nevents ? s->prof.nevents : 1);
    if (rc == 0 && (!(*self_sq = pa_mem_calloc(cells, sizeof **self_sq)) ||
                    !(*total_sq = pa_mem_calloc(cells, sizeof **total_sq))))
        rc = -1;
    for (size_t i = 0; i < n && rc == 0; i++)
        add_squares(s, &sf, &smp[i], *self_sq, *total_sq);
    stack_funcs_free(&sf);
    if (rc < 0) {
        pa_mem_free(*self_sq);
        pa_mem_free(*total_sq);
        *self_sq = *total_sq = NULL;
    }
    return rc;
}

int pa_diff_sampled_items(const struct pa_diff_side *s, int e, const double *self_sq, const double *total_sq,
                          struct pa_diff_items *out)
{
    const struct pa_profile *p = &s->prof;
    size_t ne = p->nevents;
    for (size_t i = 0; i < p->nfuncs; i++) {
        const struct pa_prof_func *f = &p->funcs[i];
        if (!f->self[e] && !f->total[e])
            continue;
        struct pa_diff_item *x = pa_diff_item_new(out, f->name, f->file, f->line);
        if (!x)
            return -1;
        x->v[0] = (double)f->self[e], x->var[0] = self_sq[i * ne + e], x->n[0] = f->self_samples;
        x->v[1] = (double)f->total[e], x->var[1] = total_sq[i * ne + e], x->n[1] = f->total_samples;
    }
    struct pa_diff_item *t = &out->total;
    t->v[0] = t->v[1] = (double)p->total[e];
    t->var[0] = t->var[1] = total_sq[p->nfuncs * ne + e];
    t->n[0] = t->n[1] = p->samples;
    return 0;
}

/* ---- call times ---- */

/* Running sums of one function's calls; time is v[0], calls v[1]. */
struct call_acc {
    double sq;
    uint64_t segs;
};

/* v[0] time, v[1] calls, v[2] time per call, with the variance from the spread of the
 * segments timed: a sum of segs measurements varies as segs times their variance. */
static void finish_times(struct pa_diff_item *x, const struct call_acc *a)
{
    double segs = (double)a->segs, var = 0;
    if (a->segs > 1)
        var = (a->sq - x->v[0] * x->v[0] / segs) * segs / (segs - 1);
    x->var[0] = var > 0 ? var : 0;
    x->n[0] = a->segs;
    x->n[1] = x->n[2] = (uint64_t)x->v[1];
    if (x->v[1] > 0) {
        x->v[2] = x->v[0] / x->v[1];
        x->var[2] = x->var[0] / (x->v[1] * x->v[1]);
    }
}

/* The item of function id, created on first use. @return its index, or -1. */
static int64_t func_item(const pa_trace_t *t, pa_idmap_t *ix, struct pa_diff_items *out, struct call_acc **acc,
                         size_t *acc_cap, uint64_t func)
{
    uint32_t k;
    const char *name, *file;
    uint64_t line;
    if (pa_idmap_get(ix, func, &k) == 0 && k < out->n && *acc)
        return k;
    pa_trace_function(t, func, &name, &file, &line);
    if (!pa_diff_item_new(out, name, file, line) ||
        pa_vec_reserve((void **)acc, acc_cap, out->n, sizeof **acc) < 0 ||
        pa_idmap_put(ix, func, (uint32_t)(out->n - 1)) < 0)
        return -1;
    (*acc)[out->n - 1] = (struct call_acc){ 0, 0 };
    return (int64_t)out->n - 1;
}

/* The calls grouped by thread, each thread's in entry order. c->v is sorted by start,
 * then serial, then entry order, so a stable partition by thread is enough: no sort
 * of millions of calls. @return indices into c->v (pa_mem_free), or NULL. */
static size_t *thread_order(const struct pa_calls *c)
{
    pa_idmap_t ix; /* serial -> thread index */
    size_t *ord = pa_mem_calloc(c->n + 1, sizeof *ord), *at = NULL, nth = 0, cap = 0;
    uint32_t k;
    int rc = ord ? 0 : -1;
    pa_idmap_init(&ix);
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        if (pa_idmap_get(&ix, c->v[i].serial, &k) == 0 && k < nth) {
            at[k]++;
            continue;
        }
        rc = pa_vec_reserve((void **)&at, &cap, nth + 1, sizeof *at) < 0 ||
                     pa_idmap_put(&ix, c->v[i].serial, (uint32_t)nth) < 0 ? -1 : 0;
        if (rc == 0)
            at[nth++] = 1;
    }
    for (size_t t = 0, sum = 0, n; t < nth && rc == 0; t++) /* counts -> first slots */
        n = at[t], at[t] = sum, sum += n;
    for (size_t i = 0; i < c->n && rc == 0; i++)
        if (pa_idmap_get(&ix, c->v[i].serial, &k) == 0 && k < nth)
            ord[at[k]++] = i;
    pa_idmap_free(&ix);
    pa_mem_free(at);
    if (rc < 0) {
        pa_mem_free(ord);
        return NULL;
    }
    return ord;
}

/* The calls of one thread's frames open around the current one, by depth. */
struct open_frame {
    uint32_t depth, item;
};

struct call_walk {
    const pa_trace_t *t;
    struct pa_diff_items *out;
    pa_idmap_t ix;
    struct call_acc *acc;
    size_t acc_cap;
    uint32_t *open; /* per item: frames of it open around the current call */
    size_t nopen, open_cap;
    struct open_frame *stack;
    size_t depth, stack_cap;
};

/* A call nested in a call of the same function on its thread (recursion) adds a call
 * but no time: the outer call's time already holds it. */
static int add_call(struct call_walk *w, const struct pa_call *c, uint64_t prev_serial)
{
    int64_t it = func_item(w->t, &w->ix, w->out, &w->acc, &w->acc_cap, c->func);
    if (it < 0 || pa_vec_reserve((void **)&w->open, &w->open_cap, w->out->n, sizeof *w->open) < 0 ||
        pa_vec_reserve((void **)&w->stack, &w->stack_cap, w->depth + 1, sizeof *w->stack) < 0)
        return -1;
    for (; w->nopen < w->out->n; w->nopen++)
        w->open[w->nopen] = 0;
    while (w->depth > 0 && (c->serial != prev_serial || w->stack[w->depth - 1].depth >= c->depth))
        w->open[w->stack[--w->depth].item]--;
    struct pa_diff_item *x = &w->out->v[it];
    double d = (double)(c->end - c->start);
    x->v[1] += !(c->flags & PA_CALLF_RESUMED);
    w->out->total.v[1] += !(c->flags & PA_CALLF_RESUMED);
    if (w->open[it] == 0) {
        x->v[0] += d;
        w->acc[it].sq += d * d;
        w->acc[it].segs++;
    }
    w->open[it]++;
    w->stack[w->depth++] = (struct open_frame){ c->depth, (uint32_t)it };
    return 0;
}

/* Whole-trace time: the outermost calls of each thread. */
static void add_outer(struct pa_diff_items *out, struct call_acc *total, const struct pa_call *c)
{
    double d = (double)(c->end - c->start);
    if (c->depth != 0)
        return;
    out->total.v[0] += d;
    total->sq += d * d;
    total->segs++;
}

static int walk_calls(struct call_walk *w, const struct pa_calls *c)
{
    size_t *ord = thread_order(c);
    struct call_acc total = { 0, 0 };
    int rc = ord ? 0 : -1;
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        const struct pa_call *call = &c->v[ord[i]];
        rc = add_call(w, call, i ? c->v[ord[i - 1]].serial : call->serial);
        add_outer(w->out, &total, call);
    }
    for (size_t i = 0; i < w->out->n && rc == 0; i++)
        finish_times(&w->out->v[i], &w->acc[i]);
    finish_times(&w->out->total, &total);
    pa_mem_free(ord);
    return rc;
}

int pa_diff_call_items(const pa_trace_t *t, struct pa_diff_items *out)
{
    struct pa_calls c;
    struct pa_calls_opts o = { .until = UINT64_MAX, .max_depth = -1 };
    struct call_walk w = { .t = t, .out = out };
    if (pa_calls_build(t, &o, &c) < 0)
        return -1;
    pa_idmap_init(&w.ix);
    int rc = walk_calls(&w, &c);
    pa_idmap_free(&w.ix);
    pa_mem_free(w.acc);
    pa_mem_free(w.open);
    pa_mem_free(w.stack);
    pa_calls_free(&c);
    return rc;
}

int pa_diff_counted_items(const pa_trace_t *t, struct pa_diff_items *out)
{
    const struct pa_counted_ev *ev;
    size_t n = pa_trace_counted(t, &ev), cap = 0;
    struct call_acc *acc = NULL, total = { 0, 0 };
    pa_idmap_t ix;
    int rc = 0;
    pa_idmap_init(&ix);
    for (size_t i = 0; i < n && rc == 0; i++) {
        int64_t it = func_item(t, &ix, out, &acc, &cap, ev[i].func);
        if (it < 0) {
            rc = -1;
            break;
        }
        double d = (double)ev[i].duration_ns;
        out->v[it].v[0] += d, out->v[it].v[1]++, acc[it].sq += d * d, acc[it].segs++;
        out->total.v[0] += d, out->total.v[1]++, total.sq += d * d, total.segs++;
    }
    for (size_t i = 0; acc && i < out->n && rc == 0; i++)
        finish_times(&out->v[i], &acc[i]);
    finish_times(&out->total, &total);
    pa_idmap_free(&ix);
    pa_mem_free(acc);
    return rc;
}

/* ---- allocations and leaks ---- */

/* Sums the allocations per stack first, so each distinct stack is walked once. */
static int alloc_by_stack(const pa_trace_t *t, pa_idmap_t *ix, struct pa_diff_items *stacks)
{
    struct pa_alloc_pt *a;
    int complete;
    size_t n = pa_trace_alloc_points(t, &a, &complete);
    uint32_t k;
    if (n == (size_t)-1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (pa_idmap_get(ix, a[i].stack, &k) < 0 || k >= stacks->n) {
            if (!pa_diff_item_new(stacks, NULL, NULL, a[i].stack) ||
                pa_idmap_put(ix, a[i].stack, (uint32_t)(stacks->n - 1)) < 0) {
                pa_mem_free(a);
                return -1;
            }
            k = (uint32_t)(stacks->n - 1);
        }
        stacks->v[k].v[0] += (double)a[i].size, stacks->v[k].v[1]++;
    }
    pa_mem_free(a);
    return 0;
}

int pa_diff_alloc_items(struct pa_diff_side *s, struct pa_diff_items *out)
{
    struct pa_diff_items stacks = { 0 };
    pa_idmap_t by_stack, by_func;
    const uint32_t *fr;
    uint32_t k;
    pa_idmap_init(&by_stack);
    pa_idmap_init(&by_func);
    int rc = alloc_by_stack(s->t, &by_stack, &stacks);
    for (size_t i = 0; i < stacks.n && rc == 0; i++) {
        const struct pa_diff_item *st = &stacks.v[i];
        if (pa_profile_frames(&s->prof, st->line, &fr) == 0) {
            rc = -1;
            break;
        }
        const struct pa_prof_func *f = &s->prof.funcs[fr[0]];
        if (pa_idmap_get(&by_func, fr[0], &k) < 0 || k >= out->n) {
            if (!pa_diff_item_new(out, f->name, f->file, f->line) ||
                pa_idmap_put(&by_func, fr[0], (uint32_t)(out->n - 1)) < 0) {
                rc = -1;
                break;
            }
            k = (uint32_t)(out->n - 1);
        }
        out->v[k].v[0] += st->v[0], out->v[k].v[1] += st->v[1];
        out->total.v[0] += st->v[0], out->total.v[1] += st->v[1];
    }
    for (size_t i = 0; i < out->n; i++)
        out->v[i].n[0] = out->v[i].n[1] = (uint64_t)out->v[i].v[1];
    out->total.n[0] = out->total.n[1] = (uint64_t)out->total.v[1];
    out->peak = (double)pa_trace_replay(s->t)->peak_bytes;
    pa_idmap_free(&by_stack);
    pa_idmap_free(&by_func);
    pa_diff_items_free(&stacks);
    return rc;
}

static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path ? path : PA_UNKNOWN;
}

/* Where a leak was made: its innermost Python frame and line, else its innermost native
 * frame (symbol, else shared object), else "[no frames]". */
static void leak_site(const pa_trace_t *t, uint64_t stack, struct pa_diff_item *x)
{
    struct pa_frame f;
    uint64_t id = stack, next;
    x->name = stack ? PA_UNKNOWN : "[no frames]", x->file = NULL, x->line = 0;
    for (size_t depth = 0; id && depth < PA_STACK_MAX_DEPTH; depth++) {
        int r = pa_trace_frame(t, id, &f, &next);
        if (f.kind == PA_FRAME_PYTHON) {
            x->name = f.function, x->file = f.file, x->line = f.line;
            return;
        }
        if (f.kind == PA_FRAME_PY_UNKNOWN) {
            x->name = "<unknown python frame>", x->file = NULL, x->line = 0;
            return;
        }
        if (f.kind == PA_FRAME_NATIVE && !x->file) /* the first native frame, kept unless Python follows */
            x->name = f.function ? f.function : base_name(f.module), x->file = f.module;
        if (r != PA_WALK_NEXT)
            break;
        id = next;
    }
}

int pa_diff_leak_items(pa_trace_t *t, int all, struct pa_diff_items *out)
{
    struct pa_leak_set set;
    if (pa_leaks_collect(t, &set) < 0)
        return -1;
    for (size_t i = 0; i < set.n; i++) {
        const struct pa_leak_group *g = &set.groups[i];
        if (g->residue && !all)
            continue;
        struct pa_diff_item *x = pa_diff_item_new(out, NULL, NULL, 0);
        if (!x) {
            pa_leaks_set_free(&set);
            return -1;
        }
        leak_site(t, g->stack, x);
        x->v[0] = (double)g->bytes, x->v[1] = (double)g->count;
        x->n[0] = x->n[1] = g->count;
        out->total.v[0] += (double)g->bytes, out->total.v[1] += (double)g->count;
    }
    out->total.n[0] = out->total.n[1] = (uint64_t)out->total.v[1];
    pa_leaks_set_free(&set);
    return 0;
}
