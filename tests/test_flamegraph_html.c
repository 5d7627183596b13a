/* test_flamegraph_html.c — the HTML flame graph page: the embedded JSON cannot break out
 * of its <script> element, and the page refers to nothing outside itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "flamegraph_html.h"
#include "sbuf.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The text between the data element's start tag and the next "</script>". */
static char *data_of(pa_sbuf_t *page, size_t *len)
{
    const char *tag = "<script type=\"application/json\" id=\"pa-data\">";
    char *start = strstr(page->buf, tag);
    assert_non_null(start);
    start += strlen(tag);
    char *end = strstr(start, "</script>");
    assert_non_null(end);
    *len = (size_t)(end - start);
    return start;
}

static void test_flamegraph_html_escapes_markup(void **state)
{
    const char blob[] = "{\"frames\": [\"</script><script>alert(1)</script>\", \"<!-- x\", \"a<b\"]}";
    pa_sbuf_t page;
    pa_sbuf_init(&page);
    assert_int_equal(pa_flame_html(&page, blob, strlen(blob)), 0);
    size_t n;
    char *data = data_of(&page, &n);
    assert_null(memchr(data, '<', n));
    const char want[] = "{\"frames\": [\"\\u003c/script>\\u003cscript>alert(1)\\u003c/script>\", "
                        "\"\\u003c!-- x\", \"a\\u003cb\"]}";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(data, want, n);
    /* Only the template's own elements end: the data one and the code one. */
    assert_int_equal(count(page.buf, "</script>"), 2);
    pa_sbuf_free(&page);
}

static void test_flamegraph_html_self_contained(void **state)
{
    const char blob[] = "{\"title\": \"t\", \"frames\": [], \"stacks\": []}";
    pa_sbuf_t page;
    pa_sbuf_init(&page);
    assert_int_equal(pa_flame_html(&page, blob, strlen(blob)), 0);
    assert_int_equal(strncmp(page.buf, "<!DOCTYPE html>", 15), 0);
    assert_string_equal(page.buf + page.len - 8, "</html>\n");
    assert_int_equal(count(page.buf, "@PA_FLAME_DATA@"), 0);
    assert_int_equal(count(page.buf, "http:"), 0);
    assert_int_equal(count(page.buf, "https:"), 0);
    assert_int_equal(count(page.buf, "//cdn"), 0);
    assert_int_equal(count(page.buf, " src="), 0);
    assert_int_equal(count(page.buf, "@import"), 0);
    assert_int_equal(count(page.buf, "url("), 0);
    pa_sbuf_free(&page);
}

static void test_flamegraph_html_no_data(void **state)
{
    pa_sbuf_t page;
    pa_sbuf_init(&page);
    assert_int_equal(pa_flame_html(&page, NULL, 0), 0);
    size_t n;
    char *data = data_of(&page, &n);
    assert_int_equal(n, 4);
    assert_memory_equal(data, "null", 4);
    pa_sbuf_free(&page);
}

static void test_flamegraph_html_appends(void **state)
{
    pa_sbuf_t page;
    pa_sbuf_init(&page);
    pa_sbuf_puts(&page, "prefix");
    assert_int_equal(pa_flame_html(&page, "{}", 2), 0);
    assert_int_equal(strncmp(page.buf, "prefix<!DOCTYPE html>", 21), 0);
    pa_sbuf_free(&page);
}

static void test_flamegraph_html_failed_buffer(void **state)
{
    pa_sbuf_t page;
    pa_sbuf_init(&page);
    page.failed = 1;
    assert_int_equal(pa_flame_html(&page, "{}", 2), -1);
    pa_sbuf_free(&page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flamegraph_html_escapes_markup),
        cmocka_unit_test(test_flamegraph_html_self_contained),
        cmocka_unit_test(test_flamegraph_html_no_data),
        cmocka_unit_test(test_flamegraph_html_appends),
        cmocka_unit_test(test_flamegraph_html_failed_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
