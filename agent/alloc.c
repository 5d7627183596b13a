/* alloc.c — the interposed allocation functions, dlsym and _exit. Each hook
 * forwards first and records after, with errno preserved and a re-entry guard so
 * anything the agent itself allocates is only forwarded. */

#include "alloc.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "session.h"
#include "track.h"

struct pa_real_alloc pa_real;
__thread int pa_in_agent __attribute__((tls_model("initial-exec")));
atomic_int pa_state;

static void *(*real_dlsym)(void *, const char *);
#if defined(__x86_64__)
extern void *pa_real_dlsym_ptr;
#endif

/* ---- bootstrap: dlsym itself may allocate before malloc is resolved ---- */

static _Alignas(64) uint8_t boot_heap[256 << 10];
static atomic_size_t boot_used;

static int is_boot(const void *p) { return (const uint8_t *)p >= boot_heap && (const uint8_t *)p < boot_heap + sizeof boot_heap; }

static void *boot_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    size_t need = 16 + n + align;
    size_t off = atomic_fetch_add(&boot_used, need);
    if (off + need > sizeof boot_heap)
        return NULL;
    uintptr_t p = ((uintptr_t)boot_heap + off + 16 + align - 1) & ~(uintptr_t)(align - 1);
    ((size_t *)p)[-1] = n; /* static memory is zero: calloc needs nothing more */
    return (void *)p;
}

static size_t boot_size(const void *p) { return ((const size_t *)p)[-1]; }

/* ---- resolution ---- */

static void resolve_dlsym(void)
{
    if (!real_dlsym)
        *(void **)&real_dlsym = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    if (!real_dlsym)
        *(void **)&real_dlsym = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
#if defined(__x86_64__)
    pa_real_dlsym_ptr = (void *)real_dlsym;
#endif
}

#define NEXT(field, name) (*(void **)&pa_real.field = real_dlsym(RTLD_NEXT, name))

void pa_alloc_resolve(void)
{
    static atomic_int busy;
    if (pa_real.free || atomic_exchange(&busy, 1))
        return;
    resolve_dlsym();
    if (!real_dlsym)
        return;
    NEXT(calloc, "calloc");
    NEXT(realloc, "realloc");
    NEXT(reallocarray, "reallocarray");
    NEXT(posix_memalign, "posix_memalign");
    NEXT(aligned_alloc, "aligned_alloc");
    NEXT(memalign, "memalign");
    NEXT(valloc, "valloc");
    NEXT(pvalloc, "pvalloc");
    NEXT(malloc_usable_size, "malloc_usable_size");
    NEXT(exit_, "_exit");
    NEXT(malloc, "malloc");
    NEXT(free, "free"); /* last: a non-NULL free means everything is resolved */
}

static inline int ready(void)
{
    if (PA_UNLIKELY(!pa_real.free))
        pa_alloc_resolve();
    return pa_real.free != NULL;
}

/* ---- hooks ---- */

#define RECORD(expr)                                                                               \
    do {                                                                                           \
        int saved_errno_ = errno;                                                                  \
        pa_in_agent = 1;                                                                           \
        expr;                                                                                      \
        pa_in_agent = 0;                                                                           \
        errno = saved_errno_;                                                                      \
    } while (0)

static inline int should_record(const void *p) { return p && pa_tracking() && !pa_in_agent; }

PA_EXPORT void *malloc(size_t n)
{
    if (PA_UNLIKELY(!ready()))
        return boot_alloc(n, 16);
    void *p = pa_real.malloc(n);
    if (should_record(p))
        RECORD(pa_track_alloc(p, n, PA_ALLOC_MALLOC, __builtin_return_address(0)));
    return p;
}

PA_EXPORT void free(void *p)
{
    if (!p || PA_UNLIKELY(is_boot(p) || !ready()))
        return;
    /* Recorded before the real free: after it, another thread may get p back. Frees
     * made by code the agent called are recorded too, or the block would look leaked. */
    if (pa_tracking()) {
        int saved = errno, guard = pa_in_agent;
        pa_in_agent = 1;
        pa_track_free(p, !guard);
        pa_in_agent = guard;
        errno = saved;
    }
    pa_real.free(p);
}

