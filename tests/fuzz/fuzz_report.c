/* fuzz_report.c — fuzz target: `pyagent report` (decode, then the CPU profile per
 * function, per line, with native frames and shared objects, per thread, sorted each
 * way, as text and JSON; thread and event filters that may not fit the trace). */
#include "fuzz_common.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct pa_report_opts opts[] = {
        { .top = PA_REPORT_TOP_DEFAULT },
        { .json = 1, .top = PA_REPORT_TOP_DEFAULT },
        { .sort = PA_SORT_TOTAL, .threads = 1, .lines = 1, .top = 0 },
        { .json = 1, .sort = PA_SORT_NAME, .threads = 1, .native = 1, .top = 2 },
        { .native = 1, .lines = 1, .thread = "#1", .event = "task-clock", .top = PA_REPORT_TOP_DEFAULT },
        { .json = 1, .thread = "MainThread", .event = "event1", .top = 5 },
    };
    pa_trace_t *t = fuzz_load(data, size);
    if (!t)
        return 0;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        pa_sbuf_t out, err;
        pa_sbuf_init(&out);
        pa_sbuf_init(&err);
        int rc = pa_report_render(t, &opts[i], &out, &err);
        fuzz_check_rc(rc, opts[i].thread || opts[i].event, &err, "pa_report_render failed");
        if (rc == 0 && opts[i].json)
            fuzz_check_json(&out, "report --json is not valid JSON");
        pa_sbuf_free(&out);
        pa_sbuf_free(&err);
    }
    pa_trace_free(t);
    return 0;
}
