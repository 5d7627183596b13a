/* sbuf.h — a growable, always NUL-terminated text buffer that reports allocation
 * failure once (sticky) instead of at every call, so renderers can check at the end. */
#ifndef PA_SBUF_H
#define PA_SBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pa_sbuf {
    char *buf;   /* NULL until the first append; else NUL-terminated, owned (pa_mem) */
    size_t len;  /* bytes used, without the NUL */
    size_t cap;  /* bytes allocated */
    int failed;  /* set once an append ran out of memory; the content is then truncated */
} pa_sbuf_t;

/* Room for any uint64_t with thousands separators, plus the NUL. */
#define PA_NUM_BUFLEN 32

void pa_sbuf_init(pa_sbuf_t *sb);
/* Releases the memory; the buffer is empty (and usable) afterwards. */
void pa_sbuf_free(pa_sbuf_t *sb);
/* Empties the buffer, keeps its memory and clears `failed`. */
void pa_sbuf_reset(pa_sbuf_t *sb);
/* The text so far; "" (never NULL) when nothing was appended. */
const char *pa_sbuf_cstr(const pa_sbuf_t *sb);

/* Appends; each returns 0, or -1 when out of memory now or before (sb->failed). */
int pa_sbuf_append(pa_sbuf_t *sb, const char *s, size_t n);
int pa_sbuf_puts(pa_sbuf_t *sb, const char *s);
int pa_sbuf_putc(pa_sbuf_t *sb, char c);
int pa_sbuf_printf(pa_sbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pa_sbuf_vprintf(pa_sbuf_t *sb, const char *fmt, va_list ap);
/* Appends v with thousands separators: 12490560 -> "12,490,560". */
int pa_sbuf_num(pa_sbuf_t *sb, uint64_t v);

/* Formats v with thousands separators into out (at least PA_NUM_BUFLEN bytes).
 * @return out, for use as a printf argument. */
char *pa_fmt_num(char out[PA_NUM_BUFLEN], uint64_t v);

/* Formats nanoseconds as milliseconds below a second, else seconds, three decimals:
 * 1500000 -> "1.500 ms", 2345678901 -> "2.345 s". @return out. */
char *pa_fmt_ns(char out[PA_NUM_BUFLEN], uint64_t ns);

/* As pa_fmt_ns, with finer units below a millisecond: 850 -> "850 ns",
 * 12345 -> "12.345 us". @return out. */
char *pa_fmt_dur(char out[PA_NUM_BUFLEN], uint64_t ns);

#endif
