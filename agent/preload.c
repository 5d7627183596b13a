/* preload.c — what the dynamic loader calls: the constructor that decides whether
 * to track, the destructor that takes the exit checkpoint, and the fork handlers. */
#include <pthread.h>

#include "alloc.h"
#include "common.h"
#include "exec.h"
#include "selfkill.h"
#include "session.h"

/* glibc passes argc, argv and envp to ELF constructors: reading them here needs
 * neither getenv nor /proc. */
__attribute__((constructor)) static void pa_preload_init(int argc, char **argv, char **envp)
{
    pa_in_agent = 1;
    pa_alloc_resolve();
    pa_exec_resolve();
    pa_selfkill_resolve();
    int track = pa_session_init(argc, argv, envp) == 0;
    if (track && pthread_atfork(pa_session_fork_prepare, pa_session_fork_parent, pa_session_fork_child) != 0)
        track = 0;
    atomic_store(&pa_state, track ? PA_STATE_TRACKING : PA_STATE_DORMANT);
    pa_in_agent = 0;
}

__attribute__((destructor)) static void pa_preload_fini(void) { pa_session_exit(); }
