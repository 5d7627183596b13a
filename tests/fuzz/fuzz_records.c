/* fuzz_records.c — fuzz target: the record decoder (pa_trace_feed) on a bare record
 * sequence, as found inside a header or a decompressed chunk, then pa_trace_finish
 * (id resolution, stack trees, the heap replay) and read access. Two feeds of the
 * same input check that feeding after finishing works, as the contract says. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pa_trace_t *t = pa_trace_new();
    char err[256];
    if (!t)
        return 0;
    for (int round = 0; round < 2; round++) {
        if (pa_trace_feed(t, data, size, err, sizeof err) < 0 && strncmp(err, "record at offset ", 17) != 0)
            fuzz_fail("a bad record is not reported as \"record at offset N: ...\"", err, strlen(err));
        pa_trace_finish(t);
        fuzz_walk(t);
    }
    pa_trace_free(t);
    return 0;
}
