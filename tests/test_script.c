/* test_script.c — `pyagent script`: JSON line shapes, the text timeline, the filters
 * (function subtree, thread, since/until, depth), fields, option errors, time parsing,
 * streaming through the flush callback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calls_trace.h"
#include "decode.h"
#include "json.h"
#include "sample_trace.h"
#include "script.h"

struct run {
    pa_trace_t *t;
    pa_sbuf_t out, err;
};

static const char *render_b(struct run *r, pa_tb_t *b, const struct pa_script_opts *o, int want_rc)
{
    size_t len;
    const uint8_t *d = pa_tb_data(b, &len);
    pa_sbuf_t diag;
    pa_sbuf_init(&diag);
    pa_sbuf_init(&r->out);
    pa_sbuf_init(&r->err);
    r->t = pa_trace_new();
    assert_int_equal(pa_decode_buf(d, len, "c.trace", r->t, &diag), 0);
    pa_sbuf_free(&diag);
    assert_int_equal(pa_script_render(r->t, o, &r->out, &r->err), want_rc);
    return pa_sbuf_cstr(&r->out);
}

static const char *render(struct run *r, const struct pa_script_opts *o, int want_rc)
{
    pa_tb_t *b = calls_trace();
    const char *s = render_b(r, b, o, want_rc);
    pa_tb_free(b);
    return s;
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

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Every line is one JSON object. */
static void expect_json_lines(const char *s)
{
    while (*s) {
        const char *nl = strchr(s, '\n');
        assert_non_null(nl);
        if (!pa_json_valid(s, (size_t)(nl - s), 8) || *s != '{')
            fail_msg("not a JSON object: %.*s", (int)(nl - s), s);
        s = nl + 1;
    }
}

static void test_script_json_lines(void **state)
{
    struct run r;
    struct pa_script_opts o = { .json = 1, .max_depth = -1 };
    const char *s = render(&r, &o, 0);
    expect_json_lines(s);
    assert_int_equal(count_lines(s), 16);
    /* Sampled deltas: the thread's samples taken in (start, end], here those of MainThread at
     * 150 (100000 ns, 1000 instructions), 450 (300000, 3000) and 900 (400000, 4000) us.
     * main [100, 1000] holds all three: 800000 ns, 8000 instructions. */
    assert_true(strncmp(s, "{\"type\": \"call\", \"function\": \"main\", \"file\": \"/abs/server.py\", \"line\": 1, "
                           "\"thread\": \"MainThread\", \"tid\": 100, \"start_ns\": 100000, \"duration_ns\": 900000, "
                           "\"depth\": 0, \"exit\": null, \"unfinished\": true, \"cpu_ns\": 800000, \"instructions\": "
                           "8000, \"alloc_bytes\": 112, \"alloc_count\": 3}\n", 250) == 0);
    /* The first request [200, 400] holds no sample: 0, not a share of the one at 450. */
    expect(s, "\n{\"type\": \"call\", \"function\": \"handle_request\", \"file\": \"/abs/server.py\", \"line\": 10, "
              "\"thread\": \"MainThread\", \"tid\": 100, \"start_ns\": 200000, \"duration_ns\": 200000, \"depth\": 1, "
              "\"exit\": \"return\", \"cpu_ns\": 0, \"instructions\": 0, \"alloc_bytes\": 64, "
              "\"alloc_count\": 1}\n");
    /* No samples on the worker: no CPU fields. */
    expect(s, "\n{\"type\": \"call\", \"function\": \"handle_request\", \"file\": \"/abs/server.py\", \"line\": 10, "
              "\"thread\": \"worker\", \"tid\": 200, \"start_ns\": 120000, \"duration_ns\": 60000, \"depth\": 0, "
              "\"exit\": \"return\", \"alloc_bytes\": 0, \"alloc_count\": 0}\n");
    expect(s, "{\"type\": \"call\", \"function\": \"builtins.len\", \"file\": null, \"line\": 0,");
    /* gen [550, 560] and [600, 650]: no sample in either, 0. */
    expect(s, "\"function\": \"gen\", \"file\": \"/abs/server.py\", \"line\": 30, \"thread\": \"MainThread\", "
              "\"tid\": 100, \"start_ns\": 550000, \"duration_ns\": 10000, \"depth\": 2, \"exit\": \"yield\", "
              "\"cpu_ns\": 0, \"instructions\": 0,");
    expect(s, "\"start_ns\": 600000, \"duration_ns\": 50000, \"depth\": 2, \"exit\": \"exception\", \"resumed\": true, "
              "\"cpu_ns\": 0, \"instructions\": 0,");
    expect(s, "\n{\"type\": \"mark\", \"name\": \"request-done\", \"thread\": \"MainThread\", \"tid\": 100, "
              "\"t_ns\": 350000, \"fields\": {\"id\": 7}}\n");
    expect(s, "\n{\"type\": \"counter\", \"name\": \"queue\", \"thread\": \"MainThread\", \"tid\": 100, "
              "\"t_ns\": 360000, \"value\": 3}\n");
    expect(s, "\"name\": \"load\", \"thread\": \"MainThread\", \"tid\": 100, \"t_ns\": 370000, \"value\": 0.5}\n");
    /* Region db [220, 380]: no sample, 0; outer [210, 1000 (unfinished)]: 450 and 900. */
    expect(s, "\n{\"type\": \"region\", \"name\": \"db\", \"thread\": \"MainThread\", \"tid\": 100, "
              "\"start_ns\": 220000, \"duration_ns\": 160000, \"cpu_ns\": 0, \"instructions\": 0, "
              "\"alloc_bytes\": 64, \"alloc_count\": 1}\n");
    expect(s, "{\"type\": \"region\", \"name\": \"outer\", \"thread\": \"MainThread\", \"tid\": 100, "
              "\"start_ns\": 210000, \"duration_ns\": 790000, \"unfinished\": true, \"cpu_ns\": 700000, "
              "\"instructions\": 7000,");
    expect(s, "\n{\"type\": \"toggle\", \"state\": \"paused\", \"cause\": \"api\", \"thread\": \"MainThread\", "
              "\"tid\": 100, \"t_ns\": 800000}\n{\"type\": \"toggle\", \"state\": \"resumed\", \"cause\": "
              "\"signal\",");
    assert_string_equal(pa_sbuf_cstr(&r.err), "calls of functions the trace does not define (shown as <unknown>): 1\n");
    done(&r);
}

