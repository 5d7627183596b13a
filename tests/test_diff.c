/* test_diff.c — `pyagent diff`: matching functions across traces, the noise model (Poisson
 * samples, the run's scale, jitter), new and gone rows, allocations, leaks, call times,
 * the --fail-if grammar and checks, and the JSON document. Traces are synthetic: every
 * expected number follows from the tables below. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "calls_trace.h"
#include "decode.h"
#include "diff.h"
#include "diff_int.h"
#include "json.h"
#include "trace_builder.h"

#define MS 1000000ull
#define NF 5 /* main, alpha, beta, gamma, delta */

/* One run of /abs/app.py. Functions (id, first line): 1 main (1), 2 alpha (10), 3 beta (20),
 * 4 gamma (30), 5 delta (40 + shift: an edit above it moves it). Stack i (1..5) is the
 * function i frame, called by main (stack 1 is main alone). counts[i] samples of `ms`
 * milliseconds of task-clock each land on stack i + 1. With alloc: alloc[i] blocks of
 * 100 B on stack i + 1, each freed at once; and a leak of leak_bytes in one block from
 * alpha's line 12 (a LEAK record). */
struct run_spec {
    uint64_t counts[NF];
    uint64_t ms;
    uint64_t shift;
    uint64_t alloc[NF];
    uint64_t leak_bytes;
};

static pa_tb_t *build(const struct run_spec *r)
{
    static const struct pa_tb_event ev[] = { { "task-clock", 1, 1, PA_EVF_LEADER | PA_EVF_TIME },
                                             { "page-faults", 1, 2, 0 } };
    static const char *const argv[] = { "python3", "app.py" };
    static const char *const strs[] = { NULL, "/abs/app.py", "main", "alpha", "beta", "gamma", "delta" };
    pa_tb_t *b = pa_tb_new();
    pa_tb_process(b, 100, 1, 0, 0, 2, argv, "/usr/bin/python3");
    pa_tb_interp(b, "3.12.1", 12, "/usr/lib/python3.12", 1);
    pa_tb_header(b, 1, 0);
    for (uint64_t i = 1; i < sizeof strs / sizeof strs[0]; i++)
        pa_tb_string(b, i, strs[i]);
    pa_tb_sampling(b, PA_SAMPLE_FREQ, 1000, 38, 2, ev);
    for (uint64_t f = 1; f <= NF; f++)
        pa_tb_function(b, f, f + 1, 1, f == 1 ? 1 : (f - 1) * 10 + (f == 5 ? r->shift : 0));
    pa_tb_node(b, 1, 0, PA_FRAME_PYTHON, 1, 2);
    for (uint64_t f = 2; f <= NF; f++)
        pa_tb_node(b, f, 1, PA_FRAME_PYTHON, f, (f - 1) * 10 + 2);
    pa_tb_node(b, 20, 2, PA_FRAME_ALLOCATOR, PA_ALLOC_MALLOC, 0); /* malloc <- alpha:12 <- main */
    pa_tb_thread(b, 1, 100, 0, 0);
    pa_tb_events_begin(b, 1, 1000);
    uint64_t t = 1000, ptr = 0x10000;
    for (uint64_t f = 0; f < NF; f++) {
        for (uint64_t i = 0; i < r->counts[f]; i++)
            pa_tb_ev_sample(b, t += 1000, f + 1, 2, (uint64_t[]){ r->ms * MS, i % 4 == 0 });
        for (uint64_t i = 0; i < r->alloc[f]; i++, ptr += 0x100) {
            pa_tb_ev_alloc(b, t += 10, ptr, 100, f + 1);
            pa_tb_ev_free(b, t += 10, ptr);
        }
    }
    if (r->leak_bytes)
        pa_tb_ev_alloc(b, t += 10, 0x900000, r->leak_bytes, 20);
    pa_tb_events_end(b);
    pa_tb_checkpoint(b, PA_CP_EXIT, t + 1000, r->leak_bytes, r->leak_bytes ? 1 : 0);
    if (r->leak_bytes)
        pa_tb_leak(b, PA_CP_EXIT, 20, r->leak_bytes, 1, 0);
    pa_tb_chunk(b);
    pa_tb_end(b);
    return b;
}

