/* test_heap.c — the live-allocation table: exact totals through insert, remove and
 * replace, from many threads, at a million blocks; and the leak groups at exit.
 * The table is process-global, so each test uses its own pointer range and stack
 * ids, and leaves the table empty (checked in teardown). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "mem.h"
#include "pyagent/format.h"

/* Fake, 16-byte aligned addresses: the table never dereferences them. */
#define PTR(base, i) ((uintptr_t)(base) + (uintptr_t)(i) * 16)

static int setup(void **state)
{
    if (pa_mem_init() != 0 || pa_heap_init() != 0)
        return -1;
    uint64_t bytes, count;
    pa_heap_totals(&bytes, &count);
    return bytes || count ? -1 : 0;
}

static int teardown(void **state)
{
    uint64_t bytes, count;
    pa_heap_totals(&bytes, &count);
    return bytes || count ? -1 : 0;
}

static void assert_totals(uint64_t want_bytes, uint64_t want_count)
{
    uint64_t bytes, count;
    pa_heap_totals(&bytes, &count);
    assert_true(bytes == want_bytes);
    assert_true(count == want_count);
}

static pa_block_t blk(uintptr_t ptr, uint64_t size, uint32_t stack)
{
    return (pa_block_t){ ptr, size, stack, stack ^ 0x55, ptr * 3 };
}

static void test_heap_insert_remove_totals(void **state)
{
    enum { N = 100000 };
    const uintptr_t base = 0x100000000000;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < N; i++) {
        pa_block_t b = blk(PTR(base, i), i % 1000 + 1, i % 50 + 1);
        assert_int_equal(pa_heap_insert(&b), 0);
        bytes += i % 1000 + 1;
    }
    assert_totals(bytes, N);

    /* remove the odd ones: each comes back exactly as inserted */
    for (uint32_t i = 1; i < N; i += 2) {
        pa_block_t out;
        memset(&out, 0xab, sizeof out);
        assert_int_equal(pa_heap_remove(PTR(base, i), &out), 1);
        pa_block_t want = blk(PTR(base, i), i % 1000 + 1, i % 50 + 1);
        assert_memory_equal(&out, &want, sizeof out);
        bytes -= i % 1000 + 1;
    }
    assert_totals(bytes, N / 2);

    /* the even ones are all still there; the odd ones are gone */
    for (uint32_t i = 0; i < N; i++) {
        pa_block_t out;
        int had = pa_heap_remove(PTR(base, i), &out);
        assert_int_equal(had, i % 2 == 0);
        if (had)
            assert_true(out.size == i % 1000 + 1);
    }
    assert_totals(0, 0);

    /* re-insert everything with new sizes */
    bytes = 0;
    for (uint32_t i = 0; i < N; i++) {
        pa_block_t b = blk(PTR(base, i), 7 * i + 1, 9);
        assert_int_equal(pa_heap_insert(&b), 0);
        bytes += 7 * i + 1;
    }
    assert_totals(bytes, N);
    for (uint32_t i = 0; i < N; i++) {
        pa_block_t out;
        assert_int_equal(pa_heap_remove(PTR(base, i), &out), 1);
        assert_true(out.size == 7 * (uint64_t)i + 1);
    }
}

static void test_heap_remove_unknown_returns_zero(void **state)
{
    const uintptr_t base = 0x200000000000;
    pa_block_t out;
    assert_int_equal(pa_heap_remove(PTR(base, 0), &out), 0);
    for (uint32_t i = 0; i < 1000; i++) {
        pa_block_t b = blk(PTR(base, 2 * i), 10, 1);
        assert_int_equal(pa_heap_insert(&b), 0);
    }
    for (uint32_t i = 0; i < 1000; i++)
        assert_int_equal(pa_heap_remove(PTR(base, 2 * i + 1), &out), 0);
    assert_int_equal(pa_heap_remove(0xdeadbeef0, &out), 0);
    assert_totals(10000, 1000);
    for (uint32_t i = 0; i < 1000; i++) {
        assert_int_equal(pa_heap_remove(PTR(base, 2 * i), &out), 1);
        assert_int_equal(pa_heap_remove(PTR(base, 2 * i), &out), 0); /* double free */
    }
}

static void test_heap_insert_same_ptr_replaces(void **state)
{
    const uintptr_t p = 0x300000000010;
    pa_block_t a = blk(p, 100, 1), b = blk(p, 40, 2), out;
    assert_int_equal(pa_heap_insert(&a), 0);
    assert_int_equal(pa_heap_insert(&b), 0);
    assert_totals(40, 1);
    assert_int_equal(pa_heap_remove(p, &out), 1);
    assert_true(out.size == 40);
    assert_int_equal(out.stack, 2);
    assert_int_equal(pa_heap_remove(p, &out), 0);
    assert_totals(0, 0);
}

