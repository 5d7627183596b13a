/* test_decode.c — varints, file framing and the decoder's tolerance: torn tails, bad
 * chunks, garbage, foreign and newer files, and random damage (never a crash). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "decode.h"
#include "export.h"
#include "flamegraph.h"
#include "json.h"
#include "leaks.h"
#include "report.h"
#include "script.h"
#include "summary.h"
#include "trace.h"
#include "trace_builder.h"

/* Frame offsets of the sample trace. */
struct sample {
    pa_tb_t *b;
    size_t header_end, chunk[3], end;
};

static void sample_build(struct sample *s)
{
    static const char *const argv[] = { "python3", "app.py" };
    pa_tb_t *b = s->b = pa_tb_new();
    pa_tb_process(b, 4242, 1, 1000000000, 1700000000000000000ull, 2, argv, "/usr/bin/python3.11");
    pa_tb_interp(b, "3.11.2 (main)", 11, "/usr/lib/python3.11", 1000500000);
    pa_tb_header(b, 1, 0);
    pa_tb_data(b, &s->header_end);
    pa_tb_string(b, 1, "work");
    pa_tb_string(b, 2, "/app/app.py");
    pa_tb_function(b, 1, 1, 2, 10);
    pa_tb_node(b, 1, 0, PA_FRAME_PYTHON, 1, 12);
    pa_tb_node(b, 2, 1, PA_FRAME_ALLOCATOR, PA_ALLOC_MALLOC, 0);
    pa_tb_thread(b, 1, 4242, 1000000000, 0);
    pa_tb_events_begin(b, 1, 1001000000);
    pa_tb_ev_alloc(b, 1001000100, 0x1000, 100, 2);
    pa_tb_ev_alloc(b, 1001000200, 0x2000, 50, 2);
    pa_tb_events_end(b);
    s->chunk[0] = pa_tb_chunk(b);
    pa_tb_events_begin(b, 1, 1002000000);
    pa_tb_ev_free(b, 1002000100, 0x1000);
    pa_tb_ev_alloc(b, 1002000200, 0x3000, 10, 2);
    pa_tb_events_end(b);
    pa_tb_checkpoint(b, PA_CP_PROGRAM_END, 1002500000, 60, 2);
    s->chunk[1] = pa_tb_chunk(b);
    pa_tb_checkpoint(b, PA_CP_EXIT, 1003000000, 60, 2);
    pa_tb_leak(b, PA_CP_EXIT, 2, 60, 2, 0);
    pa_tb_stats(b, (uint64_t[]){ 1000, 2000, 300, 3, 1, 0, 2 }, 7);
    s->chunk[2] = pa_tb_chunk(b);
    pa_tb_data(b, &s->end);
    pa_tb_end(b);
}

/* Decodes buf; the model is returned in *t (free it), diag text in diag. */
static int decode(const uint8_t *buf, size_t len, pa_trace_t **t, pa_sbuf_t *diag)
{
    *t = pa_trace_new();
    assert_non_null(*t);
    pa_sbuf_init(diag);
    int rc = pa_decode_buf(buf, len, "t.trace", *t, diag);
    pa_trace_finish(*t);
    return rc;
}

static void test_decode_varint_roundtrip(void **state)
{
    const uint64_t vals[] = { 0, 1, 127, 128, 300, 16383, 16384, 1ull << 32, (1ull << 63) - 1, 1ull << 63, UINT64_MAX };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint8_t buf[PA_VARINT_MAX];
        size_t n = pa_varint_put(buf, vals[i]);
        const uint8_t *p = buf;
        uint64_t v;
        assert_true(n >= 1 && n <= PA_VARINT_MAX);
        assert_int_equal(pa_varint_get(&p, buf + n, &v), 0);
        assert_true(v == vals[i]);
        assert_ptr_equal(p, buf + n);
        p = buf; /* every strict prefix is truncated */
        for (size_t cut = 0; cut < n; cut++)
            assert_int_equal(pa_varint_get(&p, buf + cut, &v), -1);
        assert_ptr_equal(p, buf);
    }
    int64_t zz[] = { 0, 1, -1, 63, -64, INT64_MAX, INT64_MIN };
    for (size_t i = 0; i < sizeof zz / sizeof zz[0]; i++)
        assert_true(pa_unzigzag(pa_zigzag(zz[i])) == zz[i]);
}

