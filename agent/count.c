/* count.c — counted functions. A pattern is a qualified name ("handle_request",
 * "Class.method"), matched against the code object's qualname exactly or as its
 * last dotted components, optionally after a module ("pkg.mod:Class.method"),
 * matched against the end of the code's file name (pkg/mod.py or pkg/mod/__init__.py).
 * Per thread, the counted calls in progress sit on a small stack. */
#include "count.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "control.h"
#include "mem.h"
#include "sampler.h"
#include "stats.h"
#include "tables.h"

#define MAX_PATTERNS 32
#define VERDICTS 4096 /* code object -> matches, open addressing, under the GIL */
#define OPEN_MAX 256  /* counted calls nested in one thread */

typedef struct pattern {
    char module[256]; /* "pkg/mod" or "" */
    char qual[256];
} pattern_t;

typedef struct open_call {
    PyObject *code;
    uint32_t fn;
    uint64_t t0, cpu0, bytes0, blocks0;
} open_call_t;

typedef struct pa_count {
    int n;
    open_call_t open[OPEN_MAX];
} pa_count_t;

static pattern_t patterns[MAX_PATTERNS];
static const char *pattern_text[MAX_PATTERNS];
static char pattern_buf[sizeof pa_cfg.count];
static int n_patterns;
static struct { uintptr_t code; int match; } verdicts[VERDICTS];

int pa_count_init(void)
{
    memcpy(pattern_buf, pa_cfg.count, sizeof pattern_buf);
    n_patterns = 0;
    for (char *save = NULL, *p = strtok_r(pattern_buf, ",", &save); p && n_patterns < MAX_PATTERNS;
         p = strtok_r(NULL, ",", &save)) {
        pattern_t *pt = &patterns[n_patterns];
        char *colon = strchr(p, ':');
        const char *qual = colon ? colon + 1 : p;
        pt->module[0] = 0;
        if (colon) {
            size_t m = (size_t)(colon - p) < sizeof pt->module - 1 ? (size_t)(colon - p) : sizeof pt->module - 1;
            for (size_t i = 0; i < m; i++)
                pt->module[i] = p[i] == '.' ? '/' : p[i];
            pt->module[m] = 0;
        }
        snprintf(pt->qual, sizeof pt->qual, "%s", qual);
        pattern_text[n_patterns++] = p;
    }
    return n_patterns;
}

int pa_count_patterns(const char **out, int max)
{
    int n = n_patterns < max ? n_patterns : max;
    memcpy(out, pattern_text, sizeof *out * (size_t)n);
    return n;
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return m <= n && !memcmp(s + n - m, suffix, m);
}

static int qual_matches(const char *q, size_t n, const char *pat)
{
    size_t m = strlen(pat);
    if (n == m)
        return !memcmp(q, pat, n);
    return n > m && q[n - m - 1] == '.' && !memcmp(q + n - m, pat, m);
}

static int file_matches(const char *f, size_t n, const char *module)
{
    char want[sizeof patterns[0].module + 16];
    snprintf(want, sizeof want, "/%.255s.py", module);
    if (ends_with(f, n, want) || (n + 1 == strlen(want) && !memcmp(f, want + 1, n)))
        return 1;
    snprintf(want, sizeof want, "/%.255s/__init__.py", module);
    return ends_with(f, n, want);
}

static int decide(PyObject *code)
{
    const char *q, *f;
    intptr_t qn, fn;
    if (pa_py_code_names(code, &q, &qn, &f, &fn) != 0)
        return 0;
    for (int i = 0; i < n_patterns; i++)
        if (qual_matches(q, (size_t)qn, patterns[i].qual) &&
            (!patterns[i].module[0] || file_matches(f, (size_t)fn, patterns[i].module)))
            return 1;
    return 0;
}

int pa_count_matches(PyObject *code)
{
    unsigned h = (unsigned)(((uintptr_t)code >> 4) * 0x9E3779B1u) % VERDICTS;
    for (unsigned probe = 0; probe < 8; probe++, h = (h + 1) % VERDICTS) {
        if (verdicts[h].code == (uintptr_t)code)
            return verdicts[h].match;
        if (!verdicts[h].code) {
            int m = decide(code);
            verdicts[h].code = (uintptr_t)code;
            verdicts[h].match = m;
            return m;
        }
    }
    return decide(code); /* crowded: decide every time rather than evict */
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void pa_count_enter(pa_thread_t *t, PyObject *code, int resumed)
{
    /* A generator's call is its first run; its later resumptions are not calls. */
    if (resumed || pa_control_paused() || !pa_count_matches(code))
        return;
    if (!t->count && !(t->count = pa_mem_calloc(1, sizeof *t->count)))
        return;
    pa_count_t *c = t->count;
    if (c->n == OPEN_MAX)
        return;
    pa_tables_lock();
    uint32_t fn = pa_py_function(code);
    pa_tables_unlock();
    c->open[c->n++] = (open_call_t){ code, fn, pa_clock_ns(), thread_cpu_ns(), t->alloc_bytes, t->alloc_blocks };
}

void pa_count_exit(pa_thread_t *t, PyObject *code)
{
    pa_count_t *c = t->count;
    if (!c || !c->n || c->open[c->n - 1].code != code)
        return;
    open_call_t *o = &c->open[--c->n];
    uint64_t now = pa_clock_ns();
    uint64_t d[4] = { now - o->t0, thread_cpu_ns() - o->cpu0, t->alloc_bytes - o->bytes0, t->alloc_blocks - o->blocks0 };
    if (o->fn) {
        pa_sampler_poll(t); /* the call's own samples go before its end */
        pa_thread_emit_counted(t, now, o->fn, d);
        pa_stats_counted(o->fn, d[0]);
    }
}
