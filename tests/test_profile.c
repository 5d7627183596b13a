/* test_profile.c — sample aggregation: self and total per event (recursion counted once
 * in total), the Python, line and native views, per shared object, thread filters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "decode.h"
#include "profile.h"
#include "sample_trace.h"

static pa_trace_t *load(pa_tb_t *b)
{
    size_t len;
    const uint8_t *d = pa_tb_data(b, &len);
    pa_sbuf_t diag;
    pa_sbuf_init(&diag);
    pa_trace_t *t = pa_trace_new();
    assert_int_equal(pa_decode_buf(d, len, "s.trace", t, &diag), 0);
    assert_string_equal(pa_sbuf_cstr(&diag), "");
    pa_sbuf_free(&diag);
    pa_trace_finish(t);
    return t;
}

static const struct pa_prof_func *find(const struct pa_profile *p, const char *name, const char *file,
                                       uint64_t line)
{
    for (size_t i = 0; i < p->nfuncs; i++) {
        const struct pa_prof_func *f = &p->funcs[i];
        if (!strcmp(f->name, name) && (!file || (f->file && !strcmp(f->file, file))) && f->line == line)
            return f;
    }
    fail_msg("no function %s %s:%llu", name, file ? file : "-", (unsigned long long)line);
    return NULL;
}

static const struct pa_prof_module *find_module(const struct pa_profile *p, const char *path)
{
    for (size_t i = 0; i < p->nmodules; i++)
        if (!strcmp(p->modules[i].path, path))
            return &p->modules[i];
    fail_msg("no module %s", path);
    return NULL;
}

/* self and total task-clock in ms, and samples */
static void expect_func(const struct pa_profile *p, const char *name, const char *file, uint64_t line,
                        uint64_t self_ms, uint64_t total_ms, uint64_t self_samples, uint64_t total_samples)
{
    const struct pa_prof_func *f = find(p, name, file, line);
    assert_int_equal(f->self[0], self_ms * MS);
    assert_int_equal(f->total[0], total_ms * MS);
    assert_int_equal(f->self_samples, self_samples);
    assert_int_equal(f->total_samples, total_samples);
}

