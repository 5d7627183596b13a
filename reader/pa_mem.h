/* pa_mem.h — the only allocator the shared reader code (pa_reader_lib) may use.
 * The reader CLI and the unit tests link mem_libc.c; the agent supplies its own
 * implementation backed by its private heap, so reader code never touches the host's malloc. */
#ifndef PA_MEM_H
#define PA_MEM_H

#include <stddef.h>

/* Same contracts as malloc/calloc/realloc/free/strdup: NULL on failure (errno unspecified),
 * pa_mem_free(NULL) is a no-op, pa_mem_realloc(NULL, n) allocates. pa_mem_calloc checks
 * n * size for overflow. Memory from one must only be released with pa_mem_free. */
void *pa_mem_alloc(size_t n);
void *pa_mem_calloc(size_t n, size_t size);
void *pa_mem_realloc(void *p, size_t n);
void pa_mem_free(void *p);
char *pa_mem_strdup(const char *s);

#endif
