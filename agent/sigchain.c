/* sigchain.c — sigaction() and signal() interposed for the one signal the agent
 * samples with (see sigchain.h), and the sigwait family so that a thread waiting
 * for signals it blocked is not handed a counter overflow. Every other signal goes
 * straight to libc. Calls that reach libc by other names (bsd_signal, sysv_signal,
 * sigset, __sigaction, a raw rt_sigaction) still replace the agent's handler, and a
 * signalfd still reads overflows: those are rare; the common names are covered. */
#include "sigchain.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/* glibc's public alias of sigaction (GLIBC_2.2.5): the real one, without dlsym. */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

static atomic_int claimed;          /* the signal, 0 before pa_sigchain_claim */
static struct sigaction program;    /* what the program believes is installed */
static atomic_uint seq;             /* odd while `program` is being written */
static pa_spin_t writer = PA_SPIN_INIT;

int pa_sigchain_claim(int sig, void (*handler)(int, siginfo_t *, void *))
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (__sigaction(sig, &sa, &old) != 0)
        return -errno;
    program = old;
    atomic_store(&claimed, sig);
    return 0;
}

/* Readers are signal handlers on any thread: a seqlock, retried while a writer is
 * halfway. Writers block every signal meanwhile, so no handler of theirs can spin
 * on their own half-written copy. */
static void read_program(struct sigaction *out)
{
    for (;;) {
        unsigned s = atomic_load_explicit(&seq, memory_order_acquire);
        if (s & 1)
            continue;
        memcpy(out, &program, sizeof *out);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&seq, memory_order_relaxed) == s)
            return;
    }
}

static void swap_program(const struct sigaction *act, struct sigaction *old)
{
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    pa_spin_lock(&writer);
    if (old)
        *old = program;
    if (act) {
        atomic_fetch_add_explicit(&seq, 1, memory_order_acq_rel);
        atomic_thread_fence(memory_order_release);
        program = *act;
        atomic_fetch_add_explicit(&seq, 1, memory_order_release);
    }
    pa_spin_unlock(&writer);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

void pa_sigchain_fork_child(void)
{
    /* Another thread of the parent may have been halfway through an update. */
    pa_spin_reset(&writer);
    atomic_store(&seq, (atomic_load(&seq) + 1) & ~1u);
}

PA_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (!sig || sig != atomic_load_explicit(&claimed, memory_order_relaxed))
        return __sigaction(sig, act, old);
    swap_program(act, old);
    return 0;
}

typedef void (*handler_fn)(int);

PA_EXPORT handler_fn signal(int sig, handler_fn fn)
{
    static handler_fn (*real)(int, handler_fn);
    if (!sig || sig != atomic_load_explicit(&claimed, memory_order_relaxed)) {
        if (!real)
            *(void **)&real = dlsym(RTLD_NEXT, "signal");
        return real ? real(sig, fn) : SIG_ERR;
    }
    /* glibc's signal(): BSD semantics, the signal itself blocked in its handler. */
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, sig);
    swap_program(&sa, &old);
    return old.sa_handler;
}

static void default_action(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    __sigaction(sig, &dfl, NULL);
    /* Blocked until the agent's handler returns, then delivered as it would have
     * been without the agent. */
    syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
}

void pa_sigchain_forward(int sig, siginfo_t *si, void *uc)
{
    struct sigaction p;
    read_program(&p);
    if (!(p.sa_flags & SA_SIGINFO) && p.sa_handler == SIG_IGN)
        return;
    if (!(p.sa_flags & SA_SIGINFO) && p.sa_handler == SIG_DFL) {
        default_action(sig);
        return;
    }
    if (p.sa_flags & SA_RESETHAND) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        swap_program(&dfl, NULL);
    }
    /* The mask the program's handler would have run with. The signal itself stays
     * blocked even under SA_NODEFER: the agent's handler is not reentrant. */
    sigset_t saved, mask = p.sa_mask;
    pthread_sigmask(SIG_BLOCK, &mask, &saved);
    if (p.sa_flags & SA_SIGINFO)
        p.sa_sigaction(sig, si, uc);
    else
        p.sa_handler(sig);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

/* ---- the sigwait family ----
 * A thread that blocks every signal and waits for them (sigfillset + sigwaitinfo)
 * would receive the overflow that became pending while it ran: such a signal (the
 * claimed one, raised by the kernel: si_code > 0) is swallowed and the wait goes
 * on. Sent ones (kill, sigqueue: si_code <= 0) are the program's. */

typedef int (*timedwait_fn)(const sigset_t *, siginfo_t *, const struct timespec *);

static timedwait_fn real_timedwait(void)
{
    static timedwait_fn real;
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "sigtimedwait");
    return real;
}

static int agents_own(int sig, const siginfo_t *si)
{
    return sig > 0 && sig == atomic_load_explicit(&claimed, memory_order_relaxed) && si->si_code > 0;
}

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* timeout NULL waits for ever; returns the real call's result and errno. */
static int wait_for_program(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
    timedwait_fn real = real_timedwait();
    if (!real)
        return errno = ENOSYS, -1;
    siginfo_t mine;
    // cppcheck-suppress uninitvar ; only its address is taken here: real() fills it
    siginfo_t *si = info ? info : &mine;
    int64_t end = timeout ? mono_ns() + (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec : 0;
    const struct timespec *wait = timeout;
    struct timespec rest;
    for (;;) {
        int sig = real(set, si, wait);
        if (!agents_own(sig, si))
            return sig;
        if (timeout) {
            int64_t left = end - mono_ns();
            left = left > 0 ? left : 0;
            rest = (struct timespec){ (time_t)(left / 1000000000), (long)(left % 1000000000) };
            wait = &rest;
        }
    }
}

PA_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
    return wait_for_program(set, info, timeout);
}

PA_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
    return wait_for_program(set, info, NULL);
}

/* sigwait returns the error instead of setting errno, and is never interrupted. */
PA_EXPORT int sigwait(const sigset_t *set, int *sig)
{
    int saved = errno, got;
    do
        got = wait_for_program(set, NULL, NULL);
    while (got < 0 && errno == EINTR);
    int err = got < 0 ? errno : 0;
    errno = saved;
    if (got > 0)
        *sig = got;
    return err;
}
