/* mem.c — pa_mem_* for the agent, backed by a privately loaded mimalloc. The library
 * is opened RTLD_LOCAL so its exported malloc never replaces the host's allocator. */
#include "mem.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <string.h>

#include "log.h"

static void *(*mi_malloc_fn)(size_t);
static void *(*mi_calloc_fn)(size_t, size_t);
static void *(*mi_realloc_fn)(void *, size_t);
static void (*mi_free_fn)(void *);
static size_t (*mi_usable_fn)(const void *);

static atomic_uint_fast64_t held, peak;

int pa_mem_init(void)
{
    if (mi_malloc_fn)
        return 0;
    void *h = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        pa_log("cannot load libmimalloc.so.2 for the agent's own memory (%s); agent disabled",
               dlerror());
        return -1;
    }
    mi_malloc_fn = (void *(*)(size_t))dlsym(h, "mi_malloc");
    mi_calloc_fn = (void *(*)(size_t, size_t))dlsym(h, "mi_calloc");
    mi_realloc_fn = (void *(*)(void *, size_t))dlsym(h, "mi_realloc");
    mi_free_fn = (void (*)(void *))dlsym(h, "mi_free");
    mi_usable_fn = (size_t(*)(const void *))dlsym(h, "mi_usable_size");
    if (!mi_malloc_fn || !mi_calloc_fn || !mi_realloc_fn || !mi_free_fn || !mi_usable_fn) {
        pa_log("libmimalloc.so.2 lacks the mi_* functions; agent disabled");
        mi_malloc_fn = NULL;
        return -1;
    }
    return 0;
}

static void account(int64_t delta)
{
    uint64_t now = atomic_fetch_add(&held, (uint64_t)delta) + (uint64_t)delta;
    uint64_t p = atomic_load_explicit(&peak, memory_order_relaxed);
    while (now > p && !atomic_compare_exchange_weak(&peak, &p, now))
        ;
}

void *pa_mem_alloc(size_t n)
{
    void *p = mi_malloc_fn(n);
    if (p)
        account((int64_t)mi_usable_fn(p));
    return p;
}

void *pa_mem_calloc(size_t n, size_t size)
{
    void *p = mi_calloc_fn(n, size);
    if (p)
        account((int64_t)mi_usable_fn(p));
    return p;
}

void *pa_mem_realloc(void *old, size_t n)
{
    size_t before = old ? mi_usable_fn(old) : 0;
    void *p = mi_realloc_fn(old, n);
    if (p)
        account((int64_t)mi_usable_fn(p) - (int64_t)before);
    return p;
}

void pa_mem_free(void *p)
{
    if (!p)
        return;
    account(-(int64_t)mi_usable_fn(p));
    mi_free_fn(p);
}

char *pa_mem_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = pa_mem_alloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

uint64_t pa_mem_bytes(void) { return atomic_load(&held); }
uint64_t pa_mem_peak(void) { return atomic_load(&peak); }
