/* export.c — Chrome trace event JSON and speedscope JSON from the call segments
 * (calls.c), regions, instant events and, for traces without calls, the CPU samples. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "calls.h"
#include "deltas.h"
#include "export.h"
#include "idmap.h"
#include "json.h"
#include "pa_mem.h"
#include "profile.h"

#ifndef PA_VERSION
#define PA_VERSION "0.1.0"
#endif

#define REGION_TID (1ull << 31) /* region tracks: above any kernel tid (at most 2^22) */
#define FIELDS_MAX_DEPTH 64

struct ex {
    pa_trace_t *t;
    const struct pa_export_opts *o;
    pa_sbuf_t *out;
    uint64_t base, pid;
    struct pa_calls calls;
    struct pa_deltas d;
    int first; /* no event written yet */
};

static uint64_t rel(const struct ex *x, uint64_t t)
{
    return t > x->base ? t - x->base : 0;
}

/* Microseconds with three decimals: the nanoseconds, exactly. */
static void put_us(pa_sbuf_t *o, const char *key, uint64_t ns)
{
    pa_sbuf_printf(o, ", \"%s\": %llu.%03u", key, (unsigned long long)(ns / 1000u), (unsigned)(ns % 1000u));
}

static uint64_t tid_of(const pa_trace_t *t, uint64_t serial)
{
    const struct pa_thread *th = pa_trace_thread(t, serial);
    return th && th->tid ? th->tid : REGION_TID / 2 + serial; /* no THREAD record: a made-up tid */
}

static int flush_maybe(struct ex *x)
{
    if (x->out->failed)
        return -1;
    if (x->o->flush && x->out->len >= PA_EXPORT_FLUSH_BYTES)
        return x->o->flush(x->out, x->o->flush_arg);
    return 0;
}

/* Starts an event object: {"ph": PH, "pid": P, "tid": T, "ts": TS */
static void ev_head(struct ex *x, const char *ph, uint64_t tid, uint64_t ts_ns)
{
    pa_sbuf_puts(x->out, x->first ? "\n{\"ph\": \"" : ",\n{\"ph\": \"");
    x->first = 0;
    pa_sbuf_printf(x->out, "%s\", \"pid\": %llu, \"tid\": %llu", ph, (unsigned long long)x->pid, (unsigned long long)tid);
    put_us(x->out, "ts", ts_ns);
}

static void process_label(const pa_trace_t *t, pa_sbuf_t *o)
{
    const struct pa_process *p = pa_trace_process(t);
    pa_sbuf_t s;
    pa_sbuf_init(&s);
    for (size_t i = 0; p->present && i < p->argc && i < 4; i++)
        pa_sbuf_printf(&s, "%s%.80s", i ? " " : "", p->argv[i]);
    if (p->present)
        pa_sbuf_printf(&s, "%s(pid %llu)", p->argc ? " " : "", (unsigned long long)p->pid);
    else
        pa_sbuf_puts(&s, "unknown process");
    pa_json_strz(o, pa_sbuf_cstr(&s));
    o->failed |= s.failed;
    pa_sbuf_free(&s);
}

static void thread_name(const pa_trace_t *t, uint64_t serial, const char *suffix, pa_sbuf_t *o)
{
    const struct pa_thread *th = pa_trace_thread(t, serial);
    char buf[64];
    pa_sbuf_t s;
    pa_sbuf_init(&s);
    if (th && th->name)
        pa_sbuf_puts(&s, th->name);
    else
        pa_sbuf_puts(&s, (snprintf(buf, sizeof buf, "thread #%llu", (unsigned long long)serial), buf));
    pa_sbuf_puts(&s, suffix);
    pa_json_strz(o, pa_sbuf_cstr(&s));
    o->failed |= s.failed;
    pa_sbuf_free(&s);
}

/* ---- Chrome ---- */

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Threads that have something to show (THREAD records, calls, events, samples), sorted,
 * with repeats. @return the count, or (size_t)-1 when out of memory. */
