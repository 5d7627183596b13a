/* calls_trace_main.c — writes the synthetic traces of calls_trace.h (trace mode) and
 * sample_trace.h (sampling only) to files, for the Chrome trace browser test and for
 * trying `pyagent script` and `pyagent export` by hand.
 * "hostile" is a small trace-mode trace whose names and mark fields try to break out of
 * JSON strings and HTML script elements.
 * Usage: pa_calls_trace_gen calls|samples|hostile OUT */
#include <stdio.h>
#include <string.h>

#include "calls_trace.h"
#include "sample_trace.h"

static pa_tb_t *hostile_trace(void)
{
    static const char *const strs[] = { NULL, "evil</script><script>window.__pwned=1</script>\"\n\t\x01\xff\xc0",
                                        "/tmp/\u2028odd\xe2\x80\xa8 path.py", "{\"html\": \"</script><!--\", \"n\": [1e3]}",
                                        "thread \"quoted\" </script>", "not json </script>" };
    pa_tb_t *b = pa_tb_new();
    pa_tb_header(b, 1, 2);
    for (uint64_t i = 1; i < sizeof strs / sizeof strs[0]; i++)
        pa_tb_string(b, i, strs[i]);
    pa_tb_function(b, 1, 1, 2, 3);
    pa_tb_function(b, 2, 1, 0, 0);
    pa_tb_thread(b, 1, 77, 100, 4);
    pa_tb_calls_begin(b, 1, 100);
    pa_tb_calls_enter(b, 100, 1, 0);
    pa_tb_calls_enter(b, 110, 2, 0);
    pa_tb_calls_exit(b, 110, PA_CALL_RETURN); /* zero length, at the same time as its parent... */
    pa_tb_calls_enter(b, 120, 1, 1);
    pa_tb_calls_exit(b, 150, PA_CALL_YIELD);
    pa_tb_calls_enter(b, 150, 2, 0); /* ...and one starting where its sibling ended */
    pa_tb_calls_exit(b, 150, PA_CALL_UNWIND);
    pa_tb_calls_exit(b, 200, PA_CALL_UNWIND);
    pa_tb_calls_enter(b, 210, 1, 0); /* never exits */
    pa_tb_calls_end(b);
    pa_tb_events_begin(b, 1, 130);
    pa_tb_ev_mark(b, 130, 1, 3);
    pa_tb_ev_mark(b, 131, 1, 5);
    pa_tb_ev_counter(b, 132, 1, -7);
    pa_tb_ev_region(b, 133, 1, 1);
    pa_tb_events_end(b);
    pa_tb_chunk(b);
    return b;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "calls") && strcmp(argv[1], "samples") && strcmp(argv[1], "hostile"))) {
        fprintf(stderr, "usage: %s calls|samples|hostile OUT\n", argv[0]);
        return 2;
    }
    pa_tb_t *b = !strcmp(argv[1], "calls") ? calls_trace() : !strcmp(argv[1], "samples") ? sample_trace() : hostile_trace();
    int rc = pa_tb_write(b, argv[2]);
    pa_tb_free(b);
    if (rc < 0) {
        perror(argv[2]);
        return 1;
    }
    return 0;
}
