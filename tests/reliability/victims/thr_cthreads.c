/* Victim: a C library that starts threads of its own (the interpreter never hears of
 * them): each allocates and frees, and leaves one block of a known size allocated,
 * which the leak report must attribute to thr_leaky_worker. Some are detached and
 * still running when the program exits. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static size_t leak_size;
static volatile long sink;

static void *thr_leaky_worker(void *arg)
{
    long sum = 0;
    for (int i = 0; i < 100; i++) {
        char *p = malloc(64 + (size_t)i);
        memset(p, i, 64);
        sum += p[7];
        free(p);
    }
    char *keep = malloc(leak_size); /* never freed: one per thread */
    memset(keep, 1, leak_size);
    sink += (long)(uintptr_t)keep;
    return (void *)sum;
}

/* Starts and joins n threads, at most 16 at once; returns the sum they computed. */
long thr_spawn(int n, long leak_bytes)
{
    pthread_t t[16];
    long total = 0;
    leak_size = (size_t)leak_bytes;
    for (int i = 0; i < n; i += 16) {
        int k = 0;
        for (; k < 16 && i + k < n; k++)
            if (pthread_create(&t[k], NULL, thr_leaky_worker, NULL) != 0)
                return -1;
        for (int j = 0; j < k; j++) {
            void *r;
            pthread_join(t[j], &r);
            total += (long)r;
        }
    }
    return total;
}

static void *thr_forever(void *arg)
{
    (void)arg;
    for (;;) {
        void *p = malloc(128 + (size_t)(sink & 255));
        sink += (long)(uintptr_t)p & 1;
        free(p);
    }
    return NULL;
}

/* For a Python thread (through ctypes, so without the GIL): allocates and frees until
 * the process ends. */
void thr_alloc_forever(void) { thr_forever(NULL); }

/* Starts n detached threads allocating and freeing until the process ends. */
int thr_start_forever(int n)
{
    for (int i = 0; i < n; i++) {
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &a, thr_forever, NULL) != 0)
            return -1;
        pthread_attr_destroy(&a);
    }
    return 0;
}
