/* test_export.c — `pyagent export`: Chrome trace event JSON (valid JSON, metadata per
 * thread, complete events nested per thread, instants, counters, region tracks, samples
 * without calls) and speedscope (evented O/C balance, sampled profiles), hostile names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calls_trace.h"
#include "decode.h"
#include "export.h"
#include "json.h"
#include "sample_trace.h"

struct run {
    pa_trace_t *t;
    pa_sbuf_t out, err;
};

static const char *render(struct run *r, pa_tb_t *b, enum pa_export_format f)
{
    size_t len;
    const uint8_t *d = pa_tb_data(b, &len);
    pa_sbuf_t diag;
    struct pa_export_opts o = { .format = f };
    pa_sbuf_init(&diag);
    pa_sbuf_init(&r->out);
    pa_sbuf_init(&r->err);
    r->t = pa_trace_new();
    assert_int_equal(pa_decode_buf(d, len, "c.trace", r->t, &diag), 0);
    pa_sbuf_free(&diag);
    assert_int_equal(pa_export_render(r->t, &o, &r->out, &r->err), 0);
    const char *s = pa_sbuf_cstr(&r->out);
    if (!pa_json_valid(s, strlen(s), 16))
        fail_msg("not valid JSON:\n%s", s);
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

struct xev {
    unsigned long long tid, ts, dur; /* ns */
};

static int xev_cmp(const void *a, const void *b)
{
    const struct xev *x = a, *y = b;
    if (x->tid != y->tid)
        return x->tid < y->tid ? -1 : 1;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->dur < y->dur) - (x->dur > y->dur); /* the longer (outer) first */
}

/* Reads the "X" events back (one per line, as written) and checks that on every track
 * each one lies inside the enclosing one it starts in. @return the number of X events. */
static size_t check_nesting(const char *s)
{
    struct xev v[256];
    size_t n = 0;
    for (const char *p = strstr(s, "\n{\"ph\": \"X\""); p; p = strstr(p + 1, "\n{\"ph\": \"X\"")) {
        unsigned long long pid, tsu, durs;
        unsigned tsf, durf;
        assert_true(n < 256);
        assert_int_equal(sscanf(p, "\n{\"ph\": \"X\", \"pid\": %llu, \"tid\": %llu, \"ts\": %llu.%3u, \"dur\": %llu.%3u",
                                &pid, &v[n].tid, &tsu, &tsf, &durs, &durf), 6);
        v[n].ts = tsu * 1000 + tsf;
        v[n].dur = durs * 1000 + durf;
        n++;
    }
    qsort(v, n, sizeof v[0], xev_cmp);
    for (size_t i = 0; i < n;) {
        unsigned long long open_end[256], tid = v[i].tid;
        size_t depth = 0;
        for (; i < n && v[i].tid == tid; i++) {
            /* Ended before this one starts (a zero-length call at its parent's end stays inside). */
            while (depth && (open_end[depth - 1] < v[i].ts || (open_end[depth - 1] == v[i].ts && v[i].dur)))
                depth--;
            if (depth && v[i].ts + v[i].dur > open_end[depth - 1])
                fail_msg("tid %llu: event at %llu ns overlaps its parent", tid, v[i].ts);
            open_end[depth++] = v[i].ts + v[i].dur;
        }
    }
    return n;
}

