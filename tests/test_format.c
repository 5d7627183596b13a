/* test_format.c — the varint, zigzag and little-endian helpers of pyagent/format.h
 * that writer and reader both rely on: round trips at the edges, strict rejection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pyagent/format.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const uint64_t edges[] = {
    0, 1, 127, 128, 255, 16383, 16384, UINT32_MAX, (uint64_t)UINT32_MAX + 1,
    (1ull << 56) - 1, 1ull << 56, (1ull << 63) - 1, 1ull << 63, UINT64_MAX - 1, UINT64_MAX,
};

/* LEB128 length of v: one byte per started group of 7 bits. */
static size_t expected_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80)
        v >>= 7, n++;
    return n;
}

static void test_format_varint_round_trip(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(edges); i++) {
        uint8_t buf[PA_VARINT_MAX + 4];
        memset(buf, 0xee, sizeof buf);
        size_t n = pa_varint_put(buf, edges[i]);
        assert_int_equal(n, expected_len(edges[i]));
        assert_true(n <= PA_VARINT_MAX);
        assert_int_equal(buf[n], 0xee); /* nothing written past the returned length */

        const uint8_t *p = buf;
        uint64_t v = 12345;
        assert_int_equal(pa_varint_get(&p, buf + n, &v), 0);
        assert_true(v == edges[i]);
        assert_ptr_equal(p, buf + n);
    }
}

static void test_format_varint_lengths_at_boundaries(void **state)
{
    uint8_t buf[PA_VARINT_MAX];
    assert_int_equal(pa_varint_put(buf, 0), 1);
    assert_int_equal(buf[0], 0);
    assert_int_equal(pa_varint_put(buf, 127), 1);
    assert_int_equal(buf[0], 0x7f);
    assert_int_equal(pa_varint_put(buf, 128), 2);
    assert_int_equal(buf[0], 0x80);
    assert_int_equal(buf[1], 0x01);
    assert_int_equal(pa_varint_put(buf, 1ull << 63), 10);
    assert_int_equal(buf[9], 0x01);
    assert_int_equal(pa_varint_put(buf, UINT64_MAX), 10);
    for (int i = 0; i < 9; i++)
        assert_int_equal(buf[i], 0xff);
    assert_int_equal(buf[9], 0x01);
}

static void test_format_varint_sequence_decodes_in_order(void **state)
{
    uint8_t buf[ARRAY_LEN(edges) * PA_VARINT_MAX];
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_LEN(edges); i++)
        n += pa_varint_put(buf + n, edges[i]);
    const uint8_t *p = buf;
    for (size_t i = 0; i < ARRAY_LEN(edges); i++) {
        uint64_t v;
        assert_int_equal(pa_varint_get(&p, buf + n, &v), 0);
        assert_true(v == edges[i]);
    }
    assert_ptr_equal(p, buf + n);
}

static void test_format_varint_truncated_rejected(void **state)
{
    for (size_t i = 0; i < ARRAY_LEN(edges); i++) {
        uint8_t buf[PA_VARINT_MAX];
        size_t n = pa_varint_put(buf, edges[i]);
        /* every proper prefix, including the empty one, is a truncated varint */
        for (size_t cut = 0; cut < n; cut++) {
            const uint8_t *p = buf;
            uint64_t v = 77;
            assert_int_equal(pa_varint_get(&p, buf + cut, &v), -1);
            assert_ptr_equal(p, buf); /* not advanced on failure */
            assert_true(v == 77);
        }
    }
}

