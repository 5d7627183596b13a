/* alloc.h — the libc allocation functions the agent forwards to. */
#ifndef PA_ALLOC_H
#define PA_ALLOC_H

#include <stddef.h>

struct pa_real_alloc {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);
    void (*exit_)(int);
};
extern struct pa_real_alloc pa_real;

/* Resolves the real functions (idempotent). Called from the first hook or the
 * constructor, whichever comes first. */
void pa_alloc_resolve(void);

#endif