static pa_trace_t *decode(pa_tb_t *b)
{
    size_t len;
    const uint8_t *d = pa_tb_data(b, &len);
    pa_sbuf_t diag;
    pa_trace_t *t = pa_trace_new();
    pa_sbuf_init(&diag);
    assert_int_equal(pa_decode_buf(d, len, "x.trace", t, &diag), 0);
    pa_sbuf_free(&diag);
    pa_tb_free(b);
    return t;
}

struct pair {
    pa_trace_t *t[2];
    struct pa_diff d;
    pa_sbuf_t err;
};

static void compare(struct pair *p, const struct run_spec *a, const struct run_spec *b, const struct pa_diff_opts *o)
{
    struct pa_diff_opts dflt = { .top = PA_DIFF_TOP_DEFAULT };
    p->t[0] = decode(build(a));
    p->t[1] = decode(build(b));
    pa_sbuf_init(&p->err);
    assert_int_equal(pa_diff_build(p->t[0], "a.trace", p->t[1], "b.trace", o ? o : &dflt, &p->d, &p->err), 0);
}

static void release(struct pair *p)
{
    pa_diff_free(&p->d);
    pa_trace_free(p->t[0]);
    pa_trace_free(p->t[1]);
    pa_sbuf_free(&p->err);
}

static const struct pa_diff_table *table(const struct pa_diff *d, enum pa_diff_table_kind kind, const char *event)
{
    for (size_t i = 0; i < d->ntables; i++)
        if (d->tables[i].kind == kind && (!event || !strcmp(d->tables[i].event, event)))
            return &d->tables[i];
    fail_msg("no table %d %s", (int)kind, event ? event : "");
    return NULL;
}

static const struct pa_diff_row *row(const struct pa_diff_table *tb, const char *name)
{
    for (size_t i = 0; i < tb->nrows; i++)
        if (!strcmp(tb->rows[i].name, name))
            return &tb->rows[i];
    fail_msg("no row %s", name);
    return NULL;
}

static struct pa_diff_stat stat_of(const struct pa_diff_meas *m)
{
    struct pa_diff_stat s;
    pa_diff_stat(m, &s);
    return s;
}

/* Runs one --fail-if. @return pa_diff_check_run's result; *c keeps the trips. */
static int check(const struct pair *p, const char *expr, struct pa_diff_check *c)
{
    pa_sbuf_t err;
    pa_sbuf_init(&err);
    assert_int_equal(pa_diff_check_parse(expr, c, &err), 0);
    int rc = pa_diff_check_run(&p->d, c, &err);
    pa_sbuf_free(&err);
    return rc;
}

static int trips(const struct pair *p, const char *expr)
{
    struct pa_diff_check c;
    int rc = check(p, expr, &c);
    pa_diff_check_free(&c);
    return rc;
}

static void expect(const char *s, const char *want)
{
    if (!strstr(s, want))
        fail_msg("missing \"%s\" in:\n%s", want, s);
}

/* ---- the noise model ---- */

static void test_diff_stat_poisson_and_jitter(void **state)
{
    /* 100 samples of 1 ms each side, +21 in the new run: sd of the difference
     * sqrt(100 + 121) ms plus 5% jitter of the expected 100 ms. */
    struct pa_diff_meas m = { .v = { 100 * MS, 121 * MS }, .var = { 100.0 * MS * MS, 121.0 * MS * MS },
                              .n = { 100, 121 }, .scale = 1, .jitter = 0.05 };
    struct pa_diff_stat s = stat_of(&m);
    assert_true(fabs(s.pct - 21.0) < 1e-9);
    assert_true(fabs(s.z - 21.0 / pa_diff_sqrt(221.0 + 25.0)) < 1e-6);
    assert_false(s.significant);
    m.v[1] = 160 * MS, m.var[1] = 160.0 * MS * MS; /* 60 / sqrt(285) = 3.55 */
    assert_true(stat_of(&m).significant);
    m.scale = 1.5; /* expected 150 ms: +6.7%, within noise */
    s = stat_of(&m);
    assert_true(fabs(s.expected - 150.0 * MS) < 1);
    assert_true(fabs(s.pct - 100.0 / 15.0) < 1e-6);
    assert_false(s.significant);
    struct pa_diff_meas exact = { .v = { 5, 6 }, .exact = 1 };
    s = stat_of(&exact);
    assert_true(s.significant && isinf(s.z));
    exact.v[1] = 5;
    assert_false(stat_of(&exact).significant);
}

