/* test_calls.c — trace mode in the model and its analyses: CALLS and TRACING decoding,
 * marks/counters/regions/toggles/counted events, call pairing (unfinished, unmatched,
 * generator segments), filters, counter deltas, counted aggregation, malformed records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "calls_trace.h"
#include "counted.h"
#include "decode.h"
#include "deltas.h"
#include "pa_mem.h"
#include "trace.h"

static pa_trace_t *load(pa_tb_t *b)
{
    size_t len;
    const uint8_t *d = pa_tb_data(b, &len);
    pa_sbuf_t diag;
    pa_trace_t *t = pa_trace_new();
    pa_sbuf_init(&diag);
    assert_int_equal(pa_decode_buf(d, len, "c.trace", t, &diag), 0);
    assert_string_equal(pa_sbuf_cstr(&diag), "");
    pa_sbuf_free(&diag);
    pa_trace_finish(t);
    return t;
}

static int delta_ids; /* the encoding the next load_calls_trace uses */

static pa_trace_t *load_calls_trace(void)
{
    pa_tb_t *b = calls_trace_encoded(delta_ids);
    pa_trace_t *t = load(b);
    pa_tb_free(b);
    return t;
}

static const char *fname(const pa_trace_t *t, const struct pa_call *c)
{
    const char *name, *file;
    uint64_t line;
    pa_trace_function(t, c->func, &name, &file, &line);
    return name;
}

static void test_calls_decode(void **state)
{
    pa_trace_t *t = load_calls_trace();
    const struct pa_counts *c = pa_trace_counts(t);
    assert_int_equal(c->call_records, 3);
    assert_int_equal(c->call_events, 7 + 5 + 6);
    assert_int_equal(c->call_enters, 4 + 2 + 3);
    assert_int_equal(c->marks, 1);
    assert_int_equal(c->counters, 2);
    assert_int_equal(c->regions, 4);
    assert_int_equal(c->toggles, 2);
    assert_int_equal(c->counted, 3);
    assert_int_equal(c->allocs, 3);
    const struct pa_tracing *tr = pa_trace_tracing(t);
    assert_true(tr->present);
    assert_int_equal(tr->flags, PA_TRACE_PYTHON | PA_TRACE_C);
    assert_int_equal(tr->n, 1);
    assert_string_equal(tr->patterns[0], "handle_request");
    const struct pa_call_record *r;
    assert_int_equal(pa_trace_call_records(t, &r), 3); /* by serial, then base_ns */
    assert_int_equal(r[0].serial, 1);
    assert_int_equal(r[0].base_ns, US(100));
    assert_int_equal(r[0].last_ns, US(400));
    assert_int_equal(r[1].base_ns, US(500));
    assert_int_equal(r[2].serial, 2);
    const struct pa_annot *a;
    assert_int_equal(pa_trace_annots(t, &a), 9); /* by time */
    assert_int_equal(a[0].type, PA_EV_REGION);
    assert_int_equal(a[0].t, US(210));
    assert_int_equal(a[3].type, PA_EV_COUNTER);
    assert_int_equal(a[3].ival, 3);
    assert_int_equal(a[4].is_double, 1);
    assert_true(a[4].dval == 0.5);
    assert_int_equal(a[7].type, PA_EV_TOGGLE);
    assert_int_equal(a[7].arg, 0);
    assert_int_equal(a[7].cause, PA_TOGGLE_API);
    assert_int_equal(pa_trace_thread_last_ns(t, 1), US(1000));
    assert_int_equal(pa_trace_thread_last_ns(t, 2), US(186));
    /* The replay still sees the allocations among the new events. */
    assert_int_equal(pa_trace_replay(t)->events, 4); /* with the free of a block never seen */
    assert_int_equal(pa_trace_replay(t)->peak_bytes, 112);
    assert_int_equal(pa_calls_base_ns(t), CT_START);
    pa_trace_free(t);
}

