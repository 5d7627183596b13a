/* test_config.c — the PYAGENT_* knob table: defaults, every knob's accepted forms,
 * errors that name the variable and value, and %p expansion of paths. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

/* The documented defaults, spelled out rather than read back from config.c. */
static void assert_defaults(void)
{
    assert_int_equal(pa_cfg.enable, 1);
    assert_string_equal(pa_cfg.output, "pyagent-%p.trace");
    assert_int_equal(pa_cfg.leak_dest, PA_LEAKS_STDERR);
    assert_int_equal(pa_cfg.leak_top, 10);
    assert_int_equal(pa_cfg.alloc, 1);
    assert_int_equal(pa_cfg.pymalloc, 0);
    assert_int_equal(pa_cfg.native_depth, 64);
    assert_int_equal(pa_cfg.native_mode, PA_NATIVE_AUTO);
    assert_int_equal(pa_cfg.python_depth, 256);
    assert_int_equal(pa_cfg.non_python, PA_NONPY_DORMANT);
    assert_int_equal(pa_cfg.flush_ms, 1000);
    assert_string_equal(pa_cfg.leak_path, ""); /* only meaningful with PA_LEAKS_FILE */
}

/* Scribbles over pa_cfg so a test sees what load actually sets. */
static int poison(void **state)
{
    memset(&pa_cfg, 0x5a, sizeof pa_cfg);
    return 0;
}

/* Loads a single NAME=VALUE; the error text goes to err. */
static int load1(const char *assignment, char *err, unsigned errlen)
{
    char *env[] = { (char *)assignment, NULL };
    return pa_config_load(env, err, errlen);
}

/* Loads one setting that must be rejected; checks rc, the message and the reset. */
static void assert_rejected(const char *assignment)
{
    char err[256] = "";
    char name[64], value[PATH_MAX + 64];
    const char *eq = strchr(assignment, '=');
    snprintf(name, sizeof name, "%.*s", (int)(eq - assignment), assignment);
    snprintf(value, sizeof value, "%s", eq + 1);
    poison(NULL);
    assert_int_equal(load1(assignment, err, sizeof err), -1);
    if (!strstr(err, name) || !strstr(err, value))
        fail_msg("message for %s does not name variable and value: \"%s\"", assignment, err);
    assert_defaults();
}

static void test_config_defaults_without_variables(void **state)
{
    char err[128] = "untouched";
    char *empty[] = { NULL };
    assert_int_equal(pa_config_load(empty, err, sizeof err), 0);
    assert_defaults();
    poison(NULL);
    assert_int_equal(pa_config_load(NULL, err, sizeof err), 0);
    assert_defaults();
}

static void test_config_other_variables_ignored(void **state)
{
    char err[128];
    char *env[] = { "PATH=/usr/bin", "HOME=/root", "PYAGENT=1", "PYAGENTX_FOO=1", "MY_PYAGENT_ENABLE=0",
                    "pyagent_enable=0", "PYAGENT_ENABLE", "LD_PRELOAD=/x/libpyagent.so", NULL };
    assert_int_equal(pa_config_load(env, err, sizeof err), 0);
    assert_defaults();
}

static void test_config_bools_accept_all_forms(void **state)
{
    static const char *const names[] = { "PYAGENT_ENABLE", "PYAGENT_ALLOC", "PYAGENT_PYMALLOC" };
    static const struct { const char *v; int want; } forms[] = {
        { "on", 1 }, { "off", 0 }, { "1", 1 }, { "0", 0 }, { "yes", 1 }, { "no", 0 },
        { "true", 1 }, { "false", 0 }, { "ON", 1 }, { "Off", 0 }, { "YES", 1 },
    };
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
            char a[64], err[128];
            snprintf(a, sizeof a, "%s=%s", names[n], forms[f].v);
            poison(NULL);
            assert_int_equal(load1(a, err, sizeof err), 0);
            int got = n == 0 ? pa_cfg.enable : n == 1 ? pa_cfg.alloc : pa_cfg.pymalloc;
            if (got != forms[f].want)
                fail_msg("%s gave %d", a, got);
        }
    }
}

