/* control.c — the pause switch. The toggle signal's handler only flips the switch
 * and counts; the TOGGLE events are written by the next agent code that polls. */
#include "control.h"

#include <signal.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "pyagent/format.h"

atomic_int pa_paused;
atomic_uint pa_toggles_pending;
static atomic_uint_fast64_t toggle_ns;

void pa_control_set(int on, unsigned cause)
{
    if (atomic_exchange(&pa_paused, on) == on)
        return;
    pa_thread_t *t = pa_thread_get();
    if (t)
        pa_thread_emit_toggle(t, pa_clock_ns(), !on, cause);
}

static void on_toggle(int sig)
{
    (void)sig;
    atomic_store(&toggle_ns, pa_clock_ns());
    atomic_fetch_xor(&pa_paused, 1);
    atomic_fetch_add(&pa_toggles_pending, 1);
}

void pa_control_take_toggles(pa_thread_t *t)
{
    if (!t)
        return;
    unsigned n = atomic_exchange(&pa_toggles_pending, 0);
    /* Several toggles between two polls: only the state they left matters, but a
     * pause followed by a resume is still written as such. */
    int now_paused = pa_control_paused();
    uint64_t when = atomic_load(&toggle_ns);
    if (n % 2 == 0)
        pa_thread_emit_toggle(t, when, now_paused, PA_TOGGLE_SIGNAL);
    pa_thread_emit_toggle(t, when, !now_paused, PA_TOGGLE_SIGNAL);
}

void pa_control_start(void)
{
    if (pa_cfg.start_paused) {
        atomic_store(&pa_paused, 1);
        pa_thread_t *t = pa_thread_get();
        if (t)
            pa_thread_emit_toggle(t, pa_clock_ns(), 0, PA_TOGGLE_START);
    }
    if (!pa_cfg.toggle_signal)
        return;
    struct sigaction sa, old;
    if (sigaction(pa_cfg.toggle_signal, NULL, &old) != 0 || (old.sa_flags & SA_SIGINFO) ||
        (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)) {
        pa_log("PYAGENT_TOGGLE_SIGNAL: signal %d already has a handler; recording cannot be toggled by signal",
               pa_cfg.toggle_signal);
        return;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_toggle;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(pa_cfg.toggle_signal, &sa, NULL);
}
