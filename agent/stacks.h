/* stacks.h — capturing the calling thread's mixed Python + native stack and
 * interning it as a node of the stack tree (a small id). */
#ifndef PA_STACKS_H
#define PA_STACKS_H

#include <stdint.h>

#include "python.h"
#include "thread.h"

/* Native frames kept below the innermost eval frame outside PYAGENT_NATIVE=full:
 * what lies between the sampled (or allocating) code and Python. */
#define PA_LEAF_FRAMES 12

/* Whether a return address lies in _PyEval_EvalFrameDefault (a run of Python frames).
 * Async-signal-safe. */
static inline int pa_stack_in_eval(uintptr_t ip) { return ip - 1 >= pa_py.eval_start && ip - 1 < pa_py.eval_end; }

enum pa_native_capture {
    PA_NATIVE_NONE,   /* Python frames only (PyMem domains: the native part is the interpreter) */
    PA_NATIVE_CALLER, /* just the allocator's caller, without unwinding */
    PA_NATIVE_UNWIND, /* unwound native frames */
};

/* The stack of the current allocation, innermost frame = the allocator called, then
 * native frames per `native` (caller = the allocator's return address), merged with
 * the Python frames. t may be NULL (thread ending). Returns 0 on failure. */
uint32_t pa_stack_capture(pa_thread_t *t, unsigned allocator, int native, const void *caller);

/* The stack of a CPU sample, from raw frames (innermost first): the same tree, no
 * allocator leaf. cache may be NULL (a thread draining another thread's samples). */
uint32_t pa_stack_intern_sample(pa_stack_cache_t *cache, uintptr_t *ips, int n_ips, pa_pyframe_t *py, int n_py);

#endif
