/* profile.c — aggregates CPU samples. Samples are first summed per (thread, stack), then
 * each distinct stack is walked once through the view, so the cost follows the number
 * of distinct stacks and stack nodes, not of samples. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "idmap.h"
#include "pa_mem.h"
#include "profile.h"

#define FAIL UINT32_MAX        /* out of memory */
#define SKIP (UINT32_MAX - 1)  /* memo value: the view leaves this frame out */
#define PERF_TYPE_HARDWARE 0   /* linux/perf_event.h, not included: the reader runs anywhere */
#define NO_TYPE UINT64_MAX     /* events the trace did not describe */

struct pa_prof_priv {
    const pa_trace_t *t;
    int lines, native, count_samples;
    pa_idmap_t memo;    /* node id -> func index or SKIP */
    uint32_t *slots;    /* func hash table: index + 1, 0 = empty */
    size_t nslots;
    uint64_t *fmark, *mmark; /* walk number that last counted a func / module total */
    size_t funcs_cap, modules_cap, fmark_cap, mmark_cap, threads_cap, stacks_cap;
    uint64_t walk;
    uint32_t unknown; /* func index of "<unknown>", or FAIL before first use */
    char **owned;     /* names the profile formatted */
    size_t nowned, owned_cap;
    uint32_t buf[PA_STACK_MAX_DEPTH + 1];
};

/* A func's identity: for native frames without a symbol the formatted name carries the
 * offset, so equal keys are equal frames in every view. */
struct fkey {
    unsigned kind;
    const char *name, *file;
    uint64_t line;
    int temp_name; /* name lives in a caller's buffer: copy it when inserting */
};

static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path ? path : PA_UNKNOWN;
}

static int streq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull; /* FNV-1a */
    return (h ^ 0xff) * 0x100000001b3ull;
}

static uint64_t key_hash(unsigned kind, const char *name, const char *file, uint64_t line)
{
    uint64_t h = hash_str(hash_str(0xcbf29ce484222325ull, name), file);
    return pa_hash64(h ^ pa_hash64(line) ^ kind);
}

static int same(const struct pa_prof_func *f, const struct fkey *k)
{
    return f->kind == k->kind && f->line == k->line && streq(f->name, k->name) && streq(f->file, k->file);
}

static size_t slot_of(const struct pa_profile *p, uint64_t h, const struct fkey *k)
{
    const struct pa_prof_priv *x = p->priv;
    size_t mask = x->nslots - 1, i = (size_t)h & mask;
    while (x->slots[i] && (!k || !same(&p->funcs[x->slots[i] - 1], k)))
        i = (i + 1) & mask;
    return i;
}

static int grow_slots(struct pa_profile *p)
{
    struct pa_prof_priv *x = p->priv;
    size_t n = x->nslots ? x->nslots * 2 : 256;
    uint32_t *old = x->slots;
    if (!(x->slots = pa_mem_calloc(n, sizeof *x->slots))) {
        x->slots = old;
        return -1;
    }
    pa_mem_free(old);
    x->nslots = n;
    for (size_t i = 0; i < p->nfuncs; i++) {
        const struct pa_prof_func *f = &p->funcs[i];
        x->slots[slot_of(p, key_hash(f->kind, f->name, f->file, f->line), NULL)] = (uint32_t)i + 1;
    }
    return 0;
}

static const char *keep_name(struct pa_prof_priv *x, const char *s)
{
    char *c = pa_mem_strdup(s);
    if (!c || pa_vec_reserve((void **)&x->owned, &x->owned_cap, x->nowned + 1, sizeof *x->owned) < 0) {
        pa_mem_free(c);
        return NULL;
    }
    x->owned[x->nowned++] = c;
    return c;
}

static const char *module_key(const struct pa_prof_func *f)
{
    switch (f->kind) {
    case PA_PROF_NATIVE: return f->file ? f->file : "[unknown]";
    case PA_PROF_PYTHON:
    case PA_PROF_PY_UNKNOWN: return "[python]";
    case PA_PROF_NO_FRAMES: return "[no frames]";
    default: return "[unknown]";
    }
}

