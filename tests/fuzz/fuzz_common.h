/* fuzz_common.h — shared by the fuzz targets (one per decoder entry point): turns an
 * input into a finished trace model and checks the promises every renderer makes on
 * hostile input (clear errors, valid JSON). A broken promise aborts, which libFuzzer
 * (or the replay driver) reports with the input that broke it. */
#ifndef PA_FUZZ_COMMON_H
#define PA_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "json.h"
#include "pa_mem.h"
#include "sbuf.h"
#include "trace.h"

/* Deep enough for anything the renderers nest (the fields of a mark: 64). */
#define FUZZ_JSON_DEPTH 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_fail(const char *what, const char *text, size_t len)
{
    fprintf(stderr, "fuzz: %s\n--- output (%zu bytes) ---\n%.*s\n---\n", what, len, len > 4000 ? 4000 : (int)len,
            text ? text : "");
    abort();
}

/* Every line starts with the name given to the decoder and says something after it. */
static inline void fuzz_check_diag(const pa_sbuf_t *diag, int fatal)
{
    const char *p = pa_sbuf_cstr(diag);
    if (fatal && !*p)
        fuzz_fail("the decoder failed without saying why", p, 0);
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (!nl || strncmp(p, "fuzz: ", 6) != 0 || n <= 6)
            fuzz_fail("a diagnostic line is not \"NAME: reason\\n\"", pa_sbuf_cstr(diag), diag->len);
        if (fatal && !strstr(p, "offset "))
            fuzz_fail("a fatal error does not name the offset", pa_sbuf_cstr(diag), diag->len);
        p = nl + 1;
    }
}

/* The decoder bounds what a file decompresses to (pa_decode_raw_limit), so memory
 * stays linear in the input beyond a fixed allowance. */
static inline void fuzz_check_ratio(const pa_trace_t *t, size_t size)
{
    const struct pa_file_info *fi = pa_trace_file_info(t);
    if (fi->raw_bytes > pa_decode_raw_limit(size)) {
        char msg[160];
        snprintf(msg, sizeof msg, "%llu raw bytes decoded from a %zu-byte input (a decompression bomb)",
                 (unsigned long long)fi->raw_bytes, size);
        fuzz_fail(msg, NULL, 0);
    }
}

/* An input starting with the trace header magic is a whole trace file (framing, zstd
 * chunks, records: pa_decode_buf); anything else is a bare sequence of records
 * (pa_trace_feed), so that mutations reach the record decoders and the analyses
 * without having to survive zstd's checksums. Records before a bad one are kept, as
 * the file decoder keeps them. @return the finished model, or NULL when unusable. */
static inline pa_trace_t *fuzz_load(const uint8_t *data, size_t size)
{
    pa_trace_t *t = pa_trace_new();
    if (!t)
        return NULL;
    if (size >= 4 && pa_le32_get(data) == PA_FRAME_HEADER) {
        pa_sbuf_t diag;
        pa_sbuf_init(&diag);
        int rc = pa_decode_buf(data, size, "fuzz", t, &diag);
        fuzz_check_diag(&diag, rc < 0);
        pa_sbuf_free(&diag);
        fuzz_check_ratio(t, size);
        if (rc < 0) {
            pa_trace_free(t);
            return NULL;
        }
    } else {
        char err[256];
        if (pa_trace_feed(t, data, size, err, sizeof err) < 0 && strncmp(err, "record at offset ", 17) != 0)
            fuzz_fail("a bad record is not reported as \"record at offset N: ...\"", err, strlen(err));
    }
    pa_trace_finish(t);
    return t;
}

/* Reads back everything the model offers, as the analyses do: every stack expanded,
 * every call event decoded, every string and function looked up. */
static inline void fuzz_walk(const pa_trace_t *t)
{
    static struct pa_frame frames[PA_STACK_MAX_DEPTH];
    const struct pa_sample *s;
    const struct pa_leak *l;
    const struct pa_call_record *cr;
    const struct pa_thread *th;
    const char *name, *file;
    uint64_t line;
    size_t n = pa_trace_samples(t, &s);
    for (size_t i = 0; i < n; i++) {
        size_t depth = pa_trace_stack_depth(t, s[i].stack);
        if (pa_trace_stack(t, s[i].stack, frames, PA_STACK_MAX_DEPTH) != depth)
            fuzz_fail("pa_trace_stack and pa_trace_stack_depth disagree", NULL, 0);
        for (uint32_t v = 0; v < s[i].n; v++)
            (void)pa_trace_sample_value(t, &s[i], v);
    }
    n = pa_trace_leaks(t, &l);
    for (size_t i = 0; i < n; i++)
        pa_trace_stack(t, l[i].stack, frames, PA_STACK_MAX_DEPTH);
    const struct pa_replay *rp = pa_trace_replay(t);
    for (size_t i = 0; i < rp->ngroups; i++)
        pa_trace_stack(t, rp->groups[i].stack, frames, PA_STACK_MAX_DEPTH);
    n = pa_trace_call_records(t, &cr);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = cr[i].body, *end = p + cr[i].len;
        struct pa_call_cursor cur = pa_call_cursor_at(&cr[i]);
        struct pa_call_ev ev;
        while (p < end && pa_call_next(&p, end, &cur, &ev) == 0)
            if (ev.kind == PA_CALL_ENTER)
                pa_trace_function(t, ev.func, &name, &file, &line);
    }
    n = pa_trace_threads(t, &th);
    for (size_t i = 0; i < n; i++)
        (void)pa_trace_thread_last_ns(t, th[i].serial);
    struct pa_alloc_pt *pts = NULL;
    int complete;
    if (pa_trace_alloc_points(t, &pts, &complete) == (size_t)-1)
        fuzz_fail("pa_trace_alloc_points ran out of memory", NULL, 0);
    pa_mem_free(pts);
    (void)pa_trace_string(t, 1);
}

static inline void fuzz_check_json(const pa_sbuf_t *out, const char *what)
{
    if (!out->failed && !pa_json_valid(pa_sbuf_cstr(out), out->len, FUZZ_JSON_DEPTH))
        fuzz_fail(what, pa_sbuf_cstr(out), out->len);
}

/* JSON lines: each line one JSON value. */
static inline void fuzz_check_json_lines(const pa_sbuf_t *out, const char *what)
{
    const char *p = pa_sbuf_cstr(out), *end = p + out->len;
    while (!out->failed && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (!pa_json_valid(p, n, FUZZ_JSON_DEPTH))
            fuzz_fail(what, p, n);
        p += n + 1;
    }
}

/* A renderer's status: 0, -1 (out of memory: impossible here, so a bug) or, where
 * options can miss the trace, -2 with one line saying why. */
static inline void fuzz_check_rc(int rc, int may_misfit, const pa_sbuf_t *err, const char *what)
{
    if (rc == 0 || (rc == -2 && may_misfit && err->len > 0))
        return;
    fuzz_fail(what, pa_sbuf_cstr(err), err->len);
}

#endif
