/* calls_trace_main.c — writes the synthetic traces of calls_trace.h (trace mode) and
 * sample_trace.h (sampling only) to files, for the Chrome trace browser test and for
 * trying `pyagent script` and `pyagent export` by hand.
 * Usage: pa_calls_trace_gen calls|samples OUT */
#include <stdio.h>
#include <string.h>

#include "calls_trace.h"
#include "sample_trace.h"

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "calls") && strcmp(argv[1], "samples"))) {
        fprintf(stderr, "usage: %s calls|samples OUT\n", argv[0]);
        return 2;
    }
    pa_tb_t *b = strcmp(argv[1], "calls") ? sample_trace() : calls_trace();
    int rc = pa_tb_write(b, argv[2]);
    pa_tb_free(b);
    if (rc < 0) {
        perror(argv[2]);
        return 1;
    }
    return 0;
}