static void test_export_chrome(void **state)
{
    struct run r;
    pa_tb_t *b = calls_trace();
    const char *s = render(&r, b, PA_EXPORT_CHROME);
    assert_true(strncmp(s, "{\"displayTimeUnit\": \"ns\", \"otherData\": {\"exporter\": \"pyagent ", 60) == 0);
    expect(s, "\"traceEvents\": [\n{\"ph\": \"M\", \"pid\": 4242, \"tid\": 4242, \"ts\": 0.000, \"name\": "
              "\"process_name\", \"args\": {\"name\": \"python3 server.py (pid 4242)\"}},\n");
    expect(s, "{\"ph\": \"M\", \"pid\": 4242, \"tid\": 100, \"ts\": 0.000, \"name\": \"thread_name\", \"args\": "
              "{\"name\": \"MainThread\"}}");
    expect(s, "{\"ph\": \"M\", \"pid\": 4242, \"tid\": 200, \"ts\": 0.000, \"name\": \"thread_name\", \"args\": "
              "{\"name\": \"worker\"}}");
    expect(s, "{\"ph\": \"M\", \"pid\": 4242, \"tid\": 2147483649, \"ts\": 0.000, \"name\": \"thread_name\", "
              "\"args\": {\"name\": \"MainThread regions\"}}");
    /* Sampled deltas are those of the thread's samples taken in (start, end]: MainThread's
     * are at 150 (100000 ns, 1000 instructions), 450 (300000, 3000), 900 (400000, 4000) us.
     * The first request [200, 400] holds none: 0. */
    expect(s, "\n{\"ph\": \"X\", \"pid\": 4242, \"tid\": 100, \"ts\": 200.000, \"dur\": 200.000, \"cat\": \"python\", "
              "\"name\": \"handle_request\", \"args\": {\"file\": \"/abs/server.py\", \"line\": 10, \"depth\": 1, "
              "\"exit\": \"return\", \"cpu_ns\": 0, \"instructions\": 0, \"alloc_bytes\": 64, "
              "\"alloc_count\": 1}},\n");
    /* main [100, 1000] holds all three samples. */
    expect(s, "\"ts\": 100.000, \"dur\": 900.000, \"cat\": \"python\", \"name\": \"main\", \"args\": {\"file\": "
              "\"/abs/server.py\", \"line\": 1, \"depth\": 0, \"exit\": \"unfinished\", \"unfinished\": true, "
              "\"cpu_ns\": 800000, \"instructions\": 8000,");
    expect(s, "\"ts\": 310.000, \"dur\": 10.000, \"cat\": \"c\", \"name\": \"builtins.len\", \"args\": {\"file\": null,");
    expect(s, "\"ts\": 600.000, \"dur\": 50.000, \"cat\": \"python\", \"name\": \"gen\", \"args\": {\"file\": "
              "\"/abs/server.py\", \"line\": 30, \"depth\": 2, \"exit\": \"exception\", \"resumed\": true,");
    expect(s, "\n{\"ph\": \"X\", \"pid\": 4242, \"tid\": 2147483649, \"ts\": 220.000, \"dur\": 160.000, \"cat\": "
              "\"region\", \"name\": \"db\", \"args\": {\"unfinished\": false,");
    expect(s, "\n{\"ph\": \"i\", \"pid\": 4242, \"tid\": 100, \"ts\": 350.000, \"s\": \"t\", \"cat\": \"mark\", "
              "\"name\": \"request-done\", \"args\": {\"id\": 7}},\n");
    expect(s, "\n{\"ph\": \"C\", \"pid\": 4242, \"tid\": 100, \"ts\": 360.000, \"name\": \"queue\", \"args\": "
              "{\"value\": 3}},\n");
    expect(s, "{\"value\": 0.5}}");
    expect(s, "\n{\"ph\": \"i\", \"pid\": 4242, \"tid\": 100, \"ts\": 800.000, \"s\": \"p\", \"cat\": \"toggle\", "
              "\"name\": \"paused\", \"args\": {\"cause\": \"api\"}},\n");
    assert_true(strcmp(s + strlen(s) - 4, "\n]}\n") == 0);
    assert_int_equal(check_nesting(s), 9 + 2);
    assert_null(strstr(s, "\"cat\": \"sample\""));
    assert_string_equal(pa_sbuf_cstr(&r.err), "");
    done(&r);
    pa_tb_free(b);
}

