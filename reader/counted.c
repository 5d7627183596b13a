/* counted.c — sums the counted calls per (function, thread): a sorted copy of the events
 * is folded in one pass, so the cost is a sort of what the trace holds. */
#include <stdio.h>
#include <string.h>

#include "calls.h"
#include "idmap.h"
#include "counted.h"
#include "json.h"
#include "pa_mem.h"

static int by_key(const void *a, const void *b)
{
    const struct pa_counted_ev *x = a, *y = b;
    if (x->func != y->func)
        return x->func < y->func ? -1 : 1;
    return (x->serial > y->serial) - (x->serial < y->serial);
}

static int by_total(const void *a, const void *b)
{
    const struct pa_counted_row *x = a, *y = b;
    if (x->total_ns != y->total_ns)
        return x->total_ns < y->total_ns ? 1 : -1;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    if (x->func != y->func)
        return x->func < y->func ? -1 : 1;
    return (x->serial > y->serial) - (x->serial < y->serial);
}

static void start_row(const pa_trace_t *t, const struct pa_counted_ev *e, struct pa_counted_row *r)
{
    const struct pa_thread *th = pa_trace_thread(t, e->serial);
    memset(r, 0, sizeof *r);
    r->func = e->func, r->serial = e->serial;
    r->tid = th ? th->tid : 0;
    r->thread = th ? th->name : NULL;
    pa_trace_function(t, e->func, &r->name, &r->file, &r->line);
    r->min_ns = UINT64_MAX;
}

size_t pa_counted_rows(const pa_trace_t *t, const uint64_t *serials, size_t nserials, struct pa_counted_row **out)
{
    const struct pa_counted_ev *ev;
    size_t n = pa_trace_counted(t, &ev), k = 0, nrows = 0;
    struct pa_counted_ev *v = pa_mem_calloc(n ? n : 1, sizeof *v);
    *out = pa_mem_calloc(n ? n : 1, sizeof **out);
    if (!v || !*out) {
        pa_mem_free(v);
        pa_mem_free(*out);
        *out = NULL;
        return (size_t)-1;
    }
    for (size_t i = 0; i < n; i++)
        if (pa_calls_has_serial(serials, nserials, ev[i].serial))
            v[k++] = ev[i];
    pa_vec_sort(v, k, sizeof *v, by_key);
    for (size_t i = 0; i < k; i++) {
        if (i == 0 || by_key(&v[i], &v[i - 1]) != 0)
            start_row(t, &v[i], &(*out)[nrows++]);
        struct pa_counted_row *r = &(*out)[nrows - 1];
        r->calls++;
        r->total_ns += v[i].duration_ns;
        r->min_ns = v[i].duration_ns < r->min_ns ? v[i].duration_ns : r->min_ns;
        r->max_ns = v[i].duration_ns > r->max_ns ? v[i].duration_ns : r->max_ns;
        r->cpu_ns += v[i].cpu_ns;
        r->alloc_bytes += v[i].alloc_bytes;
        r->alloc_blocks += v[i].alloc_blocks;
    }
    pa_mem_free(v);
    pa_vec_sort(*out, nrows, sizeof **out, by_total);
    return nrows;
}

static int width(const struct pa_counted_row *r, size_t n, int thread, int min)
{
    size_t w = (size_t)min;
    for (size_t i = 0; i < n; i++) {
        size_t l = thread ? (r[i].thread ? strlen(r[i].thread) : 21) : strlen(r[i].name);
        w = l > w ? l : w;
    }
    return w > 40 ? 40 : (int)w;
}