static void test_script_text(void **state)
{
    struct run r;
    struct pa_script_opts o = { .max_depth = -1 };
    const char *s = render(&r, &o, 0);
    /* CPU: the samples at 150 (100 us), 450 (300 us) and 900 (400 us) taken inside each
     * span: main [100, 1000] all three, outer [210, 1000] 450 and 900, the first request
     * [200, 400] and len [310, 320] none. */
    expect(s, "# pyagent script: pid 4242 (python3 server.py); time in seconds since the process started\n"
              "#             TIME THREAD         DURATION          CPU          ALLOC FUNCTION                  "
              "               FILE\n"
              "       0.000100000 MainThread   900.000 us   800.000 us          112 B main [unfinished]         "
              "               /abs/server.py:1\n"
              "       0.000120000 worker        60.000 us            -            0 B handle_request            "
              "               /abs/server.py:10\n");
    expect(s, "\n       0.000200000 MainThread   200.000 us         0 ns           64 B   handle_request       "
              "                  /abs/server.py:10\n"
              "       0.000210000 MainThread   790.000 us   700.000 us          112 B     [region] outer [unfinished]\n");
    expect(s, "\n       0.000310000 MainThread    10.000 us         0 ns            0 B     builtins.len\n"
              "       0.000350000 MainThread                                              [mark] request-done {\"id\": 7}\n"
              "       0.000360000 MainThread                                              [counter] queue = 3\n");
    expect(s, "  handle_request [exception]             /abs/server.py:10\n");
    expect(s, "    gen [resumed, exception]             /abs/server.py:30\n");
    expect(s, "\n       0.000800000 MainThread                                            [paused] (api)\n");
    assert_int_equal(count_lines(s), 18);
    done(&r);
}

