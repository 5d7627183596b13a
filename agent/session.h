/* session.h — one traced process: what it is (argv, pid, interpreter), and the
 * moments that matter (interpreter ready, program end, exit, fork). */
#ifndef PA_SESSION_H
#define PA_SESSION_H

#include <stddef.h>
#include <stdint.h>

/* From the constructor. Returns 0 when tracking starts, -1 when the agent stays
 * dormant (the reason was logged, or the process is not one to trace). */
int pa_session_init(int argc, char **argv, char **envp);

/* The interpreter is initialised (audit hook, GIL held). */
void pa_session_python_ready(void);

/* The program's own code starts (cpython.run_*): startup allocations end here. */
void pa_session_main_starts(void);

/* Checkpoint 1: the program's own code is done (after its atexit handlers). */
void pa_session_program_end(void);

/* Checkpoint 2: the process exits. Leak records, final chunk, leak report. Once. */
void pa_session_exit(void);

/* An exec is about to replace this image (exec.c): its trace is finished like at exit,
 * without the leak report. errno is preserved. @return 1 if the trace was finished
 * (the rest of the process is not recorded if the exec then fails), 0 if not (not
 * tracking, a vfork child, or a fork child that has not written its trace yet). */
int pa_session_exec(void);

const char *pa_session_trace_path(void);

/* The PROCESS record (and INTERP when known and with_interp) for a header. */
size_t pa_session_header(uint8_t *buf, size_t cap, int with_interp);

/* dladdr names the main program by argv[0]; the trace wants its real path. */
const char *pa_session_module_name(const char *dli_fname);

void pa_session_fork_prepare(void);
void pa_session_fork_parent(void);
void pa_session_fork_child(void);

/* The exit leak report from the agent's own tables (report.c). */
void pa_report_leaks(const uint8_t *header, size_t header_len);

/* The agent's tables so far (strings, functions, stacks, sampling set-up) decoded
 * with the reader's code, for pyagent.stats(); NULL when out of memory. */
struct pa_trace *pa_report_own_tables(void);

#endif