static void test_config_ints_in_range(void **state)
{
    char err[128];
    char *env[] = { "PYAGENT_LEAK_TOP=0", "PYAGENT_NATIVE_DEPTH=256", "PYAGENT_PYTHON_DEPTH=1",
                    "PYAGENT_FLUSH_MS=60000", NULL };
    assert_int_equal(pa_config_load(env, err, sizeof err), 0);
    assert_int_equal(pa_cfg.leak_top, 0);
    assert_int_equal(pa_cfg.native_depth, 256);
    assert_int_equal(pa_cfg.python_depth, 1);
    assert_int_equal(pa_cfg.flush_ms, 60000);

    char *env2[] = { "PYAGENT_LEAK_TOP=100000", "PYAGENT_NATIVE_DEPTH=0", "PYAGENT_PYTHON_DEPTH=1024",
                     "PYAGENT_FLUSH_MS=10", NULL };
    assert_int_equal(pa_config_load(env2, err, sizeof err), 0);
    assert_int_equal(pa_cfg.leak_top, 100000);
    assert_int_equal(pa_cfg.native_depth, 0);
    assert_int_equal(pa_cfg.python_depth, 1024);
    assert_int_equal(pa_cfg.flush_ms, 10);
}

static void test_config_later_assignment_wins(void **state)
{
    char err[128];
    char *env[] = { "PYAGENT_LEAK_TOP=5", "PYAGENT_LEAK_TOP=7", NULL };
    assert_int_equal(pa_config_load(env, err, sizeof err), 0);
    assert_int_equal(pa_cfg.leak_top, 7);
}

static void test_config_output_path(void **state)
{
    char err[128];
    assert_int_equal(load1("PYAGENT_OUTPUT=/tmp/run-%p.trace", err, sizeof err), 0);
    assert_string_equal(pa_cfg.output, "/tmp/run-%p.trace");
    assert_int_equal(load1("PYAGENT_OUTPUT=", err, sizeof err), 0);
    assert_string_equal(pa_cfg.output, ""); /* "" = no trace */
    assert_int_equal(load1("PYAGENT_OUTPUT=a=b", err, sizeof err), 0);
    assert_string_equal(pa_cfg.output, "a=b");
}

static void test_config_leak_report_forms(void **state)
{
    char err[128];
    assert_int_equal(load1("PYAGENT_LEAK_REPORT=off", err, sizeof err), 0);
    assert_int_equal(pa_cfg.leak_dest, PA_LEAKS_OFF);
    assert_int_equal(load1("PYAGENT_LEAK_REPORT=stderr", err, sizeof err), 0);
    assert_int_equal(pa_cfg.leak_dest, PA_LEAKS_STDERR);
    assert_int_equal(load1("PYAGENT_LEAK_REPORT=/tmp/leaks-%p.txt", err, sizeof err), 0);
    assert_int_equal(pa_cfg.leak_dest, PA_LEAKS_FILE);
    assert_string_equal(pa_cfg.leak_path, "/tmp/leaks-%p.txt");
    assert_int_equal(load1("PYAGENT_LEAK_REPORT=leaks.txt", err, sizeof err), 0);
    assert_int_equal(pa_cfg.leak_dest, PA_LEAKS_FILE);
    assert_string_equal(pa_cfg.leak_path, "leaks.txt");
}

static void test_config_non_python_forms(void **state)
{
    char err[128];
    assert_int_equal(load1("PYAGENT_NON_PYTHON=track", err, sizeof err), 0);
    assert_int_equal(pa_cfg.non_python, PA_NONPY_TRACK);
    assert_int_equal(load1("PYAGENT_NON_PYTHON=dormant", err, sizeof err), 0);
    assert_int_equal(pa_cfg.non_python, PA_NONPY_DORMANT);
}

/* off:PID is what the first recording process leaves for its children (session.c). */
static void test_config_follow_forms(void **state)
{
    char err[128];
    assert_int_equal(load1("PYAGENT_FOLLOW=off", err, sizeof err), 0);
    assert_int_equal(pa_cfg.follow, 0);
    assert_int_equal(pa_cfg.follow_root, 0);
    assert_int_equal(load1("PYAGENT_FOLLOW=off:4242", err, sizeof err), 0);
    assert_int_equal(pa_cfg.follow, 0);
    assert_int_equal(pa_cfg.follow_root, 4242);
    assert_int_equal(load1("PYAGENT_FOLLOW=on", err, sizeof err), 0);
    assert_int_equal(pa_cfg.follow, 1);
    assert_int_equal(pa_cfg.follow_root, 0);
    assert_rejected("PYAGENT_FOLLOW=off:");
    assert_rejected("PYAGENT_FOLLOW=off:0");
    assert_rejected("PYAGENT_FOLLOW=off:12x");
    assert_rejected("PYAGENT_FOLLOW=on:12");
}

