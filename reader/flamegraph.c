/* flamegraph.c — folded stacks and the HTML flame graph's JSON blob. Both come from the
 * profile's distinct (thread, stack) sums in the lines view, renamed to frame names and
 * merged where the view makes stacks equal (native frames dropped, same names). */
#include <string.h>

#include "flamegraph.h"
#include "flamegraph_html.h"
#include "idmap.h"
#include "json.h"
#include "pa_mem.h"
#include "profile.h"

/* Frames kept over all stacks: a hostile trace could otherwise turn a few MB of
 * records into gigabytes of output. Stacks past the budget are omitted, not cut. */
#define MAX_FLAME_FRAMES (1u << 22)

/* A distinct stack: its frames (name indices, outermost first) and its values. */
struct fstack {
    const uint32_t *seq;
    uint32_t len, thread;
    uint64_t v[PA_SAMPLE_MAX_EVENTS];
};

struct flame {
    pa_trace_t *t;
    struct pa_profile p;
    uint64_t *serials;
    size_t nserials;
    pa_sbuf_t pool;         /* frame names, each NUL-terminated, in func order */
    const char **names;     /* distinct frame names, sorted */
    size_t nnames;
    uint32_t *func_name;    /* func index -> names index */
    uint32_t *seqs;         /* all stacks' frames */
    size_t nseqs, seqs_cap;
    struct fstack *stacks;
    size_t nstacks, omitted;
};

static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path ? path : PA_UNKNOWN;
}

/* "work (y.py:31)", "foo_compute [libfoo.so]"; an unsymbolized native frame's name
 * already says "libfoo.so+0x40". */
