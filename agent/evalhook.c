/* evalhook.c — trace mode on 3.12+ through a PEP 523 frame evaluator.
 *
 * Why: sys.monitoring calls a Python-level callable for every event (the offset boxed,
 * an argument vector built, a vectorcall), and that dispatch alone cost more than
 * trace mode's whole budget on calls.py. A frame evaluator is one C call per frame,
 * entry and exit in the same C frame.
 *
 * What it must not change: how deep the program can recurse. With an evaluator set,
 * CPython stops inlining Python-to-Python calls, so every Python frame costs C stack
 * and two units of the C recursion budget; 3.12.1 would raise RecursionError at a
 * depth of about 750 instead of 1000. The evaluator gives those two units back while
 * a frame runs, so Python frames count against the Python limit only, as without the
 * agent. What it cannot give back is the C stack itself: when a thread gets within a
 * quarter of its stack's end (a program that raised the recursion limit and recurses
 * deep, or a thread with a small stack), the evaluator is removed and sys.monitoring
 * takes over for the rest of the run, the frames already open finishing here.
 *
 * Events are those sys.monitoring gives (NOTES.md): a generator's creation is no
 * call; its first run is a start, later runs are resumes (a throw into it too); it
 * leaves by yield, return or unwind. Runs with the GIL held, from CPython itself. */
#include "evalhook.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "calltrace.h"
#include "common.h"
#include "count.h"
#include "log.h"
#include "pyagent/format.h"
#include "pylayout.h"
#include "pyobj.h"
#include "python.h"

#define C_STACK_UNITS 2 /* PY_EVAL_C_STACK_UNITS, Python/ceval.c, 3.12 and 3.13 */
#define GENERATOR_FLAGS (PA_CO_GENERATOR | PA_CO_COROUTINE | PA_CO_ASYNC_GENERATOR)
#define GUARD_MIN (128u << 10)

typedef PyObject *(*eval_fn)(void *tstate, void *frame, int throwflag);

static struct {
    eval_fn default_eval;                                   /* _PyEval_EvalFrameDefault */
    void *(*interp_get)(void);                              /* PyInterpreterState_Get */
    eval_fn (*get_eval)(void *interp);                      /* _PyInterpreterState_GetEvalFrameFunc */
    void (*set_eval)(void *interp, eval_fn);                /* _PyInterpreterState_SetEvalFrameFunc */
} api;

/* The offsets the per-frame path reads, copied out of the layout table: one load each. */
static struct {
    int code, owner, lasti, c_recursion, flags, body, first_traceable, gen_state;
} at;
static int counting;
static void (*hand_over)(void);
static void *interp;
static atomic_int installed;

extern void *__libc_stack_end;

/* The lowest address this thread's frames may reach before the evaluator hands over:
 * a quarter of the stack (at least GUARD_MIN) above its end. */
