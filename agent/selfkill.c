/* selfkill.c — kill() interposed for one way a process ends without running its
 * destructors: a fatal signal sent to itself. CPython ends a program stopped by an
 * uncaught KeyboardInterrupt that way (after finalisation it restores SIG_DFL for
 * SIGINT and kills itself, so that its parent sees the signal), and the trace would
 * miss its exit checkpoint, leak records and end frame. When the signal is bound to
 * end the process — sent to our own pid or group, default action, a terminating
 * signal, not blocked in this thread — the exit checkpoint is taken first. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "config.h"
#include "selfkill.h"
#include "session.h"

typedef int (*kill_fn)(pid_t, int);
static kill_fn real_kill;

/* glibc's public alias of sigaction: the disposition the kernel has, whatever an
 * interposed sigaction tells the program about the agent's own signal. */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

void pa_selfkill_resolve(void) { *(void **)&real_kill = dlsym(RTLD_NEXT, "kill"); }

/* Signals whose default action is to ignore, stop or continue. */
static int default_is_harmless(int sig)
{
    return sig == SIGCHLD || sig == SIGCONT || sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
           sig == SIGTTOU || sig == SIGURG || sig == SIGWINCH;
}

static int ends_this_process(pid_t pid, int sig)
{
    if (sig <= 0 || sig >= NSIG || (pid != 0 && pid != getpid()))
        return 0;
    if (sig == SIGKILL)
        return 1;
    if (default_is_harmless(sig) || sig == pa_cfg.signal)
        return 0;
    struct sigaction sa;
    sigset_t blocked;
    if (__sigaction(sig, NULL, &sa) != 0 || (sa.sa_flags & SA_SIGINFO) || sa.sa_handler != SIG_DFL)
        return 0;
    return pthread_sigmask(SIG_BLOCK, NULL, &blocked) == 0 && !sigismember(&blocked, sig);
}

PA_EXPORT int kill(pid_t pid, int sig)
{
    if (pa_tracking() && !pa_in_agent && ends_this_process(pid, sig)) {
        int saved = errno;
        pa_session_exit();
        errno = saved;
    }
    if (!real_kill)
        return (int)syscall(SYS_kill, pid, sig);
    return real_kill(pid, sig);
}
