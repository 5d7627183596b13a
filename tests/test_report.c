/* test_report.c — `pyagent report`: JSON shape and row order, sort keys, the text
 * tables, derived metrics, option errors and the no-samples message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "calls_trace.h"
#include "decode.h"
#include "report.h"
#include "sample_trace.h"

struct run {
    pa_tb_t *b;
    pa_trace_t *t;
    pa_sbuf_t out, err;
};

static const char *render(struct run *r, const struct pa_report_opts *o, int want_rc)
{
    size_t len;
    const uint8_t *d = pa_tb_data(r->b, &len);
    pa_sbuf_t diag;
    pa_sbuf_init(&diag);
    pa_sbuf_init(&r->out);
    pa_sbuf_init(&r->err);
    r->t = pa_trace_new();
    assert_int_equal(pa_decode_buf(d, len, "s.trace", r->t, &diag), 0);
    pa_sbuf_free(&diag);
    assert_int_equal(pa_report_render(r->t, o, &r->out, &r->err), want_rc);
    return pa_sbuf_cstr(&r->out);
}

static void done(struct run *r)
{
    pa_sbuf_free(&r->out);
    pa_sbuf_free(&r->err);
    pa_trace_free(r->t);
}

static void expect(const char *s, const char *want)
{
    if (!strstr(s, want))
        fail_msg("missing \"%s\" in:\n%s", want, s);
}

/* The functions named, in order, appear in s in that order. */
static void expect_order(const char *s, const char *const *names, size_t n)
{
    const char *at = s;
    for (size_t i = 0; i < n; i++) {
        const char *hit = strstr(at, names[i]);
        if (!hit)
            fail_msg("\"%s\" missing or out of order in:\n%s", names[i], s);
        at = hit + strlen(names[i]);
    }
}

static void test_report_json_shape(void **state)
{
    struct run r = { .b = sample_trace() };
    struct pa_report_opts o = { .json = 1, .top = PA_REPORT_TOP_DEFAULT };
    const char *s = render(&r, &o, 0);
    expect(s, "{\"samples\": 7, \"lost\": 3, \"view\": \"python\", \"sort\": \"self\", \"sampling\": {\"mode\": "
              "\"freq\", \"rate\": 1000, \"signal\": 38}, \"multiplexed\": [\"instructions\", \"cycles\"], "
              "\"derived\": {\"ipc\": 0.570825}, \"events\": [{\"name\": \"task-clock\", \"unit\": \"ns\", "
              "\"leader\": true, \"multiplexed\": false, \"total\": 38000000, \"samples\": 7, \"functions\": "
              "[{\"function\": \"spin_alpha\", \"file\": \"/abs/x.py\", \"line\": 5, \"self\": 25000000, "
              "\"total\": 25000000, \"self_samples\": 3, \"total_samples\": 3, \"kind\": \"python\", "
              "\"ipc\": 0.555556}, {\"function\": \"[native] libfoo.so\", \"file\": \"/usr/lib/libfoo.so\", "
              "\"line\": 0, \"self\": 7000000, \"total\": 7000000,");
    expect(s, "{\"function\": \"recurse\", \"file\": \"/abs/x.py\", \"line\": 10, \"self\": 1000000, "
              "\"total\": 26000000, \"self_samples\": 1, \"total_samples\": 4,");
    expect(s, "{\"function\": \"[no frames]\", \"file\": null, \"line\": 0, \"self\": 2000000, \"total\": 2000000, "
              "\"self_samples\": 1, \"total_samples\": 1, \"kind\": \"no_frames\"}");
    static const char *const by_self[] = { "\"task-clock\"", "\"spin_alpha\"", "\"[native] libfoo.so\"", "\"work\"",
                                           "\"[no frames]\"", "\"recurse\"", "\"/abs/x.py\", \"line\": 1,",
                                           "\"/abs/y.py\", \"line\": 1,", "\"instructions\"", "\"cycles\"" };
    expect_order(s, by_self, sizeof by_self / sizeof by_self[0]);
    expect(s, "\"threads\": [{\"serial\": 1, \"tid\": 100, \"name\": \"MainThread\", \"samples\": 4, \"totals\": "
              "{\"task-clock\": 26000000, \"instructions\": 2600, \"cycles\": 4600}}, {\"serial\": 2, \"tid\": 200, "
              "\"name\": \"worker\", \"samples\": 3, \"totals\": {\"task-clock\": 12000000, \"instructions\": 100, "
              "\"cycles\": 130}}], \"counted\": []}\n");
    assert_null(strstr(s, "\"modules\""));
    assert_null(strstr(s, "\"message\""));
    done(&r);
    pa_tb_free(r.b);
}

