/* test_map.c — the 128-bit-key hash map behind the interning tables: every key put
 * stays findable through growth, overwrites replace, missing keys read as 0. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "map.h"
#include "mem.h"

#define MANY 200000u

static int setup(void **state)
{
    if (pa_mem_init() != 0)
        return -1;
    static pa_map_t m;
    m = (pa_map_t){ 0 };
    *state = &m;
    return 0;
}

static int teardown(void **state)
{
    pa_map_clear(*state);
    return 0;
}

/* Values derived from the key, so a value found under the wrong key shows. */
static uint32_t val_of(uint64_t k1, uint64_t k2) { return (uint32_t)(pa_mix64(k1, k2) | 1); }

static void test_map_empty_get_is_zero(void **state)
{
    pa_map_t *m = *state;
    assert_int_equal(pa_map_get(m, 0, 0), 0);
    assert_int_equal(pa_map_get(m, 1, 2), 0);
    assert_int_equal(pa_map_bytes(m), 0);
    pa_map_clear(m); /* clearing an empty map is fine */
    assert_int_equal(pa_map_get(m, 1, 2), 0);
}

static void test_map_put_get_many(void **state)
{
    pa_map_t *m = *state;
    for (uint64_t i = 0; i < MANY; i++) {
        uint64_t k1 = i * 0x10 + 0x7f0000000000ull, k2 = i % 7; /* pointer-like, small k2 */
        assert_int_equal(pa_map_put(m, k1, k2, val_of(k1, k2)), 0);
    }
    for (uint64_t i = 0; i < MANY; i++) {
        uint64_t k1 = i * 0x10 + 0x7f0000000000ull, k2 = i % 7;
        if (pa_map_get(m, k1, k2) != val_of(k1, k2))
            fail_msg("key %llu lost", (unsigned long long)i);
    }
    assert_int_equal(m->used, MANY);
}

static void test_map_keys_differing_only_in_k2(void **state)
{
    pa_map_t *m = *state;
    for (uint32_t i = 0; i < MANY; i++)
        assert_int_equal(pa_map_put(m, 42, i, i + 1), 0);
    for (uint32_t i = 0; i < MANY; i++)
        if (pa_map_get(m, 42, i) != i + 1)
            fail_msg("k2=%u lost", i);
    assert_int_equal(pa_map_get(m, 42, MANY), 0);
    assert_int_equal(pa_map_get(m, 43, 0), 0);
}

static void test_map_keys_differing_only_in_k1(void **state)
{
    pa_map_t *m = *state;
    for (uint32_t i = 0; i < MANY; i++)
        assert_int_equal(pa_map_put(m, i, 42, i + 1), 0);
    for (uint32_t i = 0; i < MANY; i++)
        if (pa_map_get(m, i, 42) != i + 1)
            fail_msg("k1=%u lost", i);
    /* (k1, k2) and (k2, k1) are different keys */
    assert_int_equal(pa_map_get(m, 42, 7), 0);
    assert_int_equal(pa_map_put(m, 42, 7, 999), 0);
    assert_int_equal(pa_map_get(m, 7, 42), 8);
    assert_int_equal(pa_map_get(m, 42, 7), 999);
}

static void test_map_overwrite_replaces(void **state)
{
    pa_map_t *m = *state;
    for (uint32_t i = 0; i < 1000; i++)
        assert_int_equal(pa_map_put(m, i, ~(uint64_t)i, 1), 0);
    uint32_t used = m->used;
    for (uint32_t i = 0; i < 1000; i++)
        assert_int_equal(pa_map_put(m, i, ~(uint64_t)i, i + 100), 0);
    assert_int_equal(m->used, used); /* no duplicate entries */
    for (uint32_t i = 0; i < 1000; i++)
        assert_int_equal(pa_map_get(m, i, ~(uint64_t)i), i + 100);
}

static void test_map_missing_keys_are_zero(void **state)
{
    pa_map_t *m = *state;
    for (uint64_t i = 0; i < MANY; i += 2)
        assert_int_equal(pa_map_put(m, i, i, 5), 0);
    for (uint64_t i = 1; i < MANY; i += 2)
        if (pa_map_get(m, i, i) != 0 || pa_map_get(m, i - 1, i) != 0)
            fail_msg("phantom key %llu", (unsigned long long)i);
}

static void test_map_extreme_keys(void **state)
{
    pa_map_t *m = *state;
    const uint64_t ks[] = { 0, 1, UINT64_MAX, 1ull << 63, UINT32_MAX };
    uint32_t v = 1;
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 5; b++)
            assert_int_equal(pa_map_put(m, ks[a], ks[b], v++), 0);
    v = 1;
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 5; b++)
            assert_int_equal(pa_map_get(m, ks[a], ks[b]), v++);
    assert_int_equal(pa_map_put(m, 0, 0, UINT32_MAX), 0);
    assert_int_equal(pa_map_get(m, 0, 0), UINT32_MAX);
}

static void test_map_growth_keeps_entries(void **state)
{
    pa_map_t *m = *state;
    uint64_t bytes = 0;
    unsigned grew = 0;
    for (uint32_t i = 0; i < MANY; i++) {
        assert_int_equal(pa_map_put(m, (uint64_t)i << 32, i, i + 1), 0);
        if (pa_map_bytes(m) != bytes) {
            bytes = pa_map_bytes(m);
            grew++;
            /* right after each growth, everything put so far is still there */
            for (uint32_t j = 0; j <= i; j++)
                if (pa_map_get(m, (uint64_t)j << 32, j) != j + 1)
                    fail_msg("key %u lost when growing at %u", j, i);
        }
    }
    assert_true(grew >= 8);
    /* load stays under 70%: the table is at least 1/0.7 of the entries */
    assert_true(pa_map_bytes(m) * 7 >= (uint64_t)MANY * sizeof(pa_map_slot_t) * 10);
    /* and is not wildly oversized */
    assert_true(pa_map_bytes(m) <= (uint64_t)MANY * sizeof(pa_map_slot_t) * 4);
}

static void test_map_clear_then_reuse(void **state)
{
    pa_map_t *m = *state;
    for (uint32_t i = 0; i < 5000; i++)
        assert_int_equal(pa_map_put(m, i, 0, i + 1), 0);
    pa_map_clear(m);
    assert_int_equal(pa_map_bytes(m), 0);
    assert_int_equal(pa_map_get(m, 10, 0), 0);
    assert_int_equal(pa_map_put(m, 10, 0, 3), 0);
    assert_int_equal(pa_map_get(m, 10, 0), 3);
    assert_int_equal(pa_map_get(m, 11, 0), 0);
}

static void test_map_memory_returned_on_clear(void **state)
{
    pa_map_t *m = *state;
    uint64_t before = pa_mem_bytes();
    for (uint32_t i = 0; i < MANY; i++)
        assert_int_equal(pa_map_put(m, i, 1, i + 1), 0);
    assert_true(pa_mem_bytes() >= before + pa_map_bytes(m));
    pa_map_clear(m);
    assert_true(pa_mem_bytes() == before);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_map_empty_get_is_zero),
        T(test_map_put_get_many),
        T(test_map_keys_differing_only_in_k2),
        T(test_map_keys_differing_only_in_k1),
        T(test_map_overwrite_replaces),
        T(test_map_missing_keys_are_zero),
        T(test_map_extreme_keys),
        T(test_map_growth_keeps_entries),
        T(test_map_clear_then_reuse),
        T(test_map_memory_returned_on_clear),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