/* Shared objects are few, so a linear search (once per new func) is enough. */
static uint32_t module_of(struct pa_profile *p, const struct pa_prof_func *f)
{
    struct pa_prof_priv *x = p->priv;
    const char *path = module_key(f);
    for (size_t i = 0; i < p->nmodules; i++)
        if (!strcmp(p->modules[i].path, path))
            return (uint32_t)i;
    if (pa_vec_reserve((void **)&p->modules, &x->modules_cap, p->nmodules + 1, sizeof *p->modules) < 0 ||
        pa_vec_reserve((void **)&x->mmark, &x->mmark_cap, p->nmodules + 1, sizeof *x->mmark) < 0)
        return FAIL;
    memset(&p->modules[p->nmodules], 0, sizeof *p->modules);
    p->modules[p->nmodules].path = path;
    x->mmark[p->nmodules] = 0;
    return (uint32_t)p->nmodules++;
}

static uint32_t intern_func(struct pa_profile *p, const struct fkey *k)
{
    struct pa_prof_priv *x = p->priv;
    if ((p->nfuncs + 1) * 2 > x->nslots && grow_slots(p) < 0)
        return FAIL;
    size_t i = slot_of(p, key_hash(k->kind, k->name, k->file, k->line), k);
    if (x->slots[i])
        return x->slots[i] - 1;
    const char *name = k->temp_name ? keep_name(x, k->name) : k->name;
    if (!name || p->nfuncs >= SKIP - 1 ||
        pa_vec_reserve((void **)&p->funcs, &x->funcs_cap, p->nfuncs + 1, sizeof *p->funcs) < 0 ||
        pa_vec_reserve((void **)&x->fmark, &x->fmark_cap, p->nfuncs + 1, sizeof *x->fmark) < 0)
        return FAIL;
    struct pa_prof_func *f = &p->funcs[p->nfuncs];
    memset(f, 0, sizeof *f);
    f->kind = k->kind, f->name = name, f->file = k->file, f->line = k->line;
    f->module = PA_PROF_NOMOD;
    if (x->native && (f->module = module_of(p, f)) == FAIL)
        return FAIL;
    x->fmark[p->nfuncs] = 0;
    x->slots[i] = (uint32_t)++p->nfuncs;
    return (uint32_t)p->nfuncs - 1;
}

/* @return 1 with k filled, 0 when the view leaves the frame out. */
static int frame_key(const struct pa_prof_priv *x, const struct pa_frame *f, struct fkey *k, char *tmp,
                     size_t tmplen)
{
    memset(k, 0, sizeof *k);
    switch (f->kind) {
    case PA_FRAME_PYTHON:
        k->kind = PA_PROF_PYTHON, k->name = f->function, k->file = f->file;
        k->line = x->lines ? f->line : f->first_line;
        return 1;
    case PA_FRAME_PY_UNKNOWN:
        k->kind = PA_PROF_PY_UNKNOWN, k->name = "<unknown python frame>";
        return 1;
    case PA_FRAME_NATIVE:
    case PA_FRAME_ALLOCATOR: /* not written in samples; shown as native if it is */
        if (!x->native)
            return 0;
        k->kind = PA_PROF_NATIVE, k->file = f->module, k->name = f->function;
        if (!k->name) {
            snprintf(tmp, tmplen, "%s+0x%llx", base_name(f->module), (unsigned long long)f->module_offset);
            k->name = tmp, k->temp_name = 1;
        }
        return 1;
    default:
        k->kind = PA_PROF_UNKNOWN, k->name = PA_UNKNOWN;
        return 1;
    }
}

static uint32_t node_func(struct pa_profile *p, uint64_t id, const struct pa_frame *f)
{
    struct pa_prof_priv *x = p->priv;
    uint32_t v;
    char tmp[256];
    struct fkey k;
    if (pa_idmap_get(&x->memo, id, &v) == 0)
        return v;
    v = frame_key(x, f, &k, tmp, sizeof tmp) ? intern_func(p, &k) : SKIP;
    if (v != FAIL && pa_idmap_put(&x->memo, id, v) < 0)
        return FAIL;
    return v;
}

