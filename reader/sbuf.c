/* sbuf.c — growable text buffer used by every renderer (CLI output and the agent's
 * exit-time leak report), allocating only through pa_mem. */
#include <stdio.h>
#include <string.h>

#include "pa_mem.h"
#include "sbuf.h"

void pa_sbuf_init(pa_sbuf_t *sb)
{
    sb->buf = NULL;
    sb->len = 0;
    sb->cap = 0;
    sb->failed = 0;
}

void pa_sbuf_free(pa_sbuf_t *sb)
{
    pa_mem_free(sb->buf);
    pa_sbuf_init(sb);
}

void pa_sbuf_reset(pa_sbuf_t *sb)
{
    sb->len = 0;
    sb->failed = 0;
    if (sb->buf)
        sb->buf[0] = '\0';
}

const char *pa_sbuf_cstr(const pa_sbuf_t *sb)
{
    return sb->buf ? sb->buf : "";
}

/* Makes room for `extra` more bytes plus the NUL. */
static int reserve(pa_sbuf_t *sb, size_t extra)
{
    if (sb->failed)
        return -1;
    if (extra > SIZE_MAX / 2 - sb->len) {
        sb->failed = 1;
        return -1;
    }
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return 0;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = pa_mem_realloc(sb->buf, cap);
    if (!p) {
        sb->failed = 1;
        return -1;
    }
    sb->buf = p;
    sb->cap = cap;
    return 0;
}

int pa_sbuf_append(pa_sbuf_t *sb, const char *s, size_t n)
{
    if (reserve(sb, n) < 0)
        return -1;
    if (n)
        memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
    return 0;
}

int pa_sbuf_puts(pa_sbuf_t *sb, const char *s)
{
    return pa_sbuf_append(sb, s, strlen(s));
}

int pa_sbuf_putc(pa_sbuf_t *sb, char c)
{
    return pa_sbuf_append(sb, &c, 1);
}

int pa_sbuf_vprintf(pa_sbuf_t *sb, const char *fmt, va_list ap)
{
    va_list again;
    char small[256];

    /* Format into a stack buffer first: most pieces are short and this needs no
     * second pass. vsnprintf does not allocate for the conversions we use. */
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(again);
        sb->failed = 1;
        return -1;
    }
    if ((size_t)n < sizeof small) {
        va_end(again);
        return pa_sbuf_append(sb, small, (size_t)n);
    }
    if (reserve(sb, (size_t)n) < 0) {
        va_end(again);
        return -1;
    }
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, again);
    va_end(again);
    sb->len += (size_t)n;
    return 0;
}

int pa_sbuf_printf(pa_sbuf_t *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = pa_sbuf_vprintf(sb, fmt, ap);
    va_end(ap);
    return r;
}

char *pa_fmt_num(char out[PA_NUM_BUFLEN], uint64_t v)
{
    char digits[24];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t o = 0;
    for (int i = nd - 1; i >= 0; i--) {
        out[o++] = digits[i];
        if (i > 0 && i % 3 == 0)
            out[o++] = ',';
    }
    out[o] = '\0';
    return out;
}

char *pa_fmt_ns(char out[PA_NUM_BUFLEN], uint64_t ns)
{
    int secs = ns >= 1000000000u;
    uint64_t unit = secs ? 1000000000u : 1000000u;
    size_t n = strlen(pa_fmt_num(out, ns / unit)); /* at most 14 bytes: seconds of a u64 */
    snprintf(out + n, PA_NUM_BUFLEN - n, ".%03u %s", (unsigned)(ns % unit / (unit / 1000)), secs ? "s" : "ms");
    return out;
}

char *pa_fmt_dur(char out[PA_NUM_BUFLEN], uint64_t ns)
{
    if (ns >= 1000000u)
        return pa_fmt_ns(out, ns);
    if (ns >= 1000u)
        snprintf(out, PA_NUM_BUFLEN, "%u.%03u us", (unsigned)(ns / 1000u), (unsigned)(ns % 1000u));
    else
        snprintf(out, PA_NUM_BUFLEN, "%u ns", (unsigned)ns);
    return out;
}

int pa_sbuf_num(pa_sbuf_t *sb, uint64_t v)
{
    char tmp[PA_NUM_BUFLEN];
    return pa_sbuf_puts(sb, pa_fmt_num(tmp, v));
}