static void test_export_speedscope_evented(void **state)
{
    struct run r;
    pa_tb_t *b = calls_trace();
    const char *s = render(&r, b, PA_EXPORT_SPEEDSCOPE);
    expect(s, "{\"$schema\": \"https://www.speedscope.app/file-format-schema.json\", \"exporter\": \"pyagent ");
    expect(s, "\"name\": \"python3 server.py (pid 4242)\", \"activeProfileIndex\": 0, \"shared\": {\"frames\": "
              "[{\"name\": \"main\", \"file\": \"/abs/server.py\", \"line\": 1}, {\"name\": \"handle_request\", "
              "\"file\": \"/abs/server.py\", \"line\": 10}, {\"name\": \"<unknown>\", \"file\": \"<unknown>\", "
              "\"line\": 0}, {\"name\": \"Handler.parse\", \"file\": \"/abs/server.py\", \"line\": 20}, {\"name\": "
              "\"builtins.len\"}, {\"name\": \"gen\", \"file\": \"/abs/server.py\", \"line\": 30}]}, \"profiles\": [\n");
    expect(s, "{\"type\": \"evented\", \"name\": \"MainThread (tid 100)\", \"unit\": \"nanoseconds\", \"startValue\": "
              "100000, \"endValue\": 1000000, \"events\": [{\"type\": \"O\", \"frame\": 0, \"at\": 100000}, {\"type\": "
              "\"O\", \"frame\": 1, \"at\": 200000}, {\"type\": \"O\", \"frame\": 3, \"at\": 250000}, {\"type\": \"C\", "
              "\"frame\": 3, \"at\": 300000}, {\"type\": \"O\", \"frame\": 4, \"at\": 310000}, {\"type\": \"C\", "
              "\"frame\": 4, \"at\": 320000}, {\"type\": \"C\", \"frame\": 1, \"at\": 400000}, {\"type\": \"O\", "
              "\"frame\": 1, \"at\": 500000}, {\"type\": \"O\", \"frame\": 5, \"at\": 550000}, {\"type\": \"C\", "
              "\"frame\": 5, \"at\": 560000}, {\"type\": \"O\", \"frame\": 5, \"at\": 600000}, {\"type\": \"C\", "
              "\"frame\": 5, \"at\": 650000}, {\"type\": \"C\", \"frame\": 1, \"at\": 700000}, {\"type\": \"C\", "
              "\"frame\": 0, \"at\": 1000000}]},\n");
    expect(s, "{\"type\": \"evented\", \"name\": \"worker (tid 200)\", \"unit\": \"nanoseconds\", \"startValue\": "
              "120000, \"endValue\": 186000, \"events\": [{\"type\": \"O\", \"frame\": 1, \"at\": 120000}, {\"type\": "
              "\"C\", \"frame\": 1, \"at\": 180000}, {\"type\": \"O\", \"frame\": 2, \"at\": 185000}, {\"type\": "
              "\"C\", \"frame\": 2, \"at\": 186000}]}\n]}\n");
    done(&r);
    pa_tb_free(b);
}

static void test_export_samples_only(void **state)
{
    struct run r;
    pa_tb_t *b = sample_trace();
    const char *s = render(&r, b, PA_EXPORT_SPEEDSCOPE);
    expect(s, "\"shared\": {\"frames\": [{\"name\": \"<module>\", \"file\": \"/abs/x.py\", \"line\": 1}, {\"name\": "
              "\"recurse\", \"file\": \"/abs/x.py\", \"line\": 10}, {\"name\": \"spin_alpha\", \"file\": \"/abs/x.py\", "
              "\"line\": 5}, {\"name\": \"[native] libfoo.so\"}, {\"name\": \"[no frames]\"}, {\"name\": \"<module>\", "
              "\"file\": \"/abs/y.py\", \"line\": 1}, {\"name\": \"work\", \"file\": \"/abs/y.py\", \"line\": 30}]}");
    expect(s, "{\"type\": \"sampled\", \"name\": \"MainThread (tid 100)\", \"unit\": \"nanoseconds\", \"startValue\": 0, "
              "\"endValue\": 26000000, \"samples\": [[0, 1, 1, 2], [0, 1, 1, 2], [0, 1, 1, 2], [0, 1, 1]], \"weights\": "
              "[10000000, 5000000, 10000000, 1000000]},\n");
    expect(s, "\"endValue\": 12000000, \"samples\": [[3], [4], [5, 6]], \"weights\": [7000000, 2000000, 3000000]}\n]}\n");
    assert_string_equal(pa_sbuf_cstr(&r.err), "no call events in this trace: exported the CPU samples\n");
    done(&r);
    s = render(&r, b, PA_EXPORT_CHROME);
    expect(s, "\n{\"ph\": \"i\", \"pid\": 100, \"tid\": 100, \"ts\": 1.000, \"s\": \"t\", \"cat\": \"sample\", \"name\": "
              "\"spin_alpha (x.py:6)\", \"args\": {\"stack\": [\"<module> (x.py:20)\", \"recurse (x.py:12)\", "
              "\"recurse (x.py:13)\", \"spin_alpha (x.py:6)\"], \"task-clock\": 10000000, \"instructions\": 1000, "
              "\"cycles\": 2000}},\n");
    expect(s, "\"tid\": 200, \"ts\": 2.000, \"s\": \"t\", \"cat\": \"sample\", \"name\": \"[no frames]\"");
    assert_int_equal(check_nesting(s), 0);
    done(&r);
    pa_tb_free(b);
}