static void test_diff_unchanged_run_is_within_noise(void **state)
{
    struct run_spec a = { .counts = { 5, 300, 200, 150, 100 }, .ms = 1 };
    struct run_spec b = { .counts = { 6, 318, 190, 160, 93 }, .ms = 1 };
    struct pair p;
    compare(&p, &a, &b, NULL);
    const struct pa_diff_table *cpu = table(&p.d, PA_DIFF_SAMPLED, "task-clock");
    assert_true(cpu->cpu);
    assert_int_equal(cpu->nrows, NF);
    for (size_t i = 0; i < cpu->nrows; i++) {
        assert_false(stat_of(&cpu->rows[i].m[0]).significant);
        assert_true(cpu->rows[i].in[0] && cpu->rows[i].in[1]);
    }
    assert_int_equal(trips(&p, "*:cpu>+10%"), 0);
    assert_int_equal(trips(&p, "*:cpu<-10%"), 0);
    assert_int_equal(trips(&p, "total:cpu>+5%"), 0);
    release(&p);
}

static void test_diff_doubled_function_trips_and_others_stay(void **state)
{
    struct run_spec a = { .counts = { 5, 300, 200, 150, 100 }, .ms = 1 };
    struct run_spec b = { .counts = { 5, 300, 400, 150, 100 }, .ms = 1 };
    struct pair p;
    struct pa_diff_check c;
    compare(&p, &a, &b, NULL);
    const struct pa_diff_table *cpu = table(&p.d, PA_DIFF_SAMPLED, "task-clock");
    struct pa_diff_stat beta = stat_of(&row(cpu, "beta")->m[0]);
    assert_true(beta.significant);
    assert_true(fabs(beta.pct - 100.0) < 1e-6);
    assert_true(fabs(row(cpu, "beta")->m[0].scale - 1.0) < 1e-9); /* alpha, gamma, delta set it */
    assert_false(stat_of(&row(cpu, "alpha")->m[0]).significant);
    assert_true(stat_of(&row(cpu, "main")->m[1]).significant); /* total: main contains beta */
    assert_int_equal(check(&p, "beta:cpu>+50%", &c), 1);
    assert_ptr_equal(c.trips[0].row, row(cpu, "beta"));
    pa_sbuf_t msg;
    pa_sbuf_init(&msg);
    pa_diff_check_describe(&c, &msg);
    assert_string_equal(pa_sbuf_cstr(&msg),
                        "--fail-if 'beta:cpu>+50%': beta (/abs/app.py:20) cpu 200.000 ms -> 400.000 ms (+100.0%)\n");
    pa_sbuf_free(&msg);
    pa_diff_check_free(&c);
    assert_int_equal(trips(&p, "*:cpu>+50%"), 1);
    assert_int_equal(trips(&p, "beta:cpu>+150%"), 0);
    assert_int_equal(trips(&p, "beta:cpu>+150ms"), 1);
    assert_int_equal(trips(&p, "alpha:cpu>+1%"), 0);
    assert_int_equal(trips(&p, "main:cpu_total>=+20%"), 1);
    assert_int_equal(trips(&p, "total:cpu>+20%"), 1); /* 755 -> 955 ms, unscaled */
    release(&p);
}

static void test_diff_scale_absorbs_a_slower_machine(void **state)
{
    /* Every sample 1.5 ms instead of 1 ms, and beta does twice the work. */
    struct run_spec a = { .counts = { 5, 300, 200, 150, 100 }, .ms = 2 };
    struct run_spec b = { .counts = { 5, 300, 400, 150, 100 }, .ms = 3 };
    struct pair p;
    compare(&p, &a, &b, NULL);
    const struct pa_diff_table *cpu = table(&p.d, PA_DIFF_SAMPLED, "task-clock");
    assert_true(fabs(row(cpu, "alpha")->m[0].scale - 1.5) < 1e-9);
    assert_int_equal(cpu->scale_of[0], 4);   /* main has 5 samples: too few */
    assert_int_equal(cpu->scale_from[0], 3); /* alpha, gamma, delta agree; beta does not */
    assert_true(fabs(stat_of(&row(cpu, "beta")->m[0]).pct - 100.0) < 1e-6);
    assert_false(stat_of(&row(cpu, "gamma")->m[0]).significant);
    assert_int_equal(trips(&p, "*:cpu>+25%"), 1);
    assert_int_equal(trips(&p, "total:cpu>+25%"), 1); /* the whole run: 1.5 x (755 + 200) / 755 */
    release(&p);
    /* alpha holds most of the time and doubles: the others, alike, still set the scale. */
    struct run_spec big = { .counts = { 5, 3000, 200, 150, 100 }, .ms = 1 };
    struct run_spec bigger = { .counts = { 5, 6000, 200, 150, 100 }, .ms = 1 };
    compare(&p, &big, &bigger, NULL);
    cpu = table(&p.d, PA_DIFF_SAMPLED, "task-clock");
    assert_true(fabs(row(cpu, "beta")->m[0].scale - 1.0) < 1e-9);
    assert_true(fabs(stat_of(&row(cpu, "alpha")->m[0]).pct - 100.0) < 1e-6);
    assert_false(stat_of(&row(cpu, "beta")->m[0]).significant);
    release(&p);
    struct pa_diff_opts raw = { .raw = 1, .top = PA_DIFF_TOP_DEFAULT };
    compare(&p, &a, &b, &raw);
    cpu = table(&p.d, PA_DIFF_SAMPLED, "task-clock");
    assert_true(fabs(stat_of(&row(cpu, "alpha")->m[0]).pct - 50.0) < 1e-6);
    assert_int_equal(cpu->scale_from[0], 0);
    release(&p);
}