static void test_decode_varint_limits(void **state)
{
    uint8_t eleven[11];
    memset(eleven, 0x80, sizeof eleven);
    eleven[10] = 0;
    const uint8_t *p = eleven;
    uint64_t v;
    assert_int_equal(pa_varint_get(&p, eleven + 11, &v), -1); /* more than 10 bytes */
    uint8_t big[10];
    memset(big, 0xff, 9);
    big[9] = 0x02; /* bit 64 */
    p = big;
    assert_int_equal(pa_varint_get(&p, big + 10, &v), -1);
    big[9] = 0x01;
    p = big;
    assert_int_equal(pa_varint_get(&p, big + 10, &v), 0);
    assert_true(v == UINT64_MAX);
}

static void test_decode_sample(void **state)
{
    struct sample s;
    pa_trace_t *t;
    pa_sbuf_t diag;
    size_t len;
    sample_build(&s);
    const uint8_t *d = pa_tb_data(s.b, &len);
    assert_int_equal(decode(d, len, &t, &diag), 0);
    assert_string_equal(pa_sbuf_cstr(&diag), "");
    const struct pa_process *p = pa_trace_process(t);
    assert_true(p->present);
    assert_int_equal(p->pid, 4242);
    assert_int_equal(p->argc, 2);
    assert_string_equal(p->argv[1], "app.py");
    assert_string_equal(p->exe, "/usr/bin/python3.11");
    assert_string_equal(pa_trace_interp(t)->stdlib_dir, "/usr/lib/python3.11");
    const struct pa_file_info *fi = pa_trace_file_info(t);
    assert_int_equal(fi->chunks, 3);
    assert_int_equal(fi->bad_chunks, 0);
    assert_true(fi->have_end);
    assert_int_equal(fi->end_chunks, 3);
    assert_true(pa_trace_complete(t));
    const struct pa_counts *c = pa_trace_counts(t);
    assert_int_equal(c->allocs, 3);
    assert_int_equal(c->frees, 1);
    assert_int_equal(c->alloc_bytes, 160);
    struct pa_frame f[4];
    assert_int_equal(pa_trace_stack_depth(t, 2), 2);
    assert_int_equal(pa_trace_stack(t, 2, f, 4), 2);
    assert_int_equal(f[0].kind, PA_FRAME_ALLOCATOR);
    assert_string_equal(f[0].function, "malloc");
    assert_int_equal(f[1].kind, PA_FRAME_PYTHON);
    assert_string_equal(f[1].function, "work");
    assert_string_equal(f[1].file, "/app/app.py");
    assert_int_equal(f[1].line, 12);
    assert_int_equal(pa_trace_replay(t)->peak_bytes, 150);
    pa_sbuf_free(&diag);
    pa_trace_free(t);
    pa_tb_free(s.b);
}

static void test_decode_file_roundtrip(void **state)
{
    struct sample s;
    char path[] = "/tmp/pa_test_decode_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sample_build(&s);
    assert_int_equal(pa_tb_write(s.b, path), 0);
    pa_trace_t *t = pa_trace_new();
    pa_sbuf_t diag;
    pa_sbuf_init(&diag);
    assert_int_equal(pa_decode_file(path, t, &diag), 0);
    pa_trace_finish(t);
    assert_int_equal(pa_trace_file_info(t)->chunks, 3);
    unlink(path);
    pa_sbuf_free(&diag);
    pa_trace_free(t);
    pa_tb_free(s.b);
}