static void test_calls_pairing(void **state)
{
    delta_ids = *state != NULL; /* the same calls whichever encoding the records use */
    pa_trace_t *t = load_calls_trace();
    struct pa_calls c;
    struct pa_calls_opts o = { .until = UINT64_MAX, .max_depth = -1 };
    assert_int_equal(pa_calls_build(t, &o, &c), 0);
    static const struct {
        uint64_t serial, start, end;
        const char *name;
        uint32_t depth;
        unsigned exit, flags;
    } want[] = {
        { 1, 100, 1000, "main", 0, PA_CALL_ENTER, PA_CALLF_UNFINISHED },
        { 2, 120, 180, "handle_request", 0, PA_CALL_RETURN, 0 },
        { 2, 185, 186, PA_UNKNOWN, 0, PA_CALL_RETURN, 0 },
        { 1, 200, 400, "handle_request", 1, PA_CALL_RETURN, 0 },
        { 1, 250, 300, "Handler.parse", 2, PA_CALL_RETURN, 0 },
        { 1, 310, 320, "builtins.len", 2, PA_CALL_RETURN, 0 },
        { 1, 500, 700, "handle_request", 1, PA_CALL_UNWIND, 0 },
        { 1, 550, 560, "gen", 2, PA_CALL_YIELD, 0 },
        { 1, 600, 650, "gen", 2, PA_CALL_UNWIND, PA_CALLF_RESUMED },
    };
    assert_int_equal(c.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < c.n; i++) {
        assert_int_equal(c.v[i].serial, want[i].serial);
        assert_int_equal(c.v[i].start, US(want[i].start));
        assert_int_equal(c.v[i].end, US(want[i].end));
        assert_string_equal(fname(t, &c.v[i]), want[i].name);
        assert_int_equal(c.v[i].depth, want[i].depth);
        assert_int_equal(c.v[i].exit, want[i].exit);
        assert_int_equal(c.v[i].flags, want[i].flags);
    }
    assert_int_equal(c.unmatched_exits, 1);
    assert_int_equal(c.unknown_funcs, 1);
    assert_int_equal(c.too_deep, 0);
    const char *name, *file;
    uint64_t line;
    assert_int_equal(pa_trace_function(t, 4, &name, &file, &line), 1);
    assert_null(file); /* a C function */
    assert_int_equal(pa_trace_function(t, 9, &name, &file, &line), 0);
    assert_string_equal(file, PA_UNKNOWN);
    pa_calls_free(&c);
    delta_ids = 0;
    pa_trace_free(t);
}

static void test_calls_function_subtree(void **state)
{
    pa_trace_t *t = load_calls_trace();
    struct pa_calls c;
    struct pa_calls_opts o = { .function = "handle_request", .until = UINT64_MAX, .max_depth = -1 };
    assert_int_equal(pa_calls_build(t, &o, &c), 0);
    static const char *const names[] = { "handle_request", "handle_request", "Handler.parse", "builtins.len",
                                         "handle_request", "gen", "gen" };
    assert_int_equal(c.n, 7);
    for (size_t i = 0; i < c.n; i++)
        assert_string_equal(fname(t, &c.v[i]), names[i]);
    assert_int_equal(c.v[2].rdepth, 1);
    assert_int_equal(c.v[2].depth, 2);
    assert_int_equal(c.nspans, 3); /* the matching calls, by thread then start */
    assert_int_equal(c.spans[0].serial, 1);
    assert_int_equal(c.spans[0].start, US(200));
    assert_int_equal(c.spans[1].end, US(700));
    assert_int_equal(c.spans[2].serial, 2);
    pa_calls_free(&c);
    /* --depth counts below the match; a qualified name matches by its last parts. */
    o.max_depth = 0;
    assert_int_equal(pa_calls_build(t, &o, &c), 0);
    assert_int_equal(c.n, 3);
    pa_calls_free(&c);
    o = (struct pa_calls_opts){ .function = "parse", .until = UINT64_MAX, .max_depth = -1 };
    assert_int_equal(pa_calls_build(t, &o, &c), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.v[0].rdepth, 0);
    pa_calls_free(&c);
    assert_true(pa_calls_name_matches("Handler.parse", "Handler.parse"));
    assert_true(pa_calls_name_matches("mod.Handler.parse", "Handler.parse"));
    assert_true(pa_calls_name_matches("f.<locals>.g", "g"));
    assert_false(pa_calls_name_matches("Handler.parse", "andler.parse"));
    assert_false(pa_calls_name_matches("reparse", "parse"));
    assert_false(pa_calls_name_matches("parse", ""));
    pa_trace_free(t);
}