PA_EXPORT void *calloc(size_t n, size_t size)
{
    if (PA_UNLIKELY(!ready())) {
        size_t total;
        return __builtin_mul_overflow(n, size, &total) ? NULL : boot_alloc(total, 16);
    }
    void *p = pa_real.calloc(n, size);
    if (should_record(p))
        RECORD(pa_track_alloc(p, n * size, PA_ALLOC_CALLOC, __builtin_return_address(0)));
    return p;
}

static void *boot_realloc(void *old, size_t n)
{
    void *p = malloc(n);
    if (p) {
        size_t keep = boot_size(old);
        memcpy(p, old, keep < n ? keep : n);
    }
    return p;
}

/* realloc and reallocarray: see pa_track_take for why the old block leaves first. */
static void *realloc_common(void *old, size_t n, void *p_call(void *, size_t, size_t), size_t a, size_t b,
                            unsigned allocator, const void *caller)
{
    if (!(pa_tracking() && !pa_in_agent))
        return p_call(old, a, b);
    int saved = errno;
    pa_in_agent = 1;
    pa_block_t ob = { 0 };
    int had = pa_track_take(old, &ob);
    errno = saved;
    void *p = p_call(old, a, b);
    saved = errno;
    if (p) {
        if (had)
            pa_track_freed(old);
        pa_track_alloc(p, n, allocator, caller);
    } else if (had && n == 0) {
        pa_track_freed(old); /* glibc frees on realloc(p, 0) */
    } else if (had) {
        pa_track_put_back(&ob);
    }
    pa_in_agent = 0;
    errno = saved;
    return p;
}

static void *call_realloc(void *old, size_t n, size_t unused) { return pa_real.realloc(old, n); }
static void *call_reallocarray(void *old, size_t n, size_t size) { return pa_real.reallocarray(old, n, size); }

PA_EXPORT void *realloc(void *old, size_t n)
{
    if (PA_UNLIKELY(!ready()))
        return old ? NULL : boot_alloc(n, 16);
    if (PA_UNLIKELY(is_boot(old)))
        return boot_realloc(old, n);
    return realloc_common(old, n, call_realloc, n, 0, PA_ALLOC_REALLOC, __builtin_return_address(0));
}

PA_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (PA_UNLIKELY(!ready() || is_boot(old)))
        return realloc(old, total);
    return realloc_common(old, total, call_reallocarray, n, size, PA_ALLOC_REALLOCARRAY,
                          __builtin_return_address(0));
}

PA_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (PA_UNLIKELY(!ready())) {
        *out = boot_alloc(n, align);
        return *out ? 0 : ENOMEM;
    }
    int rc = pa_real.posix_memalign(out, align, n);
    if (rc == 0 && should_record(*out))
        RECORD(pa_track_alloc(*out, n, PA_ALLOC_POSIX_MEMALIGN, __builtin_return_address(0)));
    return rc;
}

#define ALIGNED_HOOK(name, kind, params, args, size)                                               \
    PA_EXPORT void *name params                                                                    \
    {                                                                                              \
        if (PA_UNLIKELY(!ready()))                                                                 \
            return boot_alloc(size, 4096);                                                         \
        void *p = pa_real.name args;                                                               \
        if (should_record(p))                                                                      \
            RECORD(pa_track_alloc(p, size, kind, __builtin_return_address(0)));                                              \
        return p;                                                                                  \
    }

ALIGNED_HOOK(aligned_alloc, PA_ALLOC_ALIGNED_ALLOC, (size_t align, size_t n), (align, n), n)
ALIGNED_HOOK(memalign, PA_ALLOC_MEMALIGN, (size_t align, size_t n), (align, n), n)
ALIGNED_HOOK(valloc, PA_ALLOC_VALLOC, (size_t n), (n), n)
ALIGNED_HOOK(pvalloc, PA_ALLOC_PVALLOC, (size_t n), (n), n)

