/* run_report.h — for `pyagent run`: which traces the command wrote (files matching
 * PYAGENT_OUTPUT's template that were not there before) and a one-line summary of
 * each, like `perf record`'s closing line. */
#ifndef PA_RUN_REPORT_H
#define PA_RUN_REPORT_H

#include <stdio.h>

struct pa_run_outputs {
    char dir[4096];      /* directory of the template ("." when relative without one) */
    char pattern[4096];  /* file name template: %p = pid, %% = % */
    char **before;       /* matching names present before the run */
    size_t nbefore;
    int disabled;        /* PYAGENT_OUTPUT is empty: no trace wanted */
    int unknown;         /* the directory part has %p: not searched */
};

/* Reads PYAGENT_OUTPUT from env (the agent's default when absent) and lists the
 * matching files already there. */
void pa_run_outputs_before(struct pa_run_outputs *o, char *const *env);

/* Prints one line per new trace to f (or says none was written), then frees o. */
void pa_run_outputs_report(struct pa_run_outputs *o, FILE *f);

/* 1 when name fits the template (%p matches one or more digits). */
int pa_run_name_matches(const char *pattern, const char *name);

#endif
