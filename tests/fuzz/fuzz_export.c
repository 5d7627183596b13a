/* fuzz_export.c — fuzz target: `pyagent export` (decode, then Chrome trace event JSON
 * and speedscope JSON, from calls or, without them, from CPU samples). */
#include "export.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum pa_export_format formats[] = { PA_EXPORT_CHROME, PA_EXPORT_SPEEDSCOPE };
    pa_trace_t *t = fuzz_load(data, size);
    if (!t)
        return 0;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        struct pa_export_opts o = { .format = formats[i] }; /* no flush: all of it in out */
        pa_sbuf_t out, err;
        pa_sbuf_init(&out);
        pa_sbuf_init(&err);
        fuzz_check_rc(pa_export_render(t, &o, &out, &err), 0, &err, "pa_export_render failed");
        fuzz_check_json(&out, formats[i] == PA_EXPORT_CHROME ? "export --format chrome is not valid JSON"
                                                            : "export --format speedscope is not valid JSON");
        pa_sbuf_free(&out);
        pa_sbuf_free(&err);
    }
    pa_trace_free(t);
    return 0;
}
