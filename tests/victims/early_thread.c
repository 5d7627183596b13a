/* Victim: a preloaded C library whose constructor starts a thread before the
 * interpreter exists (so before the agent activates). The thread burns `EARLY_MS`
 * milliseconds (default 400) of its own CPU time: sampling must still see it. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

volatile unsigned long early_spin_sink;

static long cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

__attribute__((noinline)) static void *burn_cpu_before_python(void *arg)
{
    long ms = (long)(intptr_t)arg, start = cpu_ms();
    struct timespec pause = { 0, 200 * 1000000 };
    nanosleep(&pause, NULL); /* let the interpreter start and the agent activate */
    while (cpu_ms() - start < ms)
        for (int i = 0; i < 100000; i++)
            early_spin_sink += (unsigned long)i * 2654435761u;
    return NULL;
}

__attribute__((constructor)) static void start_early_thread(void)
{
    const char *v = getenv("EARLY_MS");
    pthread_t t;
    if (pthread_create(&t, NULL, burn_cpu_before_python, (void *)(intptr_t)(v ? atol(v) : 400)) == 0)
        pthread_detach(t);
}
