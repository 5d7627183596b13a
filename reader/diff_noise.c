/* diff_noise.c — the noise model of `pyagent diff`: which changes sampling and the
 * machine explain, and which they do not.
 *
 * A sampled value (a function's task-clock time, say) is a sum of sample values whose
 * number is Poisson: its variance is estimated by the sum of the squared sample values
 * (n x period^2 for a fixed period). Call times vary as the calls' own spread: segs x
 * (sample variance of the durations); a function timed once has no spread, so its change
 * counts as real. Counts (calls, allocations, leaks) are exact.
 *
 * Two runs of the same code also differ as a whole: on a loaded machine (here: 2 vCPUs,
 * likely hyperthreads, shared with builds) every function can take up to twice the CPU
 * time. So a measured value is compared with scale x baseline. The scale comes from
 * the functions with PA_DIFF_MIN_N samples (or calls) in both (at least
 * PA_DIFF_SCALE_FUNCS of them, else 1): the largest group of them whose ratios
 * new/baseline agree (within twice the sampling noise plus 10%; ties: the most time),
 * and its time-weighted median ratio. What most functions did alike is taken as the
 * machine's doing, what a function did beyond it as its code's, even when that function
 * holds most of the time. The group's spread around the scale (MAD as a standard
 * deviation, less what sampling explains) is the run-to-run jitter, at least
 * PA_DIFF_JITTER_MIN; it adds (jitter x expected)^2 to the variance. A change is
 * significant when it is at least PA_DIFF_Z standard errors. */
#include <math.h>
#include <string.h>

#include "diff_int.h"
#include "idmap.h"
#include "pa_mem.h"

double pa_diff_sqrt(double x)
{
    if (!(x > 0) || x > 1e300)
        return x > 0 ? x : 0;
    double r = x > 1 ? x : 1; /* >= the root: Newton's steps then only go down */
    for (int i = 0; i < 2000; i++) {
        double next = 0.5 * (r + x / r);
        if (next >= r)
            break;
        r = next;
    }
    return r;
}

void pa_diff_stat(const struct pa_diff_meas *m, struct pa_diff_stat *s)
{
    double g = m->scale > 0 ? m->scale : 1, e = g * m->v[0], j = m->jitter * e;
    double se2 = m->exact ? 0 : m->var[1] + g * g * m->var[0] + j * j;
    s->expected = e;
    s->delta = m->v[1] - e;
    s->have_pct = e != 0;
    s->pct = s->have_pct ? 100.0 * s->delta / e : 0;
    if (s->delta == 0)
        s->z = 0;
    else if (se2 > 0)
        s->z = s->delta / pa_diff_sqrt(se2);
    else
        s->z = s->delta > 0 ? INFINITY : -INFINITY;
    s->significant = s->z >= PA_DIFF_Z || s->z <= -PA_DIFF_Z;
}

/* One function informing the scale: its ratio new/baseline, the relative variance of
 * that ratio from sampling, and its time (both traces). */
struct ratio {
    double r, s2, w;
};

static int by_r(const void *a, const void *b)
{
    const struct ratio *p = a, *q = b;
    return (p->r > q->r) - (p->r < q->r);
}

