/* crash.c — a C library that crashes on request, loaded through ctypes by the exit
 * cases: the agent must neither mask the crash (same signal, same status) nor lose
 * what it recorded before it. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Blocks the test looks for in the trace: allocated here, never freed. */
void *crash_keep(size_t size)
{
    void *p = malloc(size);
    if (p)
        memset(p, 0x5a, size);
    return p;
}

/* volatile: the compiler must not prove the store undefined and drop it. */
int crash_segv(void)
{
    volatile int *volatile nowhere = NULL;
    *nowhere = 42;
    return *nowhere;
}

void crash_abort(void) { abort(); }

int crash_fpe(int zero)
{
    volatile int d = zero;
    return 1 / d;
}

/* Runs in a thread of the program's own: the crash happens off the main thread. */
void crash_raise(int sig) { raise(sig); }