static void test_diff_new_gone_and_moved_functions(void **state)
{
    struct run_spec a = { .counts = { 5, 300, 200, 150, 0 }, .ms = 1 };
    struct run_spec b = { .counts = { 5, 300, 200, 0, 40 }, .ms = 1, .shift = 3 };
    struct pair p;
    compare(&p, &a, &b, NULL);
    const struct pa_diff_table *cpu = table(&p.d, PA_DIFF_SAMPLED, "task-clock");
    const struct pa_diff_row *gamma = row(cpu, "gamma"), *delta = row(cpu, "delta");
    assert_true(gamma->in[0] && !gamma->in[1]);
    assert_true(stat_of(&gamma->m[0]).significant);
    assert_true(!delta->in[0] && delta->in[1]);
    assert_int_equal(delta->line, 43);
    assert_true(stat_of(&delta->m[0]).significant); /* z = sqrt(40) */
    assert_int_equal(trips(&p, "delta:cpu>+1000%"), 1); /* new: +inf% */
    assert_int_equal(trips(&p, "gamma:cpu<-99%"), 1);
    release(&p);
    /* 4 samples where there were none: sqrt(4) = 2 standard errors, within noise. */
    b.counts[3] = 150, b.counts[4] = 4;
    a.counts[4] = 0;
    compare(&p, &a, &b, NULL);
    assert_false(stat_of(&row(table(&p.d, PA_DIFF_SAMPLED, "task-clock"), "delta")->m[0]).significant);
    release(&p);
    /* delta moved 3 lines down in both self and stack: still one row, with the new line. */
    a.counts[4] = 100, b.counts[4] = 100;
    compare(&p, &a, &b, NULL);
    delta = row(table(&p.d, PA_DIFF_SAMPLED, "task-clock"), "delta");
    assert_true(delta->in[0] && delta->in[1]);
    assert_int_equal(delta->line, 43);
    assert_int_equal(table(&p.d, PA_DIFF_SAMPLED, "task-clock")->nrows, NF);
    release(&p);
}

/* ---- allocations and leaks ---- */

