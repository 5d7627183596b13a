/* hooks.c — CPython's frame events, for trace mode and PYAGENT_COUNT.
 *
 * 3.12, trace mode of Python calls: the frame evaluator of evalhook.c, which gives
 * back the recursion budget it takes (below). Otherwise, and when it cannot be used:
 * 3.12+: sys.monitoring with C callbacks under a tool id of our own, so debuggers,
 * coverage and cProfile (tool ids 0-2) keep theirs. With only PYAGENT_COUNT set, a
 * code object that is not counted answers DISABLE at its first event, so CPython
 * removes the instrumentation there and the rest of the program runs at full speed.
 * 3.8-3.11: PyEval_SetProfile, per thread: the activating thread at once, threads
 * started by `threading` through threading.setprofile, whose first call installs the
 * C profile function in the new thread. Not PEP 523 before 3.12: a frame evaluator
 * makes every Python frame recurse in C, and 3.11 has no C recursion budget to give
 * back (NOTES.md); the host's own results must not change.
 *
 * Every callback runs with the GIL held, from CPython itself. */
#include "hooks.h"

#include <dlfcn.h>
#include <string.h>

#include "calltrace.h"
#include "common.h"
#include "config.h"
#include "count.h"
#include "evalhook.h"
#include "log.h"
#include "pyobj.h"
#include "pyagent/format.h"

#define TOOL_FIRST 4 /* 0 debugger, 1 coverage, 2 profiler, 5 optimizer: 4 then 3 */

typedef int (*profile_fn)(PyObject *, void *, int, PyObject *);

static struct {
    PyObject *(*Import_ImportModule)(const char *);
    PyObject *(*Object_GetAttrString)(PyObject *, const char *);
    PyObject *(*Object_CallMethod)(PyObject *, const char *, const char *, ...);
    PyObject *(*CFunction_NewEx)(void *, PyObject *, PyObject *);
    void (*Eval_SetProfile)(profile_fn, PyObject *);
    PyObject *(*Frame_GetCode)(void *);
    int (*Frame_GetLasti)(void *);
    void *cfunction_type, *cmethod_type, *method_descr_type;
    PyObject *none;
} api;

static int trace_calls, counting, trace_c;
static const char *(*Bytes_AsString)(PyObject *);
static intptr_t (*Bytes_Size)(PyObject *);
static long (*Long_AsLong)(PyObject *);
static PyObject *disable; /* sys.monitoring.DISABLE */

static inline pa_thread_t *self_thread(void)
{
    pa_thread_t *t = pa_self;
    return PA_LIKELY(t && t != PA_THREAD_DEAD) ? t : pa_thread_get();
}

/* A C function's PyMethodDef and the name that qualifies it, or NULL for callables
 * that are not C functions (classes, Python functions, slot wrappers).
 * PyCFunctionObject: head, m_ml, m_self; PyMethodDescrObject (an unbound method such
 * as list.append, which 3.12 calls with self as an argument): head, d_type, d_name,
 * d_qualname, d_method. */
static const void *c_function(PyObject *callable, const char **owner)
{
    void *type = PA_TYPE(callable);
    void **f = (void **)callable;
    if (type == api.cfunction_type || (api.cmethod_type && type == api.cmethod_type)) {
        *owner = pa_py_owner_name((PyObject *)f[3]);
        return f[2];
    }
    if (api.method_descr_type && type == api.method_descr_type) {
        *owner = *(const char **)((char *)f[2] + 3 * sizeof(void *)); /* d_type->tp_name */
        return f[5];
    }
    return NULL;
}

static void on_enter(PyObject *code, int resumed)
{
    pa_thread_t *t = self_thread();
    if (!t)
        return;
    if (trace_calls)
        pa_calls_enter(t, code, resumed);
    if (counting)
        pa_count_enter(t, code, resumed);
}

