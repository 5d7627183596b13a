/* test_summary.c — `pyagent summary` text and JSON from a decoded trace file,
 * including an unfinished one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "calls_trace.h"
#include "decode.h"
#include "summary.h"
#include "trace.h"
#include "trace_builder.h"

static pa_tb_t *build(int finished)
{
    static const char *const argv[] = { "python3", "-X", "dev", "app.py" };
    pa_tb_t *b = pa_tb_new();
    pa_tb_process(b, 4242, 99, 1000000000, 1700000000123456789ull, 4, argv, "/usr/bin/python3.12");
    pa_tb_interp(b, "3.12.1 (main, Dec 2023)", 12, "/usr/lib/python3.12", 1100000000);
    pa_tb_header(b, 1, 0);
    pa_tb_string(b, 1, "MainThread");
    pa_tb_thread(b, 1, 4242, 1000000000, 1);
    pa_tb_thread(b, 2, 4250, 1200000000, 0);
    pa_tb_node(b, 1, 0, PA_FRAME_ALLOCATOR, PA_ALLOC_MALLOC, 0);
    pa_tb_events_begin(b, 1, 1100000000);
    pa_tb_ev_alloc(b, 1100000000, 0x1000, 1000000, 1);
    pa_tb_ev_alloc(b, 1100000500, 0x2000, 2000, 1);
    pa_tb_ev_free(b, 1200000000, 0x1000);
    pa_tb_events_end(b);
    pa_tb_note(b, "perf interop unavailable");
    pa_tb_chunk(b);
    if (finished) {
        pa_tb_checkpoint(b, PA_CP_PROGRAM_END, 2400000000, 2000, 1);
        pa_tb_checkpoint(b, PA_CP_EXIT, 2500000000, 2000, 1);
        pa_tb_leak(b, PA_CP_EXIT, 1, 2000, 1, 0);
        pa_tb_stats(b, (uint64_t[]){ 123456, 234567, 34567, 2, 1, 0, 1 }, 7);
        pa_tb_chunk(b);
        pa_tb_end(b);
    }
    return b;
}

static char *summarize(pa_tb_t *b, int json, pa_trace_t **t, pa_sbuf_t *out)
{
    size_t len;
    const uint8_t *d = pa_tb_data(b, &len);
    pa_sbuf_t diag;
    pa_sbuf_init(&diag);
    pa_sbuf_init(out);
    *t = pa_trace_new();
    assert_int_equal(pa_decode_buf(d, len, "app.trace", *t, &diag), 0);
    pa_sbuf_free(&diag);
    struct pa_summary_opts o = { .json = json, .trace_path = "app.trace" };
    assert_int_equal(pa_summary_render(*t, &o, out), 0);
    return out->buf;
}

static void expect(const char *s, const char *want)
{
    if (!strstr(s, want))
        fail_msg("missing \"%s\" in:\n%s", want, s);
}

static void test_summary_text(void **state)
{
    pa_tb_t *b = build(1);
    pa_trace_t *t;
    pa_sbuf_t out;
    const char *s = summarize(b, 0, &t, &out);
    expect(s, "trace                app.trace\n");
    expect(s, "complete             yes\n");
    expect(s, "process              pid 4242, ppid 99\n");
    expect(s, "argv                 python3 -X dev app.py\n");
    expect(s, "exe                  /usr/bin/python3.12\n");
    expect(s, "started              2023-11-14T22:13:20.123456Z\n");
    expect(s, "interpreter          Python 3.12.1 (main, Dec 2023)\n");
    expect(s, "stdlib               /usr/lib/python3.12\n");
    expect(s, "duration             1.500 s (to exit)\n");
    expect(s, "threads              2\n  #1                  tid 4242  MainThread\n  #2                  tid 4250\n");
    expect(s, "events               2 alloc, 1 free, 2 checkpoints, 1 leak records\n");
    expect(s, "allocated            1,002,000 bytes\n");
    expect(s, "peak live            1,002,000 bytes in 2 blocks\n");
    expect(s, "live at program end  2,000 bytes in 1 block\n");
    expect(s, "live at exit         2,000 bytes in 1 block\n");
    expect(s, "agent memory         123,456 bytes at exit, peak 234,567, allocation table 34,567\n");
    expect(s, "chunks               2, ");
    expect(s, "agent notes          1\n  perf interop unavailable\n");
    assert_null(strstr(s, "diagnostics"));
    pa_sbuf_free(&out);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_summary_json(void **state)
{
    pa_tb_t *b = build(1);
    pa_trace_t *t;
    pa_sbuf_t out;
    const char *s = summarize(b, 1, &t, &out);
    expect(s, "{\"trace\": \"app.trace\", \"complete\": true, \"exit_checkpoint\": true, \"pid\": 4242, \"ppid\": 99, "
              "\"argv\": [\"python3\", \"-X\", \"dev\", \"app.py\"], \"exe\": \"/usr/bin/python3.12\", "
              "\"start_time\": \"2023-11-14T22:13:20.123456Z\"");
    expect(s, "\"duration_ns\": 1500000000, \"interpreter\": {\"version\": \"3.12.1 (main, Dec 2023)\", "
              "\"minor\": 12, \"stdlib\": \"/usr/lib/python3.12\"");
    expect(s, "\"threads\": [{\"serial\": 1, \"tid\": 4242, \"start_ns\": 1000000000, \"name\": \"MainThread\"}, "
              "{\"serial\": 2, \"tid\": 4250, \"start_ns\": 1200000000, \"name\": null}]");
    expect(s, "\"events\": {\"alloc\": 2, \"free\": 1, \"checkpoints\": 2, \"leak_records\": 1}");
    expect(s, "\"peak_live_bytes\": 1002000");
    expect(s, "\"live_at_exit\": {\"bytes\": 2000, \"count\": 1, \"t_ns\": 2500000000}");
    expect(s, "\"stats\": {\"agent_bytes\": 123456, \"agent_peak\": 234567, \"table_bytes\": 34567, \"allocs\": 2, "
              "\"frees\": 1, \"dropped\": 0, \"stacks\": 1}");
    expect(s, "\"end_frame\": true, \"format\": \"1.0\"");
    expect(s, "\"chunks\": 2, \"bad_chunks\": 0");
    expect(s, "\"notes\": [\"perf interop unavailable\"], \"diagnostics\": [], \"diagnostics_total\": 0}\n");
    pa_sbuf_free(&out);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_summary_incomplete(void **state)
{
    pa_tb_t *b = build(0);
    pa_tb_bytes(b, "\x51\x2a\x4d\x18\x10\x00", 6); /* a torn chunk head */
    pa_trace_t *t;
    pa_sbuf_t out;
    const char *s = summarize(b, 0, &t, &out);
    expect(s, "complete             no: no end frame, no exit checkpoint (the process was killed or is still "
              "running)\n");
    expect(s, "duration             0.200 s (to the last event)\n");
    expect(s, "diagnostics          1\n  torn tail at offset ");
    pa_sbuf_free(&out);
    pa_trace_free(t);
    s = summarize(b, 1, &t, &out);
    expect(s, "\"complete\": false, \"exit_checkpoint\": false");
    expect(s, "\"live_at_exit\": null");
    expect(s, "\"end_frame\": false");
    pa_sbuf_free(&out);
    pa_trace_free(t);
    pa_tb_free(b);
}

