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
    for (size_t off = 0; off < n;) {
        ssize_t w = write(2, buf + off, n - off);
        if (w <= 0 && errno != EINTR)
            break;
        if (w > 0)
            off += (size_t)w;
    }
    errno = saved;
}

int pa_log_count(void) { return atomic_load(&lines); }
