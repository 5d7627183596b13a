/* Victim: a C library that starts its own thread (no Python thread state) which leaks. */
#include <pthread.h>
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
