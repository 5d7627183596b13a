/* hooks.h — CPython frame events (sys.monitoring on 3.12+, PyEval_SetProfile
 * before) feeding trace mode (calltrace.c) and PYAGENT_COUNT (count.c). */
#ifndef PA_HOOKS_H
#define PA_HOOKS_H

/* At activation, GIL held: installs what PYAGENT_MODE and PYAGENT_COUNT need. */
void pa_hooks_start(void);

/* Whether Python calls are being traced. */
int pa_hooks_tracing(void);

#endif