static void put_frame_name(pa_sbuf_t *o, const struct pa_prof_func *f)
{
    const char *mod = base_name(f->file);
    size_t ml = strlen(mod);
    if (f->kind == PA_PROF_PYTHON && f->line)
        pa_sbuf_printf(o, "%s (%s:%llu)", f->name, base_name(f->file), (unsigned long long)f->line);
    else if (f->kind == PA_PROF_PYTHON)
        pa_sbuf_printf(o, "%s (%s)", f->name, base_name(f->file));
    else if (f->kind == PA_PROF_NATIVE && f->file && !(strncmp(f->name, mod, ml) == 0 && f->name[ml] == '+'))
        pa_sbuf_printf(o, "%s [%s]", f->name, mod);
    else
        pa_sbuf_puts(o, f->name);
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Equal names become one frame, as in the folded text. */
static int name_frames(struct flame *f)
{
    const struct pa_profile *p = &f->p;
    size_t *off = pa_mem_calloc(p->nfuncs + 1, sizeof *off);
    const char **sorted = pa_mem_calloc(p->nfuncs + 1, sizeof *sorted);
    f->names = pa_mem_calloc(p->nfuncs + 1, sizeof *f->names);
    f->func_name = pa_mem_calloc(p->nfuncs + 1, sizeof *f->func_name);
    int rc = off && sorted && f->names && f->func_name ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < p->nfuncs; i++) {
        off[i] = f->pool.len;
        put_frame_name(&f->pool, &p->funcs[i]);
        rc = pa_sbuf_append(&f->pool, "", 1); /* keeps each name's NUL */
    }
    for (size_t i = 0; rc == 0 && i < p->nfuncs; i++)
        sorted[i] = f->pool.buf + off[i];
    if (rc == 0)
        pa_vec_sort(sorted, p->nfuncs, sizeof *sorted, by_str);
    for (size_t i = 0; rc == 0 && i < p->nfuncs; i++)
        if (f->nnames == 0 || strcmp(f->names[f->nnames - 1], sorted[i]) != 0)
            f->names[f->nnames++] = sorted[i];
    for (size_t i = 0; rc == 0 && i < p->nfuncs; i++) {
        const char *key = f->pool.buf + off[i];
        const char **hit = NULL;
        for (size_t lo = 0, hi = f->nnames; !hit && lo < hi;) { /* binary search */
            size_t mid = lo + (hi - lo) / 2;
            int c = strcmp(f->names[mid], key);
            if (c == 0)
                hit = &f->names[mid];
            else if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        f->func_name[i] = (uint32_t)(hit - f->names);
    }
    pa_mem_free(off);
    pa_mem_free(sorted);
    return rc;
}

/* Appends the profile stack's frames, outermost first, as names. @return the offset
 * of its first frame, or (size_t)-1: out of memory (*len = 0: over the budget). */
static size_t add_seq(struct flame *f, const struct pa_prof_stack *st, uint32_t *len)
{
    const uint32_t *fr;
    size_t n = pa_profile_frames(&f->p, st->stack, &fr), at = f->nseqs;
    *len = 0;
    if (n == 0)
        return (size_t)-1;
    if (n > MAX_FLAME_FRAMES - f->nseqs) {
        f->omitted++;
        return at;
    }
    if (pa_vec_reserve((void **)&f->seqs, &f->seqs_cap, f->nseqs + n, sizeof *f->seqs) < 0)
        return (size_t)-1;
    for (size_t i = 0; i < n; i++)
        f->seqs[f->nseqs++] = f->func_name[fr[n - 1 - i]];
    *len = (uint32_t)n;
    return at;
}

static int by_stack(const void *a, const void *b)
{
    const struct fstack *x = a, *y = b;
    if (x->thread != y->thread)
        return x->thread < y->thread ? -1 : 1;
    for (uint32_t i = 0; i < x->len && i < y->len; i++)
        if (x->seq[i] != y->seq[i])
            return x->seq[i] < y->seq[i] ? -1 : 1;
    return (x->len > y->len) - (x->len < y->len);
}

/* Distinct stacks, per thread or (by_thread 0) over all threads, sorted. */
static int collect(struct flame *f, int by_thread)
{
    const struct pa_profile *p = &f->p;
    size_t *at = pa_mem_calloc(p->nstacks + 1, sizeof *at);
    if (!at || !(f->stacks = pa_mem_calloc(p->nstacks + 1, sizeof *f->stacks))) {
        pa_mem_free(at);
        return -1;
    }
    uint32_t th = 0;
    for (size_t i = 0; i < p->nstacks; i++) {
        const struct pa_prof_stack *st = &p->stacks[i];
        while (th + 1 < p->nthreads && p->threads[th].serial != st->serial) /* both by serial */
            th++;
        struct fstack *s = &f->stacks[f->nstacks];
        if ((at[f->nstacks] = add_seq(f, st, &s->len)) == (size_t)-1) {
            pa_mem_free(at);
            return -1;
        }
        s->thread = by_thread ? th : 0;
        memcpy(s->v, st->v, sizeof s->v);
        f->nstacks += s->len > 0;
    }
    for (size_t i = 0; i < f->nstacks; i++) /* the pool has stopped moving */
        f->stacks[i].seq = f->seqs + at[i];
    pa_mem_free(at);
    pa_vec_sort(f->stacks, f->nstacks, sizeof *f->stacks, by_stack);
    size_t w = 0;
    for (size_t i = 0; i < f->nstacks; i++) {
        if (w && by_stack(&f->stacks[w - 1], &f->stacks[i]) == 0)
            for (size_t e = 0; e < PA_SAMPLE_MAX_EVENTS; e++)
                f->stacks[w - 1].v[e] += f->stacks[i].v[e];
        else
            f->stacks[w++] = f->stacks[i];
    }
    f->nstacks = w;
    return 0;
}

static void flame_free(struct flame *f)
{
    pa_profile_free(&f->p);
    pa_mem_free(f->serials);
    pa_sbuf_free(&f->pool);
    pa_mem_free(f->names);
    pa_mem_free(f->func_name);
    pa_mem_free(f->seqs);
    pa_mem_free(f->stacks);
}

static void notes(const struct flame *f, pa_sbuf_t *err)
{
    if (f->p.samples == 0)
        pa_sbuf_printf(err, "%s\n", f->serials ? "no CPU samples in the selected threads"
                                               : "no CPU samples in this trace (sampling was off or the program "
                                                 "ran too briefly)");
    if (f->omitted)
        pa_sbuf_printf(err, "%zu stacks omitted: the flame graph is too large\n", f->omitted);
}

static int load(struct flame *f, pa_trace_t *t, const struct pa_flame_opts *o, int by_thread, pa_sbuf_t *err)
{
    memset(f, 0, sizeof *f);
    f->t = t;
    pa_sbuf_init(&f->pool);
    pa_trace_finish(t);
    int rc = pa_profile_pick_threads(t, o->thread, &f->serials, &f->nserials, err);
    if (rc < 0)
        return rc;
    struct pa_profile_opts po = { .lines = 1, .native = o->native, .serials = f->serials, .nserials = f->nserials };
    if (pa_profile_build(t, &po, &f->p) < 0 || name_frames(f) < 0 || collect(f, by_thread) < 0)
        return -1;
    return 0;
}

/* ---- folded ---- */

/* Folded text splits frames at ';' and the count at the last space, one stack a line. */
static void put_folded_name(pa_sbuf_t *o, const char *s)
{
    size_t start = o->len;
    pa_sbuf_puts(o, s);
    for (size_t i = start; i < o->len && !o->failed; i++)
        if (o->buf[i] == ';')
            o->buf[i] = ',';
        else if ((unsigned char)o->buf[i] < 0x20 || o->buf[i] == 0x7f)
            o->buf[i] = '?';
}

int pa_flame_folded(pa_trace_t *t, const struct pa_flame_opts *o, pa_sbuf_t *out, pa_sbuf_t *err)
{
    struct flame f;
    int rc = load(&f, t, o, 0, err), e = -1;
    if (rc == 0 && f.p.samples && (e = pa_profile_event(&f.p, o->event)) < 0) {
        pa_sbuf_printf(err, "no event named %s; events:", o->event);
        for (size_t i = 0; i < f.p.nevents; i++)
            pa_sbuf_printf(err, "%s %s", i ? "," : "", f.p.events[i].name);
        pa_sbuf_putc(err, '\n');
        rc = -2;
    }
    for (size_t i = 0; rc == 0 && e >= 0 && i < f.nstacks; i++) {
        const struct fstack *s = &f.stacks[i];
        if (!s->v[e])
            continue;
        for (uint32_t j = 0; j < s->len; j++) {
            if (j)
                pa_sbuf_putc(out, ';');
            put_folded_name(out, f.names[s->seq[j]]);
        }
        pa_sbuf_printf(out, " %llu\n", (unsigned long long)s->v[e]);
    }
    if (rc == 0)
        notes(&f, err);
    flame_free(&f);
    return rc == 0 && out->failed ? -1 : rc;
}

/* ---- JSON for the HTML page ---- */

static void json_title(pa_sbuf_t *o, const pa_trace_t *t, const struct pa_flame_opts *opt)
{
    const struct pa_process *p = pa_trace_process(t);
    pa_sbuf_t s;
    pa_sbuf_init(&s);
    pa_sbuf_puts(&s, "pyagent:");
    for (size_t i = 0; p->present && i < p->argc && s.len < 200; i++)
        pa_sbuf_printf(&s, " %.100s", p->argv[i]);
    if (p->present)
        pa_sbuf_printf(&s, " (pid %llu)", (unsigned long long)p->pid);
    if (opt->thread)
        pa_sbuf_printf(&s, ", thread %s", opt->thread);
    pa_json_strz(o, pa_sbuf_cstr(&s));
    if (s.failed)
        o->failed = 1;
    pa_sbuf_free(&s);
}

static void json_head(pa_sbuf_t *o, const struct flame *f, const struct pa_flame_opts *opt)
{
    const struct pa_profile *p = &f->p;
    pa_sbuf_puts(o, "{\"title\": ");
    json_title(o, f->t, opt);
    pa_sbuf_puts(o, ", \"events\": [");
    for (size_t e = 0; e < p->nevents; e++) {
        pa_sbuf_puts(o, e ? ", " : "");
        pa_json_strz(o, p->events[e].name);
    }
    pa_sbuf_puts(o, "], \"unit\": [");
    for (size_t e = 0; e < p->nevents; e++)
        pa_sbuf_printf(o, "%s\"%s\"", e ? ", " : "", p->events[e].flags & PA_EVF_TIME ? "ns" : "count");
    pa_sbuf_puts(o, "], \"threads\": [");
    for (size_t i = 0; i < p->nthreads; i++) {
        const struct pa_prof_thread *th = &p->threads[i];
        pa_sbuf_puts(o, i ? ", {\"name\": " : "{\"name\": ");
        if (th->name)
            pa_json_strz(o, th->name);
        else
            pa_sbuf_printf(o, "\"#%llu\"", (unsigned long long)th->serial);
        pa_sbuf_printf(o, ", \"tid\": %llu, \"serial\": %llu}", (unsigned long long)th->tid,
                       (unsigned long long)th->serial);
    }
    pa_sbuf_putc(o, ']');
}

static void json_stacks(pa_sbuf_t *o, const struct flame *f)
{
    pa_sbuf_puts(o, ", \"stacks\": [");
    for (size_t i = 0; i < f->nstacks && !o->failed; i++) {
        const struct fstack *s = &f->stacks[i];
        pa_sbuf_printf(o, "%s{\"t\": %u, \"f\": [", i ? ", " : "", s->thread);
        for (uint32_t j = 0; j < s->len; j++)
            pa_sbuf_printf(o, j ? ", %u" : "%u", s->seq[j]);
        pa_sbuf_puts(o, "], \"v\": [");
        for (size_t e = 0; e < f->p.nevents; e++)
            pa_sbuf_printf(o, e ? ", %llu" : "%llu", (unsigned long long)s->v[e]);
        pa_sbuf_puts(o, "]}");
    }
    pa_sbuf_puts(o, "], \"frames\": [");
    for (size_t i = 0; i < f->nnames; i++) {
        pa_sbuf_puts(o, i ? ", " : "");
        pa_json_strz(o, f->names[i]);
    }
    pa_sbuf_puts(o, "]}\n");
}

int pa_flame_json(pa_trace_t *t, const struct pa_flame_opts *o, pa_sbuf_t *out, pa_sbuf_t *err)
{
    struct flame f;
    int rc = load(&f, t, o, 1, err);
    if (rc == 0) {
        json_head(out, &f, o);
        json_stacks(out, &f);
        notes(&f, err);
    }
    flame_free(&f);
    return rc == 0 && out->failed ? -1 : rc;
}

int pa_flame_page(pa_trace_t *t, const struct pa_flame_opts *o, pa_sbuf_t *out, pa_sbuf_t *err)
{
    pa_sbuf_t blob;
    pa_sbuf_init(&blob);
    int rc = pa_flame_json(t, o, &blob, err);
    if (rc == 0)
        rc = pa_flame_html(out, blob.buf, blob.len);
    pa_sbuf_free(&blob);
    return rc;
}