static void test_calls_filters(void **state)
{
    pa_trace_t *t = load_calls_trace();
    struct pa_calls c;
    uint64_t two = 2;
    struct pa_calls_opts o = { .serials = &two, .nserials = 1, .until = UINT64_MAX, .max_depth = -1 };
    assert_int_equal(pa_calls_build(t, &o, &c), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.v[0].serial, 2);
    pa_calls_free(&c);
    /* Calls overlapping [320, 560]: main, the first request (ends 400), len (ends 320),
     * the second request and gen's first segment (starts 550). */
    o = (struct pa_calls_opts){ .since = US(320), .until = US(550), .max_depth = -1 };
    assert_int_equal(pa_calls_build(t, &o, &c), 0);
    static const uint64_t starts[] = { 100, 200, 310, 500, 550 };
    assert_int_equal(c.n, 5);
    for (size_t i = 0; i < c.n; i++)
        assert_int_equal(c.v[i].start, US(starts[i]));
    pa_calls_free(&c);
    o = (struct pa_calls_opts){ .until = UINT64_MAX, .max_depth = 0 };
    assert_int_equal(pa_calls_build(t, &o, &c), 0);
    assert_int_equal(c.n, 3); /* main, and the worker's two top-level calls */
    pa_calls_free(&c);
    pa_trace_free(t);
}

static void test_calls_deltas(void **state)
{
    pa_trace_t *t = load_calls_trace();
    struct pa_deltas d;
    struct pa_delta x;
    assert_int_equal(pa_deltas_build(t, &d), 0);
    assert_int_equal(d.nevents, 2);
    assert_int_equal(d.cpu, 0);
    assert_string_equal(d.names[1], "instructions");
    assert_true(d.have_alloc);
    /* Thread 1's samples (task-clock ns, instructions): 150 (100000, 1000), 450 (300000,
     * 3000), 900 (400000, 4000). A span (start, end] gets exactly the deltas of the samples
     * taken in it; a span containing none gets 0 (no interpolation between samples). */
    /* First request [200, 400]: no sample in (200, 400] -> 0. */
    pa_deltas_get(&d, 1, US(200), US(400), &x);
    assert_true(x.have_samples);
    assert_int_equal(x.v[0], 0);
    assert_int_equal(x.v[1], 0);
    assert_int_equal(x.alloc_bytes, 64); /* [200, 400): not the block at 400 */
    assert_int_equal(x.alloc_count, 1);
    /* main [100, 1000]: the samples at 150, 450 and 900. */
    pa_deltas_get(&d, 1, US(100), US(1000), &x);
    assert_int_equal(x.v[0], 100000 + 300000 + 400000);
    assert_int_equal(x.v[1], 1000 + 3000 + 4000);
    assert_int_equal(x.alloc_bytes, 112);
    assert_int_equal(x.alloc_count, 3);
    /* Second request [500, 700]: no sample in (500, 700] -> 0 (the 400000 ns of the sample
     * at 900 stay with it, not spread back over the wall time since 450). */
    pa_deltas_get(&d, 1, US(500), US(700), &x);
    assert_int_equal(x.v[0], 0);
    assert_int_equal(x.v[1], 0);
    assert_int_equal(x.alloc_count, 0);
    /* The bounds: a sample at the start is not in the span, one at the end is.
     * (450, 900] holds only the sample at 900; (449, 450] only the one at 450. */
    pa_deltas_get(&d, 1, US(450), US(900), &x);
    assert_int_equal(x.v[0], 400000);
    assert_int_equal(x.v[1], 4000);
    pa_deltas_get(&d, 1, US(449), US(450), &x);
    assert_int_equal(x.v[0], 300000);
    assert_int_equal(x.v[1], 3000);
    pa_deltas_get(&d, 1, US(450), US(450), &x);
    assert_int_equal(x.v[0], 0);
    /* From the thread's start (50) to just before its first sample: nothing is credited
     * (no ramp from the thread's start); up to the sample at 150 it gets that sample. */
    pa_deltas_get(&d, 1, US(50), US(149), &x);
    assert_int_equal(x.v[0], 0);
    pa_deltas_get(&d, 1, US(50), US(150), &x);
    assert_int_equal(x.v[0], 100000);
    assert_int_equal(x.v[1], 1000);
    /* After the last sample (900) nothing is taken; a thread without samples has none. */
    pa_deltas_get(&d, 1, US(950), US(1000), &x);
    assert_true(x.have_samples);
    assert_int_equal(x.v[0], 0);
    pa_deltas_get(&d, 2, US(120), US(180), &x);
    assert_false(x.have_samples);
    assert_int_equal(x.alloc_bytes, 0);
    pa_deltas_free(&d);
    pa_trace_free(t);
}

