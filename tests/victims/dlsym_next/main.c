/* main.c — checks that an LD_PRELOADed dlsym keeps glibc's RTLD_NEXT semantics for
 * other callers (the caller's return address decides what "next" means), and, with
 * --agent, that a libc handle lookup of malloc hands out the allocator the program
 * itself calls. Prints one line per check; the output must not depend on the agent. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int victim_fn(void); /* ours, exported with -rdynamic; libvictim has its own */
void *lookup_next(void);
void *lookup_default(void);
void *lookup_next_missing(void);

int victim_fn(void) { return 1; }

/* Which victim_fn a pointer is: ours (1), libvictim's (2), or none. */
static const char *which(void *p)
{
    if (!p)
        return "NULL";
    if (p == (void *)victim_fn)
        return "main";
    return ((int (*)(void))p)() == 2 ? "libvictim" : "other";
}

int main(int argc, char **argv)
{
    int agent = argc > 1 && !strcmp(argv[1], "--agent");
    int ok = 1;

    const char *next = which(lookup_next());
    printf("libvictim RTLD_NEXT victim_fn: %s\n", next);
    ok &= !strcmp(next, "NULL");
    printf("libvictim RTLD_NEXT missing: %s\n", lookup_next_missing() ? "found" : "NULL");
    const char *def = which(lookup_default());
    printf("libvictim RTLD_DEFAULT victim_fn: %s\n", def);
    ok &= !strcmp(def, "main");
    const char *mine = which(dlsym(RTLD_NEXT, "victim_fn"));
    printf("main RTLD_NEXT victim_fn: %s\n", mine);
    ok &= !strcmp(mine, "libvictim");

    if (agent) {
        void *libc = dlopen("libc.so.6", RTLD_NOW);
        void *m = libc ? dlsym(libc, "malloc") : NULL;
        int same = m && m == (void *)malloc;
        fprintf(stderr, "agent: libc handle malloc is the program's malloc: %s\n", same ? "yes" : "no");
        ok &= same;
        /* the hook it hands out must work like malloc */
        void *(*alloc)(size_t) = (void *(*)(size_t))m;
        char *p = alloc ? alloc(32) : NULL;
        if (p) {
            memset(p, 1, 32);
            free(p);
        }
        ok &= p != NULL;
    }
    printf("%s\n", ok ? "dlsym_next: ok" : "dlsym_next: FAILED");
    return ok ? 0 : 1;
}
