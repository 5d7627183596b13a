/* fuzz_leaks.c — fuzz target: `pyagent leaks` (decode, then the leak analysis and its
 * text and JSON renderings, residue shown and hidden, stacks collapsed and full). */
#include "fuzz_common.h"
#include "leaks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct pa_leaks_opts opts[] = {
        { .trace_path = "fuzz.trace" },
        { .all = 1, .full_stacks = 1, .top = 3 },
        { .json = 1, .trace_path = "fuzz.trace" },
        { .json = 1, .all = 1, .top = 1 },
    };
    pa_trace_t *t = fuzz_load(data, size);
    if (!t)
        return 0;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        pa_sbuf_t out;
        pa_sbuf_init(&out);
        if (pa_leaks_render(t, &opts[i], &out) != 0)
            fuzz_fail("pa_leaks_render failed", pa_sbuf_cstr(&out), out.len);
        if (opts[i].json)
            fuzz_check_json(&out, "leaks --json is not valid JSON");
        pa_sbuf_free(&out);
    }
    pa_trace_free(t);
    return 0;
}
