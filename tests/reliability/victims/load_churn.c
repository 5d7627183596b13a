/* Victim: threads allocating and freeing at full speed around a large live set, through
 * every allocation function the agent interposes. The program counts its own live bytes
 * exactly (requested sizes), so the agent's view of what is live at exit can be checked
 * against it: nothing lost, nothing counted twice. Built as a shared library and called
 * through ctypes (with the GIL released, as a C extension would). */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct worker {
    pthread_t tid;
    uint64_t seed;
    size_t slots;
    void **ptr;
    size_t *size;
    double seconds;
    uint64_t ops;
    int failed;
};

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Mostly small blocks (as a program's objects are), a few hundred bytes now and then,
 * rarely a few pages. */
static size_t pick_size(uint64_t r)
{
    unsigned k = (unsigned)(r & 1023);
    if (k < 990)
        return 1 + (size_t)((r >> 10) % 96);
    if (k < 1022)
        return 97 + (size_t)((r >> 10) % 2000);
    return 4096 + (size_t)((r >> 10) % 60000);
}

/* A new block of n bytes from one of the allocation functions, chosen by r. */
static void *churn_alloc(uint64_t r, size_t n)
{
    void *p = NULL;
    switch ((r >> 40) % 8) {
    case 0:
    case 1:
    case 2:
        return malloc(n);
    case 3:
        return calloc(1, n);
    case 4:
        return posix_memalign(&p, 64, n) == 0 ? p : NULL;
    case 5:
        return aligned_alloc(32, (n + 31) & ~(size_t)31); /* size a multiple of the alignment */
    case 6:
        return memalign(16, n);
    default:
        return realloc(NULL, n);
    }
}

static size_t aligned_size(uint64_t r, size_t n)
{
    return (r >> 40) % 8 == 5 ? (n + 31) & ~(size_t)31 : n;
}

static void fill_slot(struct worker *w, size_t i)
{
    uint64_t r = next_random(&w->seed);
    size_t n = pick_size(r);
    void *p = churn_alloc(r, n);
    if (!p) {
        w->failed = 1;
        w->ptr[i] = NULL;
        w->size[i] = 0;
        return;
    }
    *(volatile char *)p = 1;
    w->ptr[i] = p;
    w->size[i] = aligned_size(r, n);
}

/* One operation on a random slot: free and replace, grow or shrink in place
 * (realloc), or release through realloc(p, 0) and replace. */
static void churn_step(struct worker *w)
{
    uint64_t r = next_random(&w->seed);
    size_t i = (size_t)(r % w->slots);
    unsigned op = (unsigned)((r >> 32) % 16);
    if (op < 10) {
        free(w->ptr[i]);
        free(NULL);
        fill_slot(w, i);
    } else if (op < 15) {
        size_t n = pick_size(next_random(&w->seed));
        void *p = realloc(w->ptr[i], n);
        if (p) {
            w->ptr[i] = p;
            w->size[i] = n;
        } else {
            w->failed = 1;
        }
    } else {
        void *gone = realloc(w->ptr[i], 0); /* glibc frees and returns NULL */
        free(gone);
        fill_slot(w, i);
    }
    w->ops++;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *churn_worker(void *arg)
{
    struct worker *w = arg;
    for (size_t i = 0; i < w->slots; i++)
        fill_slot(w, i);
    double end = now_s() + w->seconds;
    do {
        for (int k = 0; k < 4096; k++)
            churn_step(w);
    } while (now_s() < end);
    return NULL;
}

/* Runs `threads` workers for `seconds`, each keeping its share of `live` blocks, and
 * leaves every block allocated (the leak report at exit must show exactly them).
 * Writes the live bytes, live blocks and operations done; returns 0, or -1 when an
 * allocation failed or a thread could not start. */
int churn(int threads, double seconds, long live, uint64_t seed, uint64_t *out_bytes, uint64_t *out_blocks,
          uint64_t *out_ops)
{
    struct worker *w = calloc((size_t)threads, sizeof *w);
    int rc = 0;
    if (!w)
        return -1;
    for (int t = 0; t < threads; t++) {
        w[t].seed = seed * 0x9E3779B97F4A7C15ull + (uint64_t)t * 7919u + 1u;
        w[t].slots = (size_t)(live / threads) + (t < live % threads);
        w[t].ptr = calloc(w[t].slots, sizeof(void *));
        w[t].size = calloc(w[t].slots, sizeof(size_t));
        w[t].seconds = seconds;
        if (!w[t].ptr || !w[t].size || pthread_create(&w[t].tid, NULL, churn_worker, &w[t]) != 0)
            return -1;
    }
    *out_bytes = *out_blocks = *out_ops = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(w[t].tid, NULL);
        rc |= w[t].failed ? -1 : 0;
        for (size_t i = 0; i < w[t].slots; i++) {
            *out_bytes += w[t].size[i];
            *out_blocks += w[t].ptr[i] != NULL;
        }
        *out_ops += w[t].ops;
    }
    /* The bookkeeping arrays are the program's own: freed, so only the churned
     * blocks stay live. */
    for (int t = 0; t < threads; t++) {
        free(w[t].ptr);
        free(w[t].size);
    }
    free(w);
    return rc;
}
