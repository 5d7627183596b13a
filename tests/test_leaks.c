/* test_leaks.c — leak groups: merging, ordering, the residue rule, --top, collapsed
 * text stacks, exact text and JSON, and the replay fallback for unfinished processes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "leaks.h"
#include "trace.h"
#include "trace_builder.h"

/* Stacks of the fixture (innermost node ids). */
enum {
    ST_USER = 18,     /* malloc <- ffi_call <- leak_native_small <- [interp] <- <module> <- [native] */
    ST_STDLIB = 21,   /* PyObject_Malloc <- json decode (stdlib) <- [interp] */
    ST_IMPORT = 24,   /* malloc <- [interp] <- _load (frozen import) <- <module> */
    ST_NATIVE = 31,   /* calloc <- libfoo.so+0x1234 */
    ST_INTERP = 33,   /* malloc <- PyObject_Call (libpython) <- [interp] */
    ST_SITEPKG = 35,  /* PyMem_Malloc <- numpy_fn (site-packages) <- <module> */
};

static void tables(pa_tb_t *b, int python)
{
    static const char *const argv[] = { "python3", "leaky.py" };
    static const char *const s[] = {
        NULL, "leak_native_small", "/abs/leaky.py", "<module>", "/usr/lib/python3.11/json/decoder.py",
        "decode", "<frozen importlib._bootstrap>", "_load", "/usr/bin/python3.11",
        "/usr/lib/x86_64-linux-gnu/libffi.so.8", "ffi_call", "_PyEval_EvalFrameDefault", "/usr/lib/libfoo.so",
        "/usr/lib/python3.11/site-packages/numpy/core.py", "numpy_fn",
        "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", "PyObject_Call", "main",
        "/lib/x86_64-linux-gnu/libc.so.6", "__libc_start_main",
    };
    pa_tb_process(b, 1234, 1, 1000, 1700000000000000000ull, 2, argv, "/usr/bin/python3.11");
    if (python)
        pa_tb_interp(b, "3.11.2 (main, Mar 13 2023)", 11, "/usr/lib/python3.11", 2000);
    for (uint64_t i = 1; i < sizeof s / sizeof s[0]; i++)
        pa_tb_string(b, i, s[i]);
    pa_tb_function(b, 1, 1, 2, 20);  /* leak_native_small /abs/leaky.py */
    pa_tb_function(b, 2, 3, 2, 1);   /* <module> /abs/leaky.py */
    pa_tb_function(b, 3, 5, 4, 90);  /* decode, stdlib */
    pa_tb_function(b, 4, 7, 6, 1);   /* _load, import machinery */
    pa_tb_function(b, 5, 14, 13, 1); /* numpy_fn, site-packages */
    pa_tb_native(b, 1, 9, 10, 0x1000, 0x10);  /* ffi_call (libffi) */
    pa_tb_native(b, 2, 8, 11, 0x2000, 0x20);  /* _PyEval (exe) */
    pa_tb_native(b, 3, 15, 16, 0x3000, 0x30); /* PyObject_Call (libpython) */
    pa_tb_native(b, 4, 12, 0, 0x1234, 0);     /* libfoo, no symbol */
    pa_tb_native(b, 5, 8, 17, 0x500, 0);      /* main (exe) */
    pa_tb_native(b, 6, 18, 19, 0x600, 0);     /* __libc_start_main */
    pa_tb_node(b, 10, 0, PA_FRAME_NATIVE, 6, 0);
    pa_tb_node(b, 11, 10, PA_FRAME_NATIVE, 5, 0);
    pa_tb_node(b, 12, 11, PA_FRAME_NATIVE, 2, 0);
    pa_tb_node(b, 13, 12, PA_FRAME_PYTHON, 2, 40);
    pa_tb_node(b, 14, 13, PA_FRAME_NATIVE, 2, 0);
    pa_tb_node(b, 15, 14, PA_FRAME_NATIVE, 3, 0);
    pa_tb_node(b, 16, 15, PA_FRAME_PYTHON, 1, 25);
    pa_tb_node(b, 17, 16, PA_FRAME_NATIVE, 1, 0);
    pa_tb_node(b, ST_USER, 17, PA_FRAME_ALLOCATOR, PA_ALLOC_MALLOC, 0);
    pa_tb_node(b, 20, 12, PA_FRAME_PYTHON, 3, 100);
    pa_tb_node(b, ST_STDLIB, 20, PA_FRAME_ALLOCATOR, PA_ALLOC_PYOBJECT_MALLOC, 0);
    pa_tb_node(b, 22, 13, PA_FRAME_PYTHON, 4, 5);
    pa_tb_node(b, 23, 22, PA_FRAME_NATIVE, 2, 0);
    pa_tb_node(b, ST_IMPORT, 23, PA_FRAME_ALLOCATOR, PA_ALLOC_MALLOC, 0);
    pa_tb_node(b, 30, 0, PA_FRAME_NATIVE, 4, 0);
    pa_tb_node(b, ST_NATIVE, 30, PA_FRAME_ALLOCATOR, PA_ALLOC_CALLOC, 0);
    pa_tb_node(b, 32, 12, PA_FRAME_NATIVE, 3, 0);
    pa_tb_node(b, ST_INTERP, 32, PA_FRAME_ALLOCATOR, PA_ALLOC_MALLOC, 0);
    pa_tb_node(b, 34, 13, PA_FRAME_PYTHON, 5, 7);
    pa_tb_node(b, ST_SITEPKG, 34, PA_FRAME_ALLOCATOR, PA_ALLOC_PYMEM_MALLOC, 0);
}

