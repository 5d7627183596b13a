/* calls_trace.h — one trace-mode trace shared by the calls, script and export tests and
 * the Chrome trace generator, so expected numbers can be checked against this table.
 * Times are microseconds after the process start (1 s of CLOCK_MONOTONIC): US(x). */
#ifndef PA_TEST_CALLS_TRACE_H
#define PA_TEST_CALLS_TRACE_H

#include "trace_builder.h"

#define CT_START 1000000000ull
#define US(x) (CT_START + (uint64_t)(x) * 1000u)

/* Functions: 1 main (/abs/server.py:1), 2 handle_request (:10), 3 Handler.parse (:20),
 * 4 builtins.len (C), 5 gen (:30); function 9 is used but never defined.
 * Thread #1 tid 100 MainThread (start 50), two CALLS records:
 *   100 main ...................................................... never exits
 *     200 handle_request ....................................... 400 return
 *       250 Handler.parse ... 300 return
 *       310 builtins.len .... 320 return
 *     500 handle_request ....................................... 700 exception
 *       550 gen ...... 560 yield
 *       600 gen (resumed) ... 650 exception
 *   its last event: a free at 1000.
 * Samples (task-clock ns, instructions): 150 (100000, 1000), 450 (300000, 3000),
 *   900 (400000, 4000). Allocations: 260 64 B, 400 16 B, 410 32 B.
 * Mark "request-done" {"id": 7} at 350, counter "queue" 3 at 360, counter "load" 0.5
 *   at 370, region "db" 220..380, region "outer" from 210 never ended, an end of
 *   region "stray" at 390 (no begin), pause (api) at 800, resume (signal) at 850.
 * Thread #2 tid 200 worker: an exit without entry at 50 (tracing began inside it),
 *   120 handle_request ... 180 return, 185 function 9 ... 186 return.
 * Counted: handle_request on #1 (200000 ns, cpu 200000, 64 B, 1), (200000, 150000, 0, 0);
 *   on #2 (60000, 0, 0, 0). TRACING: Python and C calls, counting "handle_request". */
static pa_tb_t *calls_trace_encoded(int delta_ids);
static inline pa_tb_t *calls_trace(void) { return calls_trace_encoded(0); }

/* delta_ids: the CALLS records as format 1.3 writes them (PA_REC_CALLS_DELTA). */
static pa_tb_t *calls_trace_encoded(int delta_ids)
{
    static const char *const argv[] = { "python3", "server.py" };
    static const char *const strs[] = { NULL,         "/abs/server.py", "main",  "handle_request", "Handler.parse",
                                        "builtins.len", "gen",          "MainThread", "worker",    "request-done",
                                        "{\"id\": 7}",  "queue",          "db",    "outer",       "load",
                                        "stray" };
    static const struct pa_tb_event ev[] = { { "task-clock", 1, 1, PA_EVF_LEADER | PA_EVF_TIME },
                                             { "instructions", 0, 1, 0 } };
    static const char *const count[] = { "handle_request" };
    pa_tb_t *b = pa_tb_new();
    pa_tb_calls_delta(b, delta_ids);
    pa_tb_process(b, 4242, 1, CT_START, 1700000000000000000ull, 2, argv, "/usr/bin/python3");
    pa_tb_header(b, 1, 2);
    for (uint64_t i = 1; i < sizeof strs / sizeof strs[0]; i++)
        pa_tb_string(b, i, strs[i]);
    pa_tb_tracing(b, PA_TRACE_PYTHON | PA_TRACE_C, 1, count);
    pa_tb_sampling(b, PA_SAMPLE_FREQ, 1000, 38, 2, ev);
    pa_tb_function(b, 1, 2, 1, 1);
    pa_tb_function(b, 2, 3, 1, 10);
    pa_tb_function(b, 3, 4, 1, 20);
    pa_tb_function(b, 4, 5, 0, 0);
    pa_tb_function(b, 5, 6, 1, 30);
    pa_tb_thread(b, 1, 100, US(50), 7);
    pa_tb_thread(b, 2, 200, US(40), 8);
    pa_tb_calls_begin(b, 1, US(100));
    pa_tb_calls_enter(b, US(100), 1, 0);
    pa_tb_calls_enter(b, US(200), 2, 0);
    pa_tb_calls_enter(b, US(250), 3, 0);
    pa_tb_calls_exit(b, US(300), PA_CALL_RETURN);
    pa_tb_calls_enter(b, US(310), 4, 0);
    pa_tb_calls_exit(b, US(320), PA_CALL_RETURN);
    pa_tb_calls_exit(b, US(400), PA_CALL_RETURN);
    pa_tb_calls_end(b);
    pa_tb_chunk(b);
    /* The worker's record comes first in the file; thread 1's second record later. */
    pa_tb_calls_begin(b, 2, US(50));
    pa_tb_calls_exit(b, US(50), PA_CALL_RETURN);
    pa_tb_calls_enter(b, US(120), 2, 0);
    pa_tb_calls_exit(b, US(180), PA_CALL_RETURN);
    pa_tb_calls_enter(b, US(185), 9, 0);
    pa_tb_calls_exit(b, US(186), PA_CALL_RETURN);
    pa_tb_calls_end(b);
    pa_tb_events_begin(b, 1, US(150));
    pa_tb_ev_sample(b, US(150), 0, 2, (uint64_t[]){ 100000, 1000 });
    pa_tb_ev_region(b, US(210), 13, 1);
    pa_tb_ev_region(b, US(220), 12, 1);
    pa_tb_ev_alloc(b, US(260), 0x1000, 64, 0);
    pa_tb_ev_mark(b, US(350), 9, 10);
    pa_tb_ev_counter(b, US(360), 11, 3);
    pa_tb_ev_counter_double(b, US(370), 14, 0.5);
    pa_tb_ev_region(b, US(380), 12, 2);
    pa_tb_ev_region(b, US(390), 15, 2);
    pa_tb_ev_alloc(b, US(400), 0x2000, 16, 0);
    pa_tb_ev_counted(b, US(400), 2, 200000, 200000, 64, 1);
    pa_tb_ev_alloc(b, US(410), 0x3000, 32, 0);
    pa_tb_ev_sample(b, US(450), 0, 2, (uint64_t[]){ 300000, 3000 });
    pa_tb_events_end(b);
    pa_tb_events_begin(b, 2, US(180));
    pa_tb_ev_counted(b, US(180), 2, 60000, 0, 0, 0);
    pa_tb_events_end(b);
    pa_tb_calls_begin(b, 1, US(500));
    pa_tb_calls_enter(b, US(500), 2, 0);
    pa_tb_calls_enter(b, US(550), 5, 0);
    pa_tb_calls_exit(b, US(560), PA_CALL_YIELD);
    pa_tb_calls_enter(b, US(600), 5, 1);
    pa_tb_calls_exit(b, US(650), PA_CALL_UNWIND);
    pa_tb_calls_exit(b, US(700), PA_CALL_UNWIND);
    pa_tb_calls_end(b);
    pa_tb_events_begin(b, 1, US(700));
    pa_tb_ev_counted(b, US(700), 2, 200000, 150000, 0, 0);
    pa_tb_ev_toggle(b, US(800), 0, PA_TOGGLE_API);
    pa_tb_ev_toggle(b, US(850), 1, PA_TOGGLE_SIGNAL);
    pa_tb_ev_sample(b, US(900), 0, 2, (uint64_t[]){ 400000, 4000 });
    pa_tb_ev_free(b, US(1000), 0x7000);
    pa_tb_events_end(b);
    pa_tb_chunk(b);
    pa_tb_end(b);
    return b;
}

#endif