static void test_format_varint_overlong_rejected(void **state)
{
    /* eleven continuation bytes: longer than any 64-bit value */
    uint8_t eleven[11];
    memset(eleven, 0x80, sizeof eleven);
    eleven[10] = 0x00;
    const uint8_t *p = eleven;
    uint64_t v = 77;
    assert_int_equal(pa_varint_get(&p, eleven + sizeof eleven, &v), -1);
    assert_ptr_equal(p, eleven);

    /* ten bytes whose last carries bits beyond bit 63 */
    uint8_t too_big[10];
    memset(too_big, 0xff, 9);
    too_big[9] = 0x02;
    p = too_big;
    assert_int_equal(pa_varint_get(&p, too_big + sizeof too_big, &v), -1);
    assert_ptr_equal(p, too_big);
    too_big[9] = 0x7f;
    assert_int_equal(pa_varint_get(&p, too_big + sizeof too_big, &v), -1);

    /* ten bytes with the continuation bit still set on the last */
    uint8_t cont[10];
    memset(cont, 0xff, sizeof cont);
    p = cont;
    assert_int_equal(pa_varint_get(&p, cont + sizeof cont, &v), -1);
    assert_true(v == 77);
}

static void test_format_zigzag_round_trip(void **state)
{
    static const int64_t vals[] = { 0, -1, 1, -2, 2, 63, -64, 64, INT32_MIN, INT32_MAX,
                                    INT64_MAX, INT64_MIN, INT64_MIN + 1, INT64_MAX - 1 };
    for (size_t i = 0; i < ARRAY_LEN(vals); i++)
        assert_true(pa_unzigzag(pa_zigzag(vals[i])) == vals[i]);
    /* small magnitudes of either sign stay small, which is why pointer deltas use it */
    assert_true(pa_zigzag(0) == 0);
    assert_true(pa_zigzag(-1) == 1);
    assert_true(pa_zigzag(1) == 2);
    assert_true(pa_zigzag(-64) == 127);
    assert_true(pa_zigzag(INT64_MAX) == UINT64_MAX - 1);
    assert_true(pa_zigzag(INT64_MIN) == UINT64_MAX);
    assert_true(pa_unzigzag(UINT64_MAX) == INT64_MIN);
}

static void test_format_pointer_delta_round_trip(void **state)
{
    /* how the writer encodes ptr: zigzag of the wrapped difference, then a varint */
    static const uint64_t ptrs[] = { 0, 0x7fffffffe000, 0x10, 0x7fffffffe000, UINT64_MAX, 0 };
    uint8_t buf[ARRAY_LEN(ptrs) * PA_VARINT_MAX];
    size_t n = 0;
    uint64_t prev = 0;
    for (size_t i = 0; i < ARRAY_LEN(ptrs); i++) {
        n += pa_varint_put(buf + n, pa_zigzag((int64_t)(ptrs[i] - prev)));
        prev = ptrs[i];
    }
    const uint8_t *p = buf;
    prev = 0;
    for (size_t i = 0; i < ARRAY_LEN(ptrs); i++) {
        uint64_t d = 0;
        assert_int_equal(pa_varint_get(&p, buf + n, &d), 0);
        prev += (uint64_t)pa_unzigzag(d);
        assert_true(prev == ptrs[i]);
    }
}

static void test_format_le_byte_order(void **state)
{
    uint8_t b[8];
    pa_le32_put(b, 0x11223344u);
    assert_int_equal(b[0], 0x44);
    assert_int_equal(b[3], 0x11);
    assert_int_equal(pa_le32_get(b), 0x11223344u);
    pa_le64_put(b, 0x0102030405060708ull);
    for (int i = 0; i < 8; i++)
        assert_int_equal(b[i], 8 - i);
    assert_true(pa_le64_get(b) == 0x0102030405060708ull);
    for (size_t i = 0; i < ARRAY_LEN(edges); i++) {
        pa_le64_put(b, edges[i]);
        assert_true(pa_le64_get(b) == edges[i]);
        pa_le32_put(b, (uint32_t)edges[i]);
        assert_int_equal(pa_le32_get(b), (uint32_t)edges[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_varint_round_trip),
        cmocka_unit_test(test_format_varint_lengths_at_boundaries),
        cmocka_unit_test(test_format_varint_sequence_decodes_in_order),
        cmocka_unit_test(test_format_varint_truncated_rejected),
        cmocka_unit_test(test_format_varint_overlong_rejected),
        cmocka_unit_test(test_format_zigzag_round_trip),
        cmocka_unit_test(test_format_pointer_delta_round_trip),
        cmocka_unit_test(test_format_le_byte_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
