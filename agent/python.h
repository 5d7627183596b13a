/* python.h — CPython reached at run time through dlsym (never linked, no data symbol
 * references), activation from an audit hook, and the built-in `pyagent` module. */
#ifndef PA_PYTHON_H
#define PA_PYTHON_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "pylayout.h"

typedef struct _object PyObject; /* opaque: the agent never includes Python.h */

/* dst = the symbol name in this process (CPython's), or NULL; needs <dlfcn.h>. */
#define PA_RESOLVE(dst, name) (*(void **)&(dst) = dlsym(RTLD_DEFAULT, name))

struct pa_pyapi {
    int minor;                     /* 3.<minor>, known once activated */
    const pa_pylayout_t *layout;   /* NULL: Python frames are not walked */
    void *code_type;               /* &PyCode_Type, to validate frame reads */
    void *unicode_type;            /* &PyUnicode_Type, to validate name reads */
    uintptr_t eval_start, eval_end; /* _PyEval_EvalFrameDefault, to merge stacks */
    int (*IsInitialized)(void);
    void *(*GILState_GetThisThreadState)(void);
    int (*GILState_Check)(void);
    int (*Code_Addr2Line)(PyObject *, int);
    const char *(*Unicode_AsUTF8AndSize)(PyObject *, intptr_t *);
    void (*IncRef)(PyObject *);
    void (*DecRef)(PyObject *);
    void (*Err_Fetch)(PyObject **, PyObject **, PyObject **);
    void (*Err_Restore)(PyObject *, PyObject *, PyObject *);
    void (*Err_Clear)(void);
    void (*Mem_GetAllocator)(int, void *);
    void (*Mem_SetAllocator)(int, void *);
};
extern struct pa_pyapi pa_py;

/* Set once the interpreter is ready: frames may be walked, code objects named. */
extern atomic_int pa_py_ready;

/* Resolves CPython in this process. Returns 1 for CPython >= 3.8, else 0 (nothing
 * done). Called from the constructor. */
int pa_py_detect(void);

/* Before Py_Initialize: installs the audit hook (or, when the debug allocator will
 * be on, arranges a deferred activation) and registers module `pyagent`. */
void pa_py_preinit(int argc, char **argv, char **envp);

/* For the deferred activation: called by allocation hooks during start-up; schedules
 * activation once the interpreter is initialised. Cheap when there is nothing to do. */
void pa_py_poll_activation(void);

/* Whether a code address lies in the interpreter (libpython or the executable that
 * links it in). False until the interpreter is ready. */
int pa_py_in_interpreter(const void *addr);

/* In pthread_create, GIL held: the name of the threading.Thread the new thread will
 * run, when start/arg are the interpreter's thread start. Returns 1 if found. */
int pa_py_new_thread_name(void *start, void *arg, char *out, size_t len);

/* The interpreter version string and stdlib directory (valid once ready). */
const char *pa_py_version(void);
const char *pa_py_stdlib(void);

/* ---- frames (pyframes.c) ---- */

typedef struct pa_pyframe {
    PyObject *code;
    int32_t offset;  /* instruction byte offset, for PyCode_Addr2Line */
    uint8_t seg_end; /* last Python frame run by one C-level eval call */
} pa_pyframe_t;

/* The calling thread's Python frames, innermost first. Never blocks or allocates. */
int pa_py_walk(pa_pyframe_t *out, int max);

/* The same from a signal handler: every read that may meet a half-built frame is
 * checked (see pyframes.c). pa_py_signal_walk_init (ordinary context) first; it
 * returns -1 if checked reads are unavailable (then do not walk from handlers). */
int pa_py_signal_walk_init(void);
int pa_py_walk_signal(pa_pyframe_t *out, int max);

/* The function id of a code object (tables lock held), registering it on first sight.
 * Returns 0 when it cannot be named now (the thread does not hold the GIL). */
uint32_t pa_py_function(PyObject *code);

/* Takes a reference without the GIL (an atomic add; async-signal-safe), never given
 * back: the object's address then always names the same code. */
void pa_py_hold(PyObject *code);

/* A C function's id (tables lock and GIL held): def is its PyMethodDef, owner the
 * module or type name qualifying it (or NULL). 0 on failure. */
uint32_t pa_py_c_function(const void *def, const char *owner);

/* The name that qualifies a C function bound to self: a module's name, or the type
 * name of an instance (NULL if none). GIL held. */
const char *pa_py_owner_name(PyObject *self);

/* A code object's qualified name (3.11+; the plain name before) and file name, as
 * UTF-8 that lives as long as the code object. @return 0 or -1. */
int pa_py_code_names(PyObject *code, const char **qual, intptr_t *qlen, const char **file, intptr_t *flen);

/* Source line of a frame. */
int pa_py_line(const pa_pyframe_t *f);

/* The directory relative code filenames are resolved against (cwd at activation). */
void pa_py_set_cwd(const char *cwd);

/* ---- PyMem domains (pymem.c) ---- */

/* Wraps the PyMem and PyObject allocators (GIL held). Returns 0 or -1. */
int pa_pymem_install(void);

#endif