static void expect_fatal_file(const void *data, size_t len, const char *want)
{
    char path[] = "/tmp/pa_test_decode_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_true(write(fd, data, len) == (ssize_t)len);
    close(fd);
    pa_trace_t *t = pa_trace_new();
    pa_sbuf_t diag;
    pa_sbuf_init(&diag);
    assert_true(pa_decode_file(path, t, &diag) < 0);
    assert_non_null(strstr(pa_sbuf_cstr(&diag), path));
    if (!strstr(pa_sbuf_cstr(&diag), want))
        fail_msg("diag \"%s\" lacks \"%s\"", pa_sbuf_cstr(&diag), want);
    unlink(path);
    pa_sbuf_free(&diag);
    pa_trace_free(t);
}

static void test_decode_empty_foreign_missing(void **state)
{
    expect_fatal_file("", 0, "offset 0: empty file");
    expect_fatal_file("hello, world\n", 13, "offset 0: not a pyagent trace");
    expect_fatal_file("\x50", 1, "truncated header");
    uint8_t z[64];
    size_t zn = ZSTD_compress(z, sizeof z, "abc", 3, 1);
    expect_fatal_file(z, zn, "zstd file without a pyagent header");
    pa_trace_t *t = pa_trace_new();
    pa_sbuf_t diag;
    pa_sbuf_init(&diag);
    assert_true(pa_decode_file("/nonexistent/x.trace", t, &diag) < 0);
    assert_non_null(strstr(pa_sbuf_cstr(&diag), "/nonexistent/x.trace: cannot open"));
    pa_sbuf_free(&diag);
    pa_trace_free(t);
}

static void test_decode_newer_major_refused(void **state)
{
    pa_tb_t *b = pa_tb_new();
    pa_tb_process(b, 1, 0, 0, 0, 0, NULL, "/bin/x");
    pa_tb_header(b, 2, 3);
    size_t len;
    const uint8_t *d = pa_tb_data(b, &len);
    pa_trace_t *t;
    pa_sbuf_t diag;
    assert_true(decode(d, len, &t, &diag) < 0);
    assert_string_equal(pa_sbuf_cstr(&diag),
                        "t.trace: offset 16: trace format 2.x is newer than this reader (1.x)\n");
    assert_false(pa_trace_process(t)->present);
    pa_sbuf_free(&diag);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_decode_newer_minor_accepted(void **state)
{
    pa_tb_t *b = pa_tb_new();
    pa_tb_process(b, 1, 0, 0, 0, 0, NULL, "/bin/x");
    pa_tb_raw_record(b, 99, "future", 6);
    pa_tb_header(b, 1, 7);
    pa_tb_string(b, 1, "s");
    pa_tb_raw_record(b, 200, "\x01\x02\x03", 3);
    pa_tb_string(b, 2, "after");
    pa_tb_chunk(b);
    size_t len;
    const uint8_t *d = pa_tb_data(b, &len);
    pa_trace_t *t;
    pa_sbuf_t diag;
    assert_int_equal(decode(d, len, &t, &diag), 0);
    assert_string_equal(pa_sbuf_cstr(&diag), "");
    assert_int_equal(pa_trace_file_info(t)->minor, 7);
    assert_int_equal(pa_trace_counts(t)->unknown_records, 2);
    assert_string_equal(pa_trace_string(t, 2), "after");
    assert_false(pa_trace_file_info(t)->have_end);
    pa_sbuf_free(&diag);
    pa_trace_free(t);
    pa_tb_free(b);
}

static size_t complete_chunks(const struct sample *s, size_t cut)
{
    size_t ends[3] = { s->chunk[1], s->chunk[2], s->end }, n = 0;
    for (int i = 0; i < 3; i++)
        n += ends[i] <= cut;
    return n;
}

static void test_decode_truncated_everywhere(void **state)
{
    struct sample s;
    size_t len;
    sample_build(&s);
    const uint8_t *full = pa_tb_data(s.b, &len);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *d = malloc(cut ? cut : 1); /* exact size: ASan sees any overread */
        memcpy(d, full, cut);
        pa_trace_t *t;
        pa_sbuf_t diag;
        int rc = decode(d, cut, &t, &diag);
        if (cut < s.header_end) {
            assert_true(rc < 0);
        } else {
            int boundary = cut == s.header_end || cut == s.chunk[1] || cut == s.chunk[2] || cut == s.end;
            assert_int_equal(rc, 0);
            assert_true(pa_trace_process(t)->present);
            assert_int_equal(pa_trace_file_info(t)->chunks, complete_chunks(&s, cut));
            assert_false(pa_trace_file_info(t)->have_end);
            if (boundary != (strstr(pa_sbuf_cstr(&diag), "torn tail at offset") == NULL))
                fail_msg("cut %zu: diag \"%s\"", cut, pa_sbuf_cstr(&diag));
        }
        pa_sbuf_free(&diag);
        pa_trace_free(t);
        free(d);
    }
    pa_tb_free(s.b);
}