static size_t used_threads(struct ex *x, uint64_t **out)
{
    const struct pa_thread *th;
    const struct pa_call_record *r;
    const struct pa_annot *a;
    const struct pa_sample *s;
    size_t nt = pa_trace_threads(x->t, &th), nr = pa_trace_call_records(x->t, &r);
    size_t na = pa_trace_annots(x->t, &a), ns = pa_trace_samples(x->t, &s), n = 0, cap = 0;
    *out = NULL;
#define ADD(v)                                                                                \
    do {                                                                                      \
        if (pa_vec_reserve((void **)out, &cap, n + 1, sizeof **out) < 0) {                    \
            pa_mem_free(*out);                                                                \
            return (size_t)-1;                                                                \
        }                                                                                     \
        (*out)[n++] = (v);                                                                    \
    } while (0)
    for (size_t i = 0; i < nt; i++)
        ADD(th[i].serial);
    for (size_t i = 0; i < nr; i++) /* records and samples are sorted by serial */
        if (i == 0 || r[i].serial != r[i - 1].serial)
            ADD(r[i].serial);
    for (size_t i = 0; i < ns; i++)
        if (i == 0 || s[i].serial != s[i - 1].serial)
            ADD(s[i].serial);
    for (size_t i = 0; i < na; i++)
        if (i == 0 || a[i].serial != a[i - 1].serial)
            ADD(a[i].serial);
#undef ADD
    pa_vec_sort(*out, n, sizeof **out, u64_cmp);
    return n;
}

static void chrome_meta(struct ex *x, uint64_t tid, const char *what, uint64_t sort, uint64_t serial, const char *suffix)
{
    ev_head(x, "M", tid, 0);
    pa_sbuf_printf(x->out, ", \"name\": \"%s\", \"args\": {", what);
    if (!strcmp(what, "thread_sort_index")) {
        pa_sbuf_printf(x->out, "\"sort_index\": %llu}}", (unsigned long long)sort);
        return;
    }
    pa_sbuf_puts(x->out, "\"name\": ");
    if (!strcmp(what, "process_name"))
        process_label(x->t, x->out);
    else
        thread_name(x->t, serial, suffix, x->out);
    pa_sbuf_puts(x->out, "}}");
}

/* Metadata for every thread with something to show, and a region track where needed. */
static int chrome_threads(struct ex *x, const struct pa_region *rg, size_t nrg)
{
    uint64_t *v;
    size_t n = used_threads(x, &v);
    if (n == (size_t)-1)
        return -1;
    chrome_meta(x, x->pid, "process_name", 0, 0, "");
    for (size_t i = 0; i < n; i++) {
        if (i && v[i] == v[i - 1])
            continue;
        uint64_t tid = tid_of(x->t, v[i]);
        chrome_meta(x, tid, "thread_name", 0, v[i], "");
        chrome_meta(x, tid, "thread_sort_index", 2 * v[i], v[i], "");
        for (size_t k = 0; k < nrg; k++)
            if (rg[k].serial == v[i]) {
                chrome_meta(x, REGION_TID + v[i], "thread_name", 0, v[i], " regions");
                chrome_meta(x, REGION_TID + v[i], "thread_sort_index", 2 * v[i] + 1, v[i], "");
                break;
            }
    }
    pa_mem_free(v);
    return flush_maybe(x);
}

static void args_deltas(struct ex *x, uint64_t serial, uint64_t start, uint64_t end)
{
    struct pa_delta d;
    pa_sbuf_t *o = x->out;
    pa_deltas_get(&x->d, serial, start, end, &d);
    if (d.have_samples) {
        if (x->d.cpu >= 0)
            pa_sbuf_printf(o, ", \"cpu_ns\": %llu", (unsigned long long)d.v[x->d.cpu]);
        for (size_t e = 0; e < x->d.nevents; e++)
            if ((int)e != x->d.cpu) {
                pa_sbuf_puts(o, ", ");
                pa_json_strz(o, x->d.names[e]);
                pa_sbuf_printf(o, ": %llu", (unsigned long long)d.v[e]);
            }
    }
    if (x->d.have_alloc)
        pa_sbuf_printf(o, ", \"alloc_bytes\": %llu, \"alloc_count\": %llu", (unsigned long long)d.alloc_bytes,
                       (unsigned long long)d.alloc_count);
}

