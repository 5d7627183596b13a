/* pyapi.h — the recording side of the `pyagent` module (marks, counters, regions,
 * pause/resume, stats). */
#ifndef PA_PYAPI_H
#define PA_PYAPI_H

#include "python.h"

/* Adds the functions and the Python layer to the module being created (GIL held).
 * @return 0, or -1 with a Python exception set. */
int pa_pyapi_install(PyObject *module);

#endif