static void test_script_function_filter(void **state)
{
    struct run r;
    struct pa_script_opts o = { .json = 1, .function = "handle_request", .max_depth = -1 };
    const char *s = render(&r, &o, 0);
    assert_null(strstr(s, "\"main\""));
    assert_null(strstr(s, "toggle")); /* pauses fall outside the requests */
    expect(s, "\"function\": \"Handler.parse\"");
    expect(s, "\"type\": \"mark\""); /* inside the first request */
    expect(s, "\"type\": \"region\", \"name\": \"db\"");
    assert_int_equal(count_lines(s), 7 + 5);
    done(&r);
    /* Text indents from the match; --depth counts below it. */
    o = (struct pa_script_opts){ .function = "handle_request", .max_depth = 0, .fields = "depth,function" };
    s = render(&r, &o, 0);
    expect(s, "# DEPTH FUNCTION\n      0 handle_request\n      1 handle_request\n          [region] outer [unfinished]\n"
              "          [region] db\n          [mark] request-done {\"id\": 7}\n");
    expect(s, "      1 handle_request [exception]\n");
    assert_null(strstr(s, "parse"));
    done(&r);
    o = (struct pa_script_opts){ .json = 1, .function = "nothing_like_it", .max_depth = -1 };
    assert_string_equal(render(&r, &o, 0), "");
    expect(pa_sbuf_cstr(&r.err), "no call of nothing_like_it in the threads selected\n");
    done(&r);
}

static void test_script_thread_and_window(void **state)
{
    struct run r;
    struct pa_script_opts o = { .json = 1, .thread = "worker", .max_depth = -1 };
    const char *s = render(&r, &o, 0);
    assert_int_equal(count_lines(s), 2);
    assert_null(strstr(s, "MainThread"));
    done(&r);
    o.thread = "#1";
    s = render(&r, &o, 0);
    assert_null(strstr(s, "worker"));
    assert_int_equal(count_lines(s), 14);
    done(&r);
    /* [500 us, 600 us]: what overlaps it. */
    o = (struct pa_script_opts){ .json = 1, .has_since = 1, .since_ns = 500000, .has_until = 1, .until_ns = 600000,
                                 .max_depth = -1 };
    s = render(&r, &o, 0);
    expect_json_lines(s);
    static const char *const order[] = { "\"main\"", "\"outer\"", "\"start_ns\": 500000", "\"start_ns\": 550000",
                                         "\"start_ns\": 600000" };
    const char *at = s;
    for (size_t i = 0; i < 5; i++) {
        const char *hit = strstr(at, order[i]);
        if (!hit)
            fail_msg("%s missing or out of order in:\n%s", order[i], s);
        at = hit;
    }
    assert_int_equal(count_lines(s), 5);
    done(&r);
    o = (struct pa_script_opts){ .json = 1, .max_depth = 0 };
    s = render(&r, &o, 0);
    assert_int_equal(count_lines(s), 3 + 7); /* three top-level calls, and every event */
    done(&r);
}

static void test_script_bad_options(void **state)
{
    struct run r;
    struct pa_script_opts o = { .fields = "time,bogus", .max_depth = -1 };
    assert_string_equal(render(&r, &o, -2), "");
    assert_string_equal(pa_sbuf_cstr(&r.err), "unknown field \"bogus\"; fields: " PA_SCRIPT_FIELDS "\n");
    done(&r);
    o = (struct pa_script_opts){ .fields = "instructions,cpu,alloc,time", .max_depth = -1 };
    /* main [100, 1000]: the samples at 150, 450 and 900 (1000 + 3000 + 4000 instructions). */
    expect(render(&r, &o, 0), "#   instructions          CPU          ALLOC             TIME\n"
                              "           8,000   800.000 us          112 B      0.000100000\n");
    done(&r);
    o = (struct pa_script_opts){ .thread = "nobody", .max_depth = -1 };
    render(&r, &o, -2);
    assert_string_equal(pa_sbuf_cstr(&r.err),
                        "no thread matches nobody; threads: #1 MainThread (tid 100), #2 worker (tid 200)\n");
    done(&r);
    o = (struct pa_script_opts){ .has_since = 1, .since_ns = 5, .has_until = 1, .until_ns = 4, .max_depth = -1 };
    render(&r, &o, -2);
    assert_string_equal(pa_sbuf_cstr(&r.err), "--until is before --since\n");
    done(&r);
}