static void test_diff_allocations_and_leaks(void **state)
{
    struct run_spec a = { .counts = { 5, 30, 20, 15, 10 }, .ms = 1, .alloc = { 1, 10, 10, 0, 5 } };
    struct run_spec b = a;
    b.alloc[1] = 30, b.leak_bytes = 4096;
    struct pair p;
    compare(&p, &a, &b, NULL);
    const struct pa_diff_table *al = table(&p.d, PA_DIFF_ALLOC, NULL), *lk = table(&p.d, PA_DIFF_LEAKS, NULL);
    const struct pa_diff_row *alpha = row(al, "alpha");
    assert_true(alpha->m[0].exact);
    assert_true(alpha->m[0].v[0] == 1000 && alpha->m[0].v[1] == 3000 + 4096);
    assert_true(alpha->m[1].v[0] == 10 && alpha->m[1].v[1] == 31);
    assert_false(stat_of(&row(al, "beta")->m[0]).significant); /* unchanged, exact */
    assert_true(al->totals[0].v[0] == 2600 && al->totals[0].v[1] == 4600 + 4096);
    assert_int_equal(lk->nrows, 1);
    assert_string_equal(lk->rows[0].name, "alpha");
    assert_int_equal(lk->rows[0].line, 12); /* the allocating line, not the first */
    assert_true(!lk->rows[0].in[0] && lk->rows[0].m[0].v[1] == 4096);
    assert_int_equal(trips(&p, "leaks:bytes>+0"), 1);
    assert_int_equal(trips(&p, "leaks:blocks>=1"), 1);
    assert_int_equal(trips(&p, "*:leak_bytes>4K"), 0); /* 4096 is not > 4096 */
    assert_int_equal(trips(&p, "alpha:alloc_bytes>+500%"), 1);
    assert_int_equal(trips(&p, "alloc:bytes>+50%"), 1);
    assert_int_equal(trips(&p, "alloc:bytes>+250%"), 0);
    assert_int_equal(trips(&p, "alloc:peak>0"), 1);
    struct pa_diff_check c;
    pa_sbuf_t err;
    pa_sbuf_init(&err);
    assert_int_equal(pa_diff_check_parse("alpha:alloc_peak>0", &c, &err), 0);
    assert_int_equal(pa_diff_check_run(&p.d, &c, &err), -2);
    expect(pa_sbuf_cstr(&err), "the peak is the whole trace's: write alloc:peak or total:alloc_peak");
    pa_sbuf_free(&err);
    release(&p);
}

/* ---- call times ---- */

static void test_diff_trace_mode_calls(void **state)
{
    struct pa_diff_opts o = { .top = PA_DIFF_TOP_DEFAULT };
    struct pair p;
    p.t[0] = decode(calls_trace());
    p.t[1] = decode(calls_trace());
    pa_sbuf_init(&p.err);
    assert_int_equal(pa_diff_build(p.t[0], "a", p.t[1], "b", &o, &p.d, &p.err), 0);
    const struct pa_diff_table *ct = table(&p.d, PA_DIFF_CALLS, NULL);
    assert_string_equal(ct->source, "trace");
    /* handle_request: 200..400 and 500..700 on #1, 120..180 on #2: 3 calls, 460 us. */
    const struct pa_diff_row *h = row(ct, "handle_request");
    assert_true(h->m[1].v[0] == 3 && h->m[1].exact);
    assert_true(h->m[0].v[0] == 460000.0);
    assert_false(stat_of(&h->m[0]).significant);
    /* gen: a call and its resumption, two timed segments, one call. */
    assert_true(row(ct, "gen")->m[1].v[0] == 1 && row(ct, "gen")->m[0].n[0] == 2);
    assert_int_equal(trips(&p, "*:time>+0%"), 0);
    assert_int_equal(trips(&p, "*:calls>0"), 0);
    release(&p);
}

static void test_diff_recursion_counts_time_once(void **state)
{
    static const char *const strs[] = { NULL, "/abs/r.py", "rec", "main" };
    pa_trace_t *t[2];
    for (int i = 0; i < 2; i++) {
        pa_tb_t *b = pa_tb_new();
        pa_tb_header(b, 1, 2);
        for (uint64_t s = 1; s < 4; s++)
            pa_tb_string(b, s, strs[s]);
        pa_tb_tracing(b, PA_TRACE_PYTHON, 0, NULL);
        pa_tb_function(b, 1, 3, 1, 1);
        pa_tb_function(b, 2, 2, 1, 5);
        pa_tb_calls_begin(b, 1, 1000);
        pa_tb_calls_enter(b, 1000, 1, 0);
        pa_tb_calls_enter(b, 2000, 2, 0); /* rec 2000..5000 calls rec 3000..4000 */
        pa_tb_calls_enter(b, 3000, 2, 0);
        pa_tb_calls_exit(b, 4000, PA_CALL_RETURN);
        pa_tb_calls_exit(b, 5000 + (uint64_t)i * 3000, PA_CALL_RETURN);
        pa_tb_calls_exit(b, 9000, PA_CALL_RETURN);
        pa_tb_calls_end(b);
        pa_tb_chunk(b);
        pa_tb_end(b);
        t[i] = decode(b);
    }
    struct pa_diff d;
    struct pa_diff_opts o = { .top = PA_DIFF_TOP_DEFAULT };
    pa_sbuf_t err;
    pa_sbuf_init(&err);
    assert_int_equal(pa_diff_build(t[0], "a", t[1], "b", &o, &d, &err), 0);
    const struct pa_diff_row *rec = row(table(&d, PA_DIFF_CALLS, NULL), "rec");
    assert_true(rec->m[1].v[0] == 2 && rec->m[1].v[1] == 2);
    assert_true(rec->m[0].v[0] == 3000 && rec->m[0].v[1] == 6000); /* the outer call only */
    assert_true(stat_of(&rec->m[0]).significant); /* one timed call: only the 5% jitter to doubt it */
    pa_diff_free(&d);
    pa_sbuf_free(&err);
    pa_trace_free(t[0]);
    pa_trace_free(t[1]);
}