static pa_tb_t *build_sampled(void)
{
    static const struct pa_tb_event ev[] = {
        { "task-clock", 1, 1, PA_EVF_LEADER | PA_EVF_TIME },
        { "instructions", 0, 1, PA_EVF_MULTIPLEXED },
    };
    pa_tb_t *b = pa_tb_new();
    pa_tb_header(b, 1, 0);
    pa_tb_sampling(b, PA_SAMPLE_FREQ, 997, 38, 2, ev);
    pa_tb_events_begin(b, 1, 0);
    pa_tb_ev_sample(b, 10, 0, 2, (uint64_t[]){ 1000000000, 5000 });
    pa_tb_ev_sample(b, 20, 0, 2, (uint64_t[]){ 500000000, 1234 });
    pa_tb_events_end(b);
    pa_tb_events_begin(b, 2, 0);
    pa_tb_ev_sample(b, 15, 0, 1, (uint64_t[]){ 1000000 });
    pa_tb_events_end(b);
    pa_tb_stats(b, (uint64_t[]){ 1, 2, 3, 0, 0, 0, 0, 3, 7, 2 }, 10);
    pa_tb_chunk(b);
    return b;
}

static void test_summary_samples(void **state)
{
    pa_tb_t *b = build_sampled();
    pa_trace_t *t;
    pa_sbuf_t out;
    const char *s = summarize(b, 0, &t, &out);
    expect(s, "sampling             997 Hz of task-clock (signal 38)\n"
              "samples              3 in 2 threads, 7 lost\n"
              "  task-clock         1.501 s (leader)\n"
              "  instructions       6,234 (multiplexed)\n");
    pa_sbuf_free(&out);
    pa_trace_free(t);
    s = summarize(b, 1, &t, &out);
    expect(s, "\"sampling\": {\"mode\": \"freq\", \"rate\": 997, \"signal\": 38, \"events\": [{\"name\": "
              "\"task-clock\", \"type\": 1, \"config\": 1, \"leader\": true, \"multiplexed\": false, \"time\": true, "
              "\"total\": 1501000000}, {\"name\": \"instructions\", \"type\": 0, \"config\": 1, \"leader\": false, "
              "\"multiplexed\": true, \"time\": false, \"total\": 6234}]}, \"samples\": {\"count\": 3, "
              "\"not_analysed\": 0, \"threads\": 2, \"lost\": 7}");
    expect(s, "\"samples\": 3, \"samples_lost\": 7, \"sampled_threads\": 2}");
    pa_sbuf_free(&out);
    pa_trace_free(t);
    pa_tb_free(b);
    b = build(1); /* no sampling at all */
    s = summarize(b, 0, &t, &out);
    expect(s, "sampling             off\n");
    pa_sbuf_free(&out);
    pa_trace_free(t);
    s = summarize(b, 1, &t, &out);
    expect(s, "\"sampling\": null, \"samples\": {\"count\": 0, \"not_analysed\": 0, \"threads\": 0, \"lost\": null}");
    pa_sbuf_free(&out);
    pa_trace_free(t);
    pa_tb_free(b);
}