static void test_calls_counted(void **state)
{
    pa_trace_t *t = load_calls_trace();
    struct pa_counted_row *r;
    size_t n = pa_counted_rows(t, NULL, 0, &r);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].name, "handle_request");
    assert_string_equal(r[0].thread, "MainThread");
    assert_string_equal(r[0].file, "/abs/server.py");
    assert_int_equal(r[0].line, 10);
    assert_int_equal(r[0].tid, 100);
    assert_int_equal(r[0].calls, 2);
    assert_int_equal(r[0].total_ns, 400000);
    assert_int_equal(r[0].min_ns, 200000);
    assert_int_equal(r[0].max_ns, 200000);
    assert_int_equal(r[0].cpu_ns, 350000);
    assert_int_equal(r[0].alloc_bytes, 64);
    assert_int_equal(r[0].alloc_blocks, 1);
    assert_string_equal(r[1].thread, "worker");
    assert_int_equal(r[1].calls, 1);
    pa_mem_free(r);
    uint64_t two = 2;
    assert_int_equal(pa_counted_rows(t, &two, 1, &r), 1);
    assert_int_equal(r[0].serial, 2);
    pa_mem_free(r);
    pa_sbuf_t o;
    pa_sbuf_init(&o);
    assert_int_equal(pa_counted_json(t, NULL, 0, &o), 0);
    assert_string_equal(pa_sbuf_cstr(&o),
                        "\"counted\": [{\"function\": \"handle_request\", \"file\": \"/abs/server.py\", \"line\": 10, "
                        "\"thread\": \"MainThread\", \"tid\": 100, \"calls\": 2, \"total_ns\": 400000, \"mean_ns\": "
                        "200000, \"min_ns\": 200000, \"max_ns\": 200000, \"cpu_ns\": 350000, \"alloc_bytes\": 64, "
                        "\"alloc_blocks\": 1}, {\"function\": \"handle_request\", \"file\": \"/abs/server.py\", "
                        "\"line\": 10, \"thread\": \"worker\", \"tid\": 200, \"calls\": 1, \"total_ns\": 60000, "
                        "\"mean_ns\": 60000, \"min_ns\": 60000, \"max_ns\": 60000, \"cpu_ns\": 0, \"alloc_bytes\": 0, "
                        "\"alloc_blocks\": 0}]");
    pa_sbuf_reset(&o);
    assert_int_equal(pa_counted_text(t, NULL, 0, &o), 0);
    const char *s = pa_sbuf_cstr(&o);
    if (!strstr(s, "\ncounted functions (PYAGENT_COUNT): 3 calls, bytes allocated during the calls\n"
                   "       Calls        Total         Mean          Min          Max          CPU      Allocated  "
                   "Function        Thread      Location\n"
                   "           2   400.000 us   200.000 us   200.000 us   200.000 us   350.000 us             64  "
                   "handle_request  MainThread  /abs/server.py:10\n"))
        fail_msg("%s", s);
    pa_sbuf_free(&o);
    pa_trace_free(t);
}

static void test_calls_regions(void **state)
{
    pa_trace_t *t = load_calls_trace();
    struct pa_region *r;
    size_t n = pa_regions_build(t, NULL, 0, &r);
    assert_int_equal(n, 2); /* "stray" ended without a begin */
    assert_string_equal(pa_trace_string(t, r[0].name), "outer");
    assert_int_equal(r[0].start, US(210));
    assert_int_equal(r[0].end, US(1000));
    assert_true(r[0].unfinished);
    assert_string_equal(pa_trace_string(t, r[1].name), "db");
    assert_int_equal(r[1].end, US(380));
    assert_false(r[1].unfinished);
    pa_mem_free(r);
    uint64_t two = 2;
    assert_int_equal(pa_regions_build(t, &two, 1, &r), 0);
    pa_mem_free(r);
    pa_trace_free(t);
}

/* Feeds records; @return the error text ("" when fed). */
static const char *feed(pa_tb_t *b, pa_trace_t **t, char *err, size_t len)
{
    size_t n;
    const uint8_t *recs = pa_tb_records(b, &n);
    *t = pa_trace_new();
    pa_trace_feed(*t, recs, n, err, len);
    pa_trace_finish(*t);
    return err;
}