static __attribute__((noinline, cold)) uintptr_t stack_guard(void)
{
    uintptr_t lo = 0, size = 0;
    if (syscall(SYS_gettid) == getpid()) {
        /* glibc reads /proc/self/maps for the main thread (allocating): the limit
         * says how far the main stack may grow down from where it started. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (1ull << 40)) {
            size = rl.rlim_cur;
            lo = (uintptr_t)__libc_stack_end - size;
        }
    } else {
        pthread_attr_t attr;
        void *addr;
        size_t sz;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            if (pthread_attr_getstack(&attr, &addr, &sz) == 0)
                lo = (uintptr_t)addr, size = sz;
            pthread_attr_destroy(&attr);
        }
    }
    if (!size) /* unlimited or unknown: assume the usual 8 MiB */
        size = 8u << 20, lo = (uintptr_t)__builtin_frame_address(0) - size + (64u << 10);
    uintptr_t margin = size / 4 > GUARD_MIN ? size / 4 : GUARD_MIN;
    return lo + margin;
}

static inline pa_thread_t *self_thread(void)
{
    pa_thread_t *t = pa_self;
    return PA_LIKELY(t && t != PA_THREAD_DEAD) ? t : pa_thread_get();
}

/* Near the end of this thread's stack: from here on sys.monitoring records calls. */
static __attribute__((noinline, cold)) void give_up(void)
{
    if (!atomic_exchange(&installed, 0))
        return;
    api.set_eval(interp, api.default_eval); /* the default: no evaluator */
    pa_log("deep recursion near the end of a thread's stack: trace mode continues through sys.monitoring "
           "(slower), so that the program recurses as deep as without the agent");
    hand_over();
}

static inline int low_on_stack(pa_thread_t *t)
{
    if (PA_UNLIKELY(!t->stack_guard))
        t->stack_guard = stack_guard();
    return (uintptr_t)__builtin_frame_address(0) < t->stack_guard;
}

/* Runs the frame with the C recursion units it takes given back: Python frames count
 * against the Python recursion limit only, as they do when CPython inlines them. */
static inline PyObject *run(void *tstate, void *frame, int throwflag)
{
    int *c_budget = (int *)((char *)tstate + at.c_recursion);
    *c_budget += C_STACK_UNITS;
    PyObject *r = api.default_eval(tstate, frame, throwflag);
    *c_budget -= C_STACK_UNITS;
    return r;
}

/* Whether a generator's frame has run its body before. Its state already says
 * "executing" here, but where it stands tells: a generator not started yet is still
 * before its first RESUME (CPython's _co_firsttraceable; 3.12 points at the last
 * instruction run, RETURN_GENERATOR, 3.13 at the next, POP_TOP). */
static inline int started(void *frame, PyObject *code)
{
    const char *pos = *(const char **)((char *)frame + at.lasti);
    const char *body = (const char *)code + at.body;
    return (pos - body) / 2 >= *(const int *)((const char *)code + at.first_traceable);
}

static PyObject *evaluate(void *tstate, void *frame, int throwflag)
{
    pa_thread_t *t = self_thread();
    if (PA_UNLIKELY(!t))
        return run(tstate, frame, throwflag);
    if (PA_UNLIKELY(low_on_stack(t)) && !throwflag) {
        give_up(); /* this frame and all later ones: sys.monitoring's */
        return api.default_eval(tstate, frame, throwflag);
    }
    PyObject *code = *(PyObject **)((char *)frame + at.code);
    const int8_t *gen_state = NULL;
    int resumed = throwflag;
    if (*((char *)frame + at.owner) == PA_FRAME_OWNED_BY_GENERATOR) {
        gen_state = (const int8_t *)frame + at.gen_state;
        resumed |= started(frame, code);
    } else if (*(int *)((char *)code + at.flags) & GENERATOR_FLAGS) {
        return run(tstate, frame, throwflag); /* creates the generator: no call yet */
    }
    uint32_t token = pa_calls_begin(t, code, resumed);
    if (counting)
        pa_count_enter(t, code, resumed);
    PyObject *r = run(tstate, frame, throwflag);
    /* A generator's state lives in its object, which the caller still holds. */
    unsigned kind = !r ? PA_CALL_UNWIND : gen_state && *gen_state < 0 ? PA_CALL_YIELD : PA_CALL_RETURN;
    if (token)
        pa_calls_end(t, token, kind);
    if (counting && kind != PA_CALL_YIELD)
        pa_count_exit(t, code);
    return r;
}

int pa_evalhook_install(int count_too, void (*fallback)(void))
{
    const pa_pylayout_t *L = pa_py.layout;
    if (pa_py.minor < 12 || !L || L->ts_c_recursion < 0 || L->co_flags < 0 || L->fr_owner < 0 ||
        L->co_first_traceable < 0 || L->co_code_adaptive < 0)
        return -1;
    *(void **)&api.default_eval = dlsym(RTLD_DEFAULT, "_PyEval_EvalFrameDefault");
    *(void **)&api.interp_get = dlsym(RTLD_DEFAULT, "PyInterpreterState_Get");
    *(void **)&api.get_eval = dlsym(RTLD_DEFAULT, "_PyInterpreterState_GetEvalFrameFunc");
    *(void **)&api.set_eval = dlsym(RTLD_DEFAULT, "_PyInterpreterState_SetEvalFrameFunc");
    if (!api.default_eval || !api.interp_get || !api.get_eval || !api.set_eval)
        return -1;
    interp = api.interp_get();
    /* Another evaluator (a debugger, -X perf's trampolines) is there first: only one
     * can be installed, and replacing it would break its owner. */
    if (!interp || api.get_eval(interp) != api.default_eval)
        return -1;
    at.code = L->fr_code, at.owner = L->fr_owner, at.lasti = L->fr_lasti;
    at.c_recursion = L->ts_c_recursion, at.flags = L->co_flags, at.body = L->co_code_adaptive;
    at.first_traceable = L->co_first_traceable, at.gen_state = L->gen_state;
    counting = count_too;
    hand_over = fallback;
    atomic_store(&installed, 1);
    api.set_eval(interp, evaluate);
    return 0;
}