static void on_exit(PyObject *code, unsigned kind)
{
    pa_thread_t *t = self_thread();
    if (!t)
        return;
    if (trace_calls)
        pa_calls_exit(t, kind);
    /* A counted generator or coroutine call lasts until it returns or raises. */
    if (counting && kind != PA_CALL_YIELD)
        pa_count_exit(t, code);
}

static void on_c_enter(PyObject *callable)
{
    pa_thread_t *t = self_thread();
    const char *owner = NULL;
    const void *def = t ? c_function(callable, &owner) : NULL;
    if (def)
        pa_calls_enter_c(t, def, owner);
}

static void on_c_exit(PyObject *callable, unsigned kind)
{
    pa_thread_t *t = self_thread();
    const char *owner;
    if (t && c_function(callable, &owner))
        pa_calls_exit(t, kind);
}

/* ---- 3.12+: sys.monitoring ---- */

/* None is immortal from 3.12 on: returning it needs no reference. */
static PyObject *keep_going(PyObject *code)
{
    if (!trace_calls && !pa_count_matches(code))
        return disable;
    return api.none;
}

static PyObject *mon_start(PyObject *m, PyObject *const *a, intptr_t n) { on_enter(a[0], 0); return keep_going(a[0]); }
static PyObject *mon_resume(PyObject *m, PyObject *const *a, intptr_t n) { on_enter(a[0], 1); return keep_going(a[0]); }
static PyObject *mon_throw(PyObject *m, PyObject *const *a, intptr_t n) { on_enter(a[0], 1); return api.none; }
static PyObject *mon_return(PyObject *m, PyObject *const *a, intptr_t n) { on_exit(a[0], PA_CALL_RETURN); return keep_going(a[0]); }
static PyObject *mon_yield(PyObject *m, PyObject *const *a, intptr_t n) { on_exit(a[0], PA_CALL_YIELD); return keep_going(a[0]); }
static PyObject *mon_unwind(PyObject *m, PyObject *const *a, intptr_t n) { on_exit(a[0], PA_CALL_UNWIND); return api.none; }
static PyObject *mon_call(PyObject *m, PyObject *const *a, intptr_t n) { on_c_enter(a[2]); return api.none; }
static PyObject *mon_c_return(PyObject *m, PyObject *const *a, intptr_t n) { on_c_exit(a[2], PA_CALL_RETURN); return api.none; }
static PyObject *mon_c_raise(PyObject *m, PyObject *const *a, intptr_t n) { on_c_exit(a[2], PA_CALL_UNWIND); return api.none; }

/* Which callbacks each configuration needs; the event numbers are read from
 * sys.monitoring.events by name. */
enum { NEED_TRACE = 1, NEED_COUNT = 2, NEED_C = 4 };

static pa_methoddef_t callbacks[] = {
    { "_pyagent_py_start", (void *)mon_start, PA_METH_FASTCALL, NULL },
    { "_pyagent_py_resume", (void *)mon_resume, PA_METH_FASTCALL, NULL },
    { "_pyagent_py_throw", (void *)mon_throw, PA_METH_FASTCALL, NULL },
    { "_pyagent_py_return", (void *)mon_return, PA_METH_FASTCALL, NULL },
    { "_pyagent_py_yield", (void *)mon_yield, PA_METH_FASTCALL, NULL },
    { "_pyagent_py_unwind", (void *)mon_unwind, PA_METH_FASTCALL, NULL },
    { "_pyagent_call", (void *)mon_call, PA_METH_FASTCALL, NULL },
    { "_pyagent_c_return", (void *)mon_c_return, PA_METH_FASTCALL, NULL },
    { "_pyagent_c_raise", (void *)mon_c_raise, PA_METH_FASTCALL, NULL },
};
static const struct { const char *event; int need; } callback_events[] = {
    { "PY_START", NEED_TRACE | NEED_COUNT }, { "PY_RESUME", NEED_TRACE | NEED_COUNT },
    { "PY_THROW", NEED_TRACE }, { "PY_RETURN", NEED_TRACE | NEED_COUNT }, { "PY_YIELD", NEED_TRACE },
    { "PY_UNWIND", NEED_TRACE | NEED_COUNT }, { "CALL", NEED_C }, { "C_RETURN", NEED_C }, { "C_RAISE", NEED_C },
};