static void test_report_sort_keys(void **state)
{
    struct run r = { .b = sample_trace() };
    struct pa_report_opts o = { .json = 1, .sort = PA_SORT_TOTAL, .event = "task-clock", .top = 3 };
    const char *s = render(&r, &o, 0);
    static const char *const by_total[] = { "\"recurse\"", "\"<module>\", \"file\": \"/abs/x.py\"",
                                            "\"spin_alpha\"" };
    expect_order(s, by_total, 3);
    assert_null(strstr(s, "libfoo")); /* --top 3 */
    assert_null(strstr(s, "\"instructions\", \"unit\""));
    done(&r);
    o.sort = PA_SORT_NAME, o.top = 0;
    s = render(&r, &o, 0);
    static const char *const by_name[] = { "\"<module>\", \"file\": \"/abs/x.py\"", "\"<module>\", \"file\": \"/abs/y.py\"",
                                           "\"[native] libfoo.so\"", "\"[no frames]\"", "\"recurse\"",
                                           "\"spin_alpha\"", "\"work\"" };
    expect_order(s, by_name, sizeof by_name / sizeof by_name[0]);
    done(&r);
    pa_tb_free(r.b);
}

static void test_report_views(void **state)
{
    struct run r = { .b = sample_trace() };
    struct pa_report_opts o = { .json = 1, .lines = 1, .event = "task-clock", .top = PA_REPORT_TOP_DEFAULT };
    const char *s = render(&r, &o, 0);
    expect(s, "\"view\": \"lines\"");
    expect(s, "{\"function\": \"spin_alpha\", \"file\": \"/abs/x.py\", \"line\": 6, \"self\": 25000000");
    expect(s, "{\"function\": \"recurse\", \"file\": \"/abs/x.py\", \"line\": 13, \"self\": 1000000");
    done(&r);
    o = (struct pa_report_opts){ .json = 1, .native = 1, .event = "task-clock", .top = PA_REPORT_TOP_DEFAULT };
    s = render(&r, &o, 0);
    expect(s, "\"modules\": [{\"module\": \"[python]\", \"self\": 24000000, \"total\": 29000000, \"self_samples\": 4, "
              "\"total_samples\": 5}, {\"module\": \"/usr/lib/libfoo.so\", \"self\": 12000000, \"total\": 12000000,");
    expect(s, "{\"function\": \"libfoo.so+0x40\", \"file\": \"/usr/lib/libfoo.so\", \"line\": 0, \"self\": 5000000");
    done(&r);
    o = (struct pa_report_opts){ .json = 1, .thread = "200", .threads = 1, .event = "cycles", .top = 1 };
    s = render(&r, &o, 0);
    expect(s, "{\"samples\": 3,");
    expect(s, "\"threads\": [{\"serial\": 2, \"tid\": 200, \"name\": \"worker\", \"samples\": 3, \"totals\": "
              "{\"task-clock\": 12000000, \"instructions\": 100, \"cycles\": 130}, \"events\": [{\"name\": \"cycles\", "
              "\"unit\": \"count\", \"leader\": false, \"multiplexed\": true, \"total\": 130, \"samples\": 3, "
              "\"functions\": [{\"function\": \"[native] libfoo.so\"");
    assert_null(strstr(s, "MainThread"));
    done(&r);
    pa_tb_free(r.b);
}

static void test_report_text(void **state)
{
    struct run r = { .b = sample_trace() };
    struct pa_report_opts o = { .top = PA_REPORT_TOP_DEFAULT };
    const char *s = render(&r, &o, 0);
    expect(s, "pyagent report: pid 100 (python3 x.py)\n"
              "samples: 7 in 2 threads, 3 lost; sampling 1,000 Hz of task-clock\n"
              "events instructions, cycles multiplexed: values scaled by time_enabled/time_running\n"
              "derived: IPC 0.57\n\n"
              "task-clock: 38.000 ms in 7 samples\n"
              "     Self%         Self   Total%        Total    IPC  Function            Location\n"
              "    65.79%    25.000 ms   65.79%    25.000 ms   0.56  spin_alpha          /abs/x.py:5\n"
              "    18.42%     7.000 ms   18.42%     7.000 ms   1.00  [native] libfoo.so  /usr/lib/libfoo.so\n");
    expect(s, "     2.63%     1.000 ms   68.42%    26.000 ms   1.00  recurse             /abs/x.py:10\n");
    expect(s, "     5.26%     2.000 ms    5.26%     2.000 ms      -  [no frames]\n");
    expect(s, "\ninstructions: 2,700 in 7 samples\n");
    expect(s, "    92.59%        2,500   92.59%        2,500   0.56  spin_alpha          /abs/x.py:5\n");
    done(&r);
    o = (struct pa_report_opts){ .threads = 1, .event = "task-clock", .top = 1, .native = 1 };
    s = render(&r, &o, 0);
    expect(s, "  ... 8 more (--top 0 shows all)\n");
    expect(s, "\ntask-clock by shared object:\n     Self%         Self   Total%        Total  Shared object\n"
              "    63.16%    24.000 ms   76.32%    29.000 ms  [python]\n");
    expect(s, "\n== thread #2 worker (tid 200): 3 samples, task-clock 12.000 ms ==\n\ntask-clock: 12.000 ms in 3 samples\n");
    expect(s, "    58.33%     7.000 ms   58.33%     7.000 ms   1.00  foo_compute  /usr/lib/libfoo.so\n");
    done(&r);
    pa_tb_free(r.b);
}

