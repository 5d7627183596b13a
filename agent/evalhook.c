/* evalhook.c — trace mode on CPython 3.12 through a PEP 523 frame evaluator.
 *
 * Why: sys.monitoring calls a Python-level callable for every event (the offset boxed,
 * an argument vector built, a vectorcall), and that dispatch alone cost more than
 * trace mode's whole budget on calls.py. A frame evaluator is one C call per frame,
 * entry and exit in the same C frame.
 *
 * What it must not change: how deep the program can recurse. With an evaluator set,
 * CPython stops inlining Python-to-Python calls: each frame it would have inlined now
 * recurses in C and takes two units of the C recursion budget, and 3.12.1 would raise
 * RecursionError at a depth of about 750 instead of 1000. The evaluator gives those
 * units back for exactly the frames CPython would have inlined, and for no other.
 * It tells them by the C stack between a frame's evaluator frame and its caller's:
 * each way CPython inlines (a call, `obj[i]` on a Python __getitem__, a property,
 * `for` over a generator, `yield from` / `await`) reaches the evaluator through its
 * own fixed chain of C functions, measured at installation by running one small
 * probe per way; a frame entered through C (a class's __init__, map's function)
 * has more C frames between and costs its units as without the agent.
 * What it cannot give back is the C stack those inlined frames now take: when they
 * hold more than a quarter of their thread's stack (a program that raised the
 * recursion limit and recurses thousands deep, or a thread with a small stack), the
 * evaluator is removed and sys.monitoring takes over for the rest of the run, the
 * frames already open finishing here.
 *
 * Events are those sys.monitoring gives (NOTES.md): a generator's creation is no
 * call; its first run is a start, later runs are resumes (a throw into it too); it
 * leaves by yield, return or unwind; nothing while a tracer or another tool's
 * callback runs, nor for a frame that fails the recursion check. 3.12 only: 3.13
 * pushes some frames inline even with an evaluator set (CALL_ALLOC_AND_ENTER_INIT:
 * __init__ of a class called), which it would never see. Runs with the GIL held. */
#include "evalhook.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "calltrace.h"
#include "calltrace_fast.h"
#include "common.h"
#include "count.h"
#include "log.h"
#include "pyagent/format.h"
#include "pylayout.h"
#include "pyobj.h"
#include "python.h"

#define C_STACK_UNITS 2 /* PY_EVAL_C_STACK_UNITS, Python/ceval.c */
#define GENERATOR_FLAGS (PA_CO_GENERATOR | PA_CO_COROUTINE | PA_CO_ASYNC_GENERATOR)

typedef PyObject *(*eval_fn)(void *tstate, void *frame, int throwflag);

static struct {
    eval_fn default_eval;                    /* _PyEval_EvalFrameDefault */
    void *(*interp_get)(void);               /* PyInterpreterState_Get */
    eval_fn (*get_eval)(void *interp);       /* _PyInterpreterState_GetEvalFrameFunc */
    void (*set_eval)(void *interp, eval_fn); /* _PyInterpreterState_SetEvalFrameFunc */
    PyObject *(*Run_String)(const char *, int, PyObject *, PyObject *, void *);
    PyObject *(*Dict_New)(void);
    PyObject *(*Eval_GetBuiltins)(void);
    int (*Dict_SetItemString)(PyObject *, const char *, PyObject *);
    PyObject *(*Import_ImportModule)(const char *);
    PyObject *(*Object_GetAttrString)(PyObject *, const char *);
    int (*Object_SetAttrString)(PyObject *, const char *, PyObject *);
    PyObject *(*CFunction_NewEx)(void *, PyObject *, PyObject *);
    PyObject *(*Object_Vectorcall)(PyObject *, PyObject *const *, size_t, PyObject *);
    PyObject *none;
} api;

/* The offsets the per-frame path reads, copied out of the layout table: one load each. */
static struct {
    int code, owner, lasti, c_recursion, py_recursion, tracing, flags, body, first_traceable, gen_state;
} at;

static int counting;
static void (*hand_over)(void);
static void *interp;
static atomic_int installed;
/* The C stack between the evaluator frames of a caller and a frame CPython would
 * have inlined, one bit per 16 bytes (frames are 16-byte aligned) below GAP_MAX. */
#define GAP_MAX 4096
static uint64_t inlined_gaps[GAP_MAX / 16 / 64];
static uintptr_t direct_gap; /* a plain call's, for the hand-over's arithmetic */
static uintptr_t probe_gap;  /* the last one seen while calibrating */
static int calibrating;      /* measuring: nothing recorded */