/* Trace mode: the set-up, the counts of call events and markers, the counted table. */
static void test_summary_trace_mode(void **state)
{
    pa_tb_t *b = calls_trace();
    pa_trace_t *t;
    pa_sbuf_t out;
    const char *s = summarize(b, 0, &t, &out);
    expect(s, "tracing              Python calls, C calls; counting handle_request\n"
              "call events          18 (9 entries)\n"
              "markers              1 marks, 2 counter values, 4 region events, 2 pause/resume, 3 counted calls\n");
    expect(s, "\ncounted functions (PYAGENT_COUNT): 3 calls, bytes allocated during the calls\n");
    expect(s, "           1    60.000 us    60.000 us    60.000 us    60.000 us         0 ns              0  "
              "handle_request  worker      /abs/server.py:10\n");
    pa_sbuf_free(&out);
    pa_trace_free(t);
    s = summarize(b, 1, &t, &out);
    expect(s, ", \"tracing\": {\"python\": true, \"c\": true, \"start_paused\": false, \"count\": "
              "[\"handle_request\"]}, \"trace_events\": {\"call_records\": 3, \"call_events\": 18, \"calls\": 9, "
              "\"call_events_not_analysed\": 0, \"marks\": 1, \"counters\": 2, \"regions\": 4, \"toggles\": 2, "
              "\"counted\": 3, \"not_analysed\": 0}, \"counted\": [{\"function\": \"handle_request\", \"file\": "
              "\"/abs/server.py\", \"line\": 10, \"thread\": \"MainThread\", \"tid\": 100, \"calls\": 2, ");
    pa_sbuf_free(&out);
    pa_trace_free(t);
    pa_tb_free(b);
    /* A trace without trace mode says so, with an empty counted list. */
    b = build(1);
    s = summarize(b, 0, &t, &out);
    expect(s, "tracing              off\n");
    assert_null(strstr(s, "counted functions"));
    pa_sbuf_free(&out);
    pa_trace_free(t);
    s = summarize(b, 1, &t, &out);
    expect(s, "\"tracing\": null, \"trace_events\": {\"call_records\": 0,");
    expect(s, "\"counted\": [], \"end_frame\"");
    pa_sbuf_free(&out);
    pa_trace_free(t);
    pa_tb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_text),
        cmocka_unit_test(test_summary_json),
        cmocka_unit_test(test_summary_incomplete),
        cmocka_unit_test(test_summary_samples),
        cmocka_unit_test(test_summary_trace_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