static void test_config_native_mode_forms(void **state)
{
    char err[128];
    assert_int_equal(load1("PYAGENT_NATIVE=full", err, sizeof err), 0);
    assert_int_equal(pa_cfg.native_mode, PA_NATIVE_FULL);
    assert_int_equal(load1("PYAGENT_NATIVE=leaf", err, sizeof err), 0);
    assert_int_equal(pa_cfg.native_mode, PA_NATIVE_LEAF);
    assert_int_equal(load1("PYAGENT_NATIVE=auto", err, sizeof err), 0);
    assert_int_equal(pa_cfg.native_mode, PA_NATIVE_AUTO);
    assert_int_equal(load1("PYAGENT_NATIVE=some", err, sizeof err), -1);
    /* PYAGENT_NATIVE is a prefix of PYAGENT_NATIVE_DEPTH: each finds its own knob */
    char *env[] = { "PYAGENT_NATIVE=full", "PYAGENT_NATIVE_DEPTH=3", NULL };
    assert_int_equal(pa_config_load(env, err, sizeof err), 0);
    assert_int_equal(pa_cfg.native_mode, PA_NATIVE_FULL);
    assert_int_equal(pa_cfg.native_depth, 3);
}

static void test_config_unknown_name_rejected(void **state)
{
    char err[256] = "";
    char *env[] = { "PYAGENT_LEAK_TOP=3", "PYAGENT_FOO=1", NULL };
    poison(NULL);
    assert_int_equal(pa_config_load(env, err, sizeof err), -1);
    assert_non_null(strstr(err, "PYAGENT_FOO"));
    assert_defaults(); /* the good assignment before the bad one is undone */

    /* a prefix or extension of a real name is not that name */
    assert_int_equal(load1("PYAGENT_ENABL=1", err, sizeof err), -1);
    assert_non_null(strstr(err, "PYAGENT_ENABL"));
    assert_int_equal(load1("PYAGENT_ENABLED=1", err, sizeof err), -1);
    assert_non_null(strstr(err, "PYAGENT_ENABLED"));
    assert_int_equal(load1("PYAGENT_=1", err, sizeof err), -1);
    assert_defaults();
}

static void test_config_bad_bool_rejected(void **state)
{
    assert_rejected("PYAGENT_ENABLE=maybe");
    assert_rejected("PYAGENT_ALLOC=2");
    assert_rejected("PYAGENT_PYMALLOC=");
    assert_rejected("PYAGENT_ENABLE= on");
}

static void test_config_bad_int_rejected(void **state)
{
    assert_rejected("PYAGENT_LEAK_TOP=ten");
    assert_rejected("PYAGENT_LEAK_TOP=");
    assert_rejected("PYAGENT_LEAK_TOP=10x");
    assert_rejected("PYAGENT_LEAK_TOP=1.5");
    assert_rejected("PYAGENT_NATIVE_DEPTH=0x10");
}

static void test_config_int_out_of_range_rejected(void **state)
{
    assert_rejected("PYAGENT_LEAK_TOP=-1");
    assert_rejected("PYAGENT_LEAK_TOP=100001");
    assert_rejected("PYAGENT_NATIVE_DEPTH=257");
    assert_rejected("PYAGENT_PYTHON_DEPTH=0");
    assert_rejected("PYAGENT_PYTHON_DEPTH=1025");
    assert_rejected("PYAGENT_FLUSH_MS=9");
    assert_rejected("PYAGENT_FLUSH_MS=60001");
    /* beyond int and long: must not wrap into range */
    assert_rejected("PYAGENT_FLUSH_MS=4294968296");
    assert_rejected("PYAGENT_FLUSH_MS=99999999999999999999999");
}

static void test_config_bad_enum_rejected(void **state)
{
    assert_rejected("PYAGENT_NON_PYTHON=yes");
    assert_rejected("PYAGENT_NON_PYTHON=");
    assert_rejected("PYAGENT_LEAK_REPORT="); /* an empty path is not a path */
    assert_rejected("PYAGENT_NATIVE=all");
    assert_rejected("PYAGENT_NATIVE=");
}

static void test_config_path_too_long_rejected(void **state)
{
    static char a[PATH_MAX + 64];
    int n = snprintf(a, sizeof a, "PYAGENT_OUTPUT=");
    memset(a + n, 'x', PATH_MAX);
    a[n + PATH_MAX] = 0;
    char err[256] = "";
    poison(NULL);
    assert_int_equal(load1(a, err, sizeof err), -1);
    assert_non_null(strstr(err, "PYAGENT_OUTPUT"));
    assert_defaults();
    /* the longest that fits */
    a[n + PATH_MAX - 1] = 0;
    assert_int_equal(load1(a, err, sizeof err), 0);
    assert_int_equal(strlen(pa_cfg.output), PATH_MAX - 1);
}