/* The frame shown when the view leaves nothing: empty stack, or no Python frame. */
static uint32_t pseudo_func(struct pa_profile *p, uint64_t stack, const char *native_module)
{
    char tmp[300];
    struct fkey k = { PA_PROF_NO_FRAMES, "[no frames]", NULL, 0, 0 };
    if (stack) {
        snprintf(tmp, sizeof tmp, "[native] %s", native_module ? base_name(native_module) : "?");
        k = (struct fkey){ PA_PROF_NO_PYTHON, native_module ? tmp : "[native]", native_module, 0, 1 };
    }
    return intern_func(p, &k);
}

size_t pa_profile_frames(struct pa_profile *p, uint64_t stack, const uint32_t **out)
{
    struct pa_prof_priv *x = p->priv;
    const char *native_module = NULL;
    struct pa_frame f;
    uint64_t id = stack, next;
    size_t n = 0;
    uint32_t v;
    *out = x->buf;
    for (size_t depth = 0; stack && depth < PA_STACK_MAX_DEPTH; depth++) {
        int r = pa_trace_frame(x->t, id, &f, &next);
        if ((v = node_func(p, id, &f)) == FAIL)
            return 0;
        if (v != SKIP)
            x->buf[n++] = v;
        else if (!native_module && f.kind == PA_FRAME_NATIVE)
            native_module = f.module;
        /* The frame past a missing parent has no node of its own to memoise. */
        if (r == PA_WALK_UNKNOWN) {
            static const struct fkey unknown = { PA_PROF_UNKNOWN, PA_UNKNOWN, NULL, 0, 0 };
            if (x->unknown == FAIL && (x->unknown = intern_func(p, &unknown)) == FAIL)
                return 0;
            x->buf[n++] = x->unknown;
        }
        if (r != PA_WALK_NEXT)
            break;
        id = next;
    }
    if (n == 0) {
        if ((v = pseudo_func(p, stack, native_module)) == FAIL)
            return 0;
        x->buf[n++] = v;
    }
    return n;
}

static void setup_events(struct pa_profile *p, const pa_trace_t *t)
{
    static const char *const unnamed[PA_SAMPLE_MAX_EVENTS] = { "event1", "event2", "event3", "event4",
                                                                "event5", "event6", "event7", "event8" };
    const struct pa_sampling *sp = pa_trace_sampling(t);
    const struct pa_sample *s;
    size_t n = pa_trace_samples(t, &s);
    if (sp->present) {
        for (p->nevents = 0; p->nevents < sp->n; p->nevents++) {
            const struct pa_sample_event *e = &sp->ev[p->nevents];
            p->events[p->nevents] = (struct pa_prof_event){ e->name, e->type, e->config, e->flags };
        }
    } else {
        for (size_t i = 0; i < n; i++) /* values shown by position */
            if (s[i].n > p->nevents)
                p->nevents = s[i].n;
        for (size_t e = 0; e < p->nevents; e++)
            p->events[e] = (struct pa_prof_event){ unnamed[e], NO_TYPE, 0, 0 };
    }
    /* Samples without any value still say where the thread was: count them. */
    if (p->nevents == 0 && n > 0) {
        p->events[0] = (struct pa_prof_event){ "samples", NO_TYPE, 0, PA_EVF_LEADER };
        p->nevents = 1;
        p->priv->count_samples = 1;
    }
}

/* "perf::INSTRUCTIONS:u" and "instructions" name the same event. */
static int name_is(const char *name, const char *const *aliases)
{
    if (!strncasecmp(name, "perf::", 6))
        name += 6;
    size_t n = strcspn(name, ":");
    for (; *aliases; aliases++)
        if (strlen(*aliases) == n && !strncasecmp(name, *aliases, n))
            return 1;
    return 0;
}

