/* sigchain.h — the sampling signal stays the agent's while the program's own
 * sigaction()/signal() calls on it are recorded and honoured by chaining. Without
 * this, a program that installs a handler on that signal would be handed the counter
 * overflows, and one that resets it to SIG_DFL would be killed by the next one. */
#ifndef PA_SIGCHAIN_H
#define PA_SIGCHAIN_H

#include <signal.h>

/* Installs handler on sig (SA_SIGINFO | SA_RESTART) and from then on answers the
 * program's sigaction()/signal() on sig from the program's own disposition, which
 * starts as the one found there. Only one signal is claimed; ordinary context.
 * @return 0, or -errno of the real sigaction (nothing claimed). */
int pa_sigchain_claim(int sig, void (*handler)(int, siginfo_t *, void *));

/* From the agent's handler: does for a signal that was not the agent's what the
 * program's disposition says (its handler with its mask and flags; SIG_IGN nothing;
 * SIG_DFL the default action, which for a realtime signal ends the process).
 * Async-signal-safe. */
void pa_sigchain_forward(int sig, siginfo_t *si, void *uc);

/* fork child: the bookkeeping of an update another thread was making is reset. */
void pa_sigchain_fork_child(void);

#endif