/* ---- --fail-if ---- */

static void test_diff_check_grammar(void **state)
{
    static const struct {
        const char *expr, *why;
    } bad[] = {
        { "cpu>10%", "expected TARGET:METRIC OP CHANGE" },
        { ":cpu>10%", "no target" },
        { "f:cpu", "no comparison" },
        { "f:>10%", "one metric name" },
        { "f:cpu>", "must be a number" },
        { "f:cpu>ten", "must be a number" },
        { "f:cpu>10 %x", "unknown unit" },
        { "f:cpu>10parsecs", "unknown unit" },
        { "f:cpu>inf", "must be a number" },
    };
    struct pa_diff_check c;
    pa_sbuf_t err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pa_sbuf_init(&err);
        assert_int_equal(pa_diff_check_parse(bad[i].expr, &c, &err), -2);
        expect(pa_sbuf_cstr(&err), bad[i].expr);
        expect(pa_sbuf_cstr(&err), bad[i].why);
        pa_sbuf_free(&err);
    }
    pa_sbuf_init(&err);
    assert_int_equal(pa_diff_check_parse(" Server.* : time_per_call <= -2.5ms ", &c, &err), 0);
    assert_string_equal(c.target, "Server.*");
    assert_string_equal(c.metric, "time_per_call");
    assert_true(c.op == '<' && c.or_equal && !c.relative && c.change == -2.5e6 && c.unit_given == PA_DIFF_NS);
    assert_int_equal(pa_diff_check_parse("leaks:bytes>1M", &c, &err), 0);
    assert_true(c.scope == 1 && c.change == 1048576.0);
    assert_int_equal(pa_diff_check_parse("*:cpu>+20%", &c, &err), 0);
    assert_true(c.scope == 0 && c.relative && c.change == 20.0);
    pa_sbuf_free(&err);
}