static int chrome_calls(struct ex *x)
{
    static const char *const exits[] = { "unfinished", "return", "yield", "exception" };
    for (size_t i = 0; i < x->calls.n; i++) {
        const struct pa_call *c = &x->calls.v[i];
        const char *name, *file;
        uint64_t line;
        pa_trace_function(x->t, c->func, &name, &file, &line);
        ev_head(x, "X", tid_of(x->t, c->serial), rel(x, c->start));
        put_us(x->out, "dur", c->end - c->start);
        pa_sbuf_printf(x->out, ", \"cat\": \"%s\", \"name\": ", file ? "python" : "c");
        pa_json_strz(x->out, name);
        pa_sbuf_puts(x->out, ", \"args\": {\"file\": ");
        pa_json_strz(x->out, file);
        pa_sbuf_printf(x->out, ", \"line\": %llu, \"depth\": %u, \"exit\": \"%s\"", (unsigned long long)line, c->depth,
                       exits[c->exit & 3]);
        if (c->flags & PA_CALLF_RESUMED)
            pa_sbuf_puts(x->out, ", \"resumed\": true");
        if (c->flags & PA_CALLF_UNFINISHED)
            pa_sbuf_puts(x->out, ", \"unfinished\": true");
        args_deltas(x, c->serial, c->start, c->end);
        pa_sbuf_puts(x->out, "}}");
        if (flush_maybe(x) < 0)
            return -1;
    }
    return 0;
}

static int chrome_regions(struct ex *x, const struct pa_region *rg, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ev_head(x, "X", REGION_TID + rg[i].serial, rel(x, rg[i].start));
        put_us(x->out, "dur", rg[i].end - rg[i].start);
        pa_sbuf_puts(x->out, ", \"cat\": \"region\", \"name\": ");
        pa_json_strz(x->out, pa_trace_string(x->t, rg[i].name));
        pa_sbuf_puts(x->out, ", \"args\": {\"unfinished\": ");
        pa_json_bool(x->out, rg[i].unfinished);
        args_deltas(x, rg[i].serial, rg[i].start, rg[i].end);
        pa_sbuf_puts(x->out, "}}");
        if (flush_maybe(x) < 0)
            return -1;
    }
    return 0;
}

/* A mark's fields are its args when they are a JSON object; else kept as text. */
static void mark_args(pa_sbuf_t *o, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++, n--;
    if (n && *s == '{' && pa_json_valid(s, n, FIELDS_MAX_DEPTH)) {
        pa_sbuf_append(o, s, n);
        return;
    }
    pa_sbuf_puts(o, s ? "{\"fields_text\": " : "{");
    if (s)
        pa_json_strz(o, s);
    pa_sbuf_putc(o, '}');
}