static int find_role(const struct pa_profile *p, uint64_t hw_config, const char *const *aliases)
{
    for (size_t e = 0; e < p->nevents; e++)
        if (p->events[e].type == PERF_TYPE_HARDWARE && p->events[e].config == hw_config)
            return (int)e;
    for (size_t e = 0; e < p->nevents; e++)
        if (p->events[e].type != PERF_TYPE_HARDWARE && name_is(p->events[e].name, aliases))
            return (int)e;
    return -1;
}

static void find_roles(struct pa_profile *p)
{
    static const char *const cyc[] = { "cycles", "cpu-cycles", "cpu_clk_unhalted", NULL };
    static const char *const ins[] = { "instructions", "inst_retired", "instructions_retired", NULL };
    static const char *const cm[] = { "cache-misses", "llc-misses", "llc-load-misses", NULL };
    static const char *const br[] = { "branches", "branch-instructions", "br_inst_retired", NULL };
    static const char *const bm[] = { "branch-misses", "br_misp_retired", NULL };
    /* PERF_COUNT_HW_*: CPU_CYCLES 0, INSTRUCTIONS 1, CACHE_MISSES 3, BRANCH_INSTRUCTIONS 4,
     * BRANCH_MISSES 5 */
    p->roles = (struct pa_prof_roles){ find_role(p, 0, cyc), find_role(p, 1, ins), find_role(p, 3, cm),
                                       find_role(p, 4, br), find_role(p, 5, bm) };
}

void pa_profile_metrics(const struct pa_profile *p, const uint64_t *v, struct pa_prof_metrics *m)
{
    const struct pa_prof_roles *r = &p->roles;
    uint64_t ins = r->instructions >= 0 ? v[r->instructions] : 0;
    memset(m, 0, sizeof *m);
    if (r->cycles >= 0 && r->instructions >= 0 && v[r->cycles]) {
        m->have_ipc = 1;
        m->ipc = (double)ins / (double)v[r->cycles];
    }
    if (r->cache_misses >= 0 && ins) {
        m->have_mpki = 1;
        m->mpki = 1000.0 * (double)v[r->cache_misses] / (double)ins;
    }
    if (r->branch_misses >= 0 && r->branches >= 0 && v[r->branches]) {
        m->have_branch = 1;
        m->branch = (double)v[r->branch_misses] / (double)v[r->branches];
    } else if (r->branch_misses >= 0 && r->branches < 0 && ins) {
        m->have_branch = m->branch_per_kinst = 1;
        m->branch = 1000.0 * (double)v[r->branch_misses] / (double)ins;
    }
}

int pa_profile_event(const struct pa_profile *p, const char *name)
{
    for (size_t e = 0; name && e < p->nevents; e++)
        if (!strcmp(p->events[e].name, name))
            return (int)e;
    for (size_t e = 0; name && e < p->nevents; e++)
        if (!strcasecmp(p->events[e].name, name))
            return (int)e;
    for (size_t e = 0; !name && e < p->nevents; e++)
        if (p->events[e].flags & PA_EVF_LEADER)
            return (int)e;
    return !name && p->nevents ? 0 : -1;
}

static int selected(const struct pa_profile_opts *o, uint64_t serial)
{
    for (size_t i = 0; i < o->nserials; i++)
        if (o->serials[i] == serial)
            return 1;
    return o->serials == NULL;
}