static long event_bit(PyObject *mon, const char *name)
{
    PyObject *events = api.Object_GetAttrString(mon, "events");
    PyObject *v = events ? api.Object_GetAttrString(events, name) : NULL;
    long bit = v ? Long_AsLong(v) : -1;
    if (v)
        pa_py.DecRef(v);
    if (events)
        pa_py.DecRef(events);
    return bit > 0 ? bit : -1;
}

static int claim_tool(PyObject *mon)
{
    for (int id = TOOL_FIRST; id >= 3; id--) {
        PyObject *r = api.Object_CallMethod(mon, "use_tool_id", "is", id, "pyagent");
        if (r) {
            pa_py.DecRef(r);
            return id;
        }
        pa_py.Err_Clear(); /* taken: try the next */
    }
    return -1;
}

static int install_monitoring(void)
{
    PyObject *sys = api.Import_ImportModule("sys");
    PyObject *mon = sys ? api.Object_GetAttrString(sys, "monitoring") : NULL;
    int tool = mon ? claim_tool(mon) : -1, ok = tool >= 0;
    long events = 0;
    disable = mon ? api.Object_GetAttrString(mon, "DISABLE") : NULL; /* kept for good */
    ok = ok && disable;
    int want = (trace_calls ? NEED_TRACE : NEED_COUNT) | (trace_c ? NEED_C : 0);
    for (unsigned i = 0; ok && i < PA_ARRAY_LEN(callbacks); i++) {
        if (!(callback_events[i].need & want))
            continue;
        long ev = event_bit(mon, callback_events[i].event);
        ok = ev > 0;
        if (!ok)
            break;
        PyObject *fn = api.CFunction_NewEx(&callbacks[i], NULL, NULL);
        PyObject *r = fn ? api.Object_CallMethod(mon, "register_callback", "ilO", tool, ev, fn) : NULL;
        ok = r != NULL;
        if (r)
            pa_py.DecRef(r);
        if (fn)
            pa_py.DecRef(fn);
        events |= ev;
    }
    PyObject *r = ok ? api.Object_CallMethod(mon, "set_events", "il", tool, events) : NULL;
    ok = r != NULL;
    if (r)
        pa_py.DecRef(r);
    if (mon)
        pa_py.DecRef(mon);
    if (sys)
        pa_py.DecRef(sys);
    return ok ? 0 : -1;
}

/* The frame evaluator's fallback, deep in a thread's stack (GIL held). Frames already
 * open finish in the evaluator: sys.monitoring's exits for them find no entry
 * (calltrace.c keeps its depth from zero) and are not recorded twice. */
static void monitoring_from_now(void)
{
    if (install_monitoring() != 0) {
        pa_py.Err_Clear();
        pa_log("cannot install sys.monitoring; trace mode off");
        trace_calls = counting = 0;
    }
}

/* ---- 3.8-3.11: PyEval_SetProfile ---- */

static PyObject *frame_code(void *frame, int *owned)
{
    const pa_pylayout_t *L = pa_py.layout;
    if (pa_py.minor <= 10) {
        *owned = 0;
        return *(PyObject **)((char *)frame + L->fr_code); /* PyFrameObject.f_code */
    }
    *owned = 1;
    return api.Frame_GetCode(frame);
}

/* Before 3.12 a generator's yield reaches the profile function as a return. The
 * instruction the frame stopped at tells them apart: YIELD_VALUE (3.8-3.11), or on
 * 3.8-3.10 YIELD_FROM right after it (f_lasti stays one instruction back while a
 * `yield from` / `await` is suspended). The code's flags and bytes are looked up
 * once per code object and kept (the code object itself is kept alive by the agent). */
