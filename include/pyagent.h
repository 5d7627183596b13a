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

#define PYAGENT_API_VERSION 1

/* 1 while the agent records allocations in this process, else 0. */
int pyagent_active(void) __attribute__((weak));

/* The path of this process's trace file, or NULL when no trace is written. The
 * string stays valid until the process exits. */
const char *pyagent_trace_path(void) __attribute__((weak));

/* The PYAGENT_API_VERSION of the loaded agent. */
int pyagent_api_version(void) __attribute__((weak));

/* Whether the agent is preloaded in this process. */
static inline int pyagent_available(void) { return pyagent_active != 0; }

#ifdef __cplusplus
}
#endif

#endif
