/* Victim: a C library that starts its own thread (no Python thread state) which leaks. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

void *volatile native_thread_sink; /* keeps the compiler from dropping the mallocs */

__attribute__((noinline)) static void *leak_in_native_thread(void *arg)
{
    for (int i = 0; i < 25; i++)
        native_thread_sink = malloc(1000);
    return arg;
}

int run_native_thread(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, leak_in_native_thread, NULL) != 0)
        return -1;
    return pthread_join(t, NULL);
}

/* A C thread (no Python thread state) burning CPU for `ms` milliseconds of its own
 * CPU time: sampling must see it, with its native frames. */
#include <time.h>

volatile unsigned long native_spin_sink;

__attribute__((noinline)) static void *burn_cpu_in_native_thread(void *arg)
{
    long ms = (long)(intptr_t)arg;
    struct timespec t0, t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    do {
        for (int i = 0; i < 100000; i++)
            native_spin_sink += (unsigned long)i * 2654435761u;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
    return NULL;
}

int spin_native_thread(int ms)
{
    pthread_t t;
    if (pthread_create(&t, NULL, burn_cpu_in_native_thread, (void *)(intptr_t)ms) != 0)
        return -1;
    return pthread_join(t, NULL);
}
