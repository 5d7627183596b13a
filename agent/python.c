/* python.c — finding CPython, activating inside it, and the built-in `pyagent`
 * module. Every Python symbol is reached through dlsym: an undefined data symbol in
 * this library would stop non-Python programs from starting (NOTES.md). */
#include "python.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "log.h"
#include "pyapi.h"
#include "session.h"
#include "thread.h"

struct pa_pyapi pa_py;
atomic_int pa_py_ready;

/* Only what activation needs; the hot-path subset lives in pa_py. */
static struct {
    int (*AddAuditHook)(int (*)(const char *, PyObject *, void *), void *);
    int (*AppendInittab)(const char *, PyObject *(*)(void));
    PyObject *(*Module_Create2)(void *, int);
    PyObject *(*CFunction_NewEx)(void *, PyObject *, PyObject *);
    PyObject *(*Import_ImportModule)(const char *);
    PyObject *(*Object_CallMethod)(PyObject *, const char *, const char *, ...);
    PyObject *(*Object_GetAttrString)(PyObject *, const char *);
    PyObject *(*Sys_GetObject)(const char *);
    PyObject *(*Dict_GetItemString)(PyObject *, const char *);
    PyObject *(*Unicode_FromString)(const char *);
    PyObject *(*Bool_FromLong)(long);
    const char *(*GetVersion)(void);
    void *method_type;
    void *module_type;
    const char *(*Module_GetName)(PyObject *);
    int (*AddPendingCall)(int (*)(void *), void *);
    PyObject *none;
} api;

static char version[128], stdlib_dir[PATH_MAX];
static atomic_int activated;


int pa_py_detect(void)
{
    if (!PA_RESOLVE(api.AddAuditHook, "PySys_AddAuditHook"))
        return 0; /* not CPython, or older than 3.8 */
    int ok = PA_RESOLVE(api.AppendInittab, "PyImport_AppendInittab") &&
             PA_RESOLVE(api.Module_Create2, "PyModule_Create2") &&
             PA_RESOLVE(api.CFunction_NewEx, "PyCFunction_NewEx") &&
             PA_RESOLVE(api.Import_ImportModule, "PyImport_ImportModule") &&
             PA_RESOLVE(api.Object_CallMethod, "PyObject_CallMethod") &&
             PA_RESOLVE(api.Object_GetAttrString, "PyObject_GetAttrString") &&
             PA_RESOLVE(api.Sys_GetObject, "PySys_GetObject") &&
             PA_RESOLVE(api.Dict_GetItemString, "PyDict_GetItemString") &&
             PA_RESOLVE(api.Unicode_FromString, "PyUnicode_FromString") &&
             PA_RESOLVE(api.Bool_FromLong, "PyBool_FromLong") &&
             PA_RESOLVE(api.GetVersion, "Py_GetVersion") && PA_RESOLVE(api.none, "_Py_NoneStruct") &&
             PA_RESOLVE(api.method_type, "PyMethod_Type") && PA_RESOLVE(api.module_type, "PyModule_Type") &&
             PA_RESOLVE(api.Module_GetName, "PyModule_GetName") &&
             PA_RESOLVE(api.AddPendingCall, "Py_AddPendingCall") &&
             PA_RESOLVE(pa_py.IsInitialized, "Py_IsInitialized") &&
             PA_RESOLVE(pa_py.GILState_GetThisThreadState, "PyGILState_GetThisThreadState") &&
             PA_RESOLVE(pa_py.GILState_Check, "PyGILState_Check") &&
             PA_RESOLVE(pa_py.Code_Addr2Line, "PyCode_Addr2Line") &&
             PA_RESOLVE(pa_py.Unicode_AsUTF8AndSize, "PyUnicode_AsUTF8AndSize") &&
             PA_RESOLVE(pa_py.IncRef, "Py_IncRef") && PA_RESOLVE(pa_py.DecRef, "Py_DecRef") &&
             PA_RESOLVE(pa_py.Err_Fetch, "PyErr_Fetch") && PA_RESOLVE(pa_py.Err_Restore, "PyErr_Restore") &&
             PA_RESOLVE(pa_py.Err_Clear, "PyErr_Clear") &&
             PA_RESOLVE(pa_py.Mem_GetAllocator, "PyMem_GetAllocator") &&
             PA_RESOLVE(pa_py.Mem_SetAllocator, "PyMem_SetAllocator") &&
             PA_RESOLVE(pa_py.code_type, "PyCode_Type") && PA_RESOLVE(pa_py.unicode_type, "PyUnicode_Type");
    if (!ok) {
        pa_log("this looks like CPython but part of its C API is missing; Python support off");
        return 0;
    }
    return 1;
}