static void test_diff_check_needs_the_data(void **state)
{
    struct run_spec a = { .counts = { 5, 30, 20, 15, 10 }, .ms = 1 };
    struct pair p;
    struct pa_diff_check c;
    pa_sbuf_t err;
    compare(&p, &a, &a, NULL);
    static const struct {
        const char *expr, *why;
    } bad[] = {
        { "f:time>+10%", "time needs call times in both traces" },
        { "f:alloc_bytes>0", "needs allocation tracking in both traces" },
        { "f:nosuch>1", "unknown metric nosuch" },
        { "f:cpu>5B", "this metric is a time" },
        { "alloc:cpu>1", "the alloc target takes bytes, blocks or peak" },
        { "leaks:peak>1", "the leaks target takes bytes or blocks" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pa_sbuf_init(&err);
        assert_int_equal(pa_diff_check_parse(bad[i].expr, &c, &err), 0);
        assert_int_equal(pa_diff_check_run(&p.d, &c, &err), -2);
        expect(pa_sbuf_cstr(&err), bad[i].why);
        pa_diff_check_free(&c);
        pa_sbuf_free(&err);
    }
    /* Other sampled events by name; a pattern matching nothing matches nothing. */
    assert_int_equal(trips(&p, "*:page-faults>+10%"), 0);
    assert_int_equal(trips(&p, "*:page-faults_total>+10%"), 0);
    assert_int_equal(check(&p, "nosuchfunc:cpu>1%", &c), 0);
    assert_int_equal(c.nmatched, 0);
    pa_diff_check_free(&c);
    assert_int_equal(check(&p, "al*:cpu>1%", &c), 0);
    assert_int_equal(c.nmatched, 1);
    pa_diff_check_free(&c);
    release(&p);
}

/* ---- rendering ---- */

static void test_diff_text_and_json(void **state)
{
    struct run_spec a = { .counts = { 5, 300, 200, 150, 100 }, .ms = 1, .alloc = { 1, 2, 3, 4, 5 } };
    struct run_spec b = { .counts = { 5, 300, 400, 150, 100 }, .ms = 1, .alloc = { 1, 2, 3, 4, 5 }, .leak_bytes = 64 };
    struct pair p;
    struct pa_diff_check c;
    pa_sbuf_t out, err;
    compare(&p, &a, &b, NULL);
    assert_int_equal(check(&p, "beta:cpu>+50%", &c), 1);
    struct pa_diff_opts o = { .top = 2, .checks = &c, .nchecks = 1 };
    pa_sbuf_init(&out);
    assert_int_equal(pa_diff_render(&p.d, &o, &out), 0);
    const char *s = pa_sbuf_cstr(&out);
    expect(s, "baseline: a.trace: pid 100 (python3 app.py), ");
    expect(s, "cpu (task-clock): self per function, 755.000 ms in 755 samples -> 955.000 ms in 955 samples (+26.5%)\n");
    expect(s, "      200.000 ms     400.000 ms     +200.000 ms   +100.0%      +100.0%  beta      /abs/app.py:20\n");
    expect(s, "        5.000 ms       5.000 ms            0 ns     +0.0%       +26.5%  main      /abs/app.py:1\n");
    expect(s, "  ... 3 more (--top 0 shows all)\n");
    expect(s, "leaks by site (innermost Python line): 0 B in 0 blocks -> 64 B in 1 block\n");
    expect(s, "              -           64 B           +64 B       new                 0 -> 1  alpha     "
              "/abs/app.py:12\n");
    pa_sbuf_free(&out);
    o.json = 1, o.top = PA_DIFF_TOP_DEFAULT, o.event = "cpu";
    pa_sbuf_init(&out);
    assert_int_equal(pa_diff_render(&p.d, &o, &out), 0);
    s = pa_sbuf_cstr(&out);
    assert_true(pa_json_valid(s, strlen(s), 64));
    expect(s, "\"table\": \"sampled\", \"event\": \"task-clock\", \"cpu\": true");
    assert_null(strstr(s, "\"page-faults\", \"cpu\"")); /* --event cpu */
    expect(s, "{\"function\": \"beta\", \"file\": \"/abs/app.py\", \"line\": 20, \"status\": \"both\", \"self\": "
              "{\"baseline\": 200000000, \"new\": 400000000, \"delta\": 200000000, \"delta_pct\": 100, \"expected\": "
              "200000000, \"z\": ");
    expect(s, "\"checks\": [{\"expr\": \"beta:cpu>+50%\", \"passed\": false, \"matched\": 1, \"failures\": "
              "[{\"function\": \"beta\", \"file\": \"/abs/app.py\", \"line\": 20, \"metric\": \"cpu\", "
              "\"baseline\": 200000000, \"new\": 400000000, \"delta\": 200000000, \"delta_pct\": 100}]}], "
              "\"failed\": true}\n");
    expect(s, "\"table\": \"leaks\"");
    pa_sbuf_free(&out);
    pa_diff_check_free(&c);
    release(&p);
    /* --event must name an event of either trace. */
    struct pa_diff_opts bad = { .event = "cycles" };
    p.t[0] = decode(build(&a));
    p.t[1] = decode(build(&b));
    pa_sbuf_init(&err);
    assert_int_equal(pa_diff_build(p.t[0], "a", p.t[1], "b", &bad, &p.d, &err), -2);
    expect(pa_sbuf_cstr(&err), "no event named cycles; events: cpu, task-clock, page-faults");
    pa_sbuf_free(&err);
    p.err = (pa_sbuf_t){ 0 };
    release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_stat_poisson_and_jitter),
        cmocka_unit_test(test_diff_unchanged_run_is_within_noise),
        cmocka_unit_test(test_diff_doubled_function_trips_and_others_stay),
        cmocka_unit_test(test_diff_scale_absorbs_a_slower_machine),
        cmocka_unit_test(test_diff_new_gone_and_moved_functions),
        cmocka_unit_test(test_diff_allocations_and_leaks),
        cmocka_unit_test(test_diff_trace_mode_calls),
        cmocka_unit_test(test_diff_recursion_counts_time_once),
        cmocka_unit_test(test_diff_check_grammar),
        cmocka_unit_test(test_diff_check_needs_the_data),
        cmocka_unit_test(test_diff_text_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
