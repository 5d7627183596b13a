/* json.h — the small JSON writing helpers the renderers share: string escaping that
 * always yields valid JSON (control characters escaped, invalid UTF-8 -> \ufffd). */
#ifndef PA_JSON_H
#define PA_JSON_H

#include <stddef.h>

#include "sbuf.h"

/* Appends s[0..n) as a quoted JSON string. Control characters become \n, \t ... or
 * \u00XX; each maximal invalid UTF-8 subpart (overlong, surrogate, > U+10FFFF,
 * truncated) becomes one \ufffd. @return 0, or -1 when out of memory. */
int pa_json_str(pa_sbuf_t *sb, const char *s, size_t n);
/* As pa_json_str for a NUL-terminated string; NULL appends `null`. */
int pa_json_strz(pa_sbuf_t *sb, const char *s);
/* Appends `"key": ` (key must be plain ASCII needing no escapes). */
int pa_json_key(pa_sbuf_t *sb, const char *key);
/* Appends `true` or `false`. */
int pa_json_bool(pa_sbuf_t *sb, int v);

/* 1 when s[0..n) is exactly one JSON value (RFC 8259; whitespace around it allowed),
 * nested at most max_depth arrays/objects deep, in valid UTF-8; else 0. No allocation. */
int pa_json_valid(const char *s, size_t n, int max_depth);

#endif