/* _PyEval_EvalFrameDefault's extent: each native frame inside it stands for a run of
 * Python frames when native and Python stacks are merged. */
static uintptr_t interp_lo, interp_hi;

static int find_segment(struct dl_phdr_info *info, size_t size, void *unused)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || pa_py.eval_start < lo || pa_py.eval_start >= hi)
            continue;
        interp_lo = lo;
        interp_hi = hi;
        return 1;
    }
    return 0;
}

int pa_py_in_interpreter(const void *addr) { return (uintptr_t)addr - interp_lo < interp_hi - interp_lo; }

static void find_eval_function(void)
{
    void *f = dlsym(RTLD_DEFAULT, "_PyEval_EvalFrameDefault");
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (!f || !dladdr1(f, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
        return;
    pa_py.eval_start = (uintptr_t)f;
    pa_py.eval_end = (uintptr_t)f + (sym->st_size ? sym->st_size : 1);
    /* the executable segment holding the eval loop: libpython's, or the program's */
    dl_iterate_phdr(find_segment, NULL);
}

/* ---- the built-in module ---- */

/* ABI-stable layouts of PyModuleDef and PyMethodDef for release builds, declared
 * here because the agent compiles without Python headers. */
typedef struct { intptr_t refcnt; void *type; } pa_objhead_t;
typedef struct { const char *name; void *meth; int flags; const char *doc; } pa_methoddef_t;
typedef struct {
    pa_objhead_t head;
    void *m_init;
    intptr_t m_index;
    void *m_copy;
    const char *m_name, *m_doc;
    intptr_t m_size;
    pa_methoddef_t *m_methods;
    void *m_slots, *m_traverse, *m_clear, *m_free;
} pa_moduledef_t;
#define PA_METH_NOARGS 0x0004
#define PA_PYTHON_API_VERSION 1013

static PyObject *none_ref(void)
{
    pa_py.IncRef(api.none);
    return api.none;
}

static PyObject *mod_trace_path(PyObject *self, PyObject *unused)
{
    const char *p = pa_session_trace_path();
    return p ? api.Unicode_FromString(p) : none_ref();
}

static PyObject *mod_active(PyObject *self, PyObject *unused) { return api.Bool_FromLong(pa_tracking()); }

static PyObject *mod_program_end(PyObject *self, PyObject *unused)
{
    pa_session_program_end();
    return none_ref();
}

static pa_methoddef_t methods[] = {
    { "trace_path", (void *)mod_trace_path, PA_METH_NOARGS, "Path of this process's trace file, or None." },
    { "active", (void *)mod_active, PA_METH_NOARGS, "True while allocations are being recorded." },
    { "_program_end", (void *)mod_program_end, PA_METH_NOARGS, "Internal: the program-end checkpoint." },
    { NULL, NULL, 0, NULL },
};

static pa_moduledef_t moduledef = {
    .head = { 1, NULL },
    .m_name = "pyagent",
    .m_doc = "pyagent: the in-process performance agent, present when libpyagent.so is preloaded.",
    .m_size = -1,
    .m_methods = methods,
};

static PyObject *init_module(void)
{
    PyObject *m = api.Module_Create2(&moduledef, PA_PYTHON_API_VERSION);
    if (m && pa_pyapi_install(m) != 0) {
        pa_py.DecRef(m);
        return NULL; /* the import raises the error */
    }
    return m;
}

/* ---- activation ---- */

static void find_stdlib(void)
{
    PyObject *modules = api.Sys_GetObject("modules"); /* borrowed */
    PyObject *os = modules ? api.Dict_GetItemString(modules, "os") : NULL;
    PyObject *file = os ? api.Object_GetAttrString(os, "__file__") : NULL;
    const char *s = file ? pa_py.Unicode_AsUTF8AndSize(file, NULL) : NULL;
    if (s && strlen(s) < sizeof stdlib_dir) {
        strcpy(stdlib_dir, s); // NOLINT(clang-analyzer-security.insecureAPI.strcpy): length checked above
        char *slash = strrchr(stdlib_dir, '/');
        if (slash)
            *slash = 0;
    }
    if (file)
        pa_py.DecRef(file);
    if (!stdlib_dir[0]) {
        PyObject *prefix = api.Sys_GetObject("base_prefix");
        const char *p = prefix ? pa_py.Unicode_AsUTF8AndSize(prefix, NULL) : NULL;
        snprintf(stdlib_dir, sizeof stdlib_dir, "%s/lib/python3.%d", p ? p : "/usr", pa_py.minor);
    }
}

/* Debug and free-threaded builds have other object layouts: walk no frames there. */
static int standard_build(void)
{
    PyObject *flags = api.Sys_GetObject("abiflags");
    const char *f = flags ? pa_py.Unicode_AsUTF8AndSize(flags, NULL) : "";
    return f && !strchr(f, 'd') && !strchr(f, 't');
}

/* Our atexit handler is registered before any of the program's, so it runs after
 * all of them: the program-end checkpoint sees what the program left behind. */
static void register_program_end(void)
{
    static pa_methoddef_t def = { "_pyagent_program_end", (void *)mod_program_end, PA_METH_NOARGS, NULL };
    PyObject *fn = api.CFunction_NewEx(&def, NULL, NULL);
    PyObject *atexit = api.Import_ImportModule("atexit");
    PyObject *r = fn && atexit ? api.Object_CallMethod(atexit, "register", "O", fn) : NULL;
    if (!r)
        pa_log("cannot register the program-end checkpoint; leaks will be reported at exit only");
    if (r)
        pa_py.DecRef(r);
    if (atexit)
        pa_py.DecRef(atexit);
    if (fn)
        pa_py.DecRef(fn);
}

static void activate(void)
{
    const char *v = api.GetVersion();
    snprintf(version, sizeof version, "%s", v);
    char *nl = strchr(version, '\n');
    if (nl)
        *nl = ' ';
    pa_py.minor = (v[0] == '3' && v[1] == '.') ? (int)strtol(v + 2, NULL, 10) : 0; /* "12.1 (main..." */
    pa_py.layout = standard_build() ? pa_pylayout_for(pa_py.minor) : NULL;
    if (!pa_py.layout)
        pa_log("no frame layout for CPython %.20s (%s build); stacks will be native only", v,
               standard_build() ? "release" : "debug or free-threaded");
    find_eval_function();
    find_stdlib();
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd))
        pa_py_set_cwd(cwd);
    register_program_end();
    atomic_store(&pa_py_ready, pa_py.layout != NULL);
    pa_thread_t *self = pa_thread_get(); /* the thread that initialised the interpreter */
    if (self)
        pa_thread_set_name(self, "MainThread");
    pa_session_python_ready();
}

