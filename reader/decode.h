/* decode.h — trace file framing: header, zstd chunks, end frame, fed into the model.
 * Tolerant of a torn tail and of bad chunks (reported, then skipped); strict about the
 * header (magic, version), which decides whether the file is a trace at all. */
#ifndef PA_DECODE_H
#define PA_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"
#include "trace.h"

/* Decodes the trace file at path into t (then call pa_trace_finish).
 * @return 0 when the file was usable: diag then holds zero or more warning lines
 *         ("PATH: torn tail at offset N: ...\n"), also kept in the model (pa_trace_diags).
 *         <0 on a fatal error (empty, unreadable, not a pyagent trace, newer major
 *         version, bad header): diag then holds one line "PATH: offset N: reason\n".
 *         Returns -1, or -2 when out of memory. */
int pa_decode_file(const char *path, pa_trace_t *t, pa_sbuf_t *diag);

/* As pa_decode_file for a trace already in memory; name is used in messages. */
int pa_decode_buf(const uint8_t *data, size_t len, const char *name, pa_trace_t *t, pa_sbuf_t *diag);

/* Decompression bombs: a file decodes to at most PA_DECODE_FREE_RAW bytes or
 * PA_DECODE_MAX_RATIO times its size, whichever is more; chunks beyond are reported
 * and skipped. The agent's traces compress 1.5-7x (a loop of identical calls and
 * allocations: 6x), while zstd reaches ~30000x on constant data: without the bound a
 * 20 KB file expanded to 268 MB of events. Synthetic traces of a few MiB, however
 * repetitive, stay under the free allowance. */
#define PA_DECODE_FREE_RAW (16ull << 20)
#define PA_DECODE_MAX_RATIO 1000u
static inline uint64_t pa_decode_raw_limit(size_t file_bytes)
{
    uint64_t r = (uint64_t)file_bytes * PA_DECODE_MAX_RATIO;
    return r > PA_DECODE_FREE_RAW ? r : PA_DECODE_FREE_RAW;
}

#endif