static void test_decode_corrupt_chunk_skipped(void **state)
{
    struct sample s;
    size_t len;
    sample_build(&s);
    const uint8_t *full = pa_tb_data(s.b, &len);
    uint8_t *d = malloc(len);
    memcpy(d, full, len);
    size_t mid = s.chunk[1] + 24 + (s.chunk[2] - s.chunk[1] - 24) / 2;
    d[mid] ^= 0x5a;
    pa_trace_t *t;
    pa_sbuf_t diag;
    assert_int_equal(decode(d, len, &t, &diag), 0);
    char want[64];
    snprintf(want, sizeof want, "t.trace: bad chunk 1 at offset %zu: ", s.chunk[1]);
    assert_non_null(strstr(pa_sbuf_cstr(&diag), want));
    assert_int_equal(pa_trace_file_info(t)->chunks, 2);
    assert_int_equal(pa_trace_file_info(t)->bad_chunks, 1);
    assert_true(pa_trace_complete(t)); /* chunk 2 was read */
    assert_false(pa_trace_checkpoint(t, PA_CP_PROGRAM_END)->present);
    assert_int_equal(pa_trace_diag_count(t), 1);
    pa_sbuf_free(&diag);
    pa_trace_free(t);
    free(d);
    pa_tb_free(s.b);
}

static void test_decode_bad_chunk_head_resyncs(void **state)
{
    struct sample s;
    size_t len;
    sample_build(&s);
    const uint8_t *full = pa_tb_data(s.b, &len);
    uint8_t *d = malloc(len);
    memcpy(d, full, len);
    pa_le64_put(d + s.chunk[0] + 16, 1ull << 40); /* zstd_size */
    pa_trace_t *t;
    pa_sbuf_t diag;
    assert_int_equal(decode(d, len, &t, &diag), 0);
    assert_non_null(strstr(pa_sbuf_cstr(&diag), "implausible sizes"));
    assert_int_equal(pa_trace_file_info(t)->chunks, 2);
    assert_true(pa_trace_file_info(t)->have_end);
    pa_sbuf_free(&diag);
    pa_trace_free(t);
    free(d);
    pa_tb_free(s.b);
}

