/* evalhook.h — trace mode's frame evaluator on CPython 3.12 (PEP 523): every Python
 * frame's entry and exit, at a fraction of sys.monitoring's cost per call. */
#ifndef PA_EVALHOOK_H
#define PA_EVALHOOK_H

/* At activation, GIL held. Installs the evaluator on 3.12 unless the layout is
 * unknown, another evaluator is already set or a plain call's C stack cannot be
 * measured: then -1, and the caller uses sys.monitoring. count_too: the evaluator
 * also feeds PYAGENT_COUNT. fallback runs once, GIL held, when the evaluator steps
 * aside (deep recursion, the program's own perf trampolines): calls are the
 * fallback's to record from then on. */
int pa_evalhook_install(int count_too, void (*fallback)(void));

#endif
