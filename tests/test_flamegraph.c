/* test_flamegraph.c — folded stacks (exact lines, merging, thread filter, native frames,
 * names that would break the format) and the HTML page's JSON blob. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "decode.h"
#include "flamegraph.h"
#include "sample_trace.h"

typedef int (*render_fn)(pa_trace_t *, const struct pa_flame_opts *, pa_sbuf_t *, pa_sbuf_t *);

/* Renders b with fn into out (err must come back as want_err). */
static void render(pa_tb_t *b, render_fn fn, const struct pa_flame_opts *o, int want_rc, pa_sbuf_t *out,
                   const char *want_err)
{
    size_t len;
    const uint8_t *d = pa_tb_data(b, &len);
    pa_sbuf_t diag, err;
    pa_sbuf_init(&diag);
    pa_sbuf_init(&err);
    pa_sbuf_init(out);
    pa_trace_t *t = pa_trace_new();
    assert_int_equal(pa_decode_buf(d, len, "s.trace", t, &diag), 0);
    assert_int_equal(fn(t, o, out, &err), want_rc);
    assert_string_equal(pa_sbuf_cstr(&err), want_err);
    pa_sbuf_free(&diag);
    pa_sbuf_free(&err);
    pa_trace_free(t);
}

static void test_flamegraph_folded(void **state)
{
    pa_tb_t *b = sample_trace();
    pa_sbuf_t out;
    struct pa_flame_opts o = { 0 };
    /* stacks 4 and 6 are one stack without native frames: 20 + 5 ms */
    render(b, pa_flame_folded, &o, 0, &out, "");
    assert_string_equal(pa_sbuf_cstr(&out), "<module> (x.py:20);recurse (x.py:12);recurse (x.py:13) 1000000\n"
                                            "<module> (x.py:20);recurse (x.py:12);recurse (x.py:13);spin_alpha "
                                            "(x.py:6) 25000000\n"
                                            "<module> (y.py:20);work (y.py:31) 3000000\n"
                                            "[native] libfoo.so 7000000\n"
                                            "[no frames] 2000000\n");
    pa_sbuf_free(&out);
    o = (struct pa_flame_opts){ .native = 1, .event = "cycles" };
    render(b, pa_flame_folded, &o, 0, &out, "");
    assert_string_equal(pa_sbuf_cstr(&out), "<module> (x.py:20);recurse (x.py:12);recurse (x.py:13) 100\n"
                                            "<module> (x.py:20);recurse (x.py:12);recurse (x.py:13);spin_alpha "
                                            "(x.py:6) 4000\n"
                                            "<module> (x.py:20);recurse (x.py:12);recurse (x.py:13);spin_alpha "
                                            "(x.py:6);foo_compute [libfoo.so];libfoo.so+0x40 500\n"
                                            "<module> (y.py:20);work (y.py:31) 60\n"
                                            "_PyEval_EvalFrameDefault [python3];foo_compute [libfoo.so] 70\n");
    pa_sbuf_free(&out);
    o = (struct pa_flame_opts){ .thread = "worker", .event = "instructions" };
    render(b, pa_flame_folded, &o, 0, &out, "");
    assert_string_equal(pa_sbuf_cstr(&out), "<module> (y.py:20);work (y.py:31) 30\n"
                                            "[native] libfoo.so 70\n");
    pa_sbuf_free(&out);
    pa_tb_free(b);
}

static void test_flamegraph_bad_options(void **state)
{
    pa_tb_t *b = sample_trace();
    pa_sbuf_t out;
    struct pa_flame_opts o = { .event = "branch-misses" };
    render(b, pa_flame_folded, &o, -2, &out, "no event named branch-misses; events: task-clock, instructions, cycles\n");
    assert_string_equal(pa_sbuf_cstr(&out), "");
    pa_sbuf_free(&out);
    o = (struct pa_flame_opts){ .thread = "123" };
    render(b, pa_flame_json, &o, -2, &out,
           "no thread matches 123; threads: #1 MainThread (tid 100), #2 worker (tid 200)\n");
    pa_sbuf_free(&out);
    pa_tb_free(b);
}