static void leaks(pa_tb_t *b)
{
    pa_tb_checkpoint(b, PA_CP_EXIT, 9000, 0, 0);
    pa_tb_leak(b, PA_CP_EXIT, ST_USER, 10485760, 10, 0);
    pa_tb_leak(b, PA_CP_EXIT, ST_USER, 1000, 1, PA_LEAK_FREED_AT_SHUTDOWN);
    pa_tb_leak(b, PA_CP_EXIT, ST_STDLIB, 5000, 50, 0);
    pa_tb_leak(b, PA_CP_EXIT, ST_IMPORT, 3000, 3, 0);
    pa_tb_leak(b, PA_CP_EXIT, ST_USER, 700, 7, PA_LEAK_STARTUP);
    pa_tb_leak(b, PA_CP_EXIT, ST_NATIVE, 1000000, 100, 0);
    pa_tb_leak(b, PA_CP_EXIT, ST_NATIVE, 1000000, 100, 0); /* merged with the one above */
    pa_tb_leak(b, PA_CP_EXIT, ST_INTERP, 100, 1, PA_LEAK_SHUTDOWN);
    pa_tb_leak(b, PA_CP_EXIT, ST_SITEPKG, 4800, 100, 0);
    pa_tb_leak(b, PA_CP_PROGRAM_END, ST_NATIVE, 99, 9, 0); /* not the exit checkpoint: ignored */
}

static pa_trace_t *model(pa_tb_t *b)
{
    char err[256];
    size_t len;
    const uint8_t *r = pa_tb_records(b, &len);
    pa_trace_t *t = pa_trace_new();
    assert_int_equal(pa_trace_feed(t, r, len, err, sizeof err), 0);
    pa_trace_finish(t);
    return t;
}

static pa_trace_t *fixture(int python)
{
    pa_tb_t *b = pa_tb_new();
    tables(b, python);
    leaks(b);
    pa_trace_t *t = model(b);
    pa_tb_free(b);
    return t;
}

static char *render(pa_trace_t *t, struct pa_leaks_opts o, pa_sbuf_t *out)
{
    pa_sbuf_init(out);
    assert_int_equal(pa_leaks_render(t, &o, out), 0);
    return out->buf;
}

static void test_leaks_residue_rule(void **state)
{
    pa_trace_t *t = fixture(1);
    assert_int_equal(pa_leaks_is_residue(t, ST_USER, 0), 0);
    assert_int_equal(pa_leaks_is_residue(t, ST_USER, PA_LEAK_FREED_AT_SHUTDOWN), 0);
    assert_int_equal(pa_leaks_is_residue(t, ST_USER, PA_LEAK_STARTUP), 1);
    assert_int_equal(pa_leaks_is_residue(t, ST_STDLIB, 0), 1);
    assert_int_equal(pa_leaks_is_residue(t, ST_IMPORT, 0), 1);
    assert_int_equal(pa_leaks_is_residue(t, ST_NATIVE, 0), 0);
    assert_int_equal(pa_leaks_is_residue(t, ST_NATIVE, PA_LEAK_STARTUP), 1);
    assert_int_equal(pa_leaks_is_residue(t, ST_INTERP, 0), 1);
    assert_int_equal(pa_leaks_is_residue(t, ST_SITEPKG, 0), 0);
    assert_int_equal(pa_leaks_is_residue(t, 0, 0), 0); /* empty stack: native-only, shown */
    pa_trace_free(t);

    t = fixture(0); /* not a Python process: everything but startup is shown */
    assert_int_equal(pa_leaks_is_residue(t, ST_STDLIB, 0), 0);
    assert_int_equal(pa_leaks_is_residue(t, ST_INTERP, 0), 0);
    assert_int_equal(pa_leaks_is_residue(t, ST_INTERP, PA_LEAK_STARTUP), 1);
    pa_trace_free(t);
}

