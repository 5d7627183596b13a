/* Victim: blocking system calls interrupted by the program's own timer signal. Every
 * EINTR must be the program's SIGALRM: the agent's sampling signal is raised only
 * while a thread runs user code, so it never interrupts a system call. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig) { (void)sig; alarms++; }

volatile unsigned long eintr_sink;

/* Alternates CPU work (which the agent samples) with blocking reads of an empty pipe
 * for `ms` milliseconds of wall time; returns the EINTRs the program's alarms do not
 * account for (0 expected; an alarm that lands during the CPU work interrupts no
 * read, so EINTRs never exceed alarms on their own), or -1. */
int eintr_balance(int ms)
{
    int fds[2];
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: a read interrupted by it fails with EINTR */
    sigemptyset(&sa.sa_mask);
    if (pipe(fds) != 0 || sigaction(SIGALRM, &sa, &old) != 0)
        return -1;
    struct itimerval it = { { 0, 3000 }, { 0, 3000 } };
    setitimer(ITIMER_REAL, &it, NULL);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long eintrs = 0;
    alarms = 0;
    do {
        for (int i = 0; i < 200000; i++)
            eintr_sink += (unsigned long)i * 2654435761u;
        char c;
        if (read(fds[0], &c, 1) < 0 && errno == EINTR)
            eintrs++;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    close(fds[0]);
    close(fds[1]);
    if (eintrs == 0)
        return -2; /* the timer never interrupted a read: the test would prove nothing */
    return eintrs > alarms ? (int)(eintrs - alarms) : 0;
}
