/* test_sbuf.c — the text buffer, number formatting, JSON escaping and UTC times that
 * every renderer relies on. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "json.h"
#include "sbuf.h"
#include "summary.h"

static void test_sbuf_append_grows(void **state)
{
    pa_sbuf_t sb;
    pa_sbuf_init(&sb);
    assert_string_equal(pa_sbuf_cstr(&sb), "");
    for (int i = 0; i < 1000; i++)
        assert_int_equal(pa_sbuf_puts(&sb, "abc"), 0);
    assert_int_equal(sb.len, 3000);
    assert_int_equal(strlen(sb.buf), 3000);
    pa_sbuf_reset(&sb);
    assert_int_equal(pa_sbuf_printf(&sb, "%d-%s", 42, "x"), 0);
    assert_string_equal(sb.buf, "42-x");
    pa_sbuf_free(&sb);
}

static void test_sbuf_printf_long(void **state)
{
    char big[1000];
    pa_sbuf_t sb;
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    pa_sbuf_init(&sb);
    pa_sbuf_putc(&sb, '<');
    assert_int_equal(pa_sbuf_printf(&sb, "%s>%d", big, 7), 0);
    assert_int_equal(sb.len, 1 + 999 + 2);
    assert_int_equal(sb.buf[1000], '>');
    assert_string_equal(sb.buf + 1001, "7");
    pa_sbuf_free(&sb);
}

static void test_sbuf_thousands(void **state)
{
    char b[PA_NUM_BUFLEN];
    assert_string_equal(pa_fmt_num(b, 0), "0");
    assert_string_equal(pa_fmt_num(b, 999), "999");
    assert_string_equal(pa_fmt_num(b, 1000), "1,000");
    assert_string_equal(pa_fmt_num(b, 12490560), "12,490,560");
    assert_string_equal(pa_fmt_num(b, 100000), "100,000");
    assert_string_equal(pa_fmt_num(b, UINT64_MAX), "18,446,744,073,709,551,615");
    pa_sbuf_t sb;
    pa_sbuf_init(&sb);
    pa_sbuf_num(&sb, 1234567);
    assert_string_equal(sb.buf, "1,234,567");
    pa_sbuf_free(&sb);
}

static void test_sbuf_durations(void **state)
{
    char b[PA_NUM_BUFLEN];
    assert_string_equal(pa_fmt_ns(b, 0), "0.000 ms");
    assert_string_equal(pa_fmt_ns(b, 1500000), "1.500 ms");
    assert_string_equal(pa_fmt_ns(b, 999999999), "999.999 ms");
    assert_string_equal(pa_fmt_ns(b, 2345678901ull), "2.345 s");
    assert_string_equal(pa_fmt_ns(b, 3725000000000ull), "3,725.000 s");
    assert_string_equal(pa_fmt_ns(b, UINT64_MAX), "18,446,744,073.709 s");
}

static void check_json(const char *in, size_t n, const char *want)
{
    pa_sbuf_t sb;
    pa_sbuf_init(&sb);
    assert_int_equal(pa_json_str(&sb, in, n), 0);
    assert_string_equal(sb.buf, want);
    pa_sbuf_free(&sb);
}

static void test_json_escapes(void **state)
{
    check_json("plain", 5, "\"plain\"");
    check_json("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    check_json("\n\t\r\b\f", 5, "\"\\n\\t\\r\\b\\f\"");
    check_json("\x01\x1f", 2, "\"\\u0001\\u001f\"");
    check_json("nul\0x", 5, "\"nul\\u0000x\"");
    check_json("\x7f", 1, "\"\x7f\"");
    check_json("", 0, "\"\"");
}

static void test_json_utf8(void **state)
{
    check_json("caf\xc3\xa9", 5, "\"caf\xc3\xa9\"");                 /* é */
    check_json("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");       /* U+1F600 */
    check_json("\x80", 1, "\"\\ufffd\"");                            /* lone continuation */
    check_json("\xc0\x80", 2, "\"\\ufffd\\ufffd\"");                 /* overlong NUL */
    check_json("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");      /* surrogate */
    check_json("\xe2\x82", 2, "\"\\ufffd\"");                        /* truncated at the end */
    check_json("\xe2\x82x", 3, "\"\\ufffdx\"");                      /* truncated mid-string */
    check_json("\xf5\x80", 2, "\"\\ufffd\\ufffd\"");                 /* > U+10FFFF lead */
    check_json("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
}

static void test_json_null_and_bool(void **state)
{
    pa_sbuf_t sb;
    pa_sbuf_init(&sb);
    pa_json_strz(&sb, NULL);
    pa_sbuf_putc(&sb, ' ');
    pa_json_bool(&sb, 1);
    pa_sbuf_putc(&sb, ' ');
    pa_json_bool(&sb, 0);
    pa_sbuf_putc(&sb, ' ');
    pa_json_key(&sb, "k");
    assert_string_equal(sb.buf, "null true false \"k\": ");
    pa_sbuf_free(&sb);
}

static void test_summary_utc(void **state)
{
    char b[PA_UTC_BUFLEN];
    assert_string_equal(pa_fmt_utc(b, 0), "1970-01-01T00:00:00.000000Z");
    assert_string_equal(pa_fmt_utc(b, 1700000000123456789ull), "2023-11-14T22:13:20.123456Z");
    assert_string_equal(pa_fmt_utc(b, 1709164800000000000ull), "2024-02-29T00:00:00.000000Z");
    assert_string_equal(pa_fmt_utc(b, 951782400000000000ull), "2000-02-29T00:00:00.000000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sbuf_append_grows), cmocka_unit_test(test_sbuf_printf_long),
        cmocka_unit_test(test_sbuf_thousands),    cmocka_unit_test(test_sbuf_durations),
        cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_json_utf8),         cmocka_unit_test(test_json_null_and_bool),
        cmocka_unit_test(test_summary_utc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
