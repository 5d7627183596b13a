/* test_tables.c — interning of strings, native frames and stack nodes into ids, and
 * the record log those ids are defined in, decoded with the reader's own model. The
 * tables are process-global: each test interns values no other test uses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "tables.h"
#include "trace.h"

static int setup(void **state)
{
    return pa_mem_init();
}

/* The interning functions require the tables lock; every call here takes it. */
static uint32_t str_id(const char *s)
{
    pa_tables_lock();
    uint32_t id = pa_tab_string(s, strlen(s));
    pa_tables_unlock();
    return id;
}

static uint32_t bytes_id(const void *b, size_t n)
{
    pa_tables_lock();
    uint32_t id = pa_tab_string(b, n);
    pa_tables_unlock();
    return id;
}

static uint32_t node_id(uint32_t parent, unsigned kind, uint32_t a, uint32_t b)
{
    pa_tables_lock();
    uint32_t id = pa_tab_node(parent, kind, a, b);
    pa_tables_unlock();
    return id;
}

static uint32_t native_id(uintptr_t ip)
{
    pa_tables_lock();
    uint32_t id = pa_tab_native(ip);
    pa_tables_unlock();
    return id;
}

static uint32_t func_id(uint32_t name, uint32_t file, uint32_t line)
{
    pa_tables_lock();
    uint32_t id = pa_tab_function(name, file, line);
    pa_tables_unlock();
    return id;
}

/* A trace model fed with the whole record log so far. */
static pa_trace_t *decode_log(void)
{
    pa_tables_lock();
    size_t n = pa_tab_log_len();
    uint8_t *log = pa_mem_alloc(n ? n : 1);
    assert_non_null(log);
    pa_tab_log_copy(0, n, log);
    pa_tables_unlock();
    pa_trace_t *t = pa_trace_new();
    assert_non_null(t);
    char err[256];
    if (pa_trace_feed(t, log, n, err, sizeof err) != 0)
        fail_msg("the record log does not decode: %s", err);
    pa_mem_free(log);
    pa_trace_finish(t);
    const struct pa_counts *c = pa_trace_counts(t);
    assert_int_equal(c->bad_records, 0);
    assert_int_equal(c->unknown_records, 0);
    assert_int_equal(c->duplicate_ids, 0); /* interning never defines an id twice */
    return t;
}

