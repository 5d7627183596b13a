/* pymem.c — optional tracing of the PyMem and PyObject allocator domains (the
 * tracemalloc approach): objects below pymalloc's threshold never reach malloc. The
 * wrappers chain to the allocators they replace, so blocks made before installation
 * are freed by their own allocator. Python frames only: the native part of such a
 * stack is the interpreter itself. */
#include <string.h>

#include "common.h"
#include "log.h"
#include "python.h"
#include "track.h"

typedef struct {
    void *ctx;
    void *(*malloc)(void *, size_t);
    void *(*calloc)(void *, size_t, size_t);
    void *(*realloc)(void *, void *, size_t);
    void (*free)(void *, void *);
} pa_memalloc_t; /* PyMemAllocatorEx, stable since 3.5 */

enum { DOMAIN_MEM = 1, DOMAIN_OBJ = 2 };

typedef struct { pa_memalloc_t old; unsigned kind_malloc, kind_calloc, kind_realloc; } domain_t;
static domain_t domains[3];

/* The wrapped allocator may call malloc (large blocks): the guard keeps that from
 * being recorded a second time. */
static void *w_malloc(void *ctx, size_t n)
{
    domain_t *d = ctx;
    int guard = pa_in_agent;
    pa_in_agent = 1;
    void *p = d->old.malloc(d->old.ctx, n);
    if (p && !guard && pa_tracking())
        pa_track_alloc(p, n, d->kind_malloc, NULL);
    pa_in_agent = guard;
    return p;
}

static void *w_calloc(void *ctx, size_t n, size_t size)
{
    domain_t *d = ctx;
    int guard = pa_in_agent;
    pa_in_agent = 1;
    void *p = d->old.calloc(d->old.ctx, n, size);
    if (p && !guard && pa_tracking())
        pa_track_alloc(p, n * size, d->kind_calloc, NULL);
    pa_in_agent = guard;
    return p;
}

static void *w_realloc(void *ctx, void *old, size_t n)
{
    domain_t *d = ctx;
    int guard = pa_in_agent;
    pa_in_agent = 1;
    pa_block_t ob = { 0 };
    int had = !guard && pa_tracking() && pa_track_take(old, &ob);
    void *p = d->old.realloc(d->old.ctx, old, n);
    if (p && had)
        pa_track_freed(old);
    else if (!p && had)
        pa_track_put_back(&ob);
    if (p && !guard && pa_tracking())
        pa_track_alloc(p, n, d->kind_realloc, NULL);
    pa_in_agent = guard;
    return p;
}

static void w_free(void *ctx, void *p)
{
    domain_t *d = ctx;
    int guard = pa_in_agent;
    pa_in_agent = 1;
    if (p && pa_tracking())
        pa_track_free(p, !guard);
    d->old.free(d->old.ctx, p);
    pa_in_agent = guard;
}

int pa_pymem_install(void)
{
    static const unsigned kinds[3][3] = {
        { 0, 0, 0 },
        { PA_ALLOC_PYMEM_MALLOC, PA_ALLOC_PYMEM_CALLOC, PA_ALLOC_PYMEM_REALLOC },
        { PA_ALLOC_PYOBJECT_MALLOC, PA_ALLOC_PYOBJECT_CALLOC, PA_ALLOC_PYOBJECT_REALLOC },
    };
    for (int dom = DOMAIN_MEM; dom <= DOMAIN_OBJ; dom++) {
        domain_t *d = &domains[dom];
        pa_py.Mem_GetAllocator(dom, &d->old);
        if (!d->old.malloc)
            return -1;
        d->kind_malloc = kinds[dom][0], d->kind_calloc = kinds[dom][1], d->kind_realloc = kinds[dom][2];
        pa_memalloc_t mine = { d, w_malloc, w_calloc, w_realloc, w_free };
        pa_py.Mem_SetAllocator(dom, &mine);
    }
    return 0;
}
