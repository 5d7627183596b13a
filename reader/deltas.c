/* deltas.c — per-thread prefix sums of sample values and allocation sizes, so each span
 * costs two binary searches per thread series instead of a scan. */
#include <stdio.h>
#include <string.h>

#include "deltas.h"
#include "idmap.h"
#include "pa_mem.h"

/* One thread's points in a series: [first, first + n). */
struct run {
    size_t first, n;
};

struct pa_deltas_priv {
    char names[PA_SAMPLE_MAX_EVENTS][32];
    pa_idmap_t srun, arun; /* serial -> index in sruns / aruns */
    struct run *sruns, *aruns;
    size_t nsruns, naruns, sruns_cap, aruns_cap;
    uint64_t *st;  /* sample times */
    uint64_t *cum; /* nevents values per sample: the thread's counts up to and including it */
    uint64_t *at;  /* allocation times */
    uint64_t *ab;  /* allocated bytes before allocation i of the thread's run (n + 1 per run) */
};

static int add_run(pa_idmap_t *m, struct run **runs, size_t *n, size_t *cap, uint64_t serial, struct run r)
{
    if (pa_vec_reserve((void **)runs, cap, *n + 1, sizeof **runs) < 0 || pa_idmap_put(m, serial, (uint32_t)*n) < 0)
        return -1;
    (*runs)[(*n)++] = r;
    return 0;
}

static void name_events(const pa_trace_t *t, struct pa_deltas *d)
{
    const struct pa_sampling *sp = pa_trace_sampling(t);
    d->cpu = -1;
    for (size_t e = 0; e < d->nevents; e++) {
        if (sp->present && e < sp->n) {
            d->names[e] = sp->ev[e].name;
            d->time_ev[e] = (sp->ev[e].flags & PA_EVF_TIME) != 0;
        } else {
            snprintf(d->priv->names[e], sizeof d->priv->names[e], "event%zu", e + 1);
            d->names[e] = d->priv->names[e];
        }
        if (d->time_ev[e] && d->cpu < 0)
            d->cpu = (int)e;
    }
}

static int index_samples(const pa_trace_t *t, struct pa_deltas *d)
{
    struct pa_deltas_priv *x = d->priv;
    const struct pa_sample *s;
    size_t n = pa_trace_samples(t, &s), ne = 0;
    const struct pa_sampling *sp = pa_trace_sampling(t);
    for (size_t i = 0; i < n && !sp->present; i++)
        ne = s[i].n > ne ? s[i].n : ne;
    d->nevents = n == 0 ? 0 : sp->present ? sp->n : ne;
    name_events(t, d);
    if (!d->nevents)
        return 0;
    if (!(x->st = pa_mem_calloc(n, sizeof *x->st)) || !(x->cum = pa_mem_calloc(n, d->nevents * sizeof *x->cum)))
        return -1;
    for (size_t i = 0; i < n; i++) {
        int first = i == 0 || s[i].serial != s[i - 1].serial; /* sorted by thread, then time */
        if (first) {
            struct run r = { i, 0 };
            if (add_run(&x->srun, &x->sruns, &x->nsruns, &x->sruns_cap, s[i].serial, r) < 0)
                return -1;
        }
        x->sruns[x->nsruns - 1].n++;
        x->st[i] = s[i].t;
        for (size_t e = 0; e < d->nevents; e++)
            x->cum[i * d->nevents + e] = (first ? 0 : x->cum[(i - 1) * d->nevents + e]) + pa_trace_sample_value(t, &s[i], e);
    }
    return 0;
}