static void test_heap_flags_not_counted_as_bytes(void **state)
{
    const uintptr_t p = 0x310000000000;
    pa_block_t a = blk(p, 123 | PA_BLK_STARTUP, 1), b = blk(p + 16, 5 | PA_BLK_SHUTDOWN, 1), out;
    assert_int_equal(pa_heap_insert(&a), 0);
    assert_int_equal(pa_heap_insert(&b), 0);
    assert_totals(128, 2);
    assert_int_equal(pa_heap_remove(p, &out), 1);
    assert_true(out.size & PA_BLK_STARTUP);
    assert_true((out.size & PA_BLK_SIZE_MASK) == 123);
    assert_int_equal(pa_heap_remove(p + 16, &out), 1);
}

/* ---- leak groups ---- */

struct group { uint32_t stack, flags; uint64_t bytes, count; };
struct groups { uint32_t lo, hi; size_t n; struct group g[64]; int dup; };

/* Keeps only stacks in [lo, hi): other tests' groups may be in the table. */
static void collect(void *ctx, uint32_t stack, uint32_t flags, uint64_t bytes, uint64_t count)
{
    struct groups *gs = ctx;
    if (stack < gs->lo || stack >= gs->hi)
        return;
    for (size_t i = 0; i < gs->n; i++)
        if (gs->g[i].stack == stack && gs->g[i].flags == flags)
            gs->dup = 1;
    if (gs->n < 64)
        gs->g[gs->n++] = (struct group){ stack, flags, bytes, count };
}

static void assert_group(const struct groups *gs, uint32_t stack, uint32_t flags, uint64_t bytes,
                         uint64_t count)
{
    for (size_t i = 0; i < gs->n; i++) {
        if (gs->g[i].stack != stack || gs->g[i].flags != flags)
            continue;
        if (gs->g[i].bytes != bytes || gs->g[i].count != count)
            fail_msg("stack %u flags %u: %llu bytes in %llu blocks, want %llu in %llu", stack, flags,
                     (unsigned long long)gs->g[i].bytes, (unsigned long long)gs->g[i].count,
                     (unsigned long long)bytes, (unsigned long long)count);
        return;
    }
    fail_msg("no group for stack %u flags %u", stack, flags);
}

static void test_heap_leaks_after_program_end(void **state)
{
    const uintptr_t base = 0x400000000000;
    uint32_t n = 0;
    pa_block_t out;
    for (int i = 0; i < 10; i++) {
        pa_block_t b = blk(PTR(base, n++), 100, 1001);
        assert_int_equal(pa_heap_insert(&b), 0);
    }
    for (int i = 0; i < 5; i++) {
        pa_block_t b = blk(PTR(base, n++), 7, 1002);
        assert_int_equal(pa_heap_insert(&b), 0);
    }
    for (int i = 0; i < 3; i++) {
        pa_block_t b = blk(PTR(base, n++), 1000 | PA_BLK_STARTUP, 1003);
        assert_int_equal(pa_heap_insert(&b), 0);
    }
    uint64_t bytes, count;
    pa_heap_mark_program_end(&bytes, &count);
    assert_true(bytes == 1000 + 35 + 3000);
    assert_true(count == 18);
    assert_totals(4035, 18);

    /* shutdown frees: 4 of 1001, all of 1002, 1 of 1003 */
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(pa_heap_remove(PTR(base, i), &out), 1);
    for (uint32_t i = 10; i < 15; i++)
        assert_int_equal(pa_heap_remove(PTR(base, i), &out), 1);
    assert_int_equal(pa_heap_remove(PTR(base, 15), &out), 1);
    /* allocated after the checkpoint: two kept, one freed (not a leak of any kind) */
    uint32_t late = n;
    for (int i = 0; i < 3; i++) {
        pa_block_t b = blk(PTR(base, n++), 50 | PA_BLK_SHUTDOWN, 1004);
        assert_int_equal(pa_heap_insert(&b), 0);
    }
    assert_int_equal(pa_heap_remove(PTR(base, late + 2), &out), 1);

    struct groups gs = { .lo = 1000, .hi = 1100 };
    pa_heap_leaks(collect, &gs);
    assert_false(gs.dup);
    assert_group(&gs, 1001, 0, 600, 6);
    assert_group(&gs, 1001, PA_LEAK_FREED_AT_SHUTDOWN, 400, 4);
    assert_group(&gs, 1002, PA_LEAK_FREED_AT_SHUTDOWN, 35, 5);
    assert_group(&gs, 1003, PA_LEAK_STARTUP, 2000, 2);
    assert_group(&gs, 1003, PA_LEAK_FREED_AT_SHUTDOWN | PA_LEAK_STARTUP, 1000, 1);
    assert_group(&gs, 1004, PA_LEAK_SHUTDOWN, 100, 2);
    assert_int_equal(gs.n, 6);

    /* reporting does not consume anything: a second call gives the same groups */
    struct groups again = { .lo = 1000, .hi = 1100 };
    pa_heap_leaks(collect, &again);
    assert_int_equal(again.n, 6);

    for (uint32_t i = 0; i < n; i++)
        pa_heap_remove(PTR(base, i), &out);
}

