/* stats.c — pyagent.stats(): what the agent knows so far, for a program inspecting
 * itself. CPU samples and counted calls are tallied per function as they are turned
 * into events; names, stacks and live blocks come from the agent's own tables (decoded
 * with the reader's code, as the exit report is) and its allocation table. */
#include "stats.h"

#include <string.h>

#include "common.h"
#include "heap.h"
#include "json.h"
#include "map.h"
#include "mem.h"
#include "session.h"
#include "trace.h"

#define TOP 10

typedef struct fn_stat {
    uint32_t fn;
    uint64_t self, samples, calls, call_ns;
} fn_stat_t;

typedef struct thread_stat {
    uint32_t serial;
    int tid;
    uint64_t samples, values[8];
} thread_stat_t;

#define MAX_THREAD_STATS 4096

static pa_spin_t lock = PA_SPIN_INIT;
static thread_stat_t *threads;
static size_t n_threads;
static pa_map_t thread_index; /* serial -> 1 + index in threads */
static pa_map_t index_of; /* fn id -> 1 + index in stats */
static fn_stat_t *stats;
static size_t n_stats, cap_stats;
static uint64_t total_samples;

static fn_stat_t *slot(uint32_t fn)
{
    uint32_t i = pa_map_get(&index_of, fn, 0);
    if (i)
        return &stats[i - 1];
    if (n_stats == cap_stats) {
        size_t cap = cap_stats ? cap_stats * 2 : 256;
        fn_stat_t *v = pa_mem_realloc(stats, cap * sizeof *v);
        if (!v)
            return NULL;
        stats = v;
        cap_stats = cap;
    }
    if (pa_map_put(&index_of, fn, 0, (uint32_t)n_stats + 1) != 0)
        return NULL;
    stats[n_stats] = (fn_stat_t){ fn, 0, 0, 0, 0 };
    return &stats[n_stats++];
}

static void add_thread(uint32_t serial, int tid, const uint64_t *vals, int n)
{
    uint32_t i = pa_map_get(&thread_index, serial, 0);
    if (!i) {
        if (!threads && !(threads = pa_mem_calloc(MAX_THREAD_STATS, sizeof *threads)))
            return;
        if (n_threads == MAX_THREAD_STATS || pa_map_put(&thread_index, serial, 0, (uint32_t)n_threads + 1) != 0)
            return;
        threads[n_threads] = (thread_stat_t){ serial, tid, 0, { 0 } };
        i = (uint32_t)++n_threads;
    }
    thread_stat_t *t = &threads[i - 1];
    t->samples++;
    for (int k = 0; k < n && k < 8; k++)
        t->values[k] += vals[k];
}

void pa_stats_sample(uint32_t serial, int tid, uint32_t fn, const uint64_t *vals, int n)
{
    uint64_t leader_value = n ? vals[0] : 0;
    pa_spin_lock(&lock);
    total_samples++;
    add_thread(serial, tid, vals, n);
    fn_stat_t *s = fn ? slot(fn) : NULL;
    if (s) {
        s->self += leader_value;
        s->samples++;
    }
    pa_spin_unlock(&lock);
}

void pa_stats_counted(uint32_t fn, uint64_t duration_ns)
{
    pa_spin_lock(&lock);
    fn_stat_t *s = slot(fn);
    if (s) {
        s->calls++;
        s->call_ns += duration_ns;
    }
    pa_spin_unlock(&lock);
}

static void put_function(pa_sbuf_t *o, const pa_trace_t *t, uint64_t fn)
{
    const char *name = NULL, *file = NULL;
    uint64_t line = 0;
    pa_trace_function(t, fn, &name, &file, &line);
    pa_json_key(o, "function");
    pa_json_strz(o, name);
    pa_sbuf_puts(o, ", ");
    pa_json_key(o, "file");
    pa_json_strz(o, file);
    pa_sbuf_printf(o, ", \"line\": %llu", (unsigned long long)line);
}

/* The largest of n entries by key, in place: a partial selection sort (n is small). */
static void top_by(fn_stat_t *v, size_t n, size_t k, int by_calls)
{
    for (size_t i = 0; i < n && i < k; i++) {
        size_t best = i;
        for (size_t j = i + 1; j < n; j++)
            if ((by_calls ? v[j].call_ns > v[best].call_ns : v[j].self > v[best].self))
                best = j;
        fn_stat_t tmp = v[i];
        v[i] = v[best];
        v[best] = tmp;
    }
}

static void put_functions(pa_sbuf_t *o, const pa_trace_t *t, fn_stat_t *v, size_t n)
{
    top_by(v, n, TOP, 0);
    pa_sbuf_puts(o, "\"top_functions\": [");
    for (size_t i = 0, shown = 0; i < n && shown < TOP; i++) {
        if (!v[i].samples)
            continue;
        pa_sbuf_puts(o, shown++ ? ", {" : "{");
        put_function(o, t, v[i].fn);
        pa_sbuf_printf(o, ", \"self\": %llu, \"samples\": %llu}", (unsigned long long)v[i].self,
                       (unsigned long long)v[i].samples);
    }
    pa_sbuf_puts(o, "], \"counted\": [");
    top_by(v, n, n, 1);
    for (size_t i = 0, shown = 0; i < n; i++) {
        if (!v[i].calls)
            continue;
        pa_sbuf_puts(o, shown++ ? ", {" : "{");
        put_function(o, t, v[i].fn);
        pa_sbuf_printf(o, ", \"calls\": %llu, \"total_ns\": %llu}", (unsigned long long)v[i].calls,
                       (unsigned long long)v[i].call_ns);
    }
    pa_sbuf_puts(o, "]");
}

