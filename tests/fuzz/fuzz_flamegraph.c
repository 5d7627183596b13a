/* fuzz_flamegraph.c — fuzz target: `pyagent flamegraph` (decode, then folded stacks
 * and the HTML page's JSON blob, Python frames only and with native frames, with
 * thread and event filters that may not fit the trace). */
#include "flamegraph.h"
#include "fuzz_common.h"

/* Folded lines are "frame;frame;... value": one space, then digits. */
static void check_folded(const pa_sbuf_t *out)
{
    const char *p = pa_sbuf_cstr(out), *end = p + out->len;
    while (!out->failed && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            fuzz_fail("folded output does not end with a newline", p, (size_t)(end - p));
        const char *sp = nl;
        while (sp > p && sp[-1] != ' ')
            sp--;
        if (sp == p || sp == nl || strspn(sp, "0123456789") != (size_t)(nl - sp) || memchr(p, '\r', (size_t)(nl - p)))
            fuzz_fail("a folded line is not \"STACK VALUE\"", p, (size_t)(nl - p));
        p = nl + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct pa_flame_opts opts[] = {
        { 0 },
        { .native = 1 },
        { .thread = "#1", .event = "task-clock" },
    };
    pa_trace_t *t = fuzz_load(data, size);
    if (!t)
        return 0;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        pa_sbuf_t out, err;
        pa_sbuf_init(&out);
        pa_sbuf_init(&err);
        int rc = pa_flame_folded(t, &opts[i], &out, &err);
        fuzz_check_rc(rc, opts[i].thread || opts[i].event, &err, "pa_flame_folded failed");
        if (rc == 0)
            check_folded(&out);
        pa_sbuf_reset(&out);
        pa_sbuf_reset(&err);
        struct pa_flame_opts page = opts[i];
        page.event = NULL; /* the page shows every event */
        rc = pa_flame_json(t, &page, &out, &err);
        fuzz_check_rc(rc, page.thread != NULL, &err, "pa_flame_json failed");
        if (rc == 0)
            fuzz_check_json(&out, "the flame graph JSON blob is not valid JSON");
        pa_sbuf_reset(&out);
        pa_sbuf_reset(&err);
        if (i == 0) /* the page around the same blob */
            fuzz_check_rc(pa_flame_page(t, &page, &out, &err), 0, &err, "pa_flame_page failed");
        pa_sbuf_free(&out);
        pa_sbuf_free(&err);
    }
    pa_trace_free(t);
    return 0;
}
