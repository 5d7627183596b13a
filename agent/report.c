/* report.c — the leak report printed at exit. It decodes the agent's own record log
 * with the reader's code, so it is exactly what `pyagent leaks TRACE` shows. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "leaks.h"
#include "log.h"
#include "mem.h"
#include "sbuf.h"
#include "session.h"
#include "tables.h"
#include "trace.h"
#include "writer.h"

static int open_destination(void)
{
    if (pa_cfg.leak_dest == PA_LEAKS_STDERR)
        return 2;
    char path[PATH_MAX];
    if (pa_config_expand(pa_cfg.leak_path, getpid(), path, sizeof path) != 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        pa_log("cannot create leak report file %s: %s", path, strerror(errno));
    return fd;
}

static pa_trace_t *load_own_tables(const uint8_t *header, size_t header_len)
{
    pa_trace_t *t = pa_trace_new();
    if (!t)
        return NULL;
    char err[256];
    pa_trace_feed(t, header, header_len, err, sizeof err);
    pa_tables_lock();
    size_t n = pa_tab_log_len();
    uint8_t *log = pa_mem_alloc(n ? n : 1);
    if (log)
        pa_tab_log_copy(0, n, log);
    pa_tables_unlock();
    if (!log || pa_trace_feed(t, log, n, err, sizeof err) != 0)
        pa_log("leak report: %s", log ? err : "out of memory");
    pa_mem_free(log);
    pa_trace_finish(t);
    return t;
}

pa_trace_t *pa_report_own_tables(void)
{
    uint8_t head[8192];
    return load_own_tables(head, pa_session_header(head, sizeof head, 1));
}

void pa_report_leaks(const uint8_t *header, size_t header_len)
{
    if (pa_cfg.leak_dest == PA_LEAKS_OFF)
        return;
    int saved = errno;
    pa_trace_t *t = load_own_tables(header, header_len);
    pa_sbuf_t out;
    pa_sbuf_init(&out);
    struct pa_leaks_opts o = { 0, 0, pa_cfg.leak_top, 0, pa_writer_last_path() };
    if (t && pa_leaks_render(t, &o, &out) == 0) {
        int fd = open_destination();
        if (fd >= 0) {
            pa_write_all(fd, pa_sbuf_cstr(&out), out.len);
            if (fd != 2)
                close(fd);
        }
    } else {
        pa_log("out of memory while building the leak report");
    }
    pa_sbuf_free(&out);
    if (t)
        pa_trace_free(t);
    errno = saved;
}