/* Live blocks by the innermost Python function of their stack. */
typedef struct site { uint64_t fn, bytes, blocks; } site_t;
typedef struct sites { const pa_trace_t *t; site_t v[256]; size_t n; uint64_t other_bytes, other_blocks; } sites_t;

static void add_site(void *ctx, uint32_t stack, uint32_t flags, uint64_t bytes, uint64_t count)
{
    sites_t *s = ctx;
    struct pa_frame f[64];
    size_t n = pa_trace_stack(s->t, stack, f, 64);
    uint64_t fn = 0;
    for (size_t i = 0; i < n && !fn; i++)
        if (f[i].kind == 1 /* PA_FRAME_PYTHON */)
            fn = f[i].a;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].fn == fn) {
            s->v[i].bytes += bytes, s->v[i].blocks += count;
            return;
        }
    if (s->n < 256) {
        s->v[s->n++] = (site_t){ fn, bytes, count };
        return;
    }
    s->other_bytes += bytes, s->other_blocks += count;
}

static void put_allocations(pa_sbuf_t *o, const pa_trace_t *t)
{
    sites_t *s = pa_mem_calloc(1, sizeof *s);
    uint64_t bytes, blocks;
    pa_heap_totals(&bytes, &blocks);
    pa_sbuf_printf(o, "\"live_bytes\": %llu, \"live_blocks\": %llu, \"top_allocations\": [",
                   (unsigned long long)bytes, (unsigned long long)blocks);
    if (s) {
        s->t = t;
        pa_heap_leaks(add_site, s);
        for (size_t k = 0; k < TOP && k < s->n; k++) {
            size_t best = k;
            for (size_t j = k + 1; j < s->n; j++)
                if (s->v[j].bytes > s->v[best].bytes)
                    best = j;
            site_t tmp = s->v[k];
            s->v[k] = s->v[best];
            s->v[best] = tmp;
            pa_sbuf_puts(o, k ? ", {" : "{");
            if (s->v[k].fn)
                put_function(o, t, s->v[k].fn);
            else
                pa_sbuf_puts(o, "\"function\": null, \"file\": null, \"line\": 0");
            pa_sbuf_printf(o, ", \"bytes\": %llu, \"blocks\": %llu}", (unsigned long long)s->v[k].bytes,
                           (unsigned long long)s->v[k].blocks);
        }
    }
    pa_sbuf_puts(o, "]");
    pa_mem_free(s);
}

/* Each thread's sample count and its counters' totals, named by the trace's events. */
static void put_threads(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_sampling *sm = pa_trace_sampling(t);
    pa_sbuf_puts(o, "\"threads\": [");
    pa_spin_lock(&lock);
    for (size_t i = 0; i < n_threads; i++) {
        const thread_stat_t *th = &threads[i];
        const struct pa_thread *info = pa_trace_thread(t, th->serial);
        pa_sbuf_printf(o, "%s{\"tid\": %d, \"name\": ", i ? ", " : "", th->tid);
        pa_json_strz(o, info ? info->name : NULL);
        pa_sbuf_printf(o, ", \"samples\": %llu, \"counters\": {", (unsigned long long)th->samples);
        for (size_t k = 0; sm && sm->present && k < sm->n && k < 8; k++) {
            pa_sbuf_puts(o, k ? ", " : "");
            pa_json_key(o, sm->ev[k].name);
            pa_sbuf_printf(o, "%llu", (unsigned long long)th->values[k]);
        }
        pa_sbuf_puts(o, "}}");
    }
    pa_spin_unlock(&lock);
    pa_sbuf_puts(o, "]");
}

int pa_stats_json(pa_sbuf_t *out, int paused, uint64_t call_events, uint64_t lost)
{
    pa_trace_t *t = pa_report_own_tables();
    if (!t)
        return -1;
    pa_spin_lock(&lock);
    size_t n = n_stats;
    fn_stat_t *copy = pa_mem_alloc((n ? n : 1) * sizeof *copy);
    if (copy)
        memcpy(copy, stats, n * sizeof *copy);
    uint64_t samples = total_samples;
    pa_spin_unlock(&lock);
    pa_sbuf_printf(out, "{\"samples\": %llu, \"lost\": %llu, \"call_events\": %llu, \"paused\": ",
                   (unsigned long long)samples, (unsigned long long)lost, (unsigned long long)call_events);
    pa_json_bool(out, paused);
    const struct pa_sampling *sm = pa_trace_sampling(t);
    pa_sbuf_puts(out, ", \"event\": ");
    pa_json_strz(out, sm && sm->present && sm->n ? sm->ev[0].name : NULL);
    pa_sbuf_puts(out, ", ");
    if (copy)
        put_functions(out, t, copy, n);
    else
        pa_sbuf_puts(out, "\"top_functions\": [], \"counted\": []");
    pa_sbuf_puts(out, ", ");
    put_threads(out, t);
    pa_sbuf_puts(out, ", ");
    put_allocations(out, t);
    pa_sbuf_puts(out, "}");
    pa_mem_free(copy);
    pa_trace_free(t);
    return 0;
}