static void test_report_bad_options(void **state)
{
    struct run r = { .b = sample_trace() };
    struct pa_report_opts o = { .event = "branches" };
    assert_string_equal(render(&r, &o, -2), "");
    assert_string_equal(pa_sbuf_cstr(&r.err), "no event named branches; events: task-clock, instructions, cycles\n");
    done(&r);
    o = (struct pa_report_opts){ .thread = "nobody", .json = 1 };
    assert_string_equal(render(&r, &o, -2), "");
    assert_string_equal(pa_sbuf_cstr(&r.err),
                        "no thread matches nobody; threads: #1 MainThread (tid 100), #2 worker (tid 200)\n");
    done(&r);
    pa_tb_free(r.b);
}

static void test_report_no_samples(void **state)
{
    static const struct pa_tb_event ev[] = { { "task-clock", 1, 1, PA_EVF_LEADER | PA_EVF_TIME } };
    struct run r = { .b = pa_tb_new() };
    pa_tb_header(r.b, 1, 0);
    pa_tb_chunk(r.b);
    struct pa_report_opts o = { .event = "task-clock", .top = PA_REPORT_TOP_DEFAULT };
    assert_string_equal(render(&r, &o, 0),
                        "no CPU samples in this trace (sampling was off or the program ran too briefly)\n");
    done(&r);
    o.json = 1;
    assert_string_equal(render(&r, &o, 0),
                        "{\"samples\": 0, \"lost\": null, \"view\": \"python\", \"sort\": \"self\", \"sampling\": null, "
                        "\"multiplexed\": [], \"derived\": {}, \"events\": [], \"threads\": [], \"message\": \"no CPU "
                        "samples in this trace (sampling was off or the program ran too briefly)\", \"counted\": []}\n");
    done(&r);
    pa_tb_free(r.b);
    /* Sampling was on but nothing was sampled: the events are listed, empty. */
    r.b = pa_tb_new();
    pa_tb_header(r.b, 1, 0);
    pa_tb_sampling(r.b, PA_SAMPLE_FREQ, 100, 38, 1, ev);
    pa_tb_chunk(r.b);
    render(&r, &o, 0);
    expect(pa_sbuf_cstr(&r.out), "\"events\": [{\"name\": \"task-clock\", \"unit\": \"ns\", \"leader\": true, "
                                 "\"multiplexed\": false, \"total\": 0, \"samples\": 0, \"functions\": []}]");
    done(&r);
    pa_tb_free(r.b);
}

/* PYAGENT_COUNT results: a table after the samples (or the no-samples message), per
 * function and thread, following --thread; "counted" in JSON. */
static void test_report_counted(void **state)
{
    struct run r = { .b = calls_trace() };
    struct pa_report_opts o = { .top = PA_REPORT_TOP_DEFAULT };
    const char *s = render(&r, &o, 0);
    expect(s, "\ncounted functions (PYAGENT_COUNT): 3 calls, bytes allocated during the calls\n"
              "       Calls        Total         Mean          Min          Max          CPU      Allocated  "
              "Function        Thread      Location\n"
              "           2   400.000 us   200.000 us   200.000 us   200.000 us   350.000 us             64  "
              "handle_request  MainThread  /abs/server.py:10\n"
              "           1    60.000 us    60.000 us    60.000 us    60.000 us         0 ns              0  "
              "handle_request  worker      /abs/server.py:10\n");
    done(&r);
    o.thread = "worker";
    s = render(&r, &o, 0);
    expect(s, "no CPU samples in the selected threads\n\ncounted functions (PYAGENT_COUNT): 1 calls,");
    assert_null(strstr(s, "MainThread"));
    done(&r);
    o = (struct pa_report_opts){ .json = 1, .top = PA_REPORT_TOP_DEFAULT, .thread = "#2" };
    s = render(&r, &o, 0);
    expect(s, ", \"counted\": [{\"function\": \"handle_request\", \"file\": \"/abs/server.py\", \"line\": 10, "
              "\"thread\": \"worker\", \"tid\": 200, \"calls\": 1, \"total_ns\": 60000, \"mean_ns\": 60000, "
              "\"min_ns\": 60000, \"max_ns\": 60000, \"cpu_ns\": 0, \"alloc_bytes\": 0, \"alloc_blocks\": 0}]}\n");
    done(&r);
    pa_tb_free(r.b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_json_shape),
        cmocka_unit_test(test_report_sort_keys),
        cmocka_unit_test(test_report_views),
        cmocka_unit_test(test_report_text),
        cmocka_unit_test(test_report_bad_options),
        cmocka_unit_test(test_report_no_samples),
        cmocka_unit_test(test_report_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
