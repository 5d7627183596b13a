/* errno_keep.c — run under the agent with tracking on: every successful allocation
 * call leaves errno as the program set it, and failing ones still report ENOMEM.
 * Runs long enough (with PYAGENT_FLUSH_MS small) that hooks also flush, and on a
 * second thread whose first allocation registers it with the agent. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAGIC 1234

static _Thread_local int fails;
void *errno_keep_leak;

/* Runs stmt with errno = MAGIC and checks it is untouched after. */
#define KEEP(stmt)                                                                                 \
    do {                                                                                           \
        errno = MAGIC;                                                                             \
        stmt;                                                                                      \
        if (errno != MAGIC) {                                                                      \
            fprintf(stderr, "errno_keep: errno %d after `%s` (line %d)\n", errno, #stmt, __LINE__); \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "errno_keep: failed: %s (line %d)\n", #cond, __LINE__);                \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)

static void successful_calls(unsigned i)
{
    void *p = NULL, *q = NULL;
    size_t n = 16 + (i * 37) % 5000;
    KEEP(p = malloc(n));
    EXPECT(p != NULL);
    memset(p, 1, n);
    KEEP(p = realloc(p, n * 4)); /* grow: usually moves */
    EXPECT(p != NULL);
    KEEP(p = realloc(p, 8)); /* shrink */
    EXPECT(p != NULL);
    KEEP(free(p));
    KEEP(q = calloc(10, n));
    EXPECT(q != NULL && ((char *)q)[n] == 0);
    KEEP(free(q));
    KEEP(q = realloc(NULL, n));
    EXPECT(q != NULL);
    KEEP(q = reallocarray(q, 3, n));
    EXPECT(q != NULL);
    KEEP(free(q));
    KEEP(EXPECT(posix_memalign(&p, 64, n) == 0));
    EXPECT(p != NULL && (uintptr_t)p % 64 == 0);
    KEEP(free(p));
    KEEP(p = aligned_alloc(256, 512));
    EXPECT(p != NULL && (uintptr_t)p % 256 == 0);
    KEEP(EXPECT(malloc_usable_size(p) >= 512));
    KEEP(free(p));
    KEEP(p = memalign(128, n));
    EXPECT(p != NULL);
    KEEP(free(p));
    KEEP(free(NULL));
}

/* volatile: the compiler must not reason about these sizes */
static volatile size_t huge = SIZE_MAX, half = SIZE_MAX / 2, almost = SIZE_MAX - 4096;

static void failing_calls(void)
{
    void *p;
    errno = 0;
    p = malloc(huge);
    EXPECT(p == NULL && errno == ENOMEM);
    errno = 0;
    p = calloc(half, 4); /* n * size overflows */
    EXPECT(p == NULL && errno == ENOMEM);
    errno = 0;
    p = reallocarray(NULL, half, 4);
    EXPECT(p == NULL && errno == ENOMEM);
    errno = 0;
    p = aligned_alloc(64, almost);
    EXPECT(p == NULL && errno == ENOMEM);
    EXPECT(posix_memalign(&p, 64, almost) == ENOMEM);

    /* a failed realloc leaves the old block valid and still tracked (read back
     * through a volatile: GCC's -Wuse-after-free cannot know the realloc failed) */
    static char *volatile old;
    old = malloc(100);
    EXPECT(old != NULL);
    memset(old, 7, 100);
    errno = 0;
    p = realloc(old, almost);
    EXPECT(p == NULL && errno == ENOMEM);
    if (p == NULL) {
        EXPECT(old[99] == 7);
        KEEP(free(old));
    } else {
        free(p);
    }
}

static void run(unsigned ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (unsigned i = 0;; i++) {
        successful_calls(i);
        if (i % 64 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >= ms)
                break;
        }
    }
    failing_calls();
}

static void *thread_main(void *arg)
{
    (void)arg;
    run(100);
    return (void *)(intptr_t)fails;
}

int main(void)
{
    pthread_t th;
    if (pthread_create(&th, NULL, thread_main, NULL) != 0) {
        fprintf(stderr, "errno_keep: pthread_create failed\n");
        return 1;
    }
    run(150);
    void *thread_fails;
    pthread_join(th, &thread_fails);
    int total = fails + (int)(intptr_t)thread_fails;
    /* one block left live on purpose, so the agent has a leak to report */
    errno_keep_leak = malloc(4321);
    printf("errno_keep: %s\n", total ? "FAILED" : "ok");
    return total ? 1 : 0;
}
