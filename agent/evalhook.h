/* evalhook.h — trace mode's frame evaluator on CPython 3.12+ (PEP 523): every Python
 * frame's entry and exit, at a fraction of sys.monitoring's cost per call. */
#ifndef PA_EVALHOOK_H
#define PA_EVALHOOK_H

/* At activation, GIL held. Installs the evaluator unless this CPython is older than
 * 3.12, its layout is unknown or another evaluator is already set: then -1, and the
 * caller uses sys.monitoring. count_too: the evaluator also feeds PYAGENT_COUNT.
 * fallback runs once, GIL held, if a thread nears its stack's end (then calls are
 * the fallback's to record from that frame on). */
int pa_evalhook_install(int count_too, void (*fallback)(void));

#endif