PA_EXPORT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (is_boot(p))
        return boot_size(p);
    return ready() ? pa_real.malloc_usable_size(p) : 0;
}

/* ---- dlsym: ctypes.CDLL("libc.so.6").malloc looks malloc up in libc's own scope,
 * which LD_PRELOAD does not reach; hand out the hooks instead. ---- */

static void *override_for(void *handle, const char *name)
{
    static const struct { const char *name; void *ours; void **real; } table[] = {
        { "malloc", (void *)malloc, (void **)&pa_real.malloc },
        { "free", (void *)free, (void **)&pa_real.free },
        { "calloc", (void *)calloc, (void **)&pa_real.calloc },
        { "realloc", (void *)realloc, (void **)&pa_real.realloc },
        { "reallocarray", (void *)reallocarray, (void **)&pa_real.reallocarray },
        { "posix_memalign", (void *)posix_memalign, (void **)&pa_real.posix_memalign },
        { "aligned_alloc", (void *)aligned_alloc, (void **)&pa_real.aligned_alloc },
        { "memalign", (void *)memalign, (void **)&pa_real.memalign },
        { "valloc", (void *)valloc, (void **)&pa_real.valloc },
        { "pvalloc", (void *)pvalloc, (void **)&pa_real.pvalloc },
        { "malloc_usable_size", (void *)malloc_usable_size, (void **)&pa_real.malloc_usable_size },
    };
    for (unsigned i = 0; i < PA_ARRAY_LEN(table); i++) {
        if (strcmp(name, table[i].name) != 0)
            continue;
        /* only when the lookup lands on the very function we forward to: a library
         * with an allocator of its own keeps it */
        void *found = real_dlsym(handle, name);
        return found && found == *table[i].real ? table[i].ours : NULL;
    }
    return NULL;
}

/* Returns the hook to hand out instead of what dlsym would find, or NULL. */
__attribute__((used, visibility("hidden"))) void *pa_dlsym_override(void *handle, const char *name)
{
    if (PA_UNLIKELY(!real_dlsym))
        resolve_dlsym();
    if (handle == RTLD_NEXT || !ready())
        return NULL;
    return override_for(handle, name);
}

/* glibc finds RTLD_NEXT's "next" from the return address of dlsym's caller, so the
 * real dlsym must be entered by a jump, never a call: a compiler's sibling call is
 * not guaranteed (-O0 makes a call), so the entry is written in assembly. */
#if defined(__x86_64__)
void *pa_real_dlsym_ptr __attribute__((visibility("hidden")));
__asm__(".text\n"
        ".globl dlsym\n"
        ".type dlsym, @function\n"
        "dlsym:\n"
        "    .cfi_startproc\n"
        "    push %rdi\n"
        "    .cfi_adjust_cfa_offset 8\n"
        "    push %rsi\n"
        "    .cfi_adjust_cfa_offset 8\n"
        "    sub $8, %rsp\n"
        "    .cfi_adjust_cfa_offset 8\n"
        "    call pa_dlsym_override\n"
        "    add $8, %rsp\n"
        "    .cfi_adjust_cfa_offset -8\n"
        "    pop %rsi\n"
        "    .cfi_adjust_cfa_offset -8\n"
        "    pop %rdi\n"
        "    .cfi_adjust_cfa_offset -8\n"
        "    test %rax, %rax\n"
        "    jnz 1f\n"
        "    jmp *pa_real_dlsym_ptr(%rip)\n"
        "1:  ret\n"
        "    .cfi_endproc\n"
        ".size dlsym, .-dlsym\n");
#else
PA_EXPORT void *dlsym(void *handle, const char *name)
{
    void *ours = pa_dlsym_override(handle, name);
    return ours ? ours : real_dlsym(handle, name);
}
#endif

/* ---- _exit: os._exit skips atexit and destructors; the exit checkpoint must not ---- */

static _Noreturn void exit_now(int status)
{
    pa_session_exit();
    if (pa_real.exit_)
        pa_real.exit_(status);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

PA_EXPORT void _exit(int status) { exit_now(status); }
PA_EXPORT void _Exit(int status) { exit_now(status); }
