/* mem_libc.c — pa_mem_* on top of libc, for the reader CLI and the unit tests.
 * The agent does not link this file: it provides pa_mem_* from its private heap. */
#include <stdlib.h>
#include <string.h>

#include "pa_mem.h"

void *pa_mem_alloc(size_t n)
{
    return malloc(n ? n : 1);
}

void *pa_mem_calloc(size_t n, size_t size)
{
    return calloc(n ? n : 1, size ? size : 1);
}

void *pa_mem_realloc(void *p, size_t n)
{
    return realloc(p, n ? n : 1);
}

void pa_mem_free(void *p)
{
    free(p);
}

char *pa_mem_strdup(const char *s)
{
    return strdup(s);
}