static int index_allocs(const pa_trace_t *t, struct pa_deltas *d)
{
    struct pa_deltas_priv *x = d->priv;
    struct pa_alloc_pt *a;
    int complete;
    size_t n = pa_trace_alloc_points(t, &a, &complete);
    if (n == (size_t)-1)
        return -1;
    d->have_alloc = complete && pa_trace_counts(t)->allocs > 0;
    d->alloc_incomplete = !complete && pa_trace_counts(t)->allocs > 0;
    int rc = 0;
    if (d->have_alloc && n) {
        x->at = pa_mem_calloc(n, sizeof *x->at);
        x->ab = pa_mem_calloc(2 * n, sizeof *x->ab); /* n + runs <= 2n */
        rc = x->at && x->ab ? 0 : -1;
    }
    /* Run j's n + 1 sums start at ab[first + j]; calloc made the first of each 0. */
    for (size_t i = 0; d->have_alloc && rc == 0 && i < n; i++) {
        if ((i == 0 || a[i].serial != a[i - 1].serial) &&
            (rc = add_run(&x->arun, &x->aruns, &x->naruns, &x->aruns_cap, a[i].serial, (struct run){ i, 0 })) < 0)
            break;
        struct run *r = &x->aruns[x->naruns - 1];
        size_t at = r->first + (x->naruns - 1) + r->n;
        x->at[i] = a[i].t;
        x->ab[at + 1] = x->ab[at] + a[i].size;
        r->n++;
    }
    pa_mem_free(a);
    return rc;
}

int pa_deltas_build(const pa_trace_t *t, struct pa_deltas *d)
{
    memset(d, 0, sizeof *d);
    d->cpu = -1;
    if (!(d->priv = pa_mem_calloc(1, sizeof *d->priv)))
        return -1;
    pa_idmap_init(&d->priv->srun);
    pa_idmap_init(&d->priv->arun);
    if (index_samples(t, d) < 0 || index_allocs(t, d) < 0) {
        pa_deltas_free(d);
        if ((d->priv = pa_mem_calloc(1, sizeof *d->priv)) != NULL) { /* empty but usable */
            pa_idmap_init(&d->priv->srun);
            pa_idmap_init(&d->priv->arun);
        }
        d->cpu = -1;
        return -1;
    }
    return 0;
}

void pa_deltas_free(struct pa_deltas *d)
{
    struct pa_deltas_priv *x = d->priv;
    if (x) {
        pa_idmap_free(&x->srun);
        pa_idmap_free(&x->arun);
        pa_mem_free(x->sruns);
        pa_mem_free(x->aruns);
        pa_mem_free(x->st);
        pa_mem_free(x->cum);
        pa_mem_free(x->at);
        pa_mem_free(x->ab);
        pa_mem_free(x);
    }
    memset(d, 0, sizeof *d);
    d->cpu = -1;
}

/* Points of v[0..n) that are < x (lower bound). */
static size_t count_below(const uint64_t *v, size_t n, uint64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The thread's count of event e up to time x: the sum of the deltas of its samples
 * taken at or before x. A sample's delta is credited to the moment it was taken, as a
 * profiler credits it to the stack it saw: a call that only sleeps between two samples
 * gets no CPU time, where spreading each delta evenly over wall time would have
 * handed it the CPU the thread spent after it. Below the sampling period this is
 * quantised (a call gets a whole period or nothing); over many calls it averages out. */
static uint64_t cum_at(const struct pa_deltas *d, const struct run *r, size_t e, uint64_t x)
{
    const struct pa_deltas_priv *p = d->priv;
    const uint64_t *st = p->st + r->first;
    size_t ne = d->nevents, k = count_below(st, r->n, x + (x < UINT64_MAX)); /* samples at <= x */
    return k ? p->cum[(r->first + k - 1) * ne + e] : 0;
}

void pa_deltas_get(const struct pa_deltas *d, uint64_t serial, uint64_t start, uint64_t end, struct pa_delta *out)
{
    const struct pa_deltas_priv *p = d->priv;
    uint32_t i;
    memset(out, 0, sizeof *out);
    if (!p)
        return;
    if (d->nevents && pa_idmap_get(&p->srun, serial, &i) == 0) {
        out->have_samples = 1;
        for (size_t e = 0; e < d->nevents; e++) {
            uint64_t a = cum_at(d, &p->sruns[i], e, start), b = cum_at(d, &p->sruns[i], e, end);
            out->v[e] = b > a ? b - a : 0;
        }
    }
    if (d->have_alloc && pa_idmap_get(&p->arun, serial, &i) == 0) {
        const struct run *r = &p->aruns[i];
        const uint64_t *at = p->at + r->first, *ab = p->ab + r->first + i;
        size_t lo = count_below(at, r->n, start), hi = count_below(at, r->n, end);
        if (hi > lo) {
            out->alloc_count = hi - lo;
            out->alloc_bytes = ab[hi] - ab[lo];
        }
    }
}