/* Allocations count as startup until the program's own code is about to run: the
 * cpython.run_* events (file, -c, -m, stdin) come after site and its .pth files. */
static atomic_int startup_open = 1;

static void note_event(const char *event)
{
    if (!strncmp(event, "cpython.run_", 12) && atomic_exchange(&startup_open, 0))
        pa_session_main_starts();
}

/* Runs activate() once, with the GIL held, keeping any pending exception aside. */
static void activate_once(void)
{
    int guard = pa_in_agent;
    pa_in_agent = 1;
    PyObject *t, *val, *tb;
    pa_py.Err_Fetch(&t, &val, &tb);
    activate();
    pa_py.Err_Clear();
    pa_py.Err_Restore(t, val, tb);
    pa_in_agent = guard;
}

static int audit_hook(const char *event, PyObject *args, void *data)
{
    if (PA_LIKELY(atomic_load_explicit(&activated, memory_order_relaxed))) {
        if (PA_UNLIKELY(atomic_load_explicit(&startup_open, memory_order_relaxed)))
            note_event(event);
        return 0;
    }
    /* ~15 events arrive during init; the first with the interpreter initialised is
     * the import of site (or cpython.run_* under -S), before any user code. */
    if (!pa_py.IsInitialized() || atomic_exchange(&activated, 1))
        return 0;
    activate_once();
    note_event(event);
    return 0;
}

/* ---- activation when the debug allocator is on ----
 * CPython frees audit hook entries with the raw allocator of the moment, at the end
 * of finalisation. An entry added before Py_Initialize comes from plain malloc; with
 * the debug hooks installed during init (-X dev, PYTHONDEVMODE, PYTHONMALLOC=*debug,
 * debug builds) that free aborts the process. There the hook is added only once the
 * interpreter runs, from a pending call that the first allocation seen with the
 * interpreter initialised schedules. The start of the program's code may then have
 * passed unseen, so start-up ends at activation (more shown, never less). */
static atomic_int deferred, scheduled;

