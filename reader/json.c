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

/* ---- validation: a recursive descent parser that only checks ---- */

struct jv {
    const unsigned char *p, *end;
};

static void jv_ws(struct jv *v)
{
    while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r'))
        v->p++;
}

static int jv_lit(struct jv *v, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(v->end - v->p) < n || memcmp(v->p, lit, n) != 0)
        return 0;
    v->p += n;
    return 1;
}

static int jv_digits(struct jv *v)
{
    const unsigned char *s = v->p;
    while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
        v->p++;
    return v->p > s;
}

static int jv_number(struct jv *v)
{
    if (v->p < v->end && *v->p == '-')
        v->p++;
    if (v->p < v->end && *v->p == '0')
        v->p++;
    else if (!(v->p < v->end && *v->p >= '1' && *v->p <= '9') || !jv_digits(v))
        return 0;
    if (v->p < v->end && *v->p == '.' && (v->p++, !jv_digits(v)))
        return 0;
    if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
        v->p++;
        if (v->p < v->end && (*v->p == '+' || *v->p == '-'))
            v->p++;
        return jv_digits(v);
    }
    return 1;
}

static int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int jv_string(struct jv *v)
{
    size_t bad;
    v->p++; /* the opening quote */
    while (v->p < v->end && *v->p != '"') {
        unsigned char c = *v->p;
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            if (v->end - v->p < 2)
                return 0;
            c = v->p[1];
            if (c == 'u') {
                if (v->end - v->p < 6 || !is_hex(v->p[2]) || !is_hex(v->p[3]) || !is_hex(v->p[4]) || !is_hex(v->p[5]))
                    return 0;
                v->p += 6;
            } else if (strchr("\"\\/bfnrt", c) && c) {
                v->p += 2;
            } else {
                return 0;
            }
        } else if (c >= 0x80) {
            size_t step = utf8_valid(v->p, (size_t)(v->end - v->p), &bad);
            if (!step)
                return 0;
            v->p += step;
        } else {
            v->p++;
        }
    }
    if (v->p >= v->end)
        return 0;
    v->p++;
    return 1;
}

static int jv_value(struct jv *v, int depth);

/* Members of an object (or elements of an array) up to the closing bracket. */
static int jv_members(struct jv *v, int depth, int object)
{
    unsigned char close = object ? '}' : ']';
    v->p++;
    jv_ws(v);
    if (v->p < v->end && *v->p == close) {
        v->p++;
        return 1;
    }
    for (;;) {
        if (object) {
            if (v->p >= v->end || *v->p != '"' || !jv_string(v))
                return 0;
            jv_ws(v);
            if (v->p >= v->end || *v->p++ != ':')
                return 0;
        }
        if (!jv_value(v, depth - 1))
            return 0;
        jv_ws(v);
        if (v->p >= v->end)
            return 0;
        if (*v->p == close) {
            v->p++;
            return 1;
        }
        if (*v->p++ != ',')
            return 0;
        jv_ws(v);
    }
}

static int jv_value(struct jv *v, int depth)
{
    jv_ws(v);
    if (v->p >= v->end)
        return 0;
    switch (*v->p) {
    case '{':
    case '[': return depth > 0 && jv_members(v, depth, *v->p == '{');
    case '"': return jv_string(v);
    case 't': return jv_lit(v, "true");
    case 'f': return jv_lit(v, "false");
    case 'n': return jv_lit(v, "null");
    default: return jv_number(v);
    }
}

int pa_json_valid(const char *s, size_t n, int max_depth)
{
    struct jv v = { (const unsigned char *)s, (const unsigned char *)s + n };
    if (!jv_value(&v, max_depth))
        return 0;
    jv_ws(&v);
    return v.p == v.end;
}
