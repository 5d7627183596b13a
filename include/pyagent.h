/* pyagent.h — the public C API of pyagent, for programs and extensions that want to
 * talk to the agent when it is preloaded (LD_PRELOAD=libpyagent.so).
 *
 * Nothing here requires the agent at link or load time: the functions are weak
 * references, so code compiled against this header loads and runs unchanged when the
 * agent is absent. Check pyagent_available() before calling anything else. */
#ifndef PYAGENT_H
#define PYAGENT_H

#ifdef __cplusplus
extern "C" {
#endif

#define PYAGENT_API_VERSION 2

/* 1 while the agent records allocations in this process, else 0. */
int pyagent_active(void) __attribute__((weak));

/* The path of this process's trace file, or NULL when no trace is written. The
 * string stays valid until the process exits. */
const char *pyagent_trace_path(void) __attribute__((weak));

/* The PYAGENT_API_VERSION of the loaded agent. */
int pyagent_api_version(void) __attribute__((weak));

/* Since API version 2: markers, custom counters, regions and the pause switch, the
 * same as pyagent.mark/counter/region/pause/resume in Python. Names and fields are
 * copied; fields_json is a JSON object as text, or NULL. Safe from any thread;
 * not from signal handlers. */
void pyagent_mark(const char *name, const char *fields_json) __attribute__((weak));
void pyagent_counter(const char *name, double value) __attribute__((weak));
void pyagent_counter_int(const char *name, long long value) __attribute__((weak));
void pyagent_region_begin(const char *name) __attribute__((weak));
void pyagent_region_end(const char *name) __attribute__((weak));
void pyagent_pause(void) __attribute__((weak));
void pyagent_resume(void) __attribute__((weak));

/* Whether the agent is preloaded in this process. */
static inline int pyagent_available(void) { return pyagent_active != 0; }

/* Convenience wrappers that do nothing without the agent. */
static inline void pyagent_mark_if(const char *name, const char *fields_json)
{
    if (pyagent_mark)
        pyagent_mark(name, fields_json);
}
static inline void pyagent_counter_if(const char *name, double value)
{
    if (pyagent_counter)
        pyagent_counter(name, value);
}

#ifdef __cplusplus
}
#endif

#endif
