/* test_trace.c — the model: records fed in any order, ids resolved afterwards, hostile
 * records rejected with their offset, and the event replay (peak, live fallback). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "idmap.h"
#include "trace.h"
#include "trace_builder.h"

/* Feeds the builder's pending records into a new, finished model. */
static pa_trace_t *feed(pa_tb_t *b, int want_rc, char *err, size_t errlen)
{
    size_t len;
    const uint8_t *r = pa_tb_records(b, &len);
    pa_trace_t *t = pa_trace_new();
    assert_non_null(t);
    assert_int_equal(pa_trace_feed(t, r, len, err, errlen), want_rc);
    pa_tb_clear_records(b);
    pa_trace_finish(t);
    return t;
}

static void test_trace_forward_references(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[256];
    /* Node and leak first; function and strings only in a later "chunk". */
    pa_tb_node(b, 2, 1, PA_FRAME_ALLOCATOR, PA_ALLOC_CALLOC, 0);
    pa_tb_leak(b, PA_CP_EXIT, 2, 10, 1, 0);
    size_t len;
    const uint8_t *r = pa_tb_records(b, &len);
    pa_trace_t *t = pa_trace_new();
    assert_int_equal(pa_trace_feed(t, r, len, err, sizeof err), 0);
    pa_tb_clear_records(b);
    pa_tb_node(b, 1, 0, PA_FRAME_PYTHON, 7, 33);
    pa_tb_function(b, 7, 11, 12, 30);
    pa_tb_string(b, 11, "late");
    pa_tb_string(b, 12, "/x/late.py");
    r = pa_tb_records(b, &len);
    assert_int_equal(pa_trace_feed(t, r, len, err, sizeof err), 0);
    pa_trace_finish(t);
    struct pa_frame f[3];
    assert_int_equal(pa_trace_stack(t, 2, f, 3), 2);
    assert_string_equal(f[0].function, "calloc");
    assert_string_equal(f[1].function, "late");
    assert_string_equal(f[1].file, "/x/late.py");
    assert_int_equal(f[1].line, 33);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_trace_undefined_is_unknown(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[256];
    pa_tb_node(b, 1, 99, PA_FRAME_PYTHON, 5, 1);   /* parent 99 and function 5 never defined */
    pa_tb_node(b, 2, 1, PA_FRAME_NATIVE, 6, 0);    /* native 6 never defined */
    pa_tb_node(b, 3, 2, PA_FRAME_ALLOCATOR, 77, 0); /* no such allocator */
    pa_tb_function(b, 8, 0, 1234, 0);              /* name sid 0, file never defined */
    pa_tb_node(b, 4, 0, PA_FRAME_PYTHON, 8, 0);
    pa_trace_t *t = feed(b, 0, err, sizeof err);
    struct pa_frame f[8];
    assert_int_equal(pa_trace_stack_depth(t, 3), 4);
    assert_int_equal(pa_trace_stack(t, 3, f, 8), 4);
    assert_string_equal(f[0].function, PA_UNKNOWN);
    assert_string_equal(f[1].module, PA_UNKNOWN);
    assert_null(f[1].function);
    assert_string_equal(f[2].function, PA_UNKNOWN);
    assert_string_equal(f[2].file, PA_UNKNOWN);
    assert_int_equal(f[3].kind, 0);
    assert_int_equal(f[3].node, 99);
    assert_int_equal(pa_trace_stack(t, 4, f, 8), 1);
    assert_string_equal(f[0].function, PA_UNKNOWN);
    assert_string_equal(f[0].file, PA_UNKNOWN);
    assert_int_equal(pa_trace_stack(t, 12345, f, 8), 1); /* stack never defined */
    assert_int_equal(f[0].kind, 0);
    assert_int_equal(pa_trace_stack(t, 0, f, 8), 0);
    assert_null(pa_trace_string(t, 0));
    assert_string_equal(pa_trace_string(t, 1234), PA_UNKNOWN);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_trace_cycle_is_cut(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[256];
    pa_tb_node(b, 1, 3, PA_FRAME_ALLOCATOR, 1, 0);
    pa_tb_node(b, 2, 1, PA_FRAME_ALLOCATOR, 2, 0);
    pa_tb_node(b, 3, 2, PA_FRAME_ALLOCATOR, 3, 0);
    pa_tb_node(b, 4, 4, PA_FRAME_ALLOCATOR, 4, 0); /* its own parent */
    pa_trace_t *t = feed(b, 0, err, sizeof err);
    struct pa_frame f[16];
    for (uint64_t s = 1; s <= 4; s++) {
        size_t d = pa_trace_stack_depth(t, s);
        assert_true(d >= 1 && d <= 4);
        assert_int_equal(pa_trace_stack(t, s, f, 16), d);
        assert_int_equal(f[d - 1].kind, 0); /* ends in an unknown frame */
    }
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_trace_bad_records_report_offset(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[256];
    pa_tb_string(b, 1, "ok");                          /* 6 bytes */
    pa_tb_raw_record(b, PA_REC_FUNCTION, "\x01\x02", 2); /* too short */
    pa_tb_string(b, 2, "never read");
    pa_trace_t *t = feed(b, -1, err, sizeof err);
    assert_string_equal(err, "record at offset 6: FUNCTION record: body too short");
    assert_string_equal(pa_trace_string(t, 1), "ok");
    assert_string_equal(pa_trace_string(t, 2), PA_UNKNOWN);
    assert_int_equal(pa_trace_counts(t)->bad_records, 1);
    pa_trace_free(t);

    pa_tb_string(b, 0, "zero");
    t = feed(b, -1, err, sizeof err);
    assert_string_equal(err, "record at offset 0: STRING record: string id 0");
    pa_trace_free(t);

    pa_tb_raw_record(b, PA_REC_NOTE, "\x80\x80\x10", 3); /* a 256 KiB string in 3 bytes */
    t = feed(b, -1, err, sizeof err);
    assert_string_equal(err, "record at offset 0: NOTE record: string of 262144 bytes exceeds the limit of 65536");
    pa_trace_free(t);

    /* argc far beyond what the body can hold must not allocate for it */
    pa_tb_raw_record(b, PA_REC_PROCESS, "\x01\x01\x01\x01\xff\xff\xff\xff\x0f", 9);
    t = feed(b, -1, err, sizeof err);
    assert_non_null(strstr(err, "PROCESS record: argc 4294967295 exceeds the record"));
    assert_false(pa_trace_process(t)->present);
    pa_trace_free(t);

    uint8_t lenbad[] = { PA_REC_STRING, 0x10, 1 };
    t = pa_trace_new();
    assert_int_equal(pa_trace_feed(t, lenbad, sizeof lenbad, err, sizeof err), -1);
    assert_string_equal(err, "record at offset 0: length 16 exceeds the 1 bytes left");
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_trace_unknown_tags_and_trailing_fields(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[256];
    pa_tb_raw_record(b, 0, NULL, 0);
    pa_tb_raw_record(b, 250, "whatever", 8);
    /* A THREAD record with an extra field from a newer minor version. */
    pa_tb_raw_record(b, PA_REC_THREAD, "\x01\x02\x03\x00\x63", 5);
    pa_tb_stats(b, (uint64_t[]){ 10, 20 }, 2); /* an older writer: fewer stats */
    pa_trace_t *t = feed(b, 0, err, sizeof err);
    assert_int_equal(pa_trace_counts(t)->unknown_records, 2);
    const struct pa_thread *th;
    assert_int_equal(pa_trace_threads(t, &th), 1);
    assert_int_equal(th[0].tid, 2);
    assert_null(th[0].name);
    size_t n;
    const uint64_t *st = pa_trace_stats(t, &n);
    assert_int_equal(n, 2);
    assert_int_equal(st[PA_STAT_AGENT_PEAK], 20);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_trace_duplicates_first_wins(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[256];
    static const char *const a1[] = { "first" }, *const a2[] = { "second" };
    pa_tb_string(b, 1, "one");
    pa_tb_string(b, 1, "uno");
    pa_tb_process(b, 1, 0, 0, 0, 1, a1, "/a");
    pa_tb_process(b, 2, 0, 0, 0, 1, a2, "/b");
    pa_tb_thread(b, 2, 20, 0, 1);
    pa_tb_thread(b, 1, 10, 0, 0);
    pa_trace_t *t = feed(b, 0, err, sizeof err);
    assert_string_equal(pa_trace_string(t, 1), "one");
    assert_int_equal(pa_trace_process(t)->pid, 1);
    assert_int_equal(pa_trace_counts(t)->duplicate_ids, 2);
    const struct pa_thread *th;
    assert_int_equal(pa_trace_threads(t, &th), 2);
    assert_int_equal(th[0].serial, 1); /* sorted by serial */
    assert_string_equal(th[1].name, "one");
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_trace_replay_peak_across_records(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[256];
    /* Thread 2's record comes first in the file but its events are later. */
    pa_tb_events_begin(b, 2, 500);
    pa_tb_ev_free(b, 500, 0xa000);           /* freed here, allocated by thread 1 at 100 */
    pa_tb_ev_alloc(b, 600, 0xb000, 1000, 3);
    pa_tb_events_end(b);
    pa_tb_events_begin(b, 1, 100);
    pa_tb_ev_alloc(b, 100, 0xa000, 400, 1);
    pa_tb_ev_alloc(b, 200, 0xc000, 300, 2);
    pa_tb_ev_free(b, 300, 0x9999);           /* unknown pointer: ignored */
    pa_tb_ev_free(b, 700, 0xc000);
    pa_tb_ev_alloc(b, 800, 0xd000, 5, 2);
    pa_tb_events_end(b);
    pa_trace_t *t = feed(b, 0, err, sizeof err);
    const struct pa_replay *r = pa_trace_replay(t);
    /* 400+300=700 at 200; 300 at 500; 1300 at 600; 1000 at 700; 1005 at 800 */
    assert_int_equal(r->peak_bytes, 1300);
    assert_int_equal(r->peak_count, 2);
    assert_int_equal(r->peak_ns, 600);
    assert_int_equal(r->end_bytes, 1005);
    assert_int_equal(r->end_count, 2);
    assert_int_equal(r->ngroups, 2);
    assert_int_equal(r->groups[0].stack, 3);
    assert_int_equal(r->groups[0].bytes, 1000);
    assert_int_equal(r->groups[1].stack, 2);
    assert_int_equal(r->groups[1].bytes, 5);
    assert_int_equal(pa_trace_last_ns(t), 800);
    assert_false(pa_trace_complete(t));
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_trace_replay_free_before_alloc_same_time(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[256];
    pa_tb_events_begin(b, 1, 0);
    pa_tb_ev_alloc(b, 10, 0x100, 8, 1);
    pa_tb_ev_alloc(b, 50, 0x100, 16, 2); /* reuse by thread 1 at 50 ... */
    pa_tb_events_end(b);
    pa_tb_events_begin(b, 2, 0);
    pa_tb_ev_free(b, 50, 0x100);         /* ... right after thread 2 freed it at 50 */
    pa_tb_events_end(b);
    pa_trace_t *t = feed(b, 0, err, sizeof err);
    const struct pa_replay *r = pa_trace_replay(t);
    assert_int_equal(r->end_count, 1);
    assert_int_equal(r->end_bytes, 16);
    assert_int_equal(r->groups[0].stack, 2);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_trace_replay_many_live_blocks(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[256];
    pa_tb_events_begin(b, 1, 0);
    for (uint64_t i = 1; i <= 20000; i++)
        pa_tb_ev_alloc(b, i, i * 16, 1, 1 + i % 3);
    for (uint64_t i = 1; i <= 20000; i += 2)
        pa_tb_ev_free(b, 20000 + i, i * 16);
    pa_tb_events_end(b);
    pa_trace_t *t = feed(b, 0, err, sizeof err);
    const struct pa_replay *r = pa_trace_replay(t);
    assert_int_equal(r->peak_count, 20000);
    assert_int_equal(r->end_count, 10000);
    uint64_t sum = 0;
    for (size_t i = 0; i < r->ngroups; i++)
        sum += r->groups[i].count;
    assert_int_equal(sum, 10000);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_trace_bad_event_rejects_record(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[256];
    pa_tb_raw_record(b, PA_REC_EVENTS, "\x01\x00\x01\x00\x02\x08\x01\x07\x00", 9); /* type 7 */
    pa_trace_t *t = feed(b, -1, err, sizeof err);
    assert_string_equal(err, "record at offset 0: EVENTS record: bad event at body offset 5");
    assert_int_equal(pa_trace_counts(t)->allocs, 0);
    assert_int_equal(pa_trace_replay(t)->events, 0);
    pa_trace_free(t);
    pa_tb_free(b);
}

static const struct pa_tb_event two_events[] = {
    { "task-clock", 1, 1, PA_EVF_LEADER | PA_EVF_TIME },
    { "instructions", 0, 1, PA_EVF_MULTIPLEXED },
};

static void test_trace_samples_decode(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[256];
    pa_tb_sampling(b, PA_SAMPLE_FREQ, 999, 38, 2, two_events);
    pa_tb_thread(b, 2, 202, 5, 0);
    pa_tb_events_begin(b, 2, 1000);
    pa_tb_ev_alloc(b, 1000, 0x5000, 64, 9);
    pa_tb_ev_sample(b, 1100, 7, 2, (uint64_t[]){ 1000000, 300 });
    pa_tb_ev_free(b, 1200, 0x5000); /* its delta is against the alloc: samples carry no pointer */
    pa_tb_ev_sample(b, 1300, 0, 1, (uint64_t[]){ 5 });
    pa_tb_events_end(b);
    pa_tb_events_begin(b, 1, 50);
    pa_tb_ev_sample(b, 60, 3, 0, NULL);
    pa_tb_events_end(b);
    pa_tb_events_begin(b, 2, 900); /* earlier than the first record of thread 2 */
    pa_tb_ev_sample(b, 900, 4, 2, (uint64_t[]){ 1, 2 });
    pa_tb_events_end(b);
    pa_tb_string(b, 1, "worker");
    pa_tb_thread(b, 2, 999, 77, 1); /* the name, learnt later; tid and start stay */
    pa_trace_t *t = feed(b, 0, err, sizeof err);
    const struct pa_sampling *sp = pa_trace_sampling(t);
    assert_true(sp->present);
    assert_int_equal(sp->mode, PA_SAMPLE_FREQ);
    assert_int_equal(sp->rate, 999);
    assert_int_equal(sp->signal, 38);
    assert_int_equal(sp->n, 2);
    assert_string_equal(sp->ev[1].name, "instructions");
    assert_int_equal(sp->ev[1].flags, PA_EVF_MULTIPLEXED);
    assert_int_equal(sp->ev[0].type, 1);
    const struct pa_sample *s;
    assert_int_equal(pa_trace_samples(t, &s), 4);
    assert_int_equal(pa_trace_counts(t)->samples, 4);
    uint64_t want[4][4] = { { 1, 60, 3, 0 }, { 2, 900, 4, 2 }, { 2, 1100, 7, 2 }, { 2, 1300, 0, 1 } };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(s[i].serial, want[i][0]);
        assert_int_equal(s[i].t, want[i][1]);
        assert_int_equal(s[i].stack, want[i][2]);
        assert_int_equal(s[i].n, want[i][3]);
    }
    assert_int_equal(pa_trace_sample_value(t, &s[2], 0), 1000000);
    assert_int_equal(pa_trace_sample_value(t, &s[2], 1), 300);
    assert_int_equal(pa_trace_sample_value(t, &s[3], 0), 5);
    assert_int_equal(pa_trace_sample_value(t, &s[3], 1), 0);
    assert_int_equal(pa_trace_replay(t)->events, 2);
    assert_int_equal(pa_trace_replay(t)->end_count, 0); /* the free found its block */
    assert_int_equal(pa_trace_last_ns(t), 1300);
    const struct pa_thread *th;
    assert_int_equal(pa_trace_threads(t, &th), 1);
    assert_int_equal(th[0].tid, 202);
    assert_int_equal(th[0].start_ns, 5);
    assert_string_equal(th[0].name, "worker");
    assert_int_equal(pa_trace_counts(t)->duplicate_ids, 0);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void expect_bad(pa_tb_t *b, const char *want)
{
    char err[256];
    pa_trace_t *t = feed(b, -1, err, sizeof err);
    if (!strstr(err, want))
        fail_msg("want \"%s\" in \"%s\"", want, err);
    assert_int_equal(pa_trace_counts(t)->samples, 0);
    const struct pa_sample *s;
    assert_int_equal(pa_trace_samples(t, &s), 0);
    pa_trace_free(t);
}

static void test_trace_samples_malformed(void **state)
{
    pa_tb_t *b = pa_tb_new();
    uint64_t v[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    /* more values than any sample may have: the record is rejected whole */
    pa_tb_events_begin(b, 1, 0);
    pa_tb_ev_sample(b, 1, 1, 1, v);
    pa_tb_ev_sample(b, 2, 1, 9, v);
    pa_tb_events_end(b);
    expect_bad(b, "EVENTS record: bad event at body offset");
    /* more values than the SAMPLING record names */
    pa_tb_sampling(b, PA_SAMPLE_PERIOD, 10000, 34, 2, two_events);
    pa_tb_events_begin(b, 1, 0);
    pa_tb_ev_sample(b, 1, 1, 2, v);
    pa_tb_ev_sample(b, 2, 1, 3, v);
    pa_tb_events_end(b);
    expect_bad(b, "EVENTS record: sample at body offset 6 has 3 values, SAMPLING has 2 events");
    /* a value cut off by the record end */
    pa_tb_raw_record(b, PA_REC_EVENTS, "\x01\x00\x03\x01\x05\x02\x07", 7);
    expect_bad(b, "EVENTS record: bad event at body offset");
    /* too many events in SAMPLING; and one cut short after its name */
    pa_tb_sampling(b, PA_SAMPLE_FREQ, 100, 34, 9, NULL);
    expect_bad(b, "SAMPLING record: 9 events exceed the limit of 8");
    pa_tb_raw_record(b, PA_REC_SAMPLING, "\x01\x64\x22\x01\x02hi\x01", 8);
    expect_bad(b, "SAMPLING record: body too short");
    pa_tb_free(b);
}

static void test_trace_sampling_first_wins(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[256];
    pa_tb_sampling(b, PA_SAMPLE_FREQ, 100, 34, 1, two_events);
    pa_tb_sampling(b, PA_SAMPLE_PERIOD, 5, 35, 2, two_events);
    pa_tb_events_begin(b, 1, 0);
    pa_tb_ev_sample(b, 1, 1, 1, (uint64_t[]){ 42 });
    pa_tb_events_end(b);
    pa_trace_t *t = feed(b, 0, err, sizeof err);
    assert_int_equal(pa_trace_sampling(t)->rate, 100);
    assert_int_equal(pa_trace_sampling(t)->n, 1);
    assert_int_equal(pa_trace_counts(t)->duplicate_ids, 1);
    assert_int_equal(pa_trace_counts(t)->samples, 1);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_trace_checkpoints(void **state)
{
    pa_tb_t *b = pa_tb_new();
    char err[256];
    pa_tb_checkpoint(b, PA_CP_EXIT, 900, 1, 2);
    pa_tb_checkpoint(b, PA_CP_PROGRAM_END, 800, 3, 4);
    pa_tb_checkpoint(b, 7, 1000, 0, 0); /* unknown kind: counted only */
    pa_trace_t *t = feed(b, 0, err, sizeof err);
    assert_true(pa_trace_complete(t));
    assert_int_equal(pa_trace_checkpoint(t, PA_CP_EXIT)->live_count, 2);
    assert_int_equal(pa_trace_checkpoint(t, PA_CP_PROGRAM_END)->live_bytes, 3);
    assert_false(pa_trace_checkpoint(t, 7)->present);
    assert_int_equal(pa_trace_counts(t)->checkpoints, 3);
    pa_trace_free(t);
    pa_tb_free(b);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void test_trace_containers(void **state)
{
    pa_idmap_t m;
    uint32_t v;
    pa_idmap_init(&m);
    assert_int_equal(pa_idmap_get(&m, 0, &v), -1);
    for (uint64_t i = 0; i < 5000; i++)
        assert_int_equal(pa_idmap_put(&m, i * 0x10000, (uint32_t)i), 0);
    assert_int_equal(pa_idmap_put(&m, 0, 99), 1); /* present: kept */
    for (uint64_t i = 0; i < 5000; i++) {
        assert_int_equal(pa_idmap_get(&m, i * 0x10000, &v), 0);
        assert_int_equal(v, i);
    }
    assert_int_equal(pa_idmap_get(&m, 1, &v), -1);
    pa_idmap_free(&m);

    uint32_t a[1000];
    uint64_t seed = 1;
    for (size_t n = 0; n < 40; n++) {
        for (size_t i = 0; i < n * 25; i++)
            a[i] = (uint32_t)((seed = seed * 6364136223846793005ull + 1442695040888963407ull) >> 40) % 50;
        pa_vec_sort(a, n * 25, sizeof a[0], cmp_u32);
        for (size_t i = 1; i < n * 25; i++)
            assert_true(a[i - 1] <= a[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_forward_references),
        cmocka_unit_test(test_trace_undefined_is_unknown),
        cmocka_unit_test(test_trace_cycle_is_cut),
        cmocka_unit_test(test_trace_bad_records_report_offset),
        cmocka_unit_test(test_trace_unknown_tags_and_trailing_fields),
        cmocka_unit_test(test_trace_duplicates_first_wins),
        cmocka_unit_test(test_trace_replay_peak_across_records),
        cmocka_unit_test(test_trace_replay_free_before_alloc_same_time),
        cmocka_unit_test(test_trace_replay_many_live_blocks),
        cmocka_unit_test(test_trace_bad_event_rejects_record),
        cmocka_unit_test(test_trace_samples_decode),
        cmocka_unit_test(test_trace_samples_malformed),
        cmocka_unit_test(test_trace_sampling_first_wins),
        cmocka_unit_test(test_trace_checkpoints),
        cmocka_unit_test(test_trace_containers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