enum { OP_YIELD_FROM_38 = 72, OP_YIELD_VALUE_38 = 86, OP_YIELD_VALUE_311 = 150, OP_RESUME_311 = 151 };
#define CODE_INFO 8192

typedef struct code_info {
    PyObject *code;
    int generator;
    const uint8_t *bytes; /* the instructions, or NULL */
    intptr_t len;
    intptr_t first_resume; /* 3.11: offset of the RESUME that starts the body */
} code_info_t;

static code_info_t infos[CODE_INFO];


static const code_info_t *code_info(PyObject *code)
{
    unsigned h = (unsigned)(((uintptr_t)code >> 4) * 0x9E3779B1u) % CODE_INFO;
    code_info_t *e = &infos[h];
    if (e->code == code)
        return e;
    PyObject *flags = api.Object_GetAttrString(code, "co_flags");
    long f = flags ? Long_AsLong(flags) : 0;
    long gen_flags = PA_CO_GENERATOR | PA_CO_COROUTINE | PA_CO_ITERABLE_COROUTINE | PA_CO_ASYNC_GENERATOR;
    code_info_t info = { code, (f & gen_flags) != 0, NULL, 0, 0 };
    if (flags)
        pa_py.DecRef(flags);
    if (info.generator) {
        PyObject *b = api.Object_GetAttrString(code, "co_code"); /* kept: a copy on 3.11 */
        info.bytes = b ? (const uint8_t *)Bytes_AsString(b) : NULL;
        info.len = b ? Bytes_Size(b) : 0;
        while (info.bytes && info.first_resume + 1 < info.len && info.bytes[info.first_resume] != OP_RESUME_311)
            info.first_resume += 2; /* 2-byte code units */
    }
    pa_py.Err_Clear();
    *e = info; /* a collision replaces the older entry */
    return e;
}

static int frame_lasti_bytes(void *frame)
{
    if (pa_py.minor <= 10) {
        int v = *(int *)((char *)frame + pa_py.layout->fr_lasti);
        return pa_py.layout->lasti_kind == PA_LASTI_UNITS ? v * 2 : v;
    }
    return api.Frame_GetLasti(frame);
}

static unsigned return_kind(PyObject *code, void *frame)
{
    const code_info_t *ci = code_info(code);
    if (!ci->generator || !ci->bytes)
        return PA_CALL_RETURN;
    intptr_t at = frame_lasti_bytes(frame);
    if (at < 0 || at >= ci->len)
        return PA_CALL_RETURN;
    uint8_t op = ci->bytes[at];
    if (pa_py.minor >= 11)
        return op == OP_YIELD_VALUE_311 ? PA_CALL_YIELD : PA_CALL_RETURN;
    if (op == OP_YIELD_VALUE_38 || (at + 2 < ci->len && ci->bytes[at + 2] == OP_YIELD_FROM_38))
        return PA_CALL_YIELD;
    return PA_CALL_RETURN;
}

/* Before 3.11 f_lasti is -1 until a frame has run an instruction. On 3.11 a
 * generator's first run starts at the RESUME after its prologue (RETURN_GENERATOR,
 * POP_TOP: creating it raises no event); later runs start past it. */
static int frame_resumed(void *frame, PyObject *code)
{
    if (pa_py.minor <= 10)
        return *(int *)((char *)frame + pa_py.layout->fr_lasti) >= 0;
    const code_info_t *ci = code_info(code);
    return ci->generator && api.Frame_GetLasti(frame) > ci->first_resume;
}

