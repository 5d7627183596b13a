/* sample_trace.h — one sampled trace shared by the profile, report and flame graph
 * tests, so their expected numbers can be checked against the same table below. */
#ifndef PA_TEST_SAMPLE_TRACE_H
#define PA_TEST_SAMPLE_TRACE_H

#include "trace_builder.h"

#define MS 1000000ull

/* Stacks (innermost first):
 *   4: spin_alpha:6 <- recurse:13 <- recurse:12 <- <module>:20       (Python only)
 *   6: libfoo.so+0x40 <- foo_compute <- 4's frames                   (native above Python)
 *   3: recurse:13 <- recurse:12 <- <module>:20
 *   8: foo_compute (libfoo.so) <- _PyEval_EvalFrameDefault (python3) (no Python frame)
 *   9: work:31 <- <module>:20 in /abs/y.py                           (worker only)
 * Samples (task-clock ns, instructions, cycles):
 *   thread #1 tid 100 MainThread: 4 x2 (10ms, 1000, 2000), 6 (5ms, 500, 500), 3 (1ms, 100, 100)
 *   thread #2 tid 200 worker:     8 (7ms, 70, 70), 0 (2ms, 0, 0), 9 (3ms, 30, 60)
 * Thread 2 is named by a second THREAD record. */
static pa_tb_t *sample_trace(void)
{
    static const struct pa_tb_event ev[] = {
        { "task-clock", 1, 1, PA_EVF_LEADER | PA_EVF_TIME },
        { "instructions", 0, 1, PA_EVF_MULTIPLEXED },
        { "cycles", 0, 0, PA_EVF_MULTIPLEXED },
    };
    static const char *const argv[] = { "python3", "x.py" };
    static const char *const strs[] = { NULL, "/abs/x.py", "spin_alpha", "recurse", "<module>",
                                        "/usr/lib/libfoo.so", "foo_compute", "MainThread", "worker",
                                        "/usr/bin/python3", "_PyEval_EvalFrameDefault", "/abs/y.py", "work" };
    pa_tb_t *b = pa_tb_new();
    pa_tb_process(b, 100, 1, 0, 0, 2, argv, "/usr/bin/python3");
    pa_tb_interp(b, "3.12.1", 12, "/usr/lib/python3.12", 1);
    pa_tb_header(b, 1, 0);
    for (uint64_t i = 1; i < sizeof strs / sizeof strs[0]; i++)
        pa_tb_string(b, i, strs[i]);
    pa_tb_sampling(b, PA_SAMPLE_FREQ, 1000, 38, 3, ev);
    pa_tb_function(b, 1, 4, 1, 1);  /* <module> x.py:1 */
    pa_tb_function(b, 2, 3, 1, 10); /* recurse x.py:10 */
    pa_tb_function(b, 3, 2, 1, 5);  /* spin_alpha x.py:5 */
    pa_tb_function(b, 4, 4, 11, 1); /* <module> y.py:1 */
    pa_tb_function(b, 5, 12, 11, 30); /* work y.py:30 */
    pa_tb_native(b, 1, 5, 6, 0x1000, 0x10);
    pa_tb_native(b, 2, 5, 0, 0x40, 0);
    pa_tb_native(b, 3, 9, 10, 0x5000, 0x20);
    pa_tb_node(b, 1, 0, PA_FRAME_PYTHON, 1, 20);
    pa_tb_node(b, 2, 1, PA_FRAME_PYTHON, 2, 12);
    pa_tb_node(b, 3, 2, PA_FRAME_PYTHON, 2, 13);
    pa_tb_node(b, 4, 3, PA_FRAME_PYTHON, 3, 6);
    pa_tb_node(b, 5, 4, PA_FRAME_NATIVE, 1, 0);
    pa_tb_node(b, 6, 5, PA_FRAME_NATIVE, 2, 0);
    pa_tb_node(b, 7, 0, PA_FRAME_NATIVE, 3, 0);
    pa_tb_node(b, 8, 7, PA_FRAME_NATIVE, 1, 0);
    pa_tb_node(b, 10, 0, PA_FRAME_PYTHON, 4, 20);
    pa_tb_node(b, 9, 10, PA_FRAME_PYTHON, 5, 31);
    pa_tb_thread(b, 1, 100, 0, 7);
    pa_tb_thread(b, 2, 200, 0, 0);
    pa_tb_events_begin(b, 2, 1000);
    pa_tb_ev_sample(b, 1000, 8, 3, (uint64_t[]){ 7 * MS, 70, 70 });
    pa_tb_ev_sample(b, 2000, 0, 3, (uint64_t[]){ 2 * MS, 0, 0 });
    pa_tb_ev_sample(b, 3000, 9, 3, (uint64_t[]){ 3 * MS, 30, 60 });
    pa_tb_events_end(b);
    pa_tb_events_begin(b, 1, 1000);
    pa_tb_ev_sample(b, 1000, 4, 3, (uint64_t[]){ 10 * MS, 1000, 2000 });
    pa_tb_ev_alloc(b, 1500, 0x1000, 10, 4);
    pa_tb_ev_sample(b, 2000, 6, 3, (uint64_t[]){ 5 * MS, 500, 500 });
    pa_tb_ev_sample(b, 3000, 4, 3, (uint64_t[]){ 10 * MS, 1000, 2000 });
    pa_tb_ev_sample(b, 4000, 3, 3, (uint64_t[]){ 1 * MS, 100, 100 });
    pa_tb_events_end(b);
    pa_tb_thread(b, 2, 200, 0, 8);
    pa_tb_stats(b, (uint64_t[]){ 0, 0, 0, 1, 0, 0, 10, 7, 3, 2 }, 10);
    pa_tb_chunk(b);
    pa_tb_end(b);
    return b;
}

#endif
