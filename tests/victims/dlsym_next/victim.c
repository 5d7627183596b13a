/* victim.c — libvictim.so: asks for the *next* victim_fn after itself. Nothing after
 * libvictim in the global scope defines one, so glibc answers NULL, unless an
 * interposed dlsym made the lookup look as if it came from somewhere else. */
#include <dlfcn.h>

/* glibc resolves RTLD_NEXT relative to dlsym's return address: a tail call here
 * would make main the caller, so the barrier keeps the call a real call. */
#define KEEP_CALLER(p) __asm__ volatile("" : "+r"(p) : : "memory")

int victim_fn(void) { return 2; }

void *lookup_next(void)
{
    void *p = dlsym(RTLD_NEXT, "victim_fn");
    KEEP_CALLER(p);
    return p;
}

void *lookup_default(void)
{
    void *p = dlsym(RTLD_DEFAULT, "victim_fn");
    KEEP_CALLER(p);
    return p;
}

void *lookup_next_missing(void)
{
    void *p = dlsym(RTLD_NEXT, "victim_no_such_symbol");
    KEEP_CALLER(p);
    return p;
}