static void test_heap_leak_flags_from_block_flags(void **state)
{
    const uintptr_t base = 0x500000000000;
    const struct { uint64_t blk_flags; uint32_t stack, leak_flags; } cases[] = {
        { 0, 2001, 0 },
        { PA_BLK_STARTUP, 2002, PA_LEAK_STARTUP },
        { PA_BLK_SHUTDOWN, 2003, PA_LEAK_SHUTDOWN },
        { PA_BLK_STARTUP | PA_BLK_SHUTDOWN, 2004, PA_LEAK_STARTUP | PA_LEAK_SHUTDOWN },
    };
    for (uint32_t c = 0; c < 4; c++)
        for (uint32_t i = 0; i < 3; i++) {
            pa_block_t b = blk(PTR(base, c * 16 + i), (c + 1) * 10 | cases[c].blk_flags, cases[c].stack);
            assert_int_equal(pa_heap_insert(&b), 0);
        }
    struct groups gs = { .lo = 2000, .hi = 2100 };
    pa_heap_leaks(collect, &gs);
    assert_false(gs.dup);
    assert_int_equal(gs.n, 4);
    for (uint32_t c = 0; c < 4; c++)
        assert_group(&gs, cases[c].stack, cases[c].leak_flags, (c + 1) * 30, 3);
    pa_block_t out;
    for (uint32_t c = 0; c < 4; c++)
        for (uint32_t i = 0; i < 3; i++)
            assert_int_equal(pa_heap_remove(PTR(base, c * 16 + i), &out), 1);
    /* freed before any checkpoint: nothing left to report */
    struct groups none = { .lo = 2000, .hi = 2100 };
    pa_heap_leaks(collect, &none);
    assert_int_equal(none.n, 0);
}

/* Each stack s in [100000, 100000 + MANY_STACKS) holds MANY_PER blocks of s - 99999 bytes. */
enum { MANY_STACKS = 3000, MANY_PER = 5 };
struct sums { uint64_t groups, bytes, count; int bad; };

static void sum_groups(void *ctx, uint32_t stack, uint32_t flags, uint64_t bytes, uint64_t count)
{
    struct sums *t = ctx;
    if (stack < 100000 || stack >= 100000 + MANY_STACKS)
        return;
    t->groups++;
    t->bytes += bytes;
    t->count += count;
    if (flags != 0 || count != MANY_PER || bytes != (uint64_t)MANY_PER * (stack - 99999))
        t->bad = 1;
}

static void test_heap_leaks_group_many_stacks(void **state)
{
    const uintptr_t base = 0x510000000000;
    for (uint32_t s = 0; s < MANY_STACKS; s++)
        for (uint32_t i = 0; i < MANY_PER; i++) {
            pa_block_t b = blk(PTR(base, s * MANY_PER + i), s + 1, 100000 + s);
            assert_int_equal(pa_heap_insert(&b), 0);
        }
    struct sums t = { 0 };
    pa_heap_leaks(sum_groups, &t);
    assert_false(t.bad);
    assert_int_equal(t.groups, MANY_STACKS);
    assert_true(t.count == MANY_STACKS * MANY_PER);
    assert_true(t.bytes == (uint64_t)MANY_PER * MANY_STACKS * (MANY_STACKS + 1) / 2);
    pa_block_t out;
    for (uint32_t i = 0; i < MANY_STACKS * MANY_PER; i++)
        assert_int_equal(pa_heap_remove(PTR(base, i), &out), 1);
}

/* ---- scale and concurrency ---- */

/* Random insert/remove against a model: backward-shift deletion must keep every
 * remaining block findable. */
