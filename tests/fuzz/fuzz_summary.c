/* fuzz_summary.c — fuzz target: `pyagent summary` (decode, then the summary as text
 * and as JSON). */
#include "fuzz_common.h"
#include "summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pa_trace_t *t = fuzz_load(data, size);
    if (!t)
        return 0;
    for (int json = 0; json < 2; json++) {
        struct pa_summary_opts o = { .json = json, .trace_path = "fuzz.trace" };
        pa_sbuf_t out;
        pa_sbuf_init(&out);
        if (pa_summary_render(t, &o, &out) != 0)
            fuzz_fail("pa_summary_render failed", pa_sbuf_cstr(&out), out.len);
        if (json)
            fuzz_check_json(&out, "summary --json is not valid JSON");
        pa_sbuf_free(&out);
    }
    pa_trace_free(t);
    return 0;
}