static void test_config_error_resets_whole_config(void **state)
{
    char err[256];
    char *env[] = { "PYAGENT_ENABLE=off", "PYAGENT_OUTPUT=/x", "PYAGENT_LEAK_REPORT=/tmp/leaks",
                    "PYAGENT_NON_PYTHON=track", "PYAGENT_FLUSH_MS=oops", NULL };
    assert_int_equal(pa_config_load(env, err, sizeof err), -1);
    assert_non_null(strstr(err, "PYAGENT_FLUSH_MS"));
    assert_non_null(strstr(err, "oops"));
    assert_defaults();
}

static void test_config_error_message_fits_small_buffer(void **state)
{
    char err[16];
    memset(err, '#', sizeof err);
    assert_int_equal(load1("PYAGENT_FOO=1", err, sizeof err), -1);
    assert_non_null(memchr(err, 0, sizeof err)); /* truncated, still terminated */
    assert_int_equal(load1("PYAGENT_FOO=1", NULL, 0), -1);
    assert_defaults();
}

static void test_config_expand_pid_and_percent(void **state)
{
    char out[64];
    assert_int_equal(pa_config_expand("pyagent-%p.trace", 4242, out, sizeof out), 0);
    assert_string_equal(out, "pyagent-4242.trace");
    assert_int_equal(pa_config_expand("%p/%p", 7, out, sizeof out), 0);
    assert_string_equal(out, "7/7");
    assert_int_equal(pa_config_expand("100%%-%p", 1, out, sizeof out), 0);
    assert_string_equal(out, "100%-1");
    assert_int_equal(pa_config_expand("%%p", 1, out, sizeof out), 0);
    assert_string_equal(out, "%p");
    assert_int_equal(pa_config_expand("", 1, out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(pa_config_expand("plain", 1, out, sizeof out), 0);
    assert_string_equal(out, "plain");
    assert_int_equal(pa_config_expand("%p", INT_MAX, out, sizeof out), 0);
    assert_string_equal(out, "2147483647");
}

static void test_config_expand_other_percent_kept(void **state)
{
    char out[64];
    assert_int_equal(pa_config_expand("a%xb%", 1, out, sizeof out), 0);
    assert_string_equal(out, "a%xb%");
}

static void test_config_expand_overflow_rejected(void **state)
{
    char out[8];
    assert_int_equal(pa_config_expand("1234567", 1, out, sizeof out), 0); /* exactly fits */
    assert_string_equal(out, "1234567");
    assert_int_equal(pa_config_expand("12345678", 1, out, sizeof out), -1);
    assert_int_equal(pa_config_expand("%p", 123456789, out, sizeof out), -1);
    assert_int_equal(pa_config_expand("ab%p", 123456, out, sizeof out), -1);
}

static void test_config_expand_edge_of_buffer(void **state)
{
    char out[8] = "#";
    /* a zero-length buffer holds nothing, not even the empty string */
    assert_int_equal(pa_config_expand("", 1, out, 0), -1);
    assert_int_equal(out[0], '#');
    assert_int_equal(pa_config_expand("", 1, out, 1), 0);
    assert_string_equal(out, "");
    assert_int_equal(pa_config_expand("t-%p", 12345, out, 8), 0);
    assert_string_equal(out, "t-12345");
    assert_int_equal(pa_config_expand("t-%p", 123456, out, 8), -1);
    assert_int_equal(pa_config_expand("%%%%%%%%", 1, out, 5), 0);
    assert_string_equal(out, "%%%%");
    assert_int_equal(pa_config_expand("%%%%%%%%%%", 1, out, 5), -1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, poison)
    const struct CMUnitTest tests[] = {
        T(test_config_defaults_without_variables),
        T(test_config_other_variables_ignored),
        T(test_config_bools_accept_all_forms),
        T(test_config_ints_in_range),
        T(test_config_later_assignment_wins),
        T(test_config_output_path),
        T(test_config_leak_report_forms),
        T(test_config_non_python_forms),
        T(test_config_native_mode_forms),
        T(test_config_follow_forms),
        T(test_config_unknown_name_rejected),
        T(test_config_bad_bool_rejected),
        T(test_config_bad_int_rejected),
        T(test_config_int_out_of_range_rejected),
        T(test_config_bad_enum_rejected),
        T(test_config_path_too_long_rejected),
        T(test_config_error_resets_whole_config),
        T(test_config_error_message_fits_small_buffer),
        T(test_config_expand_pid_and_percent),
        T(test_config_expand_other_percent_kept),
        T(test_config_expand_overflow_rejected),
        T(test_config_expand_edge_of_buffer),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