static int argv_dev_mode(int argc, char **argv)
{
    for (int i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-Xdev") || (!strcmp(argv[i], "-X") && i + 1 < argc && !strcmp(argv[i + 1], "dev")))
            return 1;
        if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "-m") || !strcmp(argv[i], "-"))
            break; /* what follows is the program's */
        if (!strcmp(argv[i], "-X") || !strcmp(argv[i], "-W"))
            i++;
    }
    return 0;
}

static int debug_allocator_expected(int argc, char **argv, char **envp)
{
    if (dlsym(RTLD_DEFAULT, "_Py_RefTotal") || dlsym(RTLD_DEFAULT, "_Py_GetGlobalRefTotal"))
        return 1; /* a debug build: debug hooks are the default */
    for (; envp && *envp; envp++) {
        if (!strncmp(*envp, "PYTHONDEVMODE=", 14) && (*envp)[14])
            return 1;
        if (!strncmp(*envp, "PYTHONMALLOC=", 13) && strstr(*envp + 13, "debug"))
            return 1;
    }
    return argv_dev_mode(argc, argv);
}

static int deferred_activation(void *unused)
{
    if (!atomic_exchange(&activated, 1)) {
        if (api.AddAuditHook(audit_hook, NULL) != 0)
            pa_log("cannot install the audit hook");
        activate_once();
        if (atomic_exchange(&startup_open, 0))
            pa_session_main_starts();
    }
    return 0;
}

void pa_py_poll_activation(void)
{
    if (PA_LIKELY(!atomic_load_explicit(&deferred, memory_order_relaxed)) ||
        atomic_load_explicit(&scheduled, memory_order_relaxed) || !pa_py.IsInitialized() ||
        atomic_exchange(&scheduled, 1))
        return;
    if (api.AddPendingCall(deferred_activation, NULL) != 0)
        atomic_store(&scheduled, 0); /* queue full: the next allocation tries again */
}

void pa_py_preinit(int argc, char **argv, char **envp)
{
    if (debug_allocator_expected(argc, argv, envp))
        atomic_store(&deferred, 1);
    else if (api.AddAuditHook(audit_hook, NULL) != 0)
        pa_log("cannot install the audit hook; Python support off");
    if (api.AppendInittab("pyagent", init_module) != 0)
        pa_log("cannot register the built-in module pyagent");
}

const char *pa_py_version(void) { return version; }
const char *pa_py_stdlib(void) { return stdlib_dir; }

/* ---- thread names ----
 * threading.Thread.start() reaches pthread_create through the interpreter's own
 * start routine, whose argument is {start function, boot state}; every boot state
 * from 3.8 to 3.13 keeps the Python callable right after its first pointer, and that
 * callable is the bound method Thread._bootstrap. Its __self__._name is the name. */
#define AT(base, off, type) (*(type *)((char *)(base) + (off)))

static PyObject *bootstrap_thread_object(void *start, void *arg)
{
    if (!pa_py_in_interpreter(start) || !arg)
        return NULL;
    void *fn = AT(arg, 0, void *), *boot = AT(arg, sizeof(void *), void *);
    if (!pa_py_in_interpreter(fn) || !boot)
        return NULL;
    PyObject *method = AT(boot, sizeof(void *), PyObject *);
    if (!method || AT(method, sizeof(intptr_t), void *) != api.method_type)
        return NULL;
    return AT(method, 3 * sizeof(void *), PyObject *); /* PyMethodObject.im_self */
}

int pa_py_new_thread_name(void *start, void *arg, char *out, size_t len)
{
    out[0] = 0;
    if (!atomic_load(&pa_py_ready) || !pa_py.GILState_Check())
        return 0;
    PyObject *thread = bootstrap_thread_object(start, arg);
    if (!thread)
        return 0;
    PyObject *t, *v, *tb;
    pa_py.Err_Fetch(&t, &v, &tb);
    PyObject *name = api.Object_GetAttrString(thread, "_name");
    intptr_t n = 0;
    const char *u = name ? pa_py.Unicode_AsUTF8AndSize(name, &n) : NULL;
    if (u && n > 0)
        snprintf(out, len, "%.*s", (int)n, u);
    if (name)
        pa_py.DecRef(name);
    pa_py.Err_Clear();
    pa_py.Err_Restore(t, v, tb);
    return out[0] != 0;
}

const char *pa_py_owner_name(PyObject *self)
{
    if (!self)
        return NULL;
    void *type = AT(self, sizeof(intptr_t), void *);
    if (type == api.module_type) {
        const char *name = api.Module_GetName(self);
        if (!name)
            pa_py.Err_Clear();
        return name;
    }
    return AT(type, 3 * sizeof(void *), const char *); /* PyTypeObject.tp_name */
}
