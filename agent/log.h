/* log.h — the agent's only voice: one `pyagent:` line on stderr, from a stack buffer
 * through write(2), so it is safe in hooks and never touches the host's stdio. */
#ifndef PA_LOG_H
#define PA_LOG_H

#include <stddef.h>

/* Prints "pyagent: <message>\n" on fd 2. At most PA_LOG_MAX lines per process, so a
 * failing feature cannot flood the host's stderr. errno is preserved. */
void pa_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define PA_LOG_MAX 32

/* Writes all n bytes to fd, retrying after EINTR and short writes. No allocation.
 * @return 0, or -1 with errno set (a zero-byte write counts as EIO). */
int pa_write_all(int fd, const void *p, size_t n);

/* Lines printed so far (tests). */
int pa_log_count(void);

#endif