static inline int inlined_gap(uintptr_t gap)
{
    return gap < GAP_MAX && (inlined_gaps[gap / 16 / 64] >> (gap / 16 % 64) & 1);
}


static inline pa_thread_t *self_thread(void)
{
    pa_thread_t *t = pa_self;
    return PA_LIKELY(t && t != PA_THREAD_DEAD) ? t : pa_thread_get();
}

/* This thread's stack size: the main thread's limit, or what pthreads gave. */
static uintptr_t stack_size(void)
{
    if (syscall(SYS_gettid) == getpid()) {
        /* glibc reads /proc/self/maps for the main thread (allocating): the limit
         * says how far the main stack may grow. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
            return rl.rlim_cur;
        return 8u << 20;
    }
    pthread_attr_t attr;
    void *addr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        if (pthread_attr_getstack(&attr, &addr, &size) != 0)
            size = 0;
        pthread_attr_destroy(&attr);
    }
    return size ? size : 8u << 20;
}

/* How many frames CPython would have inlined this thread may hold open in the
 * evaluator: a quarter of its stack, which leaves CPython the rest for the C frames
 * its own recursion budget counts. */
static __attribute__((noinline, cold)) uint32_t inlined_max(void)
{
    uintptr_t n = stack_size() / 4 / (direct_gap ? direct_gap : 1);
    return n > UINT32_MAX ? UINT32_MAX : n ? (uint32_t)n : 1;
}

/* From here on sys.monitoring records calls (GIL held). */
static __attribute__((noinline, cold)) void give_up(const char *why)
{
    if (!atomic_exchange(&installed, 0))
        return;
    api.set_eval(interp, api.default_eval); /* the default: no evaluator */
    pa_log("%s: trace mode continues through sys.monitoring (slower)", why);
    hand_over();
}

/* Whether a generator's frame has run its body before. Its state already says
 * "executing" here, but where it stands tells: a generator not started yet is still
 * before its first RESUME (CPython's _co_firsttraceable; 3.12 points at the last
 * instruction run, RETURN_GENERATOR). */
static inline int started(void *frame, PyObject *code)
{
    const char *pos = *(const char **)((char *)frame + at.lasti);
    const char *body = (const char *)code + at.body;
    return (pos - body) / 2 >= *(const int *)((const char *)code + at.first_traceable);
}

static inline int quiet(void *tstate)
{
    /* A tracer or monitoring callback running, or a frame about to fail either
     * recursion check (Python's, or C's after any units given back): sys.monitoring
     * reports none of them. */
    return *(int *)((char *)tstate + at.tracing) || *(int *)((char *)tstate + at.py_recursion) <= 0 ||
           *(int *)((char *)tstate + at.c_recursion) < C_STACK_UNITS;
}

/* Records the frame's entry and exit around running it. */
static PyObject *traced(pa_thread_t *t, void *tstate, void *frame, int throwflag)
{
    PyObject *code = *(PyObject **)((char *)frame + at.code);
    const int8_t *gen_state = NULL;
    int resumed = throwflag;
    if (*((char *)frame + at.owner) == PA_FRAME_OWNED_BY_GENERATOR) {
        gen_state = (const int8_t *)frame + at.gen_state;
        resumed |= started(frame, code);
    } else if (*(int *)((char *)code + at.flags) & GENERATOR_FLAGS) {
        return api.default_eval(tstate, frame, throwflag); /* creates the generator: no call yet */
    }
    uint32_t token = pa_calls_begin(t, code, resumed);
    if (counting)
        pa_count_enter(t, code, resumed);
    PyObject *r = api.default_eval(tstate, frame, throwflag);
    /* A generator's state lives in its object, which the caller still holds. */
    unsigned kind = !r ? PA_CALL_UNWIND : gen_state && *gen_state < 0 ? PA_CALL_YIELD : PA_CALL_RETURN;
    if (token)
        pa_calls_end(t, token, kind);
    if (counting && kind != PA_CALL_YIELD)
        pa_count_exit(t, code);
    return r;
}

static PyObject *evaluate(void *tstate, void *frame, int throwflag)
{
    pa_thread_t *t = self_thread();
    if (PA_UNLIKELY(!t))
        return api.default_eval(tstate, frame, throwflag);
    uintptr_t here = (uintptr_t)__builtin_frame_address(0), outer = t->eval_sp;
    int inlined = inlined_gap(outer - here); /* CPython would have inlined this frame */
    if (PA_UNLIKELY(calibrating)) {
        probe_gap = outer ? outer - here : 0;
        inlined = 0;
    }
    if (inlined) {
        if (PA_UNLIKELY(!t->eval_inlined_max))
            t->eval_inlined_max = inlined_max();
        if (PA_UNLIKELY(t->eval_inlined >= t->eval_inlined_max) && !throwflag) {
            give_up("deep recursion (a quarter of a thread's stack in Python frames)");
            return api.default_eval(tstate, frame, throwflag); /* sys.monitoring's from here */
        }
    }
    int *c_budget = (int *)((char *)tstate + at.c_recursion);
    t->eval_sp = here;
    t->eval_inlined += inlined;
    *c_budget += inlined * C_STACK_UNITS;
    PyObject *r = PA_LIKELY(!calibrating && !quiet(tstate)) ? traced(t, tstate, frame, throwflag)
                                                            : api.default_eval(tstate, frame, throwflag);
    *c_budget -= inlined * C_STACK_UNITS;
    t->eval_inlined -= inlined;
    t->eval_sp = outer;
    return r;
}

/* One probe per way CPython 3.12 inlines a frame: the last frame each runs is
 * entered that way, from a Python caller. */
static const char *const probes[] = {
    "def _pa_a():\n    return _pa_b()\n"
    "def _pa_b():\n    return 0\n"
    "_pa_a()\n", /* a call: first, the plain call's gap */
    "def _pa_a():\n    return _pa_b(*())\n"
    "def _pa_b():\n    return 0\n"
    "_pa_a()\n", /* CALL_FUNCTION_EX: f(*args) */
    "def _pa_a():\n    return _pa_b(**{'x': 0})\n"
    "def _pa_b(x):\n    return 0\n"
    "_pa_a()\n", /* f(**kw) (an empty dict takes another path) */
    "def _pa_a():\n    return _pa_b(*(0,), **{'y': 0})\n"
    "def _pa_b(x, y):\n    return 0\n"
    "_pa_a()\n", /* both, as functools.wraps wrappers and Thread.run call */
    "class _pa_c:\n    def __getitem__(self, i):\n        return i\n"
    "    def run(self):\n        return self[0]\n"
    "_pa_c().run()\n",
    "class _pa_c:\n    @property\n    def p(self):\n        return 0\n"
    "    def run(self):\n        return self.p\n"
    "_pa_c().run()\n",
    "def _pa_g():\n    yield 0\n"
    "def _pa_f():\n    for _ in _pa_g():\n        pass\n"
    "_pa_f()\n",
    "def _pa_g():\n    yield 0\n"
    "def _pa_h():\n    yield from _pa_g()\n"
    "def _pa_f():\n    for _ in _pa_h():\n        pass\n"
    "_pa_f()\n",
};

/* The gap the probe's last frame had; 0 if it failed. Run twice: the same both times. */
static uintptr_t probe(const char *src)
{
    PyObject *g = api.Dict_New();
    uintptr_t gap[2] = { 0, 1 };
    int ok = g && api.Dict_SetItemString(g, "__builtins__", api.Eval_GetBuiltins()) == 0;
    for (int i = 0; ok && i < 2; i++) {
        probe_gap = 0;
        calibrating = 1;
        PyObject *r = api.Run_String(src, 257 /* Py_file_input */, g, g, NULL);
        calibrating = 0;
        ok = r != NULL;
        if (r)
            pa_py.DecRef(r);
        gap[i] = probe_gap;
    }
    if (g)
        pa_py.DecRef(g);
    pa_py.Err_Clear();
    return ok && gap[0] == gap[1] && gap[0] < GAP_MAX && gap[0] % 16 == 0 ? gap[0] : 0;
}

/* Without the plain call's gap recursion depth could not be kept: -1. A way whose
 * probe fails keeps costing C recursion budget, as before this calibration. */
static int calibrate(void)
{
    for (size_t i = 0; i < PA_ARRAY_LEN(probes); i++) {
        uintptr_t gap = probe(probes[i]);
        if (i == 0 && !(direct_gap = gap))
            return -1;
        if (gap)
            inlined_gaps[gap / 16 / 64] |= 1ull << (gap / 16 % 64);
    }
    return 0;
}

/* sys.activate_stack_trampoline and deactivate_stack_trampoline raise RuntimeError
 * while another evaluator is set (3.12.1), and the program must not see that: it
 * gets its trampolines, trace mode goes on through sys.monitoring, and deactivating
 * with none active does nothing, as without the agent. */
static PyObject *original_activate, *original_deactivate;

static PyObject *activate_trampoline(PyObject *self, PyObject *const *args, intptr_t n)
{
    if (atomic_load(&installed))
        give_up("the program activates perf trampolines (a frame evaluator of their own)");
    return api.Object_Vectorcall(original_activate, args, (size_t)n, NULL);
}

static PyObject *deactivate_trampoline(PyObject *self, PyObject *const *args, intptr_t n)
{
    if (atomic_load(&installed) && n == 0)
        return api.none; /* ours is the evaluator: no trampoline is active (None is immortal) */
    return api.Object_Vectorcall(original_deactivate, args, (size_t)n, NULL);
}

static pa_methoddef_t trampoline_defs[] = {
    { "activate_stack_trampoline", (void *)activate_trampoline, PA_METH_FASTCALL, NULL },
    { "deactivate_stack_trampoline", (void *)deactivate_trampoline, PA_METH_FASTCALL, NULL },
};

static void wrap(PyObject *sys, pa_methoddef_t *def, PyObject **original)
{
    PyObject *orig = api.Object_GetAttrString(sys, def->name);
    PyObject *fn = orig ? api.CFunction_NewEx(def, NULL, NULL) : NULL;
    if (fn && api.Object_SetAttrString(sys, def->name, fn) == 0) {
        *original = orig; /* kept for good */
        orig = NULL;
    }
    if (fn)
        pa_py.DecRef(fn);
    if (orig)
        pa_py.DecRef(orig);
    pa_py.Err_Clear(); /* a build without trampolines has none to wrap */
}

static void wrap_trampolines(void)
{
    PyObject *sys = api.Import_ImportModule("sys");
    if (sys) {
        wrap(sys, &trampoline_defs[0], &original_activate);
        wrap(sys, &trampoline_defs[1], &original_deactivate);
        pa_py.DecRef(sys);
    }
    pa_py.Err_Clear();
}


static int resolve(void)
{
    return PA_RESOLVE(api.default_eval, "_PyEval_EvalFrameDefault") && PA_RESOLVE(api.interp_get, "PyInterpreterState_Get") &&
           PA_RESOLVE(api.get_eval, "_PyInterpreterState_GetEvalFrameFunc") &&
           PA_RESOLVE(api.set_eval, "_PyInterpreterState_SetEvalFrameFunc") &&
           PA_RESOLVE(api.Run_String, "PyRun_StringFlags") && PA_RESOLVE(api.Dict_New, "PyDict_New") &&
           PA_RESOLVE(api.Eval_GetBuiltins, "PyEval_GetBuiltins") &&
           PA_RESOLVE(api.Dict_SetItemString, "PyDict_SetItemString") &&
           PA_RESOLVE(api.Import_ImportModule, "PyImport_ImportModule") &&
           PA_RESOLVE(api.Object_GetAttrString, "PyObject_GetAttrString") &&
           PA_RESOLVE(api.Object_SetAttrString, "PyObject_SetAttrString") &&
           PA_RESOLVE(api.CFunction_NewEx, "PyCFunction_NewEx") && PA_RESOLVE(api.Object_Vectorcall, "PyObject_Vectorcall") &&
           PA_RESOLVE(api.none, "_Py_NoneStruct");
}

int pa_evalhook_install(int count_too, void (*fallback)(void))
{
    const pa_pylayout_t *L = pa_py.layout;
    if (pa_py.minor != 12 || !L || L->ts_c_recursion < 0 || L->ts_py_recursion < 0 || L->ts_tracing < 0 ||
        L->co_flags < 0 || L->fr_owner < 0 || L->co_first_traceable < 0 || L->co_code_adaptive < 0 || !resolve())
        return -1;
    interp = api.interp_get();
    /* Another evaluator (a debugger, -X perf's trampolines) is there first: only one
     * can be installed, and replacing it would break its owner. */
    if (!interp || api.get_eval(interp) != api.default_eval)
        return -1;
    at.code = L->fr_code, at.owner = L->fr_owner, at.lasti = L->fr_lasti;
    at.c_recursion = L->ts_c_recursion, at.py_recursion = L->ts_py_recursion, at.tracing = L->ts_tracing;
    at.flags = L->co_flags, at.body = L->co_code_adaptive;
    at.first_traceable = L->co_first_traceable, at.gen_state = L->gen_state;
    counting = count_too;
    hand_over = fallback;
    api.set_eval(interp, evaluate);
    if (calibrate() != 0) {
        /* Without the distance of a plain call, recursion depth could not be kept. */
        api.set_eval(interp, api.default_eval);
        return -1;
    }
    atomic_store(&installed, 1);
    wrap_trampolines();
    return 0;
}