static void test_calls_malformed(void **state)
{
    static const struct {
        uint8_t tag;
        uint8_t body[12];
        size_t len;
        const char *why;
    } bad[] = {
        /* serial 1, base 0, enter dt 0 with function id 0 */
        { PA_REC_CALLS, { 1, 0, 0, 0 }, 4, "CALLS record: function id 0 at body offset 0" },
        { PA_REC_CALLS, { 1, 0, 4, 2, 0x80 }, 5, "CALLS record: bad call event at body offset 2" },
        { PA_REC_CALLS, { 1, 0, 0 }, 3, "CALLS record: bad call event at body offset 0" }, /* no function */
        { PA_REC_CALLS, { 1 }, 1, "CALLS record: body too short" },
        /* CALLS_DELTA: ids 1 then 1 - 2 */
        { PA_REC_CALLS_DELTA, { 1, 0, 0, 4, 0, 6 }, 6, "CALLS record: function id 0 at body offset 2" },
        /* base 2^64 - 2, then dt 2: the time overflows */
        { PA_REC_CALLS, { 1, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x09 }, 12,
          "CALLS record: time overflows at body offset 0" },
        { PA_REC_TRACING, { 0, 5, 1, 'x' }, 4, "TRACING record: 5 patterns exceed the record" },
        { PA_REC_EVENTS, { 1, 0, PA_EV_COUNTER, 0, 1, 2, 0 }, 7, "EVENTS record: bad event at body offset 0" },
        { PA_REC_EVENTS, { 1, 0, PA_EV_REGION, 0, 1, 3 }, 6, "EVENTS record: bad event at body offset 0" },
        { PA_REC_EVENTS, { 1, 0, PA_EV_TOGGLE, 0, 2, 1 }, 6, "EVENTS record: bad event at body offset 0" },
        { PA_REC_EVENTS, { 1, 0, PA_EV_COUNTED, 0, 0, 1, 1, 1, 1 }, 9, "EVENTS record: bad event at body offset 0" },
        { PA_REC_EVENTS, { 1, 0, PA_EV_COUNTER, 0, 1, 1, 0, 0 }, 8, "EVENTS record: bad event at body offset 0" },
        { PA_REC_EVENTS, { 1, 0, 9, 0 }, 4, "EVENTS record: bad event at body offset 0" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pa_tb_t *b = pa_tb_new();
        pa_trace_t *t;
        char err[200];
        pa_tb_calls_begin(b, 1, 10); /* a good record first: kept */
        pa_tb_calls_enter(b, 11, 1, 0);
        pa_tb_calls_end(b);
        pa_tb_raw_record(b, bad[i].tag, bad[i].body, bad[i].len);
        pa_tb_calls_begin(b, 1, 20); /* after the bad one: not read */
        pa_tb_calls_enter(b, 21, 1, 0);
        pa_tb_calls_end(b);
        const char *e = feed(b, &t, err, sizeof err);
        if (!strstr(e, bad[i].why))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e, bad[i].why);
        assert_int_equal(pa_trace_counts(t)->call_records, 1);
        assert_int_equal(pa_trace_counts(t)->bad_records, 1);
        const struct pa_annot *a;
        assert_int_equal(pa_trace_annots(t, &a), 0);
        pa_trace_free(t);
        pa_tb_free(b);
    }
}

/* Entries beyond the depth limit are dropped with their exits; the rest still nests. */
static void test_calls_depth_limit(void **state)
{
    pa_tb_t *b = pa_tb_new();
    pa_trace_t *t;
    char err[200];
    uint64_t n = PA_CALLS_MAX_DEPTH + 5, tm = 100;
    pa_tb_string(b, 1, "rec");
    pa_tb_string(b, 2, "/r.py");
    pa_tb_function(b, 1, 1, 2, 1);
    pa_tb_calls_begin(b, 1, tm);
    for (uint64_t i = 0; i < n; i++)
        pa_tb_calls_enter(b, tm++, 1, 0);
    for (uint64_t i = 0; i < n; i++)
        pa_tb_calls_exit(b, tm++, PA_CALL_RETURN);
    pa_tb_calls_exit(b, tm++, PA_CALL_RETURN); /* one more: unmatched */
    pa_tb_calls_end(b);
    assert_string_equal(feed(b, &t, err, sizeof err), "");
    struct pa_calls c;
    struct pa_calls_opts o = { .until = UINT64_MAX, .max_depth = 2 };
    assert_int_equal(pa_calls_build(t, &o, &c), 0);
    assert_int_equal(c.too_deep, 5);
    assert_int_equal(c.unmatched_exits, 1);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.v[0].start, 100);
    assert_int_equal(c.v[0].end, 100 + 2 * n - 1); /* the outermost exits last */
    assert_int_equal(c.v[2].depth, 2);
    pa_calls_free(&c);
    pa_trace_free(t);
    pa_tb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calls_decode),      cmocka_unit_test(test_calls_pairing),
        cmocka_unit_test_prestate(test_calls_pairing, (void *)1),
        cmocka_unit_test(test_calls_function_subtree), cmocka_unit_test(test_calls_filters),
        cmocka_unit_test(test_calls_deltas),      cmocka_unit_test(test_calls_counted),
        cmocka_unit_test(test_calls_regions),     cmocka_unit_test(test_calls_malformed),
        cmocka_unit_test(test_calls_depth_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
