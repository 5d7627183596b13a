/* pyobj.h — the few CPython object shapes the agent builds or reads itself, stable
 * across 3.8-3.13 (the agent never includes Python.h: libpython is reached at run
 * time and its version is only known then). */
#ifndef PA_PYOBJ_H
#define PA_PYOBJ_H

#include <stdint.h>

#include "python.h"

typedef struct { intptr_t refcnt; void *type; } pa_objhead_t;
typedef struct { const char *name; void *meth; int flags; const char *doc; } pa_methoddef_t;

#define PA_METH_VARARGS 0x0001
#define PA_METH_KEYWORDS 0x0002
#define PA_METH_NOARGS 0x0004
#define PA_METH_O 0x0008
#define PA_METH_FASTCALL 0x0080

#define PA_TYPE(o) (((pa_objhead_t *)(o))->type)

/* PyCodeObject.co_flags bits marking generator-like code. */
#define PA_CO_GENERATOR 0x0020
#define PA_CO_COROUTINE 0x0080
#define PA_CO_ITERABLE_COROUTINE 0x0100
#define PA_CO_ASYNC_GENERATOR 0x0200

/* PyTrace_* values for PyEval_SetProfile callbacks. */
enum { PA_TRACE_CALL = 0, PA_TRACE_EXCEPTION = 1, PA_TRACE_LINE = 2, PA_TRACE_RETURN = 3,
       PA_TRACE_C_CALL = 4, PA_TRACE_C_EXCEPTION = 5, PA_TRACE_C_RETURN = 6 };

#endif