static int by_w_desc(const void *a, const void *b)
{
    const struct ratio *p = a, *q = b;
    return (p->w < q->w) - (p->w > q->w);
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    pa_vec_sort(v, n, sizeof *v, by_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int informs_scale(const struct pa_diff_meas *m)
{
    return m->n[0] >= PA_DIFF_MIN_N && m->n[1] >= PA_DIFF_MIN_N && m->v[0] > 0 && m->v[1] > 0;
}

/* The measure whose changes say how the machine changed: self time, not total (callers
 * contain the function that changed); time per call, not time (calls are exact). */
static size_t scale_source(const struct pa_diff_table *tb, size_t k)
{
    if (tb->kind == PA_DIFF_SAMPLED)
        return 0;
    return tb->kind == PA_DIFF_CALLS && k == 0 ? 2 : k;
}

/* The informing rows, the PA_DIFF_SCALE_MAX with the most time. @return their number,
 * or (size_t)-1 when out of memory (*out is pa_mem_free'd by the caller). */
static size_t ratios(const struct pa_diff_table *tb, size_t src, struct ratio **out)
{
    size_t n = 0;
    if (!(*out = pa_mem_calloc(tb->nrows + 1, sizeof **out)))
        return (size_t)-1;
    for (size_t i = 0; i < tb->nrows; i++) {
        const struct pa_diff_meas *m = &tb->rows[i].m[src];
        if (informs_scale(m))
            (*out)[n++] = (struct ratio){ m->v[1] / m->v[0],
                                          m->var[1] / (m->v[1] * m->v[1]) + m->var[0] / (m->v[0] * m->v[0]),
                                          tb->rows[i].m[0].v[0] + tb->rows[i].m[0].v[1] };
    }
    pa_vec_sort(*out, n, sizeof **out, by_w_desc);
    return n < PA_DIFF_SCALE_MAX ? n : PA_DIFF_SCALE_MAX;
}

/* Function b changed as function a did: their ratios differ by less than twice b's
 * sampling noise plus twice the least jitter. Only b's noise counts, so that a noisy
 * function cannot join two groups that disagree. */
static int agree(const struct ratio *a, const struct ratio *b)
{
    double d = b->r > a->r ? b->r / a->r - 1 : 1 - b->r / a->r;
    return d <= 2 * pa_diff_sqrt(b->s2) + 2 * PA_DIFF_JITTER_MIN;
}

/* Moves the largest group of functions agreeing with one of them (ties: the most time)
 * to the front of v. @return its size. */
static size_t largest_group(struct ratio *v, size_t n)
{
    size_t best = 0, best_n = 0;
    double best_w = -1;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        double w = 0;
        for (size_t j = 0; j < n; j++)
            if (agree(&v[i], &v[j]))
                k++, w += v[j].w;
        if (k > best_n || (k == best_n && w > best_w))
            best = i, best_n = k, best_w = w;
    }
    struct ratio centre = v[best];
    size_t m = 0;
    for (size_t j = 0; j < n; j++)
        if (agree(&centre, &v[j])) {
            struct ratio t = v[m];
            v[m++] = v[j];
            v[j] = t;
        }
    return m;
}

/* The time-weighted median ratio of v[0..n) (sorts v). */
static double weighted_median(struct ratio *v, size_t n)
{
    double total = 0, run = 0;
    pa_vec_sort(v, n, sizeof *v, by_r);
    for (size_t i = 0; i < n; i++)
        total += v[i].w;
    for (size_t i = 0; i < n; i++)
        if ((run += v[i].w) >= 0.5 * total)
            return v[i].r;
    return v[n - 1].r;
}

/* The group's spread around g (MAD as a standard deviation) beyond its sampling noise. */
static double jitter(const struct ratio *v, size_t n, double g, double *tmp)
{
    if (n < PA_DIFF_SCALE_FUNCS)
        return PA_DIFF_JITTER_MIN;
    for (size_t i = 0; i < n; i++)
        tmp[i] = v[i].r > g ? v[i].r / g - 1 : 1 - v[i].r / g;
    double sd = 1.4826 * median(tmp, n);
    for (size_t i = 0; i < n; i++)
        tmp[i] = v[i].s2;
    double extra = sd * sd - median(tmp, n), j = extra > 0 ? pa_diff_sqrt(extra) : 0;
    return j > PA_DIFF_JITTER_MIN ? j : PA_DIFF_JITTER_MIN;
}

int pa_diff_calibrate(struct pa_diff_table *tb, size_t k, int raw)
{
    struct ratio *v;
    size_t src = scale_source(tb, k), n = ratios(tb, src, &v), group = 0;
    double g = 1, j = PA_DIFF_JITTER_MIN, *tmp = NULL;
    if (n == (size_t)-1 || (n >= PA_DIFF_SCALE_FUNCS && !(tmp = pa_mem_calloc(n, sizeof *tmp)))) {
        pa_mem_free(v);
        return -1;
    }
    if (n >= PA_DIFF_SCALE_FUNCS && (group = largest_group(v, n)) >= 2) {
        g = raw ? 1 : weighted_median(v, group);
        j = jitter(v, group, g, tmp);
    }
    pa_mem_free(v);
    pa_mem_free(tmp);
    tb->scale_from[k] = !raw && group >= 2 ? group : 0;
    tb->scale_of[k] = n == (size_t)-1 ? 0 : n;
    for (size_t i = 0; i < tb->nrows; i++)
        tb->rows[i].m[k].scale = g, tb->rows[i].m[k].jitter = j;
    tb->totals[k].scale = 1, tb->totals[k].jitter = PA_DIFF_JITTER_MIN;
    return 0;
}
