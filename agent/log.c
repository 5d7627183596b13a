/* log.c — one rate-limited `pyagent:` line on stderr per call. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int lines;

void pa_log(const char *fmt, ...)
{
    int saved = errno;
    if (atomic_fetch_add(&lines, 1) >= PA_LOG_MAX) {
        errno = saved;
        return;
    }
    char buf[512];
    size_t n = sizeof("pyagent: ") - 1;
    memcpy(buf, "pyagent: ", n);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m < sizeof(buf) - n - 1 ? (size_t)m : sizeof(buf) - n - 2;
    buf[n++] = '\n';
    pa_write_all(2, buf, n);
    errno = saved;
}

int pa_write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int pa_log_count(void) { return atomic_load(&lines); }