static void text_row(pa_sbuf_t *o, const struct pa_counted_row *r, int fw, int tw)
{
    char num[PA_NUM_BUFLEN], th[64];
    pa_sbuf_printf(o, "  %10s", pa_fmt_num(num, r->calls));
    pa_sbuf_printf(o, " %12s", pa_fmt_dur(num, r->total_ns));
    pa_sbuf_printf(o, " %12s", pa_fmt_dur(num, r->total_ns / r->calls));
    pa_sbuf_printf(o, " %12s", pa_fmt_dur(num, r->min_ns));
    pa_sbuf_printf(o, " %12s", pa_fmt_dur(num, r->max_ns));
    pa_sbuf_printf(o, " %12s", pa_fmt_dur(num, r->cpu_ns));
    pa_sbuf_printf(o, " %14s", pa_fmt_num(num, r->alloc_bytes));
    if (!r->thread)
        snprintf(th, sizeof th, "#%llu (tid %llu)", (unsigned long long)r->serial, (unsigned long long)r->tid);
    pa_sbuf_printf(o, "  %-*s  %-*s", fw, r->name, tw, r->thread ? r->thread : th);
    if (r->file && r->line)
        pa_sbuf_printf(o, "  %s:%llu", r->file, (unsigned long long)r->line);
    else if (r->file)
        pa_sbuf_printf(o, "  %s", r->file);
    while (o->len && o->buf[o->len - 1] == ' ' && !o->failed)
        o->buf[--o->len] = '\0';
    pa_sbuf_putc(o, '\n');
}

int pa_counted_text(const pa_trace_t *t, const uint64_t *serials, size_t nserials, pa_sbuf_t *o)
{
    struct pa_counted_row *r;
    size_t n = pa_counted_rows(t, serials, nserials, &r);
    uint64_t calls = 0;
    if (n == (size_t)-1)
        return -1;
    for (size_t i = 0; i < n; i++)
        calls += r[i].calls;
    if (n) {
        int fw = width(r, n, 0, 8), tw = width(r, n, 1, 6);
        char num[PA_NUM_BUFLEN];
        pa_sbuf_printf(o, "\ncounted functions (PYAGENT_COUNT): %s calls, bytes allocated during the calls\n",
                       pa_fmt_num(num, calls));
        pa_sbuf_printf(o, "  %10s %12s %12s %12s %12s %12s %14s  %-*s  %-*s  Location\n", "Calls", "Total", "Mean",
                       "Min", "Max", "CPU", "Allocated", fw, "Function", tw, "Thread");
        for (size_t i = 0; i < n; i++)
            text_row(o, &r[i], fw, tw);
    }
    pa_mem_free(r);
    return o->failed ? -1 : 0;
}

int pa_counted_json(const pa_trace_t *t, const uint64_t *serials, size_t nserials, pa_sbuf_t *o)
{
    struct pa_counted_row *r;
    size_t n = pa_counted_rows(t, serials, nserials, &r);
    if (n == (size_t)-1)
        return -1;
    pa_sbuf_puts(o, "\"counted\": [");
    for (size_t i = 0; i < n; i++) {
        pa_sbuf_puts(o, i ? ", {\"function\": " : "{\"function\": ");
        pa_json_strz(o, r[i].name);
        pa_sbuf_puts(o, ", \"file\": ");
        pa_json_strz(o, r[i].file);
        pa_sbuf_printf(o, ", \"line\": %llu, \"thread\": ", (unsigned long long)r[i].line);
        pa_json_strz(o, r[i].thread);
        pa_sbuf_printf(o, ", \"tid\": %llu, \"calls\": %llu, \"total_ns\": %llu, \"mean_ns\": %llu, \"min_ns\": %llu, "
                          "\"max_ns\": %llu, \"cpu_ns\": %llu, \"alloc_bytes\": %llu, \"alloc_blocks\": %llu}",
                       (unsigned long long)r[i].tid, (unsigned long long)r[i].calls, (unsigned long long)r[i].total_ns,
                       (unsigned long long)(r[i].total_ns / r[i].calls), (unsigned long long)r[i].min_ns,
                       (unsigned long long)r[i].max_ns, (unsigned long long)r[i].cpu_ns,
                       (unsigned long long)r[i].alloc_bytes, (unsigned long long)r[i].alloc_blocks);
    }
    pa_sbuf_putc(o, ']');
    pa_mem_free(r);
    return o->failed ? -1 : 0;
}