/* Names come from the traced program: ';' and line breaks must not split a line. */
static void test_flamegraph_folded_escapes(void **state)
{
    static const struct pa_tb_event ev[] = { { "task-clock", 1, 1, PA_EVF_LEADER | PA_EVF_TIME } };
    pa_tb_t *b = pa_tb_new();
    pa_tb_header(b, 1, 0);
    pa_tb_sampling(b, PA_SAMPLE_FREQ, 100, 38, 1, ev);
    pa_tb_string(b, 1, "odd;name\nhere");
    pa_tb_string(b, 2, "/d/we;ird.py");
    pa_tb_function(b, 1, 1, 2, 1);
    pa_tb_node(b, 1, 0, PA_FRAME_PYTHON, 1, 0);
    pa_tb_node(b, 2, 1, PA_FRAME_PY_UNKNOWN, 0, 0);
    pa_tb_events_begin(b, 1, 0);
    pa_tb_ev_sample(b, 5, 2, 1, (uint64_t[]){ 10 });
    pa_tb_ev_sample(b, 6, 1, 1, (uint64_t[]){ 0 }); /* a stack whose value is 0: no line */
    pa_tb_events_end(b);
    pa_tb_chunk(b);
    pa_sbuf_t out;
    struct pa_flame_opts o = { 0 };
    render(b, pa_flame_folded, &o, 0, &out, "");
    assert_string_equal(pa_sbuf_cstr(&out), "odd,name?here (we,ird.py);<unknown python frame> 10\n");
    pa_sbuf_free(&out);
    pa_tb_free(b);
}

static void test_flamegraph_json_blob(void **state)
{
    pa_tb_t *b = sample_trace();
    pa_sbuf_t out;
    struct pa_flame_opts o = { 0 };
    render(b, pa_flame_json, &o, 0, &out, "");
    assert_string_equal(
        pa_sbuf_cstr(&out),
        "{\"title\": \"pyagent: python3 x.py (pid 100)\", \"events\": [\"task-clock\", \"instructions\", \"cycles\"], "
        "\"unit\": [\"ns\", \"count\", \"count\"], \"threads\": [{\"name\": \"MainThread\", \"tid\": 100, \"serial\": 1}, "
        "{\"name\": \"worker\", \"tid\": 200, \"serial\": 2}], \"stacks\": [{\"t\": 0, \"f\": [0, 4, 5], \"v\": [1000000, "
        "100, 100]}, {\"t\": 0, \"f\": [0, 4, 5, 6], \"v\": [25000000, 2500, 4500]}, {\"t\": 1, \"f\": [1, 7], \"v\": "
        "[3000000, 30, 60]}, {\"t\": 1, \"f\": [2], \"v\": [7000000, 70, 70]}, {\"t\": 1, \"f\": [3], \"v\": [2000000, "
        "0, 0]}], \"frames\": [\"<module> (x.py:20)\", \"<module> (y.py:20)\", \"[native] libfoo.so\", \"[no frames]\", "
        "\"recurse (x.py:12)\", \"recurse (x.py:13)\", \"spin_alpha (x.py:6)\", \"work (y.py:31)\"]}\n");
    pa_sbuf_free(&out);
    o = (struct pa_flame_opts){ .thread = "#2", .native = 1 };
    render(b, pa_flame_json, &o, 0, &out, "");
    const char *s = pa_sbuf_cstr(&out);
    assert_non_null(strstr(s, "\"title\": \"pyagent: python3 x.py (pid 100), thread #2\""));
    assert_non_null(strstr(s, "\"threads\": [{\"name\": \"worker\", \"tid\": 200, \"serial\": 2}], \"stacks\": "
                              "[{\"t\": 0, \"f\": [0, 4], \"v\": [3000000, 30, 60]}, {\"t\": 0, \"f\": [1], "
                              "\"v\": [2000000, 0, 0]}, {\"t\": 0, \"f\": [2, 3], \"v\": [7000000, 70, 70]}]"));
    assert_non_null(strstr(s, "\"frames\": [\"<module> (y.py:20)\", \"[no frames]\", "
                              "\"_PyEval_EvalFrameDefault [python3]\", \"foo_compute [libfoo.so]\", "
                              "\"work (y.py:31)\"]}"));
    pa_sbuf_free(&out);
    pa_tb_free(b);
}

static void test_flamegraph_page(void **state)
{
    pa_tb_t *b = sample_trace();
    pa_sbuf_t out;
    struct pa_flame_opts o = { 0 };
    render(b, pa_flame_page, &o, 0, &out, "");
    const char *s = pa_sbuf_cstr(&out);
    assert_non_null(strstr(s, "<html"));
    assert_non_null(strstr(s, "\"title\": \"pyagent: python3 x.py (pid 100)\""));
    assert_non_null(strstr(s, "\"\\u003cmodule> (x.py:20)\"")); /* the blob is inside a <script> */
    pa_sbuf_free(&out);
    pa_tb_free(b);
    b = pa_tb_new();
    pa_tb_header(b, 1, 0);
    render(b, pa_flame_page, &o, 0, &out,
           "no CPU samples in this trace (sampling was off or the program ran too briefly)\n");
    assert_non_null(strstr(pa_sbuf_cstr(&out), "\"stacks\": [], \"frames\": []}"));
    pa_sbuf_free(&out);
    pa_tb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flamegraph_folded),
        cmocka_unit_test(test_flamegraph_bad_options),
        cmocka_unit_test(test_flamegraph_folded_escapes),
        cmocka_unit_test(test_flamegraph_json_blob),
        cmocka_unit_test(test_flamegraph_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