static int profile(PyObject *obj, void *frame, int what, PyObject *arg)
{
    int owned;
    PyObject *code;
    switch (what) {
    case PA_TRACE_CALL:
        code = frame_code(frame, &owned);
        if (code) {
            on_enter(code, frame_resumed(frame, code));
            if (owned)
                pa_py.DecRef(code);
        }
        break;
    case PA_TRACE_RETURN:
        code = frame_code(frame, &owned);
        if (code) {
            on_exit(code, arg ? return_kind(code, frame) : PA_CALL_UNWIND);
            if (owned)
                pa_py.DecRef(code);
        }
        break;
    case PA_TRACE_C_CALL:
        if (trace_c)
            on_c_enter(arg);
        break;
    case PA_TRACE_C_RETURN:
    case PA_TRACE_C_EXCEPTION:
        if (trace_c)
            on_c_exit(arg, what == PA_TRACE_C_RETURN ? PA_CALL_RETURN : PA_CALL_UNWIND);
        break;
    }
    return 0;
}

/* threading.setprofile's function: called once per new thread (its first event, the
 * call of Thread.run), it puts the C function in place for that thread. */
static PyObject *thread_profile(PyObject *m, PyObject *args)
{
    api.Eval_SetProfile(profile, NULL);
    return api.none ? (pa_py.IncRef(api.none), api.none) : NULL;
}

static pa_methoddef_t thread_profile_def = { "_pyagent_thread_profile", (void *)thread_profile, PA_METH_VARARGS, NULL };

static int install_profile(void)
{
    api.Eval_SetProfile(profile, NULL);
    PyObject *threading = api.Import_ImportModule("threading");
    PyObject *fn = api.CFunction_NewEx(&thread_profile_def, NULL, NULL);
    PyObject *r = threading && fn ? api.Object_CallMethod(threading, "setprofile", "O", fn) : NULL;
    int ok = r != NULL;
    if (r)
        pa_py.DecRef(r);
    if (fn)
        pa_py.DecRef(fn);
    if (threading)
        pa_py.DecRef(threading);
    return ok ? 0 : -1;
}

/* ---- set-up ---- */

static int resolve(void)
{
    int ok = PA_RESOLVE(api.Import_ImportModule, "PyImport_ImportModule") &&
             PA_RESOLVE(api.Object_GetAttrString, "PyObject_GetAttrString") &&
             PA_RESOLVE(api.Object_CallMethod, "PyObject_CallMethod") &&
             PA_RESOLVE(api.CFunction_NewEx, "PyCFunction_NewEx") &&
             PA_RESOLVE(api.Eval_SetProfile, "PyEval_SetProfile") &&
             PA_RESOLVE(api.cfunction_type, "PyCFunction_Type") && PA_RESOLVE(api.none, "_Py_NoneStruct");
    PA_RESOLVE(api.cmethod_type, "PyCMethod_Type"); /* 3.9+ */
    PA_RESOLVE(api.method_descr_type, "PyMethodDescr_Type");
    ok = ok && PA_RESOLVE(Bytes_AsString, "PyBytes_AsString") && PA_RESOLVE(Bytes_Size, "PyBytes_Size") &&
         PA_RESOLVE(Long_AsLong, "PyLong_AsLong");
    if (pa_py.minor >= 11)
        ok = ok && PA_RESOLVE(api.Frame_GetCode, "PyFrame_GetCode") && PA_RESOLVE(api.Frame_GetLasti, "PyFrame_GetLasti");
    return ok && pa_py.layout ? 0 : -1;
}

void pa_hooks_start(void)
{
    trace_calls = pa_cfg.mode == PA_MODE_TRACE;
    counting = pa_count_init() > 0;
    trace_c = trace_calls && pa_cfg.trace_c;
    if (!trace_calls && !counting)
        return;
    int rc = resolve();
    if (rc == 0 && trace_calls && !trace_c && pa_evalhook_install(counting, monitoring_from_now) == 0)
        return;
    if (rc == 0)
        rc = pa_py.minor >= 12 ? install_monitoring() : install_profile();
    if (rc != 0) {
        pa_py.Err_Clear();
        pa_log("cannot install CPython's frame hooks; %s off", trace_calls ? "trace mode" : "PYAGENT_COUNT");
        trace_calls = counting = 0;
    }
}

int pa_hooks_tracing(void) { return trace_calls; }
