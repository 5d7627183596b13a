/* test_counters.c — libpfm4 encoding (checked field by field, so the hardware path is
 * right by construction where no PMU can be opened), the software fallback, and a
 * counter group that really counts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "counters.h"
#include <pyagent/format.h>

static void test_counters_generic_names_encode_to_perf_types(void **state)
{
    static const struct { const char *name; uint32_t type; uint64_t config; } cases[] = {
        { "perf::cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
        { "perf::instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS },
        { "perf::cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES },
        { "perf::branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES },
        { "perf::task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK },
        { "perf::page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
        { "perf::context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pa_event_set_t set;
        char err[256] = "";
        assert_int_equal(pa_events_encode(cases[i].name, &set, err, sizeof err), 0);
        assert_int_equal(set.n, 1);
        assert_string_equal(set.ev[0].name, cases[i].name);
        assert_int_equal(set.ev[0].attr.type, cases[i].type);
        assert_int_equal(set.ev[0].attr.config, cases[i].config);
        assert_int_equal(set.ev[0].attr.size, sizeof(struct perf_event_attr));
        /* user level by default, counted as a group read with enabled/running times */
        assert_true(set.ev[0].attr.exclude_kernel);
        assert_false(set.ev[0].attr.exclude_user);
        assert_int_equal(set.ev[0].attr.read_format,
                         PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING);
    }
}

static void test_counters_default_lists_encode(void **state)
{
    pa_event_set_t set;
    char err[256] = "";
    assert_int_equal(pa_events_encode(PA_EVENTS_HARDWARE, &set, err, sizeof err), 0);
    assert_int_equal(set.n, 4);
    assert_string_equal(set.ev[1].name, "instructions");
    assert_int_equal(pa_events_encode(PA_EVENTS_SOFTWARE, &set, err, sizeof err), 0);
    assert_int_equal(set.n, 3);
    assert_int_equal(set.ev[0].attr.type, PERF_TYPE_SOFTWARE);
}

static void test_counters_unknown_event_named(void **state)
{
    pa_event_set_t set;
    char err[256] = "";
    assert_int_equal(pa_events_encode("perf::task-clock,no_such_event_xyz", &set, err, sizeof err), -1);
    assert_non_null(strstr(err, "no_such_event_xyz"));
    assert_int_equal(pa_events_encode("perf::task-clock,,cycles", &set, err, sizeof err), -1);
    assert_int_equal(pa_events_encode("", &set, err, sizeof err), -1);
    assert_int_equal(pa_events_encode("cycles,cycles,cycles,cycles,cycles,cycles,cycles,cycles,cycles", &set, err,
                                      sizeof err),
                     -1);
    assert_non_null(strstr(err, "too many"));
}

static void test_counters_default_opens_or_falls_back(void **state)
{
    pa_event_set_t set;
    char note[256] = "";
    assert_int_equal(pa_events_default(&set, note, sizeof note), 0);
    if (set.n == 4) { /* a PMU here: nothing to say */
        assert_string_equal(note, "");
        skip();
    }
    /* the VM case: one line saying what fell back and why */
    assert_int_equal(set.n, 3);
    assert_non_null(strstr(note, "no hardware counters"));
    assert_non_null(strstr(note, PA_EVENTS_SOFTWARE));
    char why[256] = "";
    pa_event_set_t hw;
    char err[256];
    assert_int_equal(pa_events_encode(PA_EVENTS_HARDWARE, &hw, err, sizeof err), 0);
    int e = pa_events_probe(&hw, why, sizeof why);
    assert_true(e == ENOENT || e == EOPNOTSUPP || e == ENODEV || e == EACCES || e == EPERM || e == EMFILE);
    assert_non_null(strstr(why, "cycles"));
}

static void test_counters_software_group_counts(void **state)
{
    pa_event_set_t set;
    char err[256] = "";
    assert_int_equal(pa_events_encode("task-clock,page-faults,context-switches", &set, err, sizeof err), 0);
    int fds[PA_MAX_EVENTS];
    assert_int_equal(pa_group_open(&set, fds), 0);
    volatile uint64_t x = 0;
    for (int i = 0; i < 20000000; i++)
        x += (uint64_t)i * 2654435761u;
    (void)x; /* read once: clang counts a volatile only written as unused */
    size_t len = 1 << 22;
    char *touch = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(touch != MAP_FAILED);
    madvise(touch, len, MADV_NOHUGEPAGE); /* one fault per 4 KiB page */
    for (size_t i = 0; i < len; i += 4096)
        touch[i] = 1;
    uint64_t v[PA_MAX_EVENTS];
    int scaled = -1;
    assert_int_equal(pa_group_read(fds[0], set.n, v, &scaled), 0);
    assert_true(v[0] > 1000000); /* task-clock in ns: well over 1 ms of work */
    assert_true(v[1] >= 1000);   /* the 1024 pages just touched */
    assert_int_equal(scaled, 0); /* software events are never multiplexed */
    pa_group_close(fds, set.n);
    assert_int_equal(fds[0], -1);
    munmap(touch, len);
}

