/* api.c — the exported C API declared in include/pyagent.h. */
#include "pyagent.h"

#include "common.h"
#include "writer.h"

PA_EXPORT int pyagent_active(void) { return pa_tracking(); }
PA_EXPORT const char *pyagent_trace_path(void) { return pa_writer_path(); }
PA_EXPORT int pyagent_api_version(void) { return PYAGENT_API_VERSION; }
