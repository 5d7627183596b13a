/* stacks.c — mixed stacks. Native frames come from libunwind; every native frame
 * inside _PyEval_EvalFrameDefault is replaced by the Python frames that C-level
 * call is running (one per call on 3.8-3.10, a run up to an entry/shim frame on
 * 3.11+). A hash of the raw frames short-cuts repeated stacks. */
#include "stacks.h"

#include "config.h"
#include "map.h"
#include "python.h"
#include "tables.h"
#include "unwind.h"

static pa_map_t raw_stacks; /* raw-frame hash -> node id; under the tables lock */

typedef struct capture {
    uintptr_t *ips;
    int n_ips;
    pa_pyframe_t *py;
    int n_py;
    unsigned allocator;
} capture_t;

static uint64_t hash_capture(const capture_t *c)
{
    uint64_t h = pa_mix64(c->allocator, (uint64_t)c->n_ips << 32 | (uint32_t)c->n_py);
    for (int i = 0; i < c->n_ips; i++)
        h = pa_mix64(h, c->ips[i]);
    for (int i = 0; i < c->n_py; i++)
        h = pa_mix64(h ^ (uintptr_t)c->py[i].code, (uint64_t)(uint32_t)c->py[i].offset);
    return h | 1; /* 0 marks an empty cache slot */
}


/* Frames from the outside in, each interned under its parent. */
typedef struct builder { uint32_t node; int named; } builder_t;

/* The line of a frame, cached: CPython scans a code object's line table from its
 * start (2,500 instructions a time for importlib's long functions, 1,500 times in a
 * bare start-up), and new stacks mostly share their outer frames. Only named code
 * objects are cached, which the function table keeps alive, so an address is never
 * another code object's. Under the tables lock, like everything in build(). */
#define LINE_CACHE 4096
static struct { const void *code; int offset, line; } lines[LINE_CACHE];

static int frame_line(const pa_pyframe_t *f)
{
    unsigned slot = (unsigned)(pa_mix64((uintptr_t)f->code, (uint64_t)(uint32_t)f->offset) & (LINE_CACHE - 1));
    if (lines[slot].code == f->code && lines[slot].offset == f->offset)
        return lines[slot].line;
    int line = pa_py_line(f);
    lines[slot].code = f->code, lines[slot].offset = f->offset, lines[slot].line = line;
    return line;
}

static void push_python(builder_t *b, const pa_pyframe_t *f)
{
    uint32_t fn = pa_py_function(f->code);
    if (!fn) {
        b->named = 0;
        b->node = pa_tab_node(b->node, PA_FRAME_PY_UNKNOWN, 0, 0);
        return;
    }
    int line = frame_line(f);
    b->node = pa_tab_node(b->node, PA_FRAME_PYTHON, fn, line > 0 ? (uint32_t)line : 0);
}

static void push_native(builder_t *b, uintptr_t ip)
{
    uint32_t id = pa_tab_native(ip);
    b->node = id ? pa_tab_node(b->node, PA_FRAME_NATIVE, id, 0) : b->node;
}

/* Walks outermost to innermost. seg[i] = index of the first Python frame (innermost)
 * of the segment replacing eval frame i, computed innermost-first beforehand. */
static uint32_t build(const capture_t *c, int *named)
{
    int seg_of[c->n_ips > 0 ? c->n_ips : 1], next = 0;
    for (int i = 0; i < c->n_ips; i++) {
        seg_of[i] = -1;
        if (next < c->n_py && pa_stack_in_eval(c->ips[i])) {
            seg_of[i] = next;
            while (next < c->n_py && !c->py[next].seg_end)
                next++;
            next++;
        }
    }
    builder_t b = { 0, 1 };
    /* Python frames no eval frame claimed (native stack cut short): outermost. */
    for (int k = c->n_py - 1; k >= next; k--)
        push_python(&b, &c->py[k]);
    for (int i = c->n_ips - 1; i >= 0; i--) {
        // cppcheck-suppress uninitvar ; the first loop set seg_of[0 .. n_ips)
        // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): i < n_ips, seg_of's size
        if (seg_of[i] < 0) {
            push_native(&b, c->ips[i]);
            continue;
        }
        int end = seg_of[i];
        while (end < c->n_py - 1 && !c->py[end].seg_end)
            end++;
        for (int k = end; k >= seg_of[i]; k--)
            push_python(&b, &c->py[k]);
    }
    if (c->allocator)
        b.node = pa_tab_node(b.node, PA_FRAME_ALLOCATOR, c->allocator, 0);
    *named = b.named;
    return b.node;
}

static uint32_t intern(const capture_t *c, pa_stack_cache_t *cache);

/* In leaf mode the native frames stop at the innermost eval frame: what lies between
 * the allocation and Python code. The frames between Python frames are mostly the
 * interpreter's own call machinery, and unwinding them costs ~16 ns each. */

static int unwind(capture_t *c, int max, void **scratch)
{
    int n = 0;
    if (pa_cfg.native_mode != PA_NATIVE_FULL && pa_py.eval_start && max > PA_LEAF_FRAMES) {
        n = pa_unwind(c->ips, PA_LEAF_FRAMES, scratch);
        for (int i = 0; i < n; i++)
            if (pa_stack_in_eval(c->ips[i]))
                return i + 1;
        if (n < PA_LEAF_FRAMES)
            return n;
    }
    return pa_unwind(c->ips, max, scratch);
}

uint32_t pa_stack_capture(pa_thread_t *t, unsigned allocator, int native, const void *caller)
{
    uintptr_t ips_local[32];
    void *unw_local[32 + PA_UNWIND_SLACK];
    pa_pyframe_t py_local[64];
    capture_t c = { t ? t->ips : ips_local, 0, t ? t->py : py_local, 0, allocator };
    int max_ips = t ? pa_cfg.native_depth : 32, max_py = t ? pa_cfg.python_depth : 64;
    if (native == PA_NATIVE_UNWIND)
        c.n_ips = unwind(&c, max_ips, t ? t->unw : unw_local);
    else if (native == PA_NATIVE_CALLER)
        c.ips[c.n_ips++] = (uintptr_t)caller;
    if (atomic_load_explicit(&pa_py_ready, memory_order_acquire))
        c.n_py = pa_py_walk(c.py, max_py);

    return intern(&c, t ? t->cache : NULL);
}

static uint32_t intern(const capture_t *c, pa_stack_cache_t *cache)
{
    uint64_t h = hash_capture(c);
    unsigned slot = (unsigned)(h >> 32) % PA_STACK_CACHE;
    if (cache && cache[slot].hash == h)
        return cache[slot].id;

    pa_tables_lock();
    uint32_t id = pa_map_get(&raw_stacks, h, 0);
    int named = 1;
    if (!id) {
        id = build(c, &named);
        /* A stack with an unnamed Python frame is not remembered: it gets its names
         * the next time it is seen with the GIL held. */
        if (id && named)
            pa_map_put(&raw_stacks, h, 0, id);
    }
    pa_tables_unlock();
    if (cache && id && named) {
        cache[slot].hash = h;
        cache[slot].id = id;
    }
    return id;
}

uint32_t pa_stack_intern_sample(pa_stack_cache_t *cache, uintptr_t *ips, int n_ips, pa_pyframe_t *py, int n_py)
{
    capture_t c = { ips, n_ips, py, n_py, 0 };
    return intern(&c, cache);
}