/* Six hardware events: cycles leads and samples, four hardware events fit its group,
 * the sixth counts alone, time-shared and scaled; software events always join. */
static void test_counters_plan_multiplexes_what_does_not_fit(void **state)
{
    pa_event_set_t set;
    char err[256] = "";
    const char *list = "cycles,instructions,cache-misses,branch-misses,page-faults,branches,task-clock";
    assert_int_equal(pa_events_encode(list, &set, err, sizeof err), 0);
    unsigned flags[PA_MAX_EVENTS];
    int lead[PA_MAX_EVENTS];
    int n = pa_events_plan(&set, flags, lead);
    assert_int_equal(n, 6);
    int want[] = { 0, 1, 2, 3, 4, 6 };
    for (int i = 0; i < n; i++)
        assert_int_equal(lead[i], want[i]);
    assert_int_equal(flags[0], PA_EVF_LEADER);
    assert_int_equal(flags[5], PA_EVF_MULTIPLEXED); /* branches: the fifth hardware event */
    assert_int_equal(flags[4], 0);                  /* page-faults: software, in the group */
    assert_int_equal(flags[6], PA_EVF_TIME);        /* task-clock counts nanoseconds */
}

/* The fallback: task-clock leads, is a time event, nothing is multiplexed. */
static void test_counters_plan_software_set(void **state)
{
    pa_event_set_t set;
    char err[256] = "";
    assert_int_equal(pa_events_encode(PA_EVENTS_SOFTWARE, &set, err, sizeof err), 0);
    unsigned flags[PA_MAX_EVENTS];
    int lead[PA_MAX_EVENTS];
    assert_int_equal(pa_events_plan(&set, flags, lead), 3);
    assert_int_equal(flags[0], PA_EVF_LEADER | PA_EVF_TIME);
    assert_int_equal(flags[1] | flags[2], 0);
}

/* The default sets skip libpfm4: their encoding must be libpfm4's, field by field. */
static void test_counters_generic_encoding_matches_libpfm(void **state)
{
    const char *lists[] = { PA_EVENTS_HARDWARE, PA_EVENTS_SOFTWARE };
    for (unsigned l = 0; l < 2; l++) {
        pa_event_set_t mine, pfm;
        char err[256] = "";
        assert_int_equal(pa_events_encode_generic(lists[l], &mine), 0);
        assert_int_equal(pa_events_encode(lists[l], &pfm, err, sizeof err), 0);
        assert_int_equal(mine.n, pfm.n);
        for (int i = 0; i < mine.n; i++) {
            const struct perf_event_attr *a = &mine.ev[i].attr, *b = &pfm.ev[i].attr;
            assert_string_equal(mine.ev[i].name, pfm.ev[i].name);
            assert_int_equal(a->type, b->type);
            assert_int_equal(a->config, b->config);
            assert_int_equal(a->exclude_kernel, b->exclude_kernel);
            assert_int_equal(a->exclude_user, b->exclude_user);
            assert_int_equal(a->exclude_hv, b->exclude_hv);
            assert_int_equal(a->read_format, b->read_format);
        }
    }
    pa_event_set_t x;
    assert_int_equal(pa_events_encode_generic("cycles,LLC-load-misses", &x), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_generic_names_encode_to_perf_types),
        cmocka_unit_test(test_counters_default_lists_encode),
        cmocka_unit_test(test_counters_unknown_event_named),
        cmocka_unit_test(test_counters_default_opens_or_falls_back),
        cmocka_unit_test(test_counters_software_group_counts),
        cmocka_unit_test(test_counters_plan_multiplexes_what_does_not_fit),
        cmocka_unit_test(test_counters_plan_software_set),
        cmocka_unit_test(test_counters_generic_encoding_matches_libpfm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
