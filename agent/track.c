/* track.c — the common tail of every allocation hook. */
#include "track.h"

#include "clock.h"
#include "common.h"
#include "config.h"
#include "python.h"
#include "log.h"
#include "control.h"
#include "sampler.h"
#include "stacks.h"
#include "thread.h"
#include "writer.h"

_Atomic uint64_t pa_phase_flags;

/* Native frames are worth their unwinding (~16 ns a frame) unless the block comes
 * straight from the interpreter (PYAGENT_NATIVE=auto): then the Python frames already
 * say where it was made and the native ones are the interpreter's own machinery.
 * Start-up blocks are residue: unwinding them would also pay the DWARF lookups (two
 * sigprocmask syscalls each) of every new frame of the interpreter's initialisation,
 * and even their callers would cost a symbol lookup each at the first flush. */
static int want_native(const void *caller, uint64_t phase)
{
    if (!caller || !pa_cfg.native_depth || (phase & PA_BLK_STARTUP))
        return PA_NATIVE_NONE; /* start-up blocks are residue whatever their stack */
    if (pa_cfg.native_mode == PA_NATIVE_AUTO && pa_py_in_interpreter(caller))
        return PA_NATIVE_CALLER; /* one frame, no unwinding: still says "interpreter" */
    return PA_NATIVE_UNWIND;
}

/* With PYAGENT_ALLOC=off the hooks are only where waiting CPU samples get drained. */
static void samples_only(void)
{
    pa_thread_t *t = pa_thread_get();
    pa_sampler_poll(t);
    pa_writer_maybe_flush(pa_now_ns());
}

void pa_track_alloc(void *p, size_t size, unsigned allocator, const void *caller)
{
    if (PA_UNLIKELY(!pa_cfg.alloc)) {
        samples_only();
        return;
    }
    pa_thread_t *t = pa_thread_get();
    pa_sampler_poll(t);
    pa_control_poll(t);
    uint64_t now = pa_clock_ns();
    uint64_t phase = atomic_load_explicit(&pa_phase_flags, memory_order_relaxed);
    if (PA_UNLIKELY(phase & PA_BLK_STARTUP))
        pa_py_poll_activation();
    uint32_t stack = pa_stack_capture(t, allocator, want_native(caller, phase), caller);
    uint64_t sz = size & PA_BLK_SIZE_MASK;
    pa_block_t b = { (uintptr_t)p, sz | phase, stack, t ? t->serial : 0, now };
    if (PA_UNLIKELY(pa_heap_insert(&b) != 0)) {
        static int said;
        if (!said++)
            pa_log("out of memory for the allocation table; some blocks are not tracked");
        return;
    }
    if (PA_LIKELY(t != NULL)) {
        pa_thread_emit_alloc(t, now, (uintptr_t)p, sz, stack);
        pa_writer_maybe_flush(now);
    }
}

void pa_track_free(void *p, int may_flush)
{
    if (PA_UNLIKELY(!pa_cfg.alloc)) {
        if (may_flush)
            samples_only();
        return;
    }
    pa_block_t b;
    if (!pa_heap_remove((uintptr_t)p, &b))
        return;
    pa_thread_t *t = may_flush ? pa_thread_get() : pa_thread_peek();
    if (!t)
        return;
    /* Samples taken before this free go first: a sample drained after a later event
     * would be moved to that event's time, out of the call it was taken in. */
    if (may_flush)
        pa_sampler_poll(t);
    uint64_t now = pa_clock_ns();
    pa_thread_emit_free(t, now, (uintptr_t)p);
    if (may_flush)
        pa_writer_maybe_flush(now);
}

int pa_track_take(void *p, pa_block_t *out) { return p && pa_heap_remove((uintptr_t)p, out); }

void pa_track_put_back(const pa_block_t *b) { pa_heap_insert(b); }

void pa_track_freed(void *p)
{
    pa_thread_t *t = pa_thread_get();
    pa_sampler_poll(t);
    if (t)
        pa_thread_emit_free(t, pa_clock_ns(), (uintptr_t)p);
}
