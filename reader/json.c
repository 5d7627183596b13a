/* json.c — JSON string escaping for the reader's --json outputs and the agent's
 * JSON leak report. Names come from the traced process, so they may hold any bytes. */
#include <string.h>

#include "json.h"

/* Length of the valid UTF-8 sequence at s (of n bytes), or 0 if invalid; then *bad
 * is the length of the maximal invalid subpart to replace with one U+FFFD. */
static size_t utf8_valid(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;

    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        if (c == 0xF4)
            hi = 0x8F; /* > U+10FFFF */
    } else {
        *bad = 1;
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        unsigned char lim_lo = i == 1 ? lo : 0x80, lim_hi = i == 1 ? hi : 0xBF;
        if (i >= n || s[i] < lim_lo || s[i] > lim_hi) {
            *bad = i;
            return 0;
        }
    }
    return len;
}

static int put_escape(pa_sbuf_t *sb, unsigned char c)
{
    switch (c) {
    case '"': return pa_sbuf_append(sb, "\\\"", 2);
    case '\\': return pa_sbuf_append(sb, "\\\\", 2);
    case '\b': return pa_sbuf_append(sb, "\\b", 2);
    case '\f': return pa_sbuf_append(sb, "\\f", 2);
    case '\n': return pa_sbuf_append(sb, "\\n", 2);
    case '\r': return pa_sbuf_append(sb, "\\r", 2);
    case '\t': return pa_sbuf_append(sb, "\\t", 2);
    default: return pa_sbuf_printf(sb, "\\u%04x", c);
    }
}

int pa_json_str(pa_sbuf_t *sb, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0;

    pa_sbuf_putc(sb, '"');
    while (i < n) {
        unsigned char c = s[i];
        size_t step = 1, bad = 0;
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            i++;
            run++;
            continue;
        }
        /* Flush the plain run in one append rather than byte by byte. */
        pa_sbuf_append(sb, str + i - run, run);
        run = 0;
        if (c < 0x80) {
            if (c == 0x7F)
                pa_sbuf_putc(sb, (char)c);
            else
                put_escape(sb, c);
        } else if ((step = utf8_valid(s + i, n - i, &bad)) != 0) {
            pa_sbuf_append(sb, str + i, step);
        } else {
            pa_sbuf_append(sb, "\\ufffd", 6);
            step = bad;
        }
        i += step;
    }
    pa_sbuf_append(sb, str + i - run, run);
    return pa_sbuf_putc(sb, '"');
}

int pa_json_strz(pa_sbuf_t *sb, const char *s)
{
    if (!s)
        return pa_sbuf_append(sb, "null", 4);
    return pa_json_str(sb, s, strlen(s));
}

int pa_json_key(pa_sbuf_t *sb, const char *key)
{
    return pa_sbuf_printf(sb, "\"%s\": ", key);
}

int pa_json_bool(pa_sbuf_t *sb, int v)
{
    return v ? pa_sbuf_append(sb, "true", 4) : pa_sbuf_append(sb, "false", 5);
}