static void test_decode_garbage_between_chunks(void **state)
{
    pa_tb_t *b = pa_tb_new();
    uint8_t junk[100];
    memset(junk, 0xab, sizeof junk);
    pa_tb_header(b, 1, 0);
    pa_tb_string(b, 1, "one");
    pa_tb_chunk(b);
    pa_tb_bytes(b, junk, sizeof junk);
    pa_tb_string(b, 2, "two");
    pa_tb_chunk(b);
    pa_tb_end(b);
    pa_tb_bytes(b, "xyz", 3);
    size_t len;
    const uint8_t *d = pa_tb_data(b, &len);
    pa_trace_t *t;
    pa_sbuf_t diag;
    assert_int_equal(decode(d, len, &t, &diag), 0);
    assert_non_null(strstr(pa_sbuf_cstr(&diag), "garbage at offset"));
    assert_non_null(strstr(pa_sbuf_cstr(&diag), "3 bytes after the end frame"));
    assert_string_equal(pa_trace_string(t, 2), "two");
    assert_int_equal(pa_trace_file_info(t)->chunks, 2);
    pa_sbuf_free(&diag);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_decode_bad_record_in_chunk(void **state)
{
    pa_tb_t *b = pa_tb_new();
    pa_tb_header(b, 1, 0);
    pa_tb_string(b, 1, "kept");
    pa_tb_raw_record(b, PA_REC_STRING, "\x05\xff", 2); /* string length runs past the body */
    pa_tb_string(b, 2, "lost");
    pa_tb_chunk(b);
    pa_tb_string(b, 3, "next chunk");
    pa_tb_chunk(b);
    size_t len;
    const uint8_t *d = pa_tb_data(b, &len);
    pa_trace_t *t;
    pa_sbuf_t diag;
    assert_int_equal(decode(d, len, &t, &diag), 0);
    assert_non_null(strstr(pa_sbuf_cstr(&diag), "chunk 0 at offset"));
    assert_non_null(strstr(pa_sbuf_cstr(&diag), "record at offset 8: STRING record"));
    assert_string_equal(pa_trace_string(t, 1), "kept");
    assert_string_equal(pa_trace_string(t, 2), PA_UNKNOWN);
    assert_string_equal(pa_trace_string(t, 3), "next chunk");
    pa_sbuf_free(&diag);
    pa_trace_free(t);
    pa_tb_free(b);
}

/* A record of samples that does not fit the SAMPLING record is skipped with the rest
 * of its chunk, like any malformed record; the chunks around it are used. */
static void test_decode_bad_samples_in_chunk(void **state)
{
    static const struct pa_tb_event ev[] = { { "task-clock", 1, 1, PA_EVF_LEADER | PA_EVF_TIME } };
    pa_tb_t *b = pa_tb_new();
    pa_tb_header(b, 1, 0);
    pa_tb_sampling(b, PA_SAMPLE_FREQ, 100, 38, 1, ev);
    pa_tb_events_begin(b, 1, 0);
    pa_tb_ev_sample(b, 10, 0, 1, (uint64_t[]){ 5 });
    pa_tb_events_end(b);
    pa_tb_chunk(b);
    pa_tb_events_begin(b, 1, 0);
    pa_tb_ev_sample(b, 20, 0, 2, (uint64_t[]){ 6, 7 }); /* two values, one event */
    pa_tb_events_end(b);
    pa_tb_string(b, 1, "lost");
    pa_tb_chunk(b);
    pa_tb_events_begin(b, 2, 0);
    pa_tb_ev_sample(b, 30, 0, 1, (uint64_t[]){ 8 });
    pa_tb_events_end(b);
    pa_tb_chunk(b);
    size_t len;
    const uint8_t *d = pa_tb_data(b, &len);
    pa_trace_t *t;
    pa_sbuf_t diag;
    assert_int_equal(decode(d, len, &t, &diag), 0);
    assert_non_null(strstr(pa_sbuf_cstr(&diag), "chunk 1 at offset"));
    assert_non_null(strstr(pa_sbuf_cstr(&diag), "EVENTS record: sample at body offset 0 has 2 values, SAMPLING "
                                                "has 1 events; the rest of the chunk is skipped"));
    const struct pa_sample *s;
    assert_int_equal(pa_trace_samples(t, &s), 2);
    assert_int_equal(pa_trace_sample_value(t, &s[0], 0), 5);
    assert_int_equal(s[1].serial, 2);
    assert_int_equal(pa_trace_sample_value(t, &s[1], 0), 8);
    assert_string_equal(pa_trace_string(t, 1), PA_UNKNOWN);
    pa_sbuf_free(&diag);
    pa_trace_free(t);
    pa_tb_free(b);
}

/* xorshift64*: fixed seed, so a failure reproduces. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static void exercise(pa_trace_t *t)
{
    pa_sbuf_t out;
    pa_sbuf_init(&out);
    struct pa_leaks_opts lo = { .all = 1, .top = 5 };
    assert_int_equal(pa_leaks_render(t, &lo, &out), 0);
    lo.json = 1;
    assert_int_equal(pa_leaks_render(t, &lo, &out), 0);
    struct pa_summary_opts so = { .json = 1 };
    assert_int_equal(pa_summary_render(t, &so, &out), 0);
    so.json = 0;
    assert_int_equal(pa_summary_render(t, &so, &out), 0);
    pa_sbuf_t err;
    pa_sbuf_init(&err);
    for (int v = 0; v < 4; v++) {
        struct pa_report_opts ro = { .json = v & 1, .native = v & 2, .lines = v == 1, .threads = 1,
                                     .top = PA_REPORT_TOP_DEFAULT };
        struct pa_flame_opts fo = { .native = v & 2 };
        assert_int_equal(pa_report_render(t, &ro, &out, &err), 0);
        assert_int_equal(pa_flame_folded(t, &fo, &out, &err), 0);
        assert_int_equal(pa_flame_json(t, &fo, &out, &err), 0);
        struct pa_script_opts so2 = { .json = v & 1, .function = v & 2 ? "f" : NULL, .max_depth = v == 3 ? 1 : -1 };
        assert_int_equal(pa_script_render(t, &so2, &out, &err), 0);
        /* Whatever the damage, an export is valid JSON. */
        struct pa_export_opts eo = { .format = v & 1 ? PA_EXPORT_SPEEDSCOPE : PA_EXPORT_CHROME };
        pa_sbuf_reset(&out);
        assert_int_equal(pa_export_render(t, &eo, &out, &err), 0);
        if (!pa_json_valid(out.buf, out.len, 64))
            fail_msg("export is not valid JSON:\n%s", pa_sbuf_cstr(&out));
    }
    pa_sbuf_free(&err);
    pa_sbuf_free(&out);
}