static int chrome_annots(struct ex *x)
{
    static const char *const causes[] = { "unknown", "api", "signal", "start" };
    const struct pa_annot *a;
    size_t n = pa_trace_annots(x->t, &a);
    for (size_t i = 0; i < n; i++) {
        const char *name = pa_trace_string(x->t, a[i].name);
        if (a[i].type == PA_EV_REGION || (a[i].type == PA_EV_COUNTER && a[i].is_double && !isfinite(a[i].dval)))
            continue;
        ev_head(x, a[i].type == PA_EV_COUNTER ? "C" : "i", tid_of(x->t, a[i].serial), rel(x, a[i].t));
        if (a[i].type == PA_EV_TOGGLE) {
            pa_sbuf_printf(x->out, ", \"s\": \"p\", \"cat\": \"toggle\", \"name\": \"%s\", \"args\": {\"cause\": \"%s\"}}",
                           a[i].arg ? "resumed" : "paused", causes[a[i].cause <= 3 ? a[i].cause : 0]);
        } else {
            pa_sbuf_puts(x->out, a[i].type == PA_EV_MARK ? ", \"s\": \"t\", \"cat\": \"mark\", \"name\": " : ", \"name\": ");
            pa_json_strz(x->out, name ? name : "");
            pa_sbuf_puts(x->out, ", \"args\": ");
            if (a[i].type == PA_EV_MARK)
                mark_args(x->out, pa_trace_string(x->t, a[i].arg));
            else if (a[i].is_double)
                pa_sbuf_printf(x->out, "{\"value\": %.17g}", a[i].dval);
            else
                pa_sbuf_printf(x->out, "{\"value\": %lld}", (long long)a[i].ival);
            pa_sbuf_putc(x->out, '}');
        }
        if (flush_maybe(x) < 0)
            return -1;
    }
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path;
}

/* "work (y.py:31)", or the name alone. */
static void frame_label(pa_sbuf_t *o, const struct pa_prof_func *f)
{
    pa_sbuf_t s;
    pa_sbuf_init(&s);
    if (f->kind == PA_PROF_PYTHON && f->file)
        pa_sbuf_printf(&s, "%s (%s:%llu)", f->name, base_name(f->file), (unsigned long long)f->line);
    else
        pa_sbuf_puts(&s, f->name);
    pa_json_strz(o, pa_sbuf_cstr(&s));
    o->failed |= s.failed;
    pa_sbuf_free(&s);
}

/* Without CALLS records: each sample as an instant event on its thread. */
static int chrome_samples(struct ex *x)
{
    const struct pa_sample *s;
    size_t n = pa_trace_samples(x->t, &s);
    struct pa_profile p;
    struct pa_profile_opts po = { .lines = 1 };
    int rc = pa_profile_build(x->t, &po, &p);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const uint32_t *fr;
        size_t nf = pa_profile_frames(&p, s[i].stack, &fr);
        if (nf == 0) {
            rc = -1;
            break;
        }
        ev_head(x, "i", tid_of(x->t, s[i].serial), rel(x, s[i].t));
        pa_sbuf_puts(x->out, ", \"s\": \"t\", \"cat\": \"sample\", \"name\": ");
        frame_label(x->out, &p.funcs[fr[0]]);
        pa_sbuf_puts(x->out, ", \"args\": {\"stack\": [");
        for (size_t k = nf; k-- > 0;) {
            frame_label(x->out, &p.funcs[fr[k]]);
            pa_sbuf_puts(x->out, k ? ", " : "]");
        }
        for (size_t e = 0; e < p.nevents; e++) {
            pa_sbuf_puts(x->out, ", ");
            pa_json_strz(x->out, p.events[e].name);
            pa_sbuf_printf(x->out, ": %llu", (unsigned long long)pa_trace_sample_value(x->t, &s[i], e));
        }
        pa_sbuf_puts(x->out, "}}");
        rc = flush_maybe(x);
    }
    pa_profile_free(&p);
    return rc;
}

static int chrome(struct ex *x)
{
    struct pa_region *rg;
    size_t nrg = pa_regions_build(x->t, NULL, 0, &rg);
    int rc;
    if (nrg == (size_t)-1)
        return -1;
    pa_sbuf_puts(x->out, "{\"displayTimeUnit\": \"ns\", \"otherData\": {\"exporter\": \"pyagent " PA_VERSION
                         "\", \"process\": ");
    process_label(x->t, x->out);
    pa_sbuf_puts(x->out, ", \"time\": \"microseconds since the process started\"}, \"traceEvents\": [");
    x->first = 1;
    rc = chrome_threads(x, rg, nrg);
    if (rc == 0)
        rc = chrome_calls(x);
    if (rc == 0)
        rc = chrome_regions(x, rg, nrg);
    if (rc == 0)
        rc = chrome_annots(x);
    if (rc == 0 && pa_trace_counts(x->t)->call_records == 0)
        rc = chrome_samples(x);
    pa_sbuf_puts(x->out, "\n]}\n");
    pa_mem_free(rg);
    return rc < 0 || x->out->failed ? -1 : 0;
}

