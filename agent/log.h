/* log.h — the agent's only voice: one `pyagent:` line on stderr, from a stack buffer
 * through write(2), so it is safe in hooks and never touches the host's stdio. */
#ifndef PA_LOG_H
#define PA_LOG_H

/* Prints "pyagent: <message>\n" on fd 2. At most PA_LOG_MAX lines per process, so a
 * failing feature cannot flood the host's stderr. errno is preserved. */
void pa_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define PA_LOG_MAX 32

/* Lines printed so far (tests). */
int pa_log_count(void);

#endif