static void test_script_parse_time(void **state)
{
    static const struct {
        const char *s;
        uint64_t ns;
    } ok[] = { { "1.5s", 1500000000 }, { "200ms", 200000000 }, { "300us", 300000 }, { "123ns", 123 },
               { "2", 2000000000 },    { "0.25", 250000000 },  { "1.0000000019s", 1000000001 },
               { "18446744073ns", 18446744073ull }, { "0", 0 } };
    static const char *const bad[] = { "", "s", "-1s", "1.5m", "1e3", "1 s", "99999999999999999999", "18446744074s" };
    uint64_t v;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(pa_parse_time(ok[i].s, &v), 0);
        assert_int_equal(v, ok[i].ns);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (pa_parse_time(bad[i], &v) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
}

static void test_script_no_calls(void **state)
{
    struct run r;
    pa_tb_t *b = sample_trace();
    struct pa_script_opts o = { .json = 1, .max_depth = -1 };
    assert_string_equal(render_b(&r, b, &o, 0), "");
    assert_string_equal(pa_sbuf_cstr(&r.err), "no call events in this trace (record with PYAGENT_MODE=trace)\n");
    done(&r);
    pa_tb_free(b);
}

/* A mark whose fields are not a JSON object keeps them as text. */
static void test_script_bad_mark_fields(void **state)
{
    struct run r;
    pa_tb_t *b = pa_tb_new();
    pa_tb_header(b, 1, 2);
    pa_tb_string(b, 1, "m");
    pa_tb_string(b, 2, "{\"a\": [1, }");
    pa_tb_string(b, 3, "[1]");
    pa_tb_events_begin(b, 1, 10);
    pa_tb_ev_mark(b, 10, 1, 2);
    pa_tb_ev_mark(b, 11, 1, 3);
    pa_tb_ev_mark(b, 12, 1, 0);
    pa_tb_ev_counter_double(b, 13, 1, INFINITY);
    pa_tb_events_end(b);
    pa_tb_chunk(b);
    struct pa_script_opts o = { .json = 1, .max_depth = -1 };
    const char *s = render_b(&r, b, &o, 0);
    expect_json_lines(s);
    expect(s, "\"thread\": null, \"tid\": null, \"t_ns\": 0, \"fields\": null, \"fields_text\": \"{\\\"a\\\": [1, }\"}\n");
    expect(s, "\"t_ns\": 1, \"fields\": null, \"fields_text\": \"[1]\"}\n");
    expect(s, "\"t_ns\": 2, \"fields\": null}\n");
    expect(s, "\"t_ns\": 3, \"value\": null}\n");
    done(&r);
    pa_tb_free(b);
}

static int collect(pa_sbuf_t *out, void *arg)
{
    pa_sbuf_t *all = arg;
    assert_true(out->len >= PA_SCRIPT_FLUSH_BYTES);
    pa_sbuf_append(all, out->buf, out->len);
    pa_sbuf_reset(out);
    return 0;
}

static int refuse(pa_sbuf_t *out, void *arg)
{
    return -1;
}

/* Large output goes out in pieces that add up to the whole. */
static void test_script_flush(void **state)
{
    struct run r;
    pa_tb_t *b = pa_tb_new();
    pa_sbuf_t all;
    pa_tb_header(b, 1, 2);
    pa_tb_string(b, 1, "f");
    pa_tb_function(b, 1, 1, 0, 0);
    pa_tb_calls_begin(b, 1, 0);
    for (uint64_t i = 0; i < 20000; i++) {
        pa_tb_calls_enter(b, 10 * i, 1, 0);
        pa_tb_calls_exit(b, 10 * i + 5, PA_CALL_RETURN);
    }
    pa_tb_calls_end(b);
    pa_tb_chunk(b);
    struct pa_script_opts o = { .json = 1, .max_depth = -1 };
    const char *whole = render_b(&r, b, &o, 0);
    char *copy = strdup(whole);
    done(&r);
    pa_sbuf_init(&all);
    o.flush = collect, o.flush_arg = &all;
    render_b(&r, b, &o, 0);
    assert_true(all.len > 0);
    pa_sbuf_append(&all, r.out.buf, r.out.len);
    assert_string_equal(pa_sbuf_cstr(&all), copy);
    assert_int_equal(count_lines(copy), 20000);
    done(&r);
    o.flush = refuse;
    render_b(&r, b, &o, -1);
    done(&r);
    pa_sbuf_free(&all);
    free(copy);
    pa_tb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script_json_lines),      cmocka_unit_test(test_script_text),
        cmocka_unit_test(test_script_function_filter), cmocka_unit_test(test_script_thread_and_window),
        cmocka_unit_test(test_script_bad_options),     cmocka_unit_test(test_script_parse_time),
        cmocka_unit_test(test_script_no_calls),        cmocka_unit_test(test_script_bad_mark_fields),
        cmocka_unit_test(test_script_flush),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