static void test_profile_python_view(void **state)
{
    pa_tb_t *b = sample_trace();
    pa_trace_t *t = load(b);
    struct pa_profile p;
    struct pa_profile_opts o = { 0 };
    assert_int_equal(pa_profile_build(t, &o, &p), 0);
    assert_int_equal(p.nevents, 3);
    assert_string_equal(p.events[1].name, "instructions");
    assert_int_equal(p.samples, 7);
    assert_int_equal(p.total[0], 38 * MS);
    assert_int_equal(p.total[1], 2700);
    expect_func(&p, "spin_alpha", "/abs/x.py", 5, 25, 25, 3, 3);
    expect_func(&p, "recurse", "/abs/x.py", 10, 1, 26, 1, 4); /* two frames per stack, counted once */
    expect_func(&p, "<module>", "/abs/x.py", 1, 0, 26, 0, 4);
    expect_func(&p, "<module>", "/abs/y.py", 1, 0, 3, 0, 1);
    expect_func(&p, "work", "/abs/y.py", 30, 3, 3, 1, 1);
    expect_func(&p, "[native] libfoo.so", "/usr/lib/libfoo.so", 0, 7, 7, 1, 1);
    expect_func(&p, "[no frames]", NULL, 0, 2, 2, 1, 1);
    assert_int_equal(p.nfuncs, 7); /* no native frame in this view */
    assert_int_equal(find(&p, "recurse", NULL, 10)->total[1], 2600);
    assert_int_equal(p.nmodules, 0);
    assert_int_equal(p.nthreads, 2);
    assert_int_equal(p.threads[0].tid, 100);
    assert_string_equal(p.threads[0].name, "MainThread");
    assert_int_equal(p.threads[0].samples, 4);
    assert_int_equal(p.threads[0].total[0], 26 * MS);
    assert_string_equal(p.threads[1].name, "worker");
    assert_int_equal(p.threads[1].total[2], 130);
    assert_int_equal(p.nstacks, 6);
    assert_int_equal(p.stacks[0].serial, 1);
    assert_int_equal(p.stacks[0].stack, 3);
    assert_int_equal(p.stacks[1].stack, 4);
    assert_int_equal(p.stacks[1].samples, 2);
    assert_int_equal(p.stacks[1].v[2], 4000);
    assert_int_equal(pa_profile_event(&p, NULL), 0);
    assert_int_equal(pa_profile_event(&p, "CYCLES"), 2);
    assert_int_equal(pa_profile_event(&p, "branches"), -1);
    pa_profile_free(&p);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_profile_lines(void **state)
{
    pa_tb_t *b = sample_trace();
    pa_trace_t *t = load(b);
    struct pa_profile p;
    struct pa_profile_opts o = { .lines = 1 };
    assert_int_equal(pa_profile_build(t, &o, &p), 0);
    expect_func(&p, "spin_alpha", "/abs/x.py", 6, 25, 25, 3, 3);
    expect_func(&p, "recurse", "/abs/x.py", 13, 1, 26, 1, 4);
    expect_func(&p, "recurse", "/abs/x.py", 12, 0, 26, 0, 4);
    expect_func(&p, "<module>", "/abs/x.py", 20, 0, 26, 0, 4);
    expect_func(&p, "work", "/abs/y.py", 31, 3, 3, 1, 1);
    pa_profile_free(&p);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_profile_native_and_modules(void **state)
{
    pa_tb_t *b = sample_trace();
    pa_trace_t *t = load(b);
    struct pa_profile p;
    struct pa_profile_opts o = { .native = 1 };
    assert_int_equal(pa_profile_build(t, &o, &p), 0);
    expect_func(&p, "spin_alpha", "/abs/x.py", 5, 20, 25, 2, 3);
    expect_func(&p, "libfoo.so+0x40", "/usr/lib/libfoo.so", 0, 5, 5, 1, 1);
    expect_func(&p, "foo_compute", "/usr/lib/libfoo.so", 0, 7, 12, 1, 2);
    expect_func(&p, "_PyEval_EvalFrameDefault", "/usr/bin/python3", 0, 0, 7, 0, 1);
    expect_func(&p, "recurse", "/abs/x.py", 10, 1, 26, 1, 4);
    const struct pa_prof_module *m = find_module(&p, "/usr/lib/libfoo.so");
    assert_int_equal(m->self[0], 12 * MS); /* two libfoo frames in stack 6: once in total */
    assert_int_equal(m->total[0], 12 * MS);
    assert_int_equal(m->total_samples, 2);
    m = find_module(&p, "[python]");
    assert_int_equal(m->self[0], 24 * MS);
    assert_int_equal(m->total[0], 29 * MS);
    m = find_module(&p, "/usr/bin/python3");
    assert_int_equal(m->self[0], 0);
    assert_int_equal(m->total[0], 7 * MS);
    assert_int_equal(find_module(&p, "[no frames]")->self[0], 2 * MS);
    assert_int_equal(p.nmodules, 4);
    pa_profile_free(&p);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_profile_thread_filter(void **state)
{
    pa_tb_t *b = sample_trace();
    pa_trace_t *t = load(b);
    uint64_t sel[4];
    assert_int_equal(pa_profile_select_threads(t, "worker", sel, 4), 1);
    assert_int_equal(sel[0], 2);
    assert_int_equal(pa_profile_select_threads(t, "100", sel, 4), 1);
    assert_int_equal(sel[0], 1);
    assert_int_equal(pa_profile_select_threads(t, "#2", sel, 4), 1);
    assert_int_equal(sel[0], 2);
    assert_int_equal(pa_profile_select_threads(t, "#7", sel, 4), 1); /* no THREAD record: by serial */
    assert_int_equal(pa_profile_select_threads(t, "2", sel, 4), 0);  /* a serial is not a tid */
    assert_int_equal(pa_profile_select_threads(t, "nobody", sel, 4), 0);
    struct pa_profile p;
    struct pa_profile_opts o = { .serials = (uint64_t[]){ 2 }, .nserials = 1 };
    assert_int_equal(pa_profile_build(t, &o, &p), 0);
    assert_int_equal(p.samples, 3);
    assert_int_equal(p.total[0], 12 * MS);
    assert_int_equal(p.nthreads, 1);
    assert_string_equal(p.threads[0].name, "worker");
    expect_func(&p, "[native] libfoo.so", NULL, 0, 7, 7, 1, 1);
    for (size_t i = 0; i < p.nfuncs; i++)
        assert_string_not_equal(p.funcs[i].name, "spin_alpha");
    pa_profile_free(&p);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_profile_metrics(void **state)
{
    pa_tb_t *b = sample_trace();
    pa_trace_t *t = load(b);
    struct pa_profile p;
    struct pa_profile_opts o = { 0 };
    struct pa_prof_metrics m;
    assert_int_equal(pa_profile_build(t, &o, &p), 0);
    assert_int_equal(p.roles.cycles, 2);
    assert_int_equal(p.roles.instructions, 1);
    assert_int_equal(p.roles.cache_misses, -1);
    pa_profile_metrics(&p, find(&p, "spin_alpha", NULL, 5)->self, &m);
    assert_true(m.have_ipc);
    assert_false(m.have_mpki);
    assert_false(m.have_branch);
    assert_true(m.ipc > 0.5555 && m.ipc < 0.5556); /* 2500 / 4500 */
    pa_profile_metrics(&p, find(&p, "[no frames]", NULL, 0)->self, &m);
    assert_false(m.have_ipc); /* no cycles */
    pa_profile_free(&p);
    pa_trace_free(t);
    pa_tb_free(b);
}

/* Roles by name when the perf type is not the generic hardware one (libpfm4 raw
 * encodings), branch misses per 1000 instructions without a branches event. */
static void test_profile_roles_by_name(void **state)
{
    static const struct pa_tb_event ev[] = {
        { "perf::INSTRUCTIONS:u", 4, 0xc0, PA_EVF_LEADER },
        { "cache-misses", 4, 0x2e, 0 },
        { "BR_MISP_RETIRED:ALL_BRANCHES", 4, 0xc5, 0 },
    };
    pa_tb_t *b = pa_tb_new();
    char err[128];
    pa_tb_sampling(b, PA_SAMPLE_PERIOD, 100000, 38, 3, ev);
    pa_tb_events_begin(b, 1, 0);
    pa_tb_ev_sample(b, 1, 0, 3, (uint64_t[]){ 200000, 300, 50 });
    pa_tb_events_end(b);
    size_t len;
    const uint8_t *r = pa_tb_records(b, &len);
    pa_trace_t *t = pa_trace_new();
    assert_int_equal(pa_trace_feed(t, r, len, err, sizeof err), 0);
    pa_trace_finish(t);
    struct pa_profile p;
    struct pa_profile_opts o = { 0 };
    struct pa_prof_metrics m;
    assert_int_equal(pa_profile_build(t, &o, &p), 0);
    assert_int_equal(p.roles.instructions, 0);
    assert_int_equal(p.roles.branch_misses, 2);
    pa_profile_metrics(&p, p.total, &m);
    assert_true(m.have_mpki);
    assert_true(m.mpki > 1.4999 && m.mpki < 1.5001);
    assert_true(m.have_branch && m.branch_per_kinst);
    assert_true(m.branch > 0.2499 && m.branch < 0.2501);
    pa_profile_free(&p);
    pa_trace_free(t);
    pa_tb_free(b);
}

/* Without a SAMPLING record values are shown by position; without values, samples count. */
static void test_profile_unnamed_events(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[128];
    pa_tb_events_begin(b, 1, 0);
    pa_tb_ev_sample(b, 1, 0, 0, NULL);
    pa_tb_ev_sample(b, 2, 0, 0, NULL);
    pa_tb_events_end(b);
    size_t len;
    const uint8_t *r = pa_tb_records(b, &len);
    pa_trace_t *t = pa_trace_new();
    assert_int_equal(pa_trace_feed(t, r, len, err, sizeof err), 0);
    pa_trace_finish(t);
    struct pa_profile p;
    struct pa_profile_opts o = { 0 };
    assert_int_equal(pa_profile_build(t, &o, &p), 0);
    assert_int_equal(p.nevents, 1);
    assert_string_equal(p.events[0].name, "samples");
    assert_int_equal(p.total[0], 2);
    assert_int_equal(p.nfuncs, 1);
    assert_int_equal(p.threads[0].tid, 0);
    assert_null(p.threads[0].name);
    pa_profile_free(&p);
    pa_trace_free(t);
    pa_tb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_python_view),
        cmocka_unit_test(test_profile_lines),
        cmocka_unit_test(test_profile_native_and_modules),
        cmocka_unit_test(test_profile_thread_filter),
        cmocka_unit_test(test_profile_metrics),
        cmocka_unit_test(test_profile_roles_by_name),
        cmocka_unit_test(test_profile_unnamed_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
