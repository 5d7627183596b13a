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

#endif
