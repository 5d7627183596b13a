/* Victim: blocking calls interrupted by the program's own signal, deterministically.
 * A blocker thread alternates CPU work (where the agent's counters overflow) with
 * blocking calls; the main thread waits until the blocker sleeps in the kernel, then
 * sends it SIGUSR1. What each call returned is written out: the same with and
 * without the agent (the agent's signal never interrupts a system call, and the
 * program's interrupts exactly as the kernel says). Called through ctypes. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t caught;
static volatile unsigned long sink;
static int pipefd[2];
static sem_t sem;
static volatile pid_t blocker_tid;
static atomic_int started, finished; /* calls the blocker began and returned from */
static char result[1024];

static void on_usr1(int sig) { (void)sig, caught++; }

static void burn(void)
{
    for (int i = 0; i < 3000000; i++)
        sink += (unsigned long)i * 2654435761u;
}

static void note(const char *what, long rc, int err)
{
    size_t n = strlen(result);
    snprintf(result + n, sizeof result - n, "%s=%s ", what, rc < 0 ? (err == EINTR ? "EINTR" : strerror(err)) : "ok");
    atomic_fetch_add(&finished, 1);
}

#define CALLS 5

static void *blocker(void *arg)
{
    (void)arg;
    char c;
    blocker_tid = (pid_t)syscall(SYS_gettid);
    burn();
    atomic_fetch_add(&started, 1);
    long rc = read(pipefd[0], &c, 1);
    note("read", rc, errno);
    burn();
    struct pollfd p = { pipefd[0], POLLIN, 0 };
    atomic_fetch_add(&started, 1);
    rc = poll(&p, 1, -1);
    note("poll", rc, errno);
    burn();
    struct timespec t = { 30, 0 };
    atomic_fetch_add(&started, 1);
    rc = nanosleep(&t, NULL);
    note("nanosleep", rc, errno);
    burn();
    atomic_fetch_add(&started, 1);
    rc = sem_wait(&sem);
    note("sem_wait", rc, errno);
    burn();
    fd_set r;
    FD_ZERO(&r);
    FD_SET(pipefd[0], &r);
    atomic_fetch_add(&started, 1);
    rc = select(pipefd[0] + 1, &r, NULL, NULL, NULL);
    note("select", rc, errno);
    if (rc > 0)
        rc = read(pipefd[0], &c, 1);
    return NULL;
}

/* 1 when thread tid sleeps in the kernel (state S in /proc). */
static int sleeping(pid_t tid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *close_paren = strrchr(buf, ')');
    return close_paren && close_paren[1] == ' ' && close_paren[2] == 'S';
}

static void pause_ms(int ms)
{
    struct timespec t = { 0, ms * 1000000L };
    nanosleep(&t, NULL);
}

/* Call i of the blocker: once it sleeps in it, one SIGUSR1; a call the kernel
 * restarted goes on waiting, and is then given what it waits for. */
static int interrupt_call(pthread_t t, int i)
{
    for (int k = 0; k < 5000 && !(atomic_load(&started) > i && sleeping(blocker_tid)); k++)
        pause_ms(1);
    pause_ms(5);
    pthread_kill(t, SIGUSR1);
    for (int k = 0; k < 50 && atomic_load(&finished) <= i; k++)
        pause_ms(2);
    if (atomic_load(&finished) > i)
        return 0;
    if (i == 3)
        sem_post(&sem);
    else if (write(pipefd[1], "x", 1) != 1)
        return -1;
    for (int k = 0; k < 5000 && atomic_load(&finished) <= i; k++)
        pause_ms(1);
    return atomic_load(&finished) > i ? 1 : -1;
}

/* Five blocking calls, each interrupted once by SIGUSR1 (handler with SA_RESTART or
 * not). Returns "read=EINTR|ok poll=... nanosleep=... sem_wait=... select=... caught=N
 * restarted=N". */
const char *eintr_calls(int restart)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigemptyset(&sa.sa_mask);
    result[0] = 0;
    caught = 0;
    blocker_tid = 0;
    atomic_store(&started, 0);
    atomic_store(&finished, 0);
    if (pipe(pipefd) != 0 || sem_init(&sem, 0, 0) != 0 || sigaction(SIGUSR1, &sa, &old) != 0)
        return "setup failed";
    pthread_t t;
    pthread_create(&t, NULL, blocker, NULL);
    int restarted = 0, lost = 0;
    for (int i = 0; i < CALLS; i++) {
        int r = interrupt_call(t, i);
        restarted += r == 1;
        lost += r < 0;
    }
    if (lost)
        return "the blocker stopped answering";
    pthread_join(t, NULL);
    sigaction(SIGUSR1, &old, NULL);
    close(pipefd[0]);
    close(pipefd[1]);
    sem_destroy(&sem);
    size_t n = strlen(result);
    snprintf(result + n, sizeof result - n, "caught=%d restarted=%d", (int)caught, restarted);
    return result;
}