static void test_tables_string_dedup(void **state)
{
    uint32_t a = str_id("dedup/alpha"), b = str_id("dedup/beta");
    assert_true(a >= 1);
    assert_true(b >= 1);
    assert_int_not_equal(a, b);
    assert_int_equal(str_id("dedup/alpha"), a);
    assert_int_equal(str_id("dedup/beta"), b);
    /* same bytes from a different buffer */
    char copy[32];
    snprintf(copy, sizeof copy, "dedup/%s", "alpha");
    assert_int_equal(str_id(copy), a);
    /* prefixes, case and embedded NULs make different strings */
    uint32_t pre = str_id("dedup/alph");
    assert_int_not_equal(pre, a);
    assert_int_not_equal(str_id("dedup/Alpha"), a);
    uint32_t nul1 = bytes_id("dedup\0x", 7), nul2 = bytes_id("dedup\0y", 7);
    assert_int_not_equal(nul1, nul2);
    assert_int_equal(bytes_id("dedup\0x", 7), nul1);
    assert_int_not_equal(bytes_id("dedup", 5), nul1);
    /* the empty string is a string */
    uint32_t empty = bytes_id("", 0);
    assert_true(empty >= 1);
    assert_int_equal(bytes_id("x", 0), empty);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void test_tables_string_ids_distinct_for_many(void **state)
{
    enum { N = 20000 };
    static uint32_t ids[N];
    char s[32];
    for (int i = 0; i < N; i++) {
        snprintf(s, sizeof s, "many/%d", i);
        ids[i] = str_id(s);
        assert_true(ids[i] >= 1);
    }
    static uint32_t sorted[N];
    memcpy(sorted, ids, sizeof sorted);
    qsort(sorted, N, sizeof sorted[0], cmp_u32);
    for (int i = 1; i < N; i++)
        assert_int_not_equal(sorted[i], sorted[i - 1]);
    for (int i = 0; i < N; i++) {
        snprintf(s, sizeof s, "many/%d", i);
        assert_int_equal(str_id(s), ids[i]);
    }
    pa_trace_t *t = decode_log();
    for (int i = 0; i < N; i += 997) {
        snprintf(s, sizeof s, "many/%d", i);
        assert_string_equal(pa_trace_string(t, ids[i]), s);
    }
    pa_trace_free(t);
}

static void test_tables_long_string_cut(void **state)
{
    static char big[PA_STR_MAX + 100];
    memset(big, 'L', sizeof big);
    uint32_t id = bytes_id(big, sizeof big);
    assert_true(id >= 1);
    /* beyond the cut, strings are the same string */
    big[PA_STR_MAX + 50] = 'M';
    assert_int_equal(bytes_id(big, sizeof big), id);
    assert_int_equal(bytes_id(big, PA_STR_MAX), id);
    pa_trace_t *t = decode_log();
    const char *s = pa_trace_string(t, id);
    assert_int_equal(strlen(s), PA_STR_MAX);
    assert_int_equal(s[PA_STR_MAX - 1], 'L');
    pa_trace_free(t);
}

static void test_tables_node_dedup(void **state)
{
    uint32_t before = pa_tab_node_count();
    uint32_t root = node_id(0, PA_FRAME_PYTHON, 900001, 10);
    assert_true(root >= 1);
    assert_int_equal(node_id(0, PA_FRAME_PYTHON, 900001, 10), root);
    assert_int_equal(pa_tab_node_count(), before + 1);

    /* each field on its own makes a different node */
    uint32_t child = node_id(root, PA_FRAME_PYTHON, 900001, 10);
    uint32_t kind = node_id(0, PA_FRAME_NATIVE, 900001, 10);
    uint32_t a = node_id(0, PA_FRAME_PYTHON, 900002, 10);
    uint32_t b = node_id(0, PA_FRAME_PYTHON, 900001, 11);
    uint32_t all[] = { root, child, kind, a, b };
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            assert_int_not_equal(all[i], all[j]);
    assert_int_equal(pa_tab_node_count(), before + 5);

    /* a and b are not interchangeable, nor are parent and a */
    assert_int_not_equal(node_id(0, PA_FRAME_PYTHON, 10, 900001), root);
    assert_int_not_equal(node_id(900001, PA_FRAME_PYTHON, 0, 10), root);
    /* full-width fields */
    uint32_t wide = node_id(UINT32_MAX, 255, UINT32_MAX, UINT32_MAX);
    assert_int_equal(node_id(UINT32_MAX, 255, UINT32_MAX, UINT32_MAX), wide);
    assert_int_not_equal(node_id(UINT32_MAX, 255, UINT32_MAX, UINT32_MAX - 1), wide);
    assert_int_not_equal(node_id(UINT32_MAX, 254, UINT32_MAX, UINT32_MAX), wide);
    assert_int_equal(pa_tab_node_count(), before + 10);

    /* the same sub-path reached twice is one node */
    for (int rep = 0; rep < 3; rep++) {
        uint32_t p = 0;
        for (uint32_t depth = 0; depth < 100; depth++)
            p = node_id(p, PA_FRAME_PYTHON, 910000 + depth, depth);
    }
    assert_int_equal(pa_tab_node_count(), before + 10 + 100);
}

static void test_tables_native_queued_once(void **state)
{
    enum { N = 1000 };
    const uintptr_t base = 0x7f1234560000;
    uintptr_t ips[2 * N];
    uint32_t ids[2 * N], want[N];
    pa_tables_lock();
    while (pa_tab_take_pending(ips, ids, 2 * N)) /* start with an empty queue */
        ;
    pa_tables_unlock();
    for (int rep = 0; rep < 3; rep++)
        for (uint32_t i = 0; i < N; i++) {
            uint32_t id = native_id(base + i * 8);
            assert_true(id >= 1);
            if (rep == 0)
                want[i] = id;
            else
                assert_int_equal(id, want[i]);
        }
    /* taken in pieces, every address comes out exactly once, with its id */
    static uint8_t seen[N];
    memset(seen, 0, sizeof seen);
    size_t total = 0, got;
    pa_tables_lock();
    while ((got = pa_tab_take_pending(ips, ids, 7)) > 0) {
        for (size_t k = 0; k < got; k++) {
            uintptr_t i = (ips[k] - base) / 8;
            assert_true(ips[k] >= base && i < N && (ips[k] - base) % 8 == 0);
            assert_int_equal(seen[i], 0);
            seen[i] = 1;
            assert_int_equal(ids[k], want[i]);
        }
        total += got;
    }
    pa_tables_unlock();
    assert_int_equal(total, N);
    /* known addresses are not queued again */
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(native_id(base + i * 8), want[i]);
    pa_tables_lock();
    assert_int_equal(pa_tab_take_pending(ips, ids, 2 * N), 0);
    pa_tables_unlock();
    /* a new one is */
    uint32_t fresh = native_id(base - 8);
    pa_tables_lock();
    assert_int_equal(pa_tab_take_pending(ips, ids, 2 * N), 1);
    pa_tables_unlock();
    assert_true(ips[0] == base - 8);
    assert_int_equal(ids[0], fresh);
}

/* A stack built from the root outwards comes back innermost first, named. */
static void test_tables_stack_decodes_innermost_first(void **state)
{
    uint32_t s_main = str_id("stack/main"), s_file = str_id("stack/app.py");
    uint32_t s_work = str_id("stack/work"), s_mod = str_id("/usr/lib/stack/libnative.so");
    uint32_t s_sym = str_id("stack_native_fn");
    uint32_t f_main = func_id(s_main, s_file, 1), f_work = func_id(s_work, s_file, 40);
    uint32_t nat = native_id(0x7f00deadbe00);

    /* what the symbolizer appends for a native frame */
    pa_rec_t r = { 0 };
    pa_rec_u(&r, nat);
    pa_rec_u(&r, s_mod);
    pa_rec_u(&r, s_sym);
    pa_rec_u(&r, 0x1e00);
    pa_rec_u(&r, 0x2a);
    pa_tables_lock();
    assert_int_equal(pa_tab_append(PA_REC_NATIVE, &r), 0);
    pa_tables_unlock();

    uint32_t n1 = node_id(0, PA_FRAME_PYTHON, f_main, 12);
    uint32_t n2 = node_id(n1, PA_FRAME_PYTHON, f_work, 44);
    uint32_t n3 = node_id(n2, PA_FRAME_NATIVE, nat, 0);
    uint32_t n4 = node_id(n3, PA_FRAME_ALLOCATOR, PA_ALLOC_CALLOC, 0);
    /* a sibling branch sharing the Python prefix */
    uint32_t n5 = node_id(n2, PA_FRAME_ALLOCATOR, PA_ALLOC_MALLOC, 0);
    assert_int_not_equal(n5, n4);
    assert_int_equal(node_id(0, PA_FRAME_PYTHON, f_main, 12), n1);

    pa_trace_t *t = decode_log();
    struct pa_frame f[8];
    assert_int_equal(pa_trace_stack_depth(t, n4), 4);
    assert_int_equal(pa_trace_stack(t, n4, f, 8), 4);

    assert_int_equal(f[0].kind, PA_FRAME_ALLOCATOR);
    assert_int_equal(f[0].node, n4);
    assert_string_equal(f[0].function, "calloc");

    assert_int_equal(f[1].kind, PA_FRAME_NATIVE);
    assert_int_equal(f[1].node, n3);
    assert_string_equal(f[1].module, "/usr/lib/stack/libnative.so");
    assert_string_equal(f[1].function, "stack_native_fn");
    assert_int_equal(f[1].module_offset, 0x1e00);
    assert_int_equal(f[1].symbol_offset, 0x2a);

    assert_int_equal(f[2].kind, PA_FRAME_PYTHON);
    assert_int_equal(f[2].node, n2);
    assert_string_equal(f[2].function, "stack/work");
    assert_string_equal(f[2].file, "stack/app.py");
    assert_int_equal(f[2].line, 44);
    assert_int_equal(f[2].a, f_work);

    assert_int_equal(f[3].kind, PA_FRAME_PYTHON);
    assert_int_equal(f[3].node, n1);
    assert_string_equal(f[3].function, "stack/main");
    assert_int_equal(f[3].line, 12);

    assert_int_equal(pa_trace_stack(t, n5, f, 8), 3);
    assert_string_equal(f[0].function, "malloc");
    assert_int_equal(f[1].node, n2);
    assert_int_equal(f[2].node, n1);

    /* a short buffer gets the innermost frames */
    assert_int_equal(pa_trace_stack(t, n4, f, 2), 2);
    assert_int_equal(f[0].node, n4);
    assert_int_equal(f[1].node, n3);
    pa_trace_free(t);
}

/* The writer ships the log in slices [from, to) taken at different times: records
 * never straddle a slice boundary, so the slices decode one after another. */
static void test_tables_log_slices_decode(void **state)
{
    pa_tables_lock();
    size_t from = pa_tab_log_len();
    pa_tables_unlock();
    uint32_t s1 = str_id("slice/one");
    uint32_t n1 = node_id(0, PA_FRAME_PYTHON, func_id(s1, s1, 1), 5);
    pa_tables_lock();
    size_t mid = pa_tab_log_len();
    pa_tables_unlock();
    assert_true(mid > from);
    uint32_t s2 = str_id("slice/two");
    uint32_t n2 = node_id(n1, PA_FRAME_PYTHON, func_id(s2, s1, 2), 6);
    assert_int_equal(str_id("slice/one"), s1); /* already known: appends nothing */
    pa_tables_lock();
    size_t to = pa_tab_log_len();
    uint8_t *log = pa_mem_alloc(to);
    assert_non_null(log);
    pa_tab_log_copy(0, from, log); /* everything before this test, for the other ids */
    pa_tab_log_copy(from, mid, log + from);
    pa_tab_log_copy(mid, to, log + mid);
    pa_tables_unlock();

    pa_trace_t *t = pa_trace_new();
    assert_non_null(t);
    char err[256];
    assert_int_equal(pa_trace_feed(t, log, mid, err, sizeof err), 0);
    assert_int_equal(pa_trace_feed(t, log + mid, to - mid, err, sizeof err), 0);
    pa_trace_finish(t);
    struct pa_frame f[4];
    assert_int_equal(pa_trace_stack(t, n2, f, 4), 2);
    assert_string_equal(f[0].function, "slice/two");
    assert_string_equal(f[0].file, "slice/one");
    assert_int_equal(f[0].line, 6);
    assert_string_equal(f[1].function, "slice/one");
    assert_int_equal(pa_trace_counts(t)->bad_records, 0);
    pa_trace_free(t);
    pa_mem_free(log);
}

static void test_tables_append_arbitrary_records(void **state)
{
    pa_rec_t r = { 0 };
    pa_rec_str(&r, "a note from the agent", 21);
    pa_tables_lock();
    size_t before = pa_tab_log_len();
    assert_int_equal(pa_tab_append(PA_REC_NOTE, &r), 0);
    assert_true(pa_tab_log_len() > before);
    pa_tables_unlock();
    pa_trace_t *t = decode_log();
    const char *const *notes;
    size_t n = pa_trace_notes(t, &notes);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found |= !strcmp(notes[i], "a note from the agent");
    assert_true(found);
    pa_trace_free(t);
}

static void test_tables_memory_accounted(void **state)
{
    uint64_t before = pa_tab_bytes();
    char s[32];
    for (int i = 0; i < 50000; i++) {
        snprintf(s, sizeof s, "grow/%d", i);
        assert_true(str_id(s) >= 1);
    }
    assert_true(pa_tab_bytes() > before);
    pa_tables_lock();
    assert_true(pa_tab_bytes() >= pa_tab_log_len());
    pa_tables_unlock();
    assert_true(pa_mem_bytes() >= pa_tab_bytes());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_string_dedup),
        cmocka_unit_test(test_tables_string_ids_distinct_for_many),
        cmocka_unit_test(test_tables_long_string_cut),
        cmocka_unit_test(test_tables_node_dedup),
        cmocka_unit_test(test_tables_native_queued_once),
        cmocka_unit_test(test_tables_stack_decodes_innermost_first),
        cmocka_unit_test(test_tables_log_slices_decode),
        cmocka_unit_test(test_tables_append_arbitrary_records),
        cmocka_unit_test(test_tables_memory_accounted),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