static void test_export_empty_and_hostile(void **state)
{
    struct run r;
    pa_tb_t *b = pa_tb_new();
    pa_tb_header(b, 1, 2);
    pa_tb_chunk(b);
    const char *s = render(&r, b, PA_EXPORT_SPEEDSCOPE);
    expect(s, "\"shared\": {\"frames\": []}, \"profiles\": [\n]}\n");
    assert_string_equal(pa_sbuf_cstr(&r.err), "no call events or CPU samples in this trace: nothing to export\n");
    done(&r);
    s = render(&r, b, PA_EXPORT_CHROME);
    expect(s, "\"traceEvents\": [\n{\"ph\": \"M\", \"pid\": 1, \"tid\": 1, \"ts\": 0.000, \"name\": \"process_name\", "
              "\"args\": {\"name\": \"unknown process\"}}\n]}\n");
    done(&r);
    pa_tb_free(b);
    /* Names with quotes, control characters and bad UTF-8; a thread without a record. */
    b = pa_tb_new();
    pa_tb_header(b, 1, 2);
    pa_tb_string(b, 1, "evil\"</script>\n\x01\xff");
    pa_tb_string(b, 2, "{\"k\": \"v\\u0000\"} trailing");
    pa_tb_string(b, 3, "{\"nested\": {\"deep\": [1, 2.5e3, true, null]}}");
    pa_tb_function(b, 1, 1, 1, 7);
    pa_tb_calls_begin(b, 3, 100);
    pa_tb_calls_enter(b, 100, 1, 0);
    pa_tb_calls_enter(b, 150, 1, 1);
    pa_tb_calls_end(b);
    pa_tb_events_begin(b, 3, 120);
    pa_tb_ev_mark(b, 120, 1, 2);
    pa_tb_ev_mark(b, 130, 1, 3);
    pa_tb_ev_counter_double(b, 140, 1, 1e300 * 1e300); /* infinite: no counter event */
    pa_tb_events_end(b);
    pa_tb_chunk(b);
    s = render(&r, b, PA_EXPORT_CHROME);
    expect(s, "\"name\": \"evil\\\"</script>\\n\\u0001\\ufffd\"");
    expect(s, "\"args\": {\"fields_text\": \"{\\\"k\\\": \\\"v\\\\u0000\\\"} trailing\"}}");
    expect(s, "\"args\": {\"nested\": {\"deep\": [1, 2.5e3, true, null]}}}");
    expect(s, "\"tid\": 1073741827, \"ts\": 0.000, \"name\": \"thread_name\", \"args\": {\"name\": \"thread #3\"}}");
    assert_null(strstr(s, "\"ph\": \"C\""));
    assert_int_equal(check_nesting(s), 2);
    done(&r);
    s = render(&r, b, PA_EXPORT_SPEEDSCOPE);
    expect(s, "{\"type\": \"O\", \"frame\": 0, \"at\": 0}, {\"type\": \"O\", \"frame\": 0, \"at\": 50}, {\"type\": "
              "\"C\", \"frame\": 0, \"at\": 50}, {\"type\": \"C\", \"frame\": 0, \"at\": 50}]}"); /* from the earliest event: no PROCESS */
    done(&r);
    pa_tb_free(b);
}

static int collect(pa_sbuf_t *out, void *arg)
{
    pa_sbuf_t *all = arg;
    pa_sbuf_append(all, out->buf, out->len);
    pa_sbuf_reset(out);
    return 0;
}

/* Big exports go out in pieces that add up to the whole. */
static void test_export_flush(void **state)
{
    pa_tb_t *b = pa_tb_new();
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
    for (int f = PA_EXPORT_CHROME; f <= PA_EXPORT_SPEEDSCOPE; f++) {
        struct run r;
        char *whole = strdup(render(&r, b, (enum pa_export_format)f));
        done(&r);
        size_t len;
        const uint8_t *d = pa_tb_data(b, &len);
        pa_sbuf_t all, diag;
        pa_sbuf_init(&all), pa_sbuf_init(&diag), pa_sbuf_init(&r.out), pa_sbuf_init(&r.err);
        r.t = pa_trace_new();
        assert_int_equal(pa_decode_buf(d, len, "c.trace", r.t, &diag), 0);
        struct pa_export_opts o = { .format = (enum pa_export_format)f, .flush = collect, .flush_arg = &all };
        assert_int_equal(pa_export_render(r.t, &o, &r.out, &r.err), 0);
        assert_true(all.len >= PA_EXPORT_FLUSH_BYTES);
        pa_sbuf_append(&all, r.out.buf, r.out.len);
        assert_string_equal(pa_sbuf_cstr(&all), whole);
        pa_sbuf_free(&all), pa_sbuf_free(&diag);
        done(&r);
        free(whole);
    }
    pa_tb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_chrome),           cmocka_unit_test(test_export_speedscope_evented),
        cmocka_unit_test(test_export_samples_only),     cmocka_unit_test(test_export_empty_and_hostile),
        cmocka_unit_test(test_export_flush),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
