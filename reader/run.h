/* run.h — `pyagent run [options] [--] COMMAND...`: runs a command under the agent
 * (LD_PRELOAD and PYAGENT_* set from the flags), passes its exit status through and
 * says where its traces went, like `perf record` and `heaptrack`. CLI only: not part of
 * the reader library the agent links. */
#ifndef PA_RUN_H
#define PA_RUN_H

/* argv[0] is "run". @return the exit status to leave with (the command's, or 2 for a
 * usage error, 127/126 when the command cannot be started). A command killed by a
 * signal makes this process die of the same signal before returning. */
int pa_run_main(int argc, char **argv);

/* Prints `pyagent run --help`. */
void pa_run_help(void);

#endif