static void test_heap_churn_matches_model(void **state)
{
    enum { SPACE = 20000, OPS = 400000 };
    const uintptr_t base = 0x600000000000;
    static uint64_t model[SPACE]; /* size + 1, 0 = absent */
    memset(model, 0, sizeof model);
    uint64_t bytes = 0, count = 0;
    unsigned seed = 12345;
    for (int op = 0; op < OPS; op++) {
        uint32_t i = (uint32_t)rand_r(&seed) % SPACE;
        pa_block_t out;
        if (model[i]) {
            assert_int_equal(pa_heap_remove(PTR(base, i), &out), 1);
            assert_true(out.size + 1 == model[i]);
            bytes -= out.size, count--;
            model[i] = 0;
        } else {
            uint64_t size = (uint64_t)rand_r(&seed) % 4096;
            pa_block_t b = blk(PTR(base, i), size, 1);
            assert_int_equal(pa_heap_insert(&b), 0);
            model[i] = size + 1;
            bytes += size, count++;
        }
    }
    assert_totals(bytes, count);
    for (uint32_t i = 0; i < SPACE; i++) {
        pa_block_t out;
        int had = pa_heap_remove(PTR(base, i), &out);
        if (had != (model[i] != 0))
            fail_msg("block %u: table says %d, model says %d", i, had, model[i] != 0);
        if (had)
            assert_true(out.size + 1 == model[i]);
    }
}

struct worker {
    int id;
    uint64_t bytes, count; /* what this thread left live */
    int errors;
};

#define THREAD_OPS 100000
#define THREAD_SLOTS 4096

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uintptr_t base = (uintptr_t)(w->id + 1) << 40;
    uint64_t *live = calloc(THREAD_SLOTS, sizeof *live); /* size + 1 per slot */
    unsigned seed = (unsigned)w->id * 7919u + 1;
    if (!live) {
        w->errors++;
        return NULL;
    }
    for (int op = 0; op < THREAD_OPS; op++) {
        uint32_t i = (uint32_t)rand_r(&seed) % THREAD_SLOTS;
        pa_block_t out;
        if (live[i]) {
            if (pa_heap_remove(PTR(base, i), &out) != 1 || out.size + 1 != live[i] ||
                out.thread != (uint32_t)w->id)
                w->errors++;
            live[i] = 0;
        } else {
            uint64_t size = 1 + (uint64_t)rand_r(&seed) % 100000;
            pa_block_t b = { PTR(base, i), size, 1, (uint32_t)w->id, 0 };
            if (pa_heap_insert(&b) != 0)
                w->errors++;
            live[i] = size + 1;
        }
    }
    for (uint32_t i = 0; i < THREAD_SLOTS; i++)
        if (live[i])
            w->bytes += live[i] - 1, w->count++;
    free(live);
    return NULL;
}

static void test_heap_threads_exact_totals(void **state)
{
    enum { THREADS = 4 };
    struct worker w[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (struct worker){ .id = t };
        assert_int_equal(pthread_create(&th[t], NULL, worker_main, &w[t]), 0);
    }
    uint64_t bytes = 0, count = 0;
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(w[t].errors, 0);
        bytes += w[t].bytes, count += w[t].count;
    }
    assert_true(count > 0);
    assert_totals(bytes, count);
    for (int t = 0; t < THREADS; t++) {
        uintptr_t base = (uintptr_t)(t + 1) << 40;
        for (uint32_t i = 0; i < THREAD_SLOTS; i++) {
            pa_block_t out;
            if (pa_heap_remove(PTR(base, i), &out))
                assert_int_equal(out.thread, t);
        }
    }
}

static void test_heap_million_blocks(void **state)
{
    enum { N = 1000000 };
    const uintptr_t base = 0x700000000000;
    uint64_t table_before = pa_heap_table_bytes();
    for (uint32_t i = 0; i < N; i++) {
        pa_block_t b = blk(PTR(base, i), 24, i % 1000 + 1);
        if (pa_heap_insert(&b) != 0)
            fail_msg("insert %u failed", i);
    }
    assert_totals(24ull * N, N);
    uint64_t table = pa_heap_table_bytes();
    /* holds every block, under 70% load, and not more than ~4x that */
    assert_true(table >= (uint64_t)N * sizeof(pa_block_t) * 10 / 7);
    assert_true(table <= (uint64_t)N * sizeof(pa_block_t) * 4 + table_before);
    /* the table is agent memory, and it is accounted */
    assert_true(pa_mem_bytes() >= table);
    for (uint32_t i = 0; i < N; i++) {
        pa_block_t out;
        if (pa_heap_remove(PTR(base, i), &out) != 1 || out.stack != i % 1000 + 1)
            fail_msg("block %u not removable", i);
    }
    assert_totals(0, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_heap_insert_remove_totals),
        T(test_heap_remove_unknown_returns_zero),
        T(test_heap_insert_same_ptr_replaces),
        T(test_heap_flags_not_counted_as_bytes),
        T(test_heap_leak_flags_from_block_flags),
        T(test_heap_leaks_group_many_stacks),
        T(test_heap_leaks_after_program_end),
        T(test_heap_churn_matches_model),
        T(test_heap_threads_exact_totals),
        T(test_heap_million_blocks),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
