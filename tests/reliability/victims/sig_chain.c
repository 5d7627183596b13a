/* Victim: a program that uses a realtime signal itself — the one the agent samples
 * with, by default — through sigaction, signal, sigqueue, raise, SA_RESETHAND, SIG_IGN,
 * SIG_DFL and sigwaitinfo, with CPU work in between (when the agent's counters
 * overflow). It writes what it observed into a buffer; the text must be the same
 * with and without the agent. Called through ctypes. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t hits, value_sum, plain_hits, reset_hits;
static volatile sig_atomic_t mask_ok = 1;
static int mask_probe;

static void on_info(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    hits++;
    value_sum += si->si_value.sival_int;
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    if (!sigismember(&now, mask_probe)) /* the handler's sa_mask must be in force */
        mask_ok = 0;
}

static void on_plain(int sig) { (void)sig, plain_hits++; }
static void on_reset(int sig) { (void)sig, reset_hits++; }

static volatile unsigned long sink;

/* CPU time in user mode, where the agent's counters overflow. */
static void burn(int ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    do {
        for (int i = 0; i < 100000; i++)
            sink += (unsigned long)i * 2654435761u;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

static const char *kind(const struct sigaction *sa)
{
    if (sa->sa_flags & SA_SIGINFO)
        return sa->sa_sigaction == on_info ? "on_info" : "other-siginfo";
    if (sa->sa_handler == SIG_DFL)
        return "SIG_DFL";
    if (sa->sa_handler == SIG_IGN)
        return "SIG_IGN";
    if (sa->sa_handler == on_plain)
        return "on_plain";
    return sa->sa_handler == on_reset ? "on_reset" : "other";
}

#define SAY(...) (n += snprintf(out + n, (size_t)(len - n), __VA_ARGS__))

/* Exercises `sig`; writes one line per step into out. Returns 0. */
int chain_check(int sig, char *out, int len)
{
    int n = 0;
    struct sigaction sa, old, cur;
    mask_probe = SIGUSR2;

    sigaction(sig, NULL, &old);
    SAY("start %s\n", kind(&old));

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(sig, &sa, &cur);
    SAY("installed over %s\n", kind(&cur));
    for (int i = 1; i <= 5; i++) {
        union sigval v = { .sival_int = i };
        sigqueue(getpid(), sig, v);
    }
    burn(150);
    SAY("sigqueue x5: hits %d sum %d mask %s\n", (int)hits, (int)value_sum, mask_ok ? "kept" : "lost");
    sigaction(sig, NULL, &cur);
    SAY("query %s flags-siginfo %d usr2-in-mask %d\n", kind(&cur), !!(cur.sa_flags & SA_SIGINFO),
        sigismember(&cur.sa_mask, SIGUSR2));

    void (*prev)(int) = signal(sig, on_plain);
    SAY("signal() returned %s\n", (void *)prev == (void *)on_info ? "on_info" : "other");
    raise(sig);
    burn(100);
    SAY("raise: plain %d\n", (int)plain_hits);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_reset;
    sa.sa_flags = SA_RESETHAND;
    sigaction(sig, &sa, NULL);
    raise(sig);
    sigaction(sig, NULL, &cur);
    SAY("resethand: hits %d now %s\n", (int)reset_hits, kind(&cur));

    signal(sig, SIG_IGN);
    raise(sig);
    burn(100);
    SAY("ignored: still here\n");

    signal(sig, SIG_DFL); /* the overflows that follow must not end the program */
    burn(150);
    SAY("default: still here\n");

    sigset_t set, was;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, &was);
    union sigval v = { .sival_int = 42 };
    sigqueue(getpid(), sig, v);
    siginfo_t si;
    int got = sigwaitinfo(&set, &si);
    SAY("sigwaitinfo: %s value %d\n", got == sig ? "sig" : "other", si.si_value.sival_int);
    sigprocmask(SIG_SETMASK, &was, NULL);

    sigaction(sig, &old, NULL);
    return 0;
}

/* Blocks every signal, runs, then waits for any signal with a zero timeout: nothing
 * was sent, so nothing may be received (the agent's overflows are not the program's). */
int wait_all(char *out, int len)
{
    int n = 0;
    sigset_t all, was;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &was);
    burn(150);
    struct timespec zero = { 0, 0 };
    siginfo_t si;
    int got = sigtimedwait(&all, &si, &zero);
    SAY("sigtimedwait(all, 0): %d\n", got);
    pthread_sigmask(SIG_SETMASK, &was, NULL);
    return 0;
}