static const struct pa_thread *thread_rec(const pa_trace_t *t, uint64_t serial)
{
    const struct pa_thread *th;
    size_t lo = 0, hi = pa_trace_threads(t, &th);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (th[mid].serial == serial)
            return &th[mid];
        if (th[mid].serial < serial)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int new_thread(struct pa_profile *p, uint64_t serial)
{
    const struct pa_thread *tr = thread_rec(p->priv->t, serial);
    if (pa_vec_reserve((void **)&p->threads, &p->priv->threads_cap, p->nthreads + 1, sizeof *p->threads) < 0)
        return -1;
    struct pa_prof_thread *th = &p->threads[p->nthreads++];
    memset(th, 0, sizeof *th);
    th->serial = serial;
    th->tid = tr ? tr->tid : 0;
    th->name = tr ? tr->name : NULL;
    return 0;
}

/* The (thread, stack) slot of sample s; ix maps the current thread's stacks. */
static struct pa_prof_stack *stack_slot(struct pa_profile *p, pa_idmap_t *ix, const struct pa_sample *s)
{
    uint32_t k;
    if (pa_idmap_get(ix, s->stack, &k) == 0)
        return &p->stacks[k];
    if (pa_vec_reserve((void **)&p->stacks, &p->priv->stacks_cap, p->nstacks + 1, sizeof *p->stacks) < 0 ||
        pa_idmap_put(ix, s->stack, (uint32_t)p->nstacks) < 0)
        return NULL;
    struct pa_prof_stack *st = &p->stacks[p->nstacks++];
    memset(st, 0, sizeof *st);
    st->serial = s->serial, st->stack = s->stack;
    return st;
}

/* Sums the samples s[0..n) of one thread per stack. */
static int add_thread(struct pa_profile *p, const struct pa_sample *s, size_t n)
{
    const pa_trace_t *t = p->priv->t;
    pa_idmap_t ix; /* stack id -> index in p->stacks, for this thread */
    int rc = new_thread(p, s[0].serial);
    pa_idmap_init(&ix);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct pa_prof_stack *st = stack_slot(p, &ix, &s[i]);
        if (!st) {
            rc = -1;
            break;
        }
        struct pa_prof_thread *th = &p->threads[p->nthreads - 1];
        st->samples++, th->samples++, p->samples++;
        for (size_t e = 0; e < p->nevents; e++) {
            uint64_t v = p->priv->count_samples ? 1 : pa_trace_sample_value(t, &s[i], e);
            st->v[e] += v, th->total[e] += v, p->total[e] += v;
        }
    }
    pa_idmap_free(&ix);
    return rc;
}

/* The end of the run of s[i]'s thread (samples are sorted by thread). */
static size_t run_end(const struct pa_sample *s, size_t n, size_t i)
{
    size_t lo = i + 1, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid].serial == s[i].serial)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Threads not selected are skipped a run at a time, so a per-thread breakdown costs
 * each thread's own samples, not all of them again. */
static int accumulate(struct pa_profile *p, const struct pa_profile_opts *o)
{
    const struct pa_sample *s;
    size_t n = pa_trace_samples(p->priv->t, &s);
    int rc = 0;
    for (size_t i = 0, end; i < n && rc == 0; i = end) {
        end = run_end(s, n, i);
        if (selected(o, s[i].serial))
            rc = add_thread(p, s + i, end - i);
    }
    return rc;
}

static void add_values(uint64_t *dst, const struct pa_prof_stack *st, size_t nevents)
{
    for (size_t e = 0; e < nevents; e++)
        dst[e] += st->v[e];
}

/* Self to the innermost frame; total to each distinct func (and module) once. */
static int aggregate(struct pa_profile *p)
{
    struct pa_prof_priv *x = p->priv;
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct pa_prof_stack *st = &p->stacks[i];
        const uint32_t *fr;
        size_t n = pa_profile_frames(p, st->stack, &fr);
        if (n == 0)
            return -1;
        x->walk++;
        struct pa_prof_func *self = &p->funcs[fr[0]];
        add_values(self->self, st, p->nevents);
        self->self_samples += st->samples;
        if (x->native) {
            add_values(p->modules[self->module].self, st, p->nevents);
            p->modules[self->module].self_samples += st->samples;
        }
        for (size_t j = 0; j < n; j++) {
            struct pa_prof_func *f = &p->funcs[fr[j]];
            if (x->fmark[fr[j]] != x->walk) {
                x->fmark[fr[j]] = x->walk;
                add_values(f->total, st, p->nevents);
                f->total_samples += st->samples;
            }
            if (x->native && x->mmark[f->module] != x->walk) {
                x->mmark[f->module] = x->walk;
                add_values(p->modules[f->module].total, st, p->nevents);
                p->modules[f->module].total_samples += st->samples;
            }
        }
    }
    return 0;
}