/* ---- speedscope ---- */

struct frames {
    pa_idmap_t ix; /* function id (evented) or profile func index (sampled) -> frame */
    uint32_t n;
};

static void ss_head(struct ex *x)
{
    pa_sbuf_puts(x->out, "{\"$schema\": \"https://www.speedscope.app/file-format-schema.json\", \"exporter\": "
                         "\"pyagent " PA_VERSION "\", \"name\": ");
    process_label(x->t, x->out);
    pa_sbuf_puts(x->out, ", \"activeProfileIndex\": 0, \"shared\": {\"frames\": [");
}

/* Frames of every function the calls use, in first-use order. */
static int ss_call_frames(struct ex *x, struct frames *f)
{
    for (size_t i = 0; i < x->calls.n; i++) {
        const char *name, *file;
        uint64_t line;
        uint32_t v;
        if (pa_idmap_get(&f->ix, x->calls.v[i].func, &v) == 0)
            continue;
        if (pa_idmap_put(&f->ix, x->calls.v[i].func, f->n) < 0)
            return -1;
        pa_trace_function(x->t, x->calls.v[i].func, &name, &file, &line);
        pa_sbuf_puts(x->out, f->n++ ? ", {\"name\": " : "{\"name\": ");
        pa_json_strz(x->out, name);
        if (file) {
            pa_sbuf_puts(x->out, ", \"file\": ");
            pa_json_strz(x->out, file);
            pa_sbuf_printf(x->out, ", \"line\": %llu", (unsigned long long)line);
        }
        pa_sbuf_putc(x->out, '}');
        if (flush_maybe(x) < 0)
            return -1;
    }
    return 0;
}

/* A call's place in its thread's preorder: serial, then entry order. */
struct ord {
    uint64_t serial, seq;
    uint32_t i;
};

