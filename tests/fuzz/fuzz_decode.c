/* fuzz_decode.c — fuzz target: the whole-file decoder (pa_decode_buf, what
 * pa_decode_file runs on a mapped file): header, chunk framing, zstd frames, torn
 * tails and resynchronisation, then the records, pa_trace_finish and read access. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pa_trace_t *t = pa_trace_new();
    pa_sbuf_t diag;
    if (!t)
        return 0;
    pa_sbuf_init(&diag);
    int rc = pa_decode_buf(data, size, "fuzz", t, &diag);
    fuzz_check_diag(&diag, rc < 0);
    pa_sbuf_free(&diag);
    fuzz_check_ratio(t, size);
    if (rc == 0) {
        pa_trace_finish(t);
        fuzz_walk(t);
    }
    pa_trace_free(t);
    return 0;
}