static int stack_cmp(const void *a, const void *b)
{
    const struct pa_prof_stack *x = a, *y = b;
    if (x->serial != y->serial)
        return x->serial < y->serial ? -1 : 1;
    return (x->stack > y->stack) - (x->stack < y->stack);
}

int pa_profile_build(const pa_trace_t *t, const struct pa_profile_opts *o, struct pa_profile *p)
{
    memset(p, 0, sizeof *p);
    if (!(p->priv = pa_mem_calloc(1, sizeof *p->priv)))
        return -1;
    struct pa_prof_priv *x = p->priv;
    x->t = t, x->lines = o->lines, x->native = o->native, x->unknown = FAIL;
    pa_idmap_init(&x->memo);
    setup_events(p, t);
    find_roles(p);
    int rc = accumulate(p, o);
    if (rc == 0)
        rc = aggregate(p);
    if (rc < 0) {
        pa_profile_free(p);
        return -1;
    }
    pa_vec_sort(p->stacks, p->nstacks, sizeof *p->stacks, stack_cmp);
    return 0;
}

void pa_profile_free(struct pa_profile *p)
{
    struct pa_prof_priv *x = p->priv;
    if (x) {
        pa_idmap_free(&x->memo);
        pa_mem_free(x->slots);
        pa_mem_free(x->fmark);
        pa_mem_free(x->mmark);
        for (size_t i = 0; i < x->nowned; i++)
            pa_mem_free(x->owned[i]);
        pa_mem_free(x->owned);
        pa_mem_free(x);
    }
    pa_mem_free(p->funcs);
    pa_mem_free(p->modules);
    pa_mem_free(p->threads);
    pa_mem_free(p->stacks);
    memset(p, 0, sizeof *p);
}

static int parse_u64(const char *s, uint64_t *v)
{
    uint64_t r = 0;
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || r > (UINT64_MAX - 9) / 10)
            return 0;
        r = r * 10 + (uint64_t)(*s - '0');
    }
    *v = r;
    return 1;
}

size_t pa_profile_select_threads(const pa_trace_t *t, const char *spec, uint64_t *out, size_t max)
{
    const struct pa_thread *th;
    size_t n = pa_trace_threads(t, &th), k = 0;
    uint64_t num = 0;
    int by_serial = spec[0] == '#', is_num = parse_u64(spec + by_serial, &num);
    for (size_t i = 0; i < n && k < max; i++) {
        int hit = by_serial ? is_num && th[i].serial == num
                            : (is_num && th[i].tid == num) || (th[i].name && !strcmp(th[i].name, spec));
        if (hit)
            out[k++] = th[i].serial;
    }
    /* "#N" also names the samples of a serial that has no THREAD record. */
    if (by_serial && is_num && k == 0 && max > 0 && !thread_rec(t, num))
        out[k++] = num;
    return k;
}

int pa_profile_pick_threads(const pa_trace_t *t, const char *spec, uint64_t **serials, size_t *n, pa_sbuf_t *err)
{
    const struct pa_thread *th;
    size_t nth = pa_trace_threads(t, &th);
    *serials = NULL, *n = 0;
    if (!spec)
        return 0;
    if (!(*serials = pa_mem_calloc(nth + 1, sizeof **serials)))
        return -1;
    if ((*n = pa_profile_select_threads(t, spec, *serials, nth + 1)) > 0)
        return 0;
    pa_mem_free(*serials);
    *serials = NULL;
    pa_sbuf_printf(err, "no thread matches %s; threads:", spec);
    for (size_t i = 0; i < nth; i++)
        pa_sbuf_printf(err, "%s #%llu %s (tid %llu)", i ? "," : "", (unsigned long long)th[i].serial,
                       th[i].name ? th[i].name : "unnamed", (unsigned long long)th[i].tid);
    pa_sbuf_puts(err, nth ? "\n" : " none\n");
    return -2;
}