static void test_leaks_user_frame_outside_stdlib_prefix(void **state)
{
    pa_tb_t *b = pa_tb_new();
    pa_tb_interp(b, "3.11", 11, "/usr/lib/python3.11/", 0); /* trailing slash */
    pa_tb_string(b, 1, "f");
    pa_tb_string(b, 2, "/usr/lib/python3.11/os.py");
    pa_tb_string(b, 3, "/usr/lib/python3.11-extra/mine.py"); /* same prefix, other dir */
    pa_tb_string(b, 4, "/usr/lib/python3.11/dist-packages/x.py");
    pa_tb_function(b, 1, 1, 2, 0);
    pa_tb_function(b, 2, 1, 3, 0);
    pa_tb_function(b, 3, 1, 4, 0);
    pa_tb_node(b, 1, 0, PA_FRAME_PYTHON, 1, 1);
    pa_tb_node(b, 2, 0, PA_FRAME_PYTHON, 2, 1);
    pa_tb_node(b, 3, 0, PA_FRAME_PYTHON, 3, 1);
    pa_tb_node(b, 4, 0, PA_FRAME_PY_UNKNOWN, 0, 0);
    pa_trace_t *t = model(b);
    assert_int_equal(pa_leaks_is_residue(t, 1, 0), 1);
    assert_int_equal(pa_leaks_is_residue(t, 2, 0), 0);
    assert_int_equal(pa_leaks_is_residue(t, 3, 0), 0);
    assert_int_equal(pa_leaks_is_residue(t, 4, 0), 0);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_leaks_groups_sorted_and_merged(void **state)
{
    pa_trace_t *t = fixture(1);
    struct pa_leak_set s;
    assert_int_equal(pa_leaks_collect(t, &s), 0);
    assert_int_equal(s.source, PA_LEAKS_RECORDS);
    assert_true(s.complete);
    assert_int_equal(s.n, 8);
    assert_int_equal(s.groups[0].stack, ST_USER);
    assert_int_equal(s.groups[1].stack, ST_NATIVE);
    assert_int_equal(s.groups[1].bytes, 2000000);
    assert_int_equal(s.groups[1].count, 200);
    assert_int_equal(s.groups[2].stack, ST_STDLIB);
    assert_int_equal(s.groups[3].stack, ST_SITEPKG);
    assert_int_equal(s.groups[4].stack, ST_IMPORT);
    assert_int_equal(s.shown, 4);
    assert_int_equal(s.shown_bytes, 12491560);
    assert_int_equal(s.shown_count, 311);
    assert_int_equal(s.hidden, 4);
    assert_int_equal(s.hidden_bytes, 8800);
    assert_int_equal(s.hidden_count, 61);
    pa_leaks_set_free(&s);
    pa_trace_free(t);
}

static void test_leaks_ties_by_count_then_stack(void **state)
{
    pa_tb_t *b = pa_tb_new();
    pa_tb_checkpoint(b, PA_CP_EXIT, 1, 0, 0);
    pa_tb_leak(b, PA_CP_EXIT, 7, 100, 1, 0);
    pa_tb_leak(b, PA_CP_EXIT, 5, 100, 1, 0);
    pa_tb_leak(b, PA_CP_EXIT, 9, 100, 2, 0);
    pa_trace_t *t = model(b);
    struct pa_leak_set s;
    assert_int_equal(pa_leaks_collect(t, &s), 0);
    assert_int_equal(s.groups[0].stack, 9);
    assert_int_equal(s.groups[1].stack, 5);
    assert_int_equal(s.groups[2].stack, 7);
    pa_leaks_set_free(&s);
    pa_trace_free(t);
    pa_tb_free(b);
}

static const char *const user_stack =
    "    malloc\n"
    "    ffi_call  (libffi.so.8)\n"
    "    leak_native_small  /abs/leaky.py:25\n"
    "    [2 interpreter frames]\n"
    "    <module>  /abs/leaky.py:40\n"
    "    [3 more native frames]\n";

static void test_leaks_text_exact(void **state)
{
    pa_trace_t *t = fixture(1);
    pa_sbuf_t out;
    char want[4096];
    snprintf(want, sizeof want,
             "pyagent: leak report for pid 1234 (python3 leaky.py): 4 leaks, 12,491,560 bytes in 311 blocks\n"
             "pyagent: 8,800 bytes in 61 blocks from 4 stacks of interpreter, import and startup residue hidden; "
             "`pyagent leaks /tmp/leaky.trace --all` shows them\n"
             "#1  10,485,760 bytes in 10 blocks, never freed\n%s"
             "#2  2,000,000 bytes in 200 blocks, never freed\n"
             "    calloc\n"
             "    libfoo.so+0x1234\n"
             "#3  4,800 bytes in 100 blocks, never freed\n"
             "    PyMem_Malloc\n"
             "    numpy_fn  /usr/lib/python3.11/site-packages/numpy/core.py:7\n"
             "    <module>  /abs/leaky.py:40\n"
             "    [3 more native frames]\n"
             "#4  1,000 bytes in 1 block, live at program end, freed at shutdown\n%s"
             "pyagent: trace: /tmp/leaky.trace\n",
             user_stack, user_stack);
    assert_string_equal(render(t, (struct pa_leaks_opts){ .trace_path = "/tmp/leaky.trace" }, &out), want);
    pa_sbuf_free(&out);
    pa_trace_free(t);
}

static void test_leaks_text_top_all_full(void **state)
{
    pa_trace_t *t = fixture(1);
    pa_sbuf_t out;
    const char *s = render(t, (struct pa_leaks_opts){ .top = 1 }, &out);
    assert_non_null(strstr(s, "#1  10,485,760 bytes"));
    assert_null(strstr(s, "#2"));
    assert_non_null(strstr(s, "pyagent: 3 more leaks not shown: 2,005,800 bytes in 301 blocks\n"));
    assert_null(strstr(s, "pyagent: trace:"));
    pa_sbuf_free(&out);

    s = render(t, (struct pa_leaks_opts){ .all = 1 }, &out);
    assert_non_null(strstr(s, ": 8 leaks, 12,500,360 bytes in 372 blocks (4 of them residue)\n"));
    assert_null(strstr(s, "--all shows"));
    assert_non_null(strstr(s, "#3  5,000 bytes in 50 blocks, never freed (residue)\n"
                              "    PyObject_Malloc\n"
                              "    decode  /usr/lib/python3.11/json/decoder.py:100\n"
                              "    [3 more native frames]\n"));
    assert_non_null(strstr(s, "#7  700 bytes in 7 blocks, never freed (startup) (residue)\n"));
    assert_non_null(strstr(s, "#8  100 bytes in 1 block, never freed (during shutdown) (residue)\n"
                              "    malloc\n"
                              "    [3 interpreter frames]\n"
                              "    __libc_start_main  (libc.so.6)\n"));
    pa_sbuf_free(&out);

    s = render(t, (struct pa_leaks_opts){ .full_stacks = 1, .top = 1 }, &out);
    assert_non_null(strstr(s, "#1  10,485,760 bytes in 10 blocks, never freed\n"
                              "    malloc\n"
                              "    ffi_call  (libffi.so.8)\n"
                              "    leak_native_small  /abs/leaky.py:25\n"
                              "    PyObject_Call  (libpython3.11.so.1.0)\n"
                              "    _PyEval_EvalFrameDefault  (python3.11)\n"
                              "    <module>  /abs/leaky.py:40\n"
                              "    _PyEval_EvalFrameDefault  (python3.11)\n"
                              "    main  (python3.11)\n"
                              "    __libc_start_main  (libc.so.6)\n"));
    pa_sbuf_free(&out);
    pa_trace_free(t);
}

static void test_leaks_json_exact(void **state)
{
    pa_tb_t *b = pa_tb_new();
    tables(b, 1);
    pa_tb_checkpoint(b, PA_CP_EXIT, 9000, 0, 0);
    pa_tb_leak(b, PA_CP_EXIT, ST_NATIVE, 64, 2, 0);
    pa_tb_leak(b, PA_CP_EXIT, ST_SITEPKG, 32, 1, PA_LEAK_FREED_AT_SHUTDOWN);
    pa_tb_leak(b, PA_CP_EXIT, ST_STDLIB, 16, 1, 0);
    pa_trace_t *t = model(b);
    pa_sbuf_t out;
    const char *want =
        "{\"leaks\": [{\"bytes\": 64, \"count\": 2, \"freed_at_shutdown\": false, \"residue\": false, \"stack\": ["
        "{\"kind\": \"allocator\", \"function\": \"calloc\"}, "
        "{\"kind\": \"native\", \"function\": null, \"module\": \"libfoo.so\", \"path\": \"/usr/lib/libfoo.so\", "
        "\"offset\": 4660}]}, "
        "{\"bytes\": 32, \"count\": 1, \"freed_at_shutdown\": true, \"residue\": false, \"stack\": ["
        "{\"kind\": \"allocator\", \"function\": \"PyMem_Malloc\"}, "
        "{\"kind\": \"python\", \"function\": \"numpy_fn\", \"file\": "
        "\"/usr/lib/python3.11/site-packages/numpy/core.py\", \"line\": 7}, "
        "{\"kind\": \"python\", \"function\": \"<module>\", \"file\": \"/abs/leaky.py\", \"line\": 40}, "
        "{\"kind\": \"native\", \"function\": \"_PyEval_EvalFrameDefault\", \"module\": \"python3.11\", "
        "\"path\": \"/usr/bin/python3.11\", \"offset\": 8192}, "
        "{\"kind\": \"native\", \"function\": \"main\", \"module\": \"python3.11\", \"path\": \"/usr/bin/python3.11\", "
        "\"offset\": 1280}, "
        "{\"kind\": \"native\", \"function\": \"__libc_start_main\", \"module\": \"libc.so.6\", "
        "\"path\": \"/lib/x86_64-linux-gnu/libc.so.6\", \"offset\": 1536}]}], "
        "\"total_bytes\": 96, \"total_count\": 3, \"hidden_bytes\": 16, \"hidden_count\": 1, \"complete\": true}\n";
    assert_string_equal(render(t, (struct pa_leaks_opts){ .json = 1, .trace_path = "x" }, &out), want);
    pa_sbuf_free(&out);

    const char *s = render(t, (struct pa_leaks_opts){ .json = 1, .all = 1, .top = 1 }, &out);
    assert_non_null(strstr(s, "\"total_bytes\": 112, \"total_count\": 4, \"hidden_bytes\": 0, \"hidden_count\": 0"));
    assert_null(strstr(s, "\"bytes\": 32"));
    pa_sbuf_free(&out);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_leaks_fallback_when_killed(void **state)
{
    pa_tb_t *b = pa_tb_new();
    tables(b, 1);
    pa_tb_events_begin(b, 1, 100);
    pa_tb_ev_alloc(b, 100, 0x10, 4096, ST_NATIVE);
    pa_tb_ev_alloc(b, 110, 0x20, 100, ST_USER);
    pa_tb_ev_alloc(b, 120, 0x30, 50, ST_STDLIB);
    pa_tb_ev_free(b, 130, 0x10);
    pa_tb_ev_alloc(b, 140, 0x40, 20, ST_USER);
    pa_tb_events_end(b);
    pa_trace_t *t = model(b);
    pa_sbuf_t out;
    const char *s = render(t, (struct pa_leaks_opts){ .top = 10 }, &out);
    assert_non_null(strstr(s, ": 1 leak, 120 bytes in 2 blocks\n"));
    assert_non_null(strstr(s, "pyagent: 50 bytes in 1 block from 1 stack of interpreter"));
    assert_non_null(strstr(s, "pyagent: the process did not finish (killed or still running): "
                              "these blocks were live when the trace ended\n"));
    assert_non_null(strstr(s, "#1  120 bytes in 2 blocks, live at last event\n    malloc\n"));
    pa_sbuf_free(&out);
    s = render(t, (struct pa_leaks_opts){ .json = 1 }, &out);
    assert_non_null(strstr(s, "\"total_bytes\": 120, \"total_count\": 2, \"hidden_bytes\": 50, "
                              "\"hidden_count\": 1, \"complete\": false}"));
    pa_sbuf_free(&out);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_leaks_none(void **state)
{
    pa_tb_t *b = pa_tb_new();
    static const char *const argv[] = { "./prog" };
    pa_tb_process(b, 7, 1, 0, 0, 1, argv, "/tmp/prog");
    pa_tb_checkpoint(b, PA_CP_EXIT, 10, 0, 0);
    pa_trace_t *t = model(b);
    pa_sbuf_t out;
    assert_string_equal(render(t, (struct pa_leaks_opts){ 0 }, &out),
                        "pyagent: leak report for pid 7 (./prog): no leaks\n");
    pa_sbuf_free(&out);
    assert_string_equal(render(t, (struct pa_leaks_opts){ .json = 1 }, &out),
                        "{\"leaks\": [], \"total_bytes\": 0, \"total_count\": 0, \"hidden_bytes\": 0, "
                        "\"hidden_count\": 0, \"complete\": true}\n");
    pa_sbuf_free(&out);
    pa_trace_free(t);
    pa_tb_free(b);
}

/* A hostile shape: one long chain and a leak group at every node. Classification is
 * memoised per node and stacks are capped, so this stays fast. */
static void test_leaks_deep_chain_is_fast(void **state)
{
    enum { N = 20000 };
    pa_tb_t *b = pa_tb_new();
    pa_tb_interp(b, "3.12", 12, "/usr/lib/python3.12", 0);
    pa_tb_string(b, 1, "f");
    pa_tb_string(b, 2, "/usr/lib/python3.12/x.py");
    pa_tb_function(b, 1, 1, 2, 0);
    pa_tb_checkpoint(b, PA_CP_EXIT, 1, 0, 0);
    for (uint64_t i = 1; i <= N; i++) {
        pa_tb_node(b, i, i - 1, PA_FRAME_PYTHON, 1, i);
        pa_tb_leak(b, PA_CP_EXIT, i, i, 1, 0);
    }
    pa_tb_node(b, N + 1, N, PA_FRAME_PY_UNKNOWN, 0, 0);
    pa_tb_leak(b, PA_CP_EXIT, N + 1, 1, 1, 0);
    pa_trace_t *t = model(b);
    assert_int_equal(pa_trace_stack_depth(t, N), PA_STACK_MAX_DEPTH);
    struct pa_leak_set set;
    assert_int_equal(pa_leaks_collect(t, &set), 0);
    assert_int_equal(set.n, N + 1);
    assert_int_equal(set.shown, 1); /* only the stack with an unnamed (user) frame */
    assert_int_equal(set.hidden, N);
    pa_leaks_set_free(&set);
    pa_sbuf_t out;
    const char *s = render(t, (struct pa_leaks_opts){ .all = 1, .top = 2 }, &out);
    assert_non_null(strstr(s, "#1  20,000 bytes in 1 block, never freed (residue)\n    f  /usr/lib/python3.12/x.py:20000\n"));
    assert_non_null(strstr(s, "pyagent: 19,999 more leaks not shown"));
    pa_sbuf_free(&out);
    pa_trace_free(t);
    pa_tb_free(b);
}

static void test_leaks_records_without_exit_checkpoint(void **state)
{
    pa_tb_t *b = pa_tb_new();
    pa_tb_leak(b, PA_CP_EXIT, 5, 10, 1, 0);
    pa_trace_t *t = model(b);
    pa_sbuf_t out;
    const char *s = render(t, (struct pa_leaks_opts){ 0 }, &out);
    assert_non_null(strstr(s, "pyagent: leak report for an unknown process: 1 leak, 10 bytes in 1 block\n"));
    assert_non_null(strstr(s, "no exit checkpoint"));
    assert_non_null(strstr(s, "#1  10 bytes in 1 block, never freed\n    <unknown>\n"));
    pa_sbuf_free(&out);
    pa_trace_free(t);
    pa_tb_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaks_residue_rule),
        cmocka_unit_test(test_leaks_user_frame_outside_stdlib_prefix),
        cmocka_unit_test(test_leaks_groups_sorted_and_merged),
        cmocka_unit_test(test_leaks_ties_by_count_then_stack),
        cmocka_unit_test(test_leaks_text_exact),
        cmocka_unit_test(test_leaks_text_top_all_full),
        cmocka_unit_test(test_leaks_json_exact),
        cmocka_unit_test(test_leaks_fallback_when_killed),
        cmocka_unit_test(test_leaks_none),
        cmocka_unit_test(test_leaks_deep_chain_is_fast),
        cmocka_unit_test(test_leaks_records_without_exit_checkpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