static void mutate(uint8_t *d, size_t *len, size_t cap, uint64_t *seed)
{
    int n = 1 + (int)(rnd(seed) % 4);
    for (int i = 0; i < n && *len > 0; i++) {
        size_t at = rnd(seed) % *len;
        switch (rnd(seed) % 5) {
        case 0: d[at] ^= (uint8_t)(1u << (rnd(seed) % 8)); break;
        case 1: d[at] = (uint8_t)rnd(seed); break;
        case 2: *len = at; break;
        case 3: { /* duplicate a span */
            size_t span = rnd(seed) % 64;
            if (at + span <= *len && *len + span <= cap) {
                memmove(d + at + span, d + at, *len - at);
                *len += span;
            }
            break;
        }
        default: d[at] = (uint8_t)(rnd(seed) % 2 ? 0xff : 0x00); break;
        }
    }
}

static void test_decode_fuzz_file(void **state)
{
    struct sample s;
    size_t len;
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    sample_build(&s);
    const uint8_t *full = pa_tb_data(s.b, &len);
    clock_t start = clock();
    for (int iter = 0; iter < 3000 && clock() - start < 5 * CLOCKS_PER_SEC; iter++) {
        size_t cap = len + 256, n = len;
        uint8_t *d = malloc(cap);
        memcpy(d, full, len);
        mutate(d, &n, cap, &seed);
        pa_trace_t *t;
        pa_sbuf_t diag;
        decode(d, n, &t, &diag);
        exercise(t);
        pa_sbuf_free(&diag);
        pa_trace_free(t);
        free(d);
    }
    pa_tb_free(s.b);
}

