/* api.c — the exported C API declared in include/pyagent.h. Every entry point marks
 * the thread as running agent code, so what it allocates is the agent's own. */
#include "pyagent.h"

#include <string.h>

#include "clock.h"
#include "common.h"
#include "control.h"
#include "pyagent/format.h"
#include "sampler.h"
#include "tables.h"
#include "thread.h"
#include "writer.h"

PA_EXPORT int pyagent_active(void) { return pa_tracking(); }
PA_EXPORT const char *pyagent_trace_path(void) { return pa_writer_path(); }
PA_EXPORT int pyagent_api_version(void) { return PYAGENT_API_VERSION; }

static uint32_t intern(const char *s)
{
    if (!s)
        return 0;
    pa_tables_lock();
    uint32_t id = pa_tab_string(s, strlen(s));
    pa_tables_unlock();
    return id;
}

/* The calling thread's state, with the guard set; NULL when not recording. */
static pa_thread_t *enter(int *guard)
{
    *guard = pa_in_agent;
    pa_in_agent = 1;
    pa_thread_t *t = pa_tracking() && !*guard ? pa_thread_get() : NULL;
    pa_sampler_poll(t); /* earlier samples first, at their own times */
    return t;
}

PA_EXPORT void pyagent_mark(const char *name, const char *fields_json)
{
    int guard;
    pa_thread_t *t = enter(&guard);
    if (t && name)
        pa_thread_emit_mark(t, pa_clock_ns(), intern(name), intern(fields_json));
    pa_in_agent = guard;
}

PA_EXPORT void pyagent_counter(const char *name, double value)
{
    int guard;
    pa_thread_t *t = enter(&guard);
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    if (t && name)
        pa_thread_emit_counter(t, pa_clock_ns(), intern(name), 1, bits);
    pa_in_agent = guard;
}

PA_EXPORT void pyagent_counter_int(const char *name, long long value)
{
    int guard;
    pa_thread_t *t = enter(&guard);
    if (t && name)
        pa_thread_emit_counter(t, pa_clock_ns(), intern(name), 0, pa_zigzag(value));
    pa_in_agent = guard;
}

static void region(const char *name, int begin)
{
    int guard;
    pa_thread_t *t = enter(&guard);
    if (t && name)
        pa_thread_emit_region(t, pa_clock_ns(), intern(name), begin);
    pa_in_agent = guard;
}

PA_EXPORT void pyagent_region_begin(const char *name) { region(name, 1); }
PA_EXPORT void pyagent_region_end(const char *name) { region(name, 0); }

PA_EXPORT void pyagent_pause(void)
{
    int guard;
    if (enter(&guard))
        pa_control_set(1, PA_TOGGLE_API);
    pa_in_agent = guard;
}

PA_EXPORT void pyagent_resume(void)
{
    int guard;
    if (enter(&guard))
        pa_control_set(0, PA_TOGGLE_API);
    pa_in_agent = guard;
}
