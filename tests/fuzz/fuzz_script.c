/* fuzz_script.c — fuzz target: `pyagent script` (decode, then the trace-mode calls
 * paired per thread with their counter deltas, marks, counters, regions and toggles,
 * as text and JSON lines; thread, function, time window, depth and column options). */
#include "fuzz_common.h"
#include "script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct pa_script_opts opts[] = {
        { .max_depth = -1 },
        { .json = 1, .max_depth = -1 },
        { .max_depth = 1, .has_since = 1, .since_ns = 1000, .has_until = 1, .until_ns = 50000000,
          .fields = "time,thread,depth,duration,cpu,alloc,function,file,task-clock" },
        { .json = 1, .max_depth = 2, .function = "f", .thread = "#1" },
        { .max_depth = -1, .function = "main", .thread = "MainThread", .fields = "function,cpu" },
    };
    pa_trace_t *t = fuzz_load(data, size);
    if (!t)
        return 0;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        pa_sbuf_t out, err;
        pa_sbuf_init(&out);
        pa_sbuf_init(&err);
        int rc = pa_script_render(t, &opts[i], &out, &err);
        fuzz_check_rc(rc, opts[i].thread || opts[i].fields, &err, "pa_script_render failed");
        if (rc == 0 && opts[i].json)
            fuzz_check_json_lines(&out, "script --json has a line that is not valid JSON");
        pa_sbuf_free(&out);
        pa_sbuf_free(&err);
    }
    pa_trace_free(t);
    return 0;
}