/* Chunks are checksummed, so damage mostly stops at zstd: fuzz the records too. */
static void test_decode_fuzz_records(void **state)
{
    size_t len;
    uint64_t seed = 12345;
    pa_tb_t *b = pa_tb_new();
    static const char *const argv[] = { "x" };
    pa_tb_process(b, 1, 0, 5, 6, 1, argv, "/bin/x");
    pa_tb_interp(b, "3.12", 12, "/usr/lib/python3.12", 7);
    pa_tb_string(b, 1, "f");
    pa_tb_string(b, 2, "/usr/lib/python3.12/a.py");
    pa_tb_function(b, 1, 1, 2, 3);
    pa_tb_native(b, 1, 2, 1, 16, 4);
    for (uint64_t i = 1; i < 20; i++)
        pa_tb_node(b, i, i - 1, 1 + i % 4, 1, i);
    static const struct pa_tb_event ev[] = { { "task-clock", 1, 1, PA_EVF_LEADER | PA_EVF_TIME },
                                             { "cycles", 0, 0, PA_EVF_MULTIPLEXED } };
    pa_tb_sampling(b, PA_SAMPLE_FREQ, 99, 38, 2, ev);
    pa_tb_events_begin(b, 1, 100);
    for (uint64_t i = 1; i < 20; i++) {
        pa_tb_ev_alloc(b, 100 + i, 0x1000 * i, i, i);
        pa_tb_ev_sample(b, 100 + i, i, 2, (uint64_t[]){ 1000 * i, 7 * i });
    }
    pa_tb_ev_free(b, 200, 0x3000);
    pa_tb_ev_mark(b, 201, 1, 3);
    pa_tb_ev_counter(b, 202, 1, -5);
    pa_tb_ev_counter_double(b, 203, 1, 2.5);
    pa_tb_ev_region(b, 204, 1, 1);
    pa_tb_ev_region(b, 205, 1, 2);
    pa_tb_ev_toggle(b, 206, 0, PA_TOGGLE_SIGNAL);
    pa_tb_ev_counted(b, 207, 1, 10, 5, 64, 1);
    pa_tb_events_end(b);
    static const char *const pats[] = { "f", "mod.*" };
    pa_tb_tracing(b, PA_TRACE_PYTHON, 2, pats);
    pa_tb_string(b, 3, "{\"k\": [1, 2]}");
    pa_tb_calls_begin(b, 1, 90);
    pa_tb_calls_exit(b, 91, PA_CALL_RETURN);
    for (uint64_t i = 1; i < 8; i++)
        pa_tb_calls_enter(b, 100 + 10 * i, 1 + i % 2, i == 3);
    for (uint64_t i = 1; i < 6; i++)
        pa_tb_calls_exit(b, 200 + i, 1 + i % 3);
    pa_tb_calls_end(b);
    pa_tb_leak(b, PA_CP_EXIT, 7, 70, 7, 0);
    pa_tb_stats(b, (uint64_t[]){ 1, 2, 3 }, 3);
    pa_tb_note(b, "a note");
    const uint8_t *recs = pa_tb_records(b, &len);
    clock_t start = clock();
    for (int iter = 0; iter < 5000 && clock() - start < 5 * CLOCKS_PER_SEC; iter++) {
        size_t cap = len + 256, n = len;
        uint8_t *d = malloc(cap);
        char err[256];
        memcpy(d, recs, len);
        mutate(d, &n, cap, &seed);
        pa_trace_t *t = pa_trace_new();
        pa_trace_feed(t, d, n, err, sizeof err);
        pa_trace_finish(t);
        exercise(t);
        pa_trace_free(t);
        free(d);
    }
    pa_tb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_varint_roundtrip),
        cmocka_unit_test(test_decode_varint_limits),
        cmocka_unit_test(test_decode_sample),
        cmocka_unit_test(test_decode_file_roundtrip),
        cmocka_unit_test(test_decode_empty_foreign_missing),
        cmocka_unit_test(test_decode_newer_major_refused),
        cmocka_unit_test(test_decode_newer_minor_accepted),
        cmocka_unit_test(test_decode_truncated_everywhere),
        cmocka_unit_test(test_decode_corrupt_chunk_skipped),
        cmocka_unit_test(test_decode_bad_chunk_head_resyncs),
        cmocka_unit_test(test_decode_garbage_between_chunks),
        cmocka_unit_test(test_decode_bad_record_in_chunk),
        cmocka_unit_test(test_decode_bad_samples_in_chunk),
        cmocka_unit_test(test_decode_fuzz_file),
        cmocka_unit_test(test_decode_fuzz_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