static int by_thread(const void *a, const void *b)
{
    const struct ord *x = a, *y = b;
    if (x->serial != y->serial)
        return x->serial < y->serial ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static void ss_profile_head(struct ex *x, pa_sbuf_t *o, uint64_t serial, const char *type, const char *unit,
                            uint64_t start, uint64_t end, int first)
{
    const struct pa_thread *th = pa_trace_thread(x->t, serial);
    char tid[40] = "";
    if (th)
        snprintf(tid, sizeof tid, " (tid %llu)", (unsigned long long)th->tid);
    pa_sbuf_printf(o, "%s{\"type\": \"%s\", \"name\": ", first ? "\n" : ",\n", type);
    thread_name(x->t, serial, tid, o);
    pa_sbuf_printf(o, ", \"unit\": \"%s\", \"startValue\": %llu, \"endValue\": %llu, ", unit,
                   (unsigned long long)start, (unsigned long long)end);
}

/* One thread's O/C events: before opening a call, the open calls that are not its
 * ancestors (depth not below it) close. Times never go back within a thread. */
static int ss_thread(struct ex *x, const struct frames *f, const uint32_t *ix, size_t n, uint32_t *stack, int first)
{
    const struct pa_call *v = x->calls.v;
    size_t depth = 0;
    uint64_t end = 0;
    for (size_t i = 0; i < n; i++)
        end = v[ix[i]].end > end ? v[ix[i]].end : end;
    ss_profile_head(x, x->out, v[ix[0]].serial, "evented", "nanoseconds", rel(x, v[ix[0]].start), rel(x, end), first);
    pa_sbuf_puts(x->out, "\"events\": [");
    for (size_t i = 0; i <= n; i++) {
        while (depth && (i == n || v[stack[depth - 1]].depth >= v[ix[i]].depth)) {
            const struct pa_call *c = &v[stack[--depth]];
            uint32_t fr = 0;
            pa_idmap_get(&f->ix, c->func, &fr);
            pa_sbuf_printf(x->out, ", {\"type\": \"C\", \"frame\": %u, \"at\": %llu}", fr, (unsigned long long)rel(x, c->end));
        }
        if (i == n)
            break;
        uint32_t fr = 0;
        pa_idmap_get(&f->ix, v[ix[i]].func, &fr);
        pa_sbuf_printf(x->out, "%s{\"type\": \"O\", \"frame\": %u, \"at\": %llu}", i ? ", " : "", fr,
                       (unsigned long long)rel(x, v[ix[i]].start));
        stack[depth++] = ix[i];
        if (flush_maybe(x) < 0)
            return -1;
    }
    pa_sbuf_puts(x->out, "]}");
    return 0;
}

static int ss_evented(struct ex *x, struct frames *f)
{
    size_t n = x->calls.n;
    struct ord *ord = pa_mem_calloc(n ? n : 1, sizeof *ord);
    uint32_t *ix = pa_mem_calloc(n ? n : 1, sizeof *ix), *stack = pa_mem_calloc(n ? n : 1, sizeof *stack);
    int rc = ord && ix && stack ? ss_call_frames(x, f) : -1;
    pa_sbuf_puts(x->out, "]}, \"profiles\": [");
    for (size_t i = 0; rc == 0 && i < n; i++)
        ord[i] = (struct ord){ x->calls.v[i].serial, x->calls.v[i].seq, (uint32_t)i };
    if (rc == 0)
        pa_vec_sort(ord, n, sizeof *ord, by_thread);
    for (size_t i = 0; rc == 0 && i < n; i++)
        ix[i] = ord[i].i;
    for (size_t i = 0, j; rc == 0 && i < n; i = j) {
        for (j = i + 1; j < n && ord[j].serial == ord[i].serial;)
            j++;
        rc = ss_thread(x, f, ix + i, j - i, stack, i == 0);
    }
    pa_mem_free(ord);
    pa_mem_free(ix);
    pa_mem_free(stack);
    return rc;
}

/* Frames of the profile funcs the samples use, numbered on first use. */
static int ss_sample_frame(struct ex *x, struct frames *f, const struct pa_prof_func *fn, uint32_t idx, pa_sbuf_t *fr,
                           uint32_t *out)
{
    if (pa_idmap_get(&f->ix, idx, out) == 0)
        return 0;
    if (pa_idmap_put(&f->ix, idx, f->n) < 0)
        return -1;
    *out = f->n;
    pa_sbuf_puts(fr, f->n++ ? ", {\"name\": " : "{\"name\": ");
    pa_json_strz(fr, fn->name);
    if (fn->kind == PA_PROF_PYTHON && fn->file) {
        pa_sbuf_puts(fr, ", \"file\": ");
        pa_json_strz(fr, fn->file);
        pa_sbuf_printf(fr, ", \"line\": %llu", (unsigned long long)fn->line);
    }
    pa_sbuf_putc(fr, '}');
    return fr->failed ? -1 : 0;
}

/* Profiles go to a side buffer while the frames they use are collected, then both are
 * written: the samples' frames are only known after walking them. */
static int ss_sampled(struct ex *x, struct frames *f)
{
    const struct pa_sample *s;
    size_t n = pa_trace_samples(x->t, &s);
    struct pa_profile p;
    struct pa_profile_opts po = { 0 };
    pa_sbuf_t frames, profs, weights;
    int rc = pa_profile_build(x->t, &po, &p), lead = pa_profile_event(&p, NULL);
    pa_sbuf_init(&frames), pa_sbuf_init(&profs), pa_sbuf_init(&weights);
    const char *unit = lead >= 0 && p.events[lead].flags & PA_EVF_TIME ? "nanoseconds" : "none";
    for (size_t i = 0, j; rc == 0 && i < n; i = j) {
        uint64_t total = 0;
        pa_sbuf_reset(&weights);
        for (j = i; j < n && s[j].serial == s[i].serial; j++)
            total += lead >= 0 ? pa_trace_sample_value(x->t, &s[j], (size_t)lead) : 1;
        ss_profile_head(x, &profs, s[i].serial, "sampled", unit, 0, total, i == 0);
        pa_sbuf_puts(&profs, "\"samples\": [");
        for (size_t k = i; rc == 0 && k < j; k++) {
            const uint32_t *fr;
            size_t nf = pa_profile_frames(&p, s[k].stack, &fr);
            pa_sbuf_puts(&profs, k > i ? ", [" : "[");
            for (size_t m = nf; rc == 0 && m-- > 0;) {
                uint32_t id;
                rc = ss_sample_frame(x, f, &p.funcs[fr[m]], fr[m], &frames, &id);
                pa_sbuf_printf(&profs, "%u%s", id, m ? ", " : "");
            }
            rc = nf == 0 ? -1 : rc;
            pa_sbuf_putc(&profs, ']');
            pa_sbuf_printf(&weights, "%s%llu", k > i ? ", " : "",
                           (unsigned long long)(lead >= 0 ? pa_trace_sample_value(x->t, &s[k], (size_t)lead) : 1));
        }
        pa_sbuf_printf(&profs, "], \"weights\": [%s]}", pa_sbuf_cstr(&weights));
    }
    pa_sbuf_append(x->out, pa_sbuf_cstr(&frames), frames.len);
    pa_sbuf_puts(x->out, "]}, \"profiles\": [");
    pa_sbuf_append(x->out, pa_sbuf_cstr(&profs), profs.len);
    if (frames.failed || profs.failed || weights.failed)
        rc = -1;
    pa_sbuf_free(&frames), pa_sbuf_free(&profs), pa_sbuf_free(&weights);
    pa_profile_free(&p);
    return rc;
}

static int speedscope(struct ex *x)
{
    struct frames f = { .n = 0 };
    int rc;
    pa_idmap_init(&f.ix);
    ss_head(x);
    if (pa_trace_counts(x->t)->call_records || !pa_trace_counts(x->t)->samples)
        rc = ss_evented(x, &f);
    else
        rc = ss_sampled(x, &f);
    pa_sbuf_puts(x->out, "\n]}\n");
    pa_idmap_free(&f.ix);
    return rc < 0 || x->out->failed ? -1 : 0;
}

int pa_export_render(pa_trace_t *t, const struct pa_export_opts *o, pa_sbuf_t *out, pa_sbuf_t *err)
{
    struct ex x = { .t = t, .o = o, .out = out };
    const struct pa_process *p;
    struct pa_calls_opts co = { .until = UINT64_MAX, .max_depth = -1 };
    int rc;
    pa_trace_finish(t);
    p = pa_trace_process(t);
    x.base = pa_calls_base_ns(t);
    x.pid = p->present ? p->pid : 1;
    if (pa_calls_build(t, &co, &x.calls) < 0 || pa_deltas_build(t, &x.d) < 0) {
        pa_calls_free(&x.calls);
        pa_deltas_free(&x.d);
        return -1;
    }
    rc = o->format == PA_EXPORT_SPEEDSCOPE ? speedscope(&x) : chrome(&x);
    if (rc == 0 && pa_trace_counts(t)->call_records == 0)
        pa_sbuf_puts(err, pa_trace_counts(t)->samples ? "no call events in this trace: exported the CPU samples\n"
                                                       : "no call events or CPU samples in this trace: nothing to export\n");
    if (rc == 0 && x.calls.not_kept)
        pa_sbuf_printf(err, "calls not exported (over the reader's memory cap): %llu\n",
                       (unsigned long long)x.calls.not_kept);
    pa_calls_free(&x.calls);
    pa_deltas_free(&x.d);
    return rc;
}
