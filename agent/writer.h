/* writer.h — turning event buffers and new table records into checksummed zstd
 * chunks in the trace file. No thread of its own: flushes run in whichever thread
 * notices that events are a flush period old or a MiB has piled up. */
#ifndef PA_WRITER_H
#define PA_WRITER_H

#include <stddef.h>
#include <stdint.h>

#define PA_CHUNK_TARGET (1u << 20)

int pa_writer_init(void);

/* Takes ownership of a full (or final) event buffer of thread `serial`. */
void pa_writer_submit(uint32_t serial, uint64_t base_ns, uint8_t *buf, size_t len);
/* The same for another per-thread record (PA_REC_CALLS_DELTA): tag, serial, base_ns, body. */
void pa_writer_submit_record(uint8_t tag, uint32_t serial, uint64_t base_ns, uint8_t *buf, size_t len);
void pa_writer_note_dropped(uint64_t n);
uint64_t pa_writer_dropped(void);

/* The trace file may be created from now on (Python: once the interpreter is
 * ready, so the header names it). */
void pa_writer_allow(void);

/* Cheap unless a flush is due; never waits for another flusher. Must not be called
 * with the tables lock held. */
void pa_writer_maybe_flush(uint64_t now);

/* Trace mode, a call buffer just submitted: the queue goes into the chunk now (a
 * chunk goes out only once full), so about two call buffers are in flight instead of
 * a chunk's worth, 16 of 64 KiB each first-touched (270 page faults per calls.py
 * run). Any thread; does nothing if the writer is busy. */
void pa_writer_absorb(void);

/* Final flush, end frame, close. Waits for a running flush. Returns 0 if the trace
 * is complete on disk. */
int pa_writer_finish(void);

/* The trace path, or NULL if no trace is being written. */
const char *pa_writer_path(void);

/* The path of the trace this process created, even once finished; else NULL. */
const char *pa_writer_last_path(void);

void pa_writer_fork_prepare(void);
void pa_writer_fork_parent(void);
void pa_writer_fork_prepare_queue(void);
void pa_writer_fork_parent_queue(void);
void pa_writer_fork_child(void);

#endif
