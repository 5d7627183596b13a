/* decode.c — reads the framing of a trace file (header frame, chunk frames each
 * followed by a zstd frame, end frame) and feeds the records to the model. A torn
 * tail or a bad chunk is reported and skipped; only a bad header is fatal. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createDCtx_advanced: decode through pa_mem */
#include <zstd.h>

#include "decode.h"
#include "idmap.h"
#include "pa_mem.h"

#define ZSTD_MAGIC 0xFD2FB528u
#define SKIPPABLE_MASK 0xFFFFFFF0u
#define HEADER_FIXED 16u   /* magic, u16 major, u16 minor, u32 0 */
#define MAX_WARN_LINES 100 /* in diag; the model counts them all */

struct dec {
    const uint8_t *d;
    size_t len;
    const char *name;
    pa_trace_t *t;
    pa_sbuf_t *diag;
    ZSTD_DCtx *z;
    uint8_t *raw;
    size_t raw_cap;
    uint64_t next_seq;
    size_t nwarn;
    int oom;
};

static void warn(struct dec *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct dec *x, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (x->nwarn++ < MAX_WARN_LINES)
        pa_sbuf_printf(x->diag, "%s: %s\n", x->name, msg);
    if (pa_trace_add_diag(x->t, msg) < 0)
        x->oom = 1;
}

static int fatal(struct dec *x, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fatal(struct dec *x, size_t off, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pa_sbuf_printf(x->diag, "%s: offset %zu: %s\n", x->name, off, msg);
    return -1;
}

/* Whether a frame head at i looks real: a chunk or end frame with the right payload
 * size, and for a chunk a zstd frame right after (unless the file ends first). */
static int trusted_head(const struct dec *x, size_t i)
{
    uint32_t magic = pa_le32_get(x->d + i), size = pa_le32_get(x->d + i + 4);
    if (magic == PA_FRAME_END)
        return size == sizeof(struct pa_end);
    if (magic != PA_FRAME_CHUNK || size != sizeof(struct pa_chunk_head))
        return 0;
    size_t z = i + PA_SKIPPABLE_HEAD + sizeof(struct pa_chunk_head);
    return z + 4 > x->len || pa_le32_get(x->d + z) == ZSTD_MAGIC;
}

/* Offset of the next trusted frame head at or after from, or x->len if none. */
static size_t resync(const struct dec *x, size_t from)
{
    for (size_t i = from; i < x->len && x->len - i >= PA_SKIPPABLE_HEAD; i++) {
        /* Both magics end in 2A 4D 18: test the rare byte first. */
        if (x->d[i + 3] == 0x18 && x->d[i + 2] == 0x4D && x->d[i + 1] == 0x2A && trusted_head(x, i))
            return i;
    }
    return x->len;
}

/* A frame at off claims to extend past the end of the file: a torn tail, unless a
 * trustworthy frame follows, in which case the claim was damage. @return next offset. */
static size_t past_end(struct dec *x, size_t off, const char *what, uint64_t need)
{
    size_t next = resync(x, off + 1);
    if (next < x->len) {
        warn(x, "bad %s at offset %zu: claims %llu bytes, past the end of the file; "
                "skipped to offset %zu", what, off, (unsigned long long)need, next);
        return next;
    }
    warn(x, "torn tail at offset %zu: file ends inside %s (%llu bytes needed, %zu left); "
            "the rest is ignored", off, what, (unsigned long long)need, x->len - off);
    return x->len;
}

static int header(struct dec *x, size_t *out)
{
    if (x->len == 0)
        return fatal(x, 0, "empty file (nothing was written)");
    if (x->len < 4 || pa_le32_get(x->d) != PA_FRAME_HEADER) {
        if (x->len < 4 && x->d[0] == (PA_FRAME_HEADER & 0xff))
            return fatal(x, 0, "truncated header (%zu bytes)", x->len);
        if (x->len >= 4 && pa_le32_get(x->d) == ZSTD_MAGIC)
            return fatal(x, 0, "not a pyagent trace (a zstd file without a pyagent header)");
        return fatal(x, 0, "not a pyagent trace (unknown magic)");
    }
    if (x->len < PA_SKIPPABLE_HEAD + HEADER_FIXED)
        return fatal(x, x->len, "truncated header (%zu bytes)", x->len);
    uint32_t size = pa_le32_get(x->d + 4);
    const uint8_t *h = x->d + PA_SKIPPABLE_HEAD;
    if (memcmp(h, PA_FMT_MAGIC, sizeof PA_FMT_MAGIC) != 0)
        return fatal(x, 8, "not a pyagent trace (bad header magic)");
    unsigned major = h[8] | h[9] << 8, minor = h[10] | h[11] << 8;
    if (major > PA_FMT_MAJOR)
        return fatal(x, 16, "trace format %u.x is newer than this reader (%u.x)", major, PA_FMT_MAJOR);
    if (major < 1)
        return fatal(x, 16, "trace format %u.%u is not supported by this reader (%u.x)", major, minor,
                     PA_FMT_MAJOR);
    if (size < HEADER_FIXED || size > PA_MAX_HEADER)
        return fatal(x, 4, "bad header size %u (limit %u)", size, PA_MAX_HEADER);
    if (size > x->len - PA_SKIPPABLE_HEAD)
        return fatal(x, x->len, "truncated header (%u bytes declared, %zu present)", size,
                     x->len - PA_SKIPPABLE_HEAD);
    struct pa_file_info *fi = pa_trace_file(x->t);
    fi->present = 1;
    fi->major = (uint16_t)major;
    fi->minor = (uint16_t)minor;
    fi->file_bytes = x->len;
    char err[256];
    size_t rec0 = PA_SKIPPABLE_HEAD + HEADER_FIXED;
    if (pa_trace_feed(x->t, x->d + rec0, size - HEADER_FIXED, err, sizeof err) < 0)
        warn(x, "header records at offset %zu: %s", rec0, err);
    *out = PA_SKIPPABLE_HEAD + size;
    return 0;
}

/* Decompresses and feeds the chunk's zstd frame. @return NULL or the reason it is bad. */
static const char *inflate_chunk(struct dec *x, const uint8_t *src, uint64_t zsize, uint32_t raw,
                                 char *why, size_t whylen)
{
    size_t fsize = ZSTD_findFrameCompressedSize(src, (size_t)zsize);
    if (ZSTD_isError(fsize))
        return ZSTD_getErrorName(fsize);
    if (fsize != zsize) {
        snprintf(why, whylen, "zstd frame is %zu bytes, the chunk head says %llu", fsize,
                 (unsigned long long)zsize);
        return why;
    }
    unsigned long long csize = ZSTD_getFrameContentSize(src, (size_t)zsize);
    if (csize != ZSTD_CONTENTSIZE_UNKNOWN && csize != raw) {
        snprintf(why, whylen, "zstd frame holds %llu bytes, the chunk head says %u", csize, raw);
        return why;
    }
    if (raw > x->raw_cap) {
        pa_mem_free(x->raw);
        x->raw_cap = 0;
        if (!(x->raw = pa_mem_alloc(raw))) {
            x->oom = 1;
            return "out of memory";
        }
        x->raw_cap = raw;
    }
    size_t got = ZSTD_decompressDCtx(x->z, x->raw, raw, src, (size_t)zsize);
    if (ZSTD_isError(got))
        return ZSTD_getErrorName(got);
    if (got != raw) {
        snprintf(why, whylen, "zstd frame holds %zu bytes, the chunk head says %u", got, raw);
        return why;
    }
    return NULL;
}

static void check_seq(struct dec *x, size_t off, uint32_t seq)
{
    if (seq > x->next_seq)
        warn(x, "chunk at offset %zu has sequence %u, expected %llu: %llu chunk(s) missing", off, seq,
             (unsigned long long)x->next_seq, (unsigned long long)(seq - x->next_seq));
    else if (seq < x->next_seq)
        warn(x, "chunk at offset %zu has sequence %u, expected %llu: out of order", off, seq,
             (unsigned long long)x->next_seq);
    x->next_seq = (uint64_t)seq + 1;
}

/* @return the offset after the chunk, or where decoding resumes. */
static size_t chunk(struct dec *x, size_t off)
{
    struct pa_file_info *fi = pa_trace_file(x->t);
    const size_t head_end = off + PA_SKIPPABLE_HEAD + sizeof(struct pa_chunk_head);
    if (pa_le32_get(x->d + off + 4) != sizeof(struct pa_chunk_head)) {
        size_t next = resync(x, off + 1);
        fi->bad_chunks++;
        warn(x, "bad chunk at offset %zu: head size %u, expected %zu; skipped to offset %zu", off,
             pa_le32_get(x->d + off + 4), sizeof(struct pa_chunk_head), next);
        return next;
    }
    if (head_end > x->len)
        return past_end(x, off, "a chunk head", sizeof(struct pa_chunk_head) + PA_SKIPPABLE_HEAD);
    const uint8_t *h = x->d + off + PA_SKIPPABLE_HEAD;
    uint32_t seq = pa_le32_get(h), raw = pa_le32_get(h + 4);
    uint64_t zsize = pa_le64_get(h + 8);
    if (raw > PA_MAX_CHUNK_RAW || zsize == 0 || zsize > ZSTD_compressBound(raw) + 64) {
        size_t next = resync(x, off + 1);
        fi->bad_chunks++;
        warn(x, "bad chunk at offset %zu: implausible sizes (raw %u, zstd %llu); skipped to offset %zu",
             off, raw, (unsigned long long)zsize, next);
        return next;
    }
    if (zsize > x->len - head_end)
        return past_end(x, off, "a chunk", sizeof(struct pa_chunk_head) + PA_SKIPPABLE_HEAD + zsize);
    if (fi->raw_bytes + raw > pa_decode_raw_limit(x->len)) {
        fi->bad_chunks++;
        x->next_seq = (uint64_t)seq + 1;
        warn(x, "bad chunk %u at offset %zu: its %u bytes would make %llu decompressed from a %zu-byte file, "
                "over the %u:1 a trace compresses at most (a decompression bomb?); skipped", seq, off, raw,
             (unsigned long long)fi->raw_bytes + raw, x->len, PA_DECODE_MAX_RATIO);
        return head_end + (size_t)zsize;
    }
    char why[160], err[256];
    const char *bad = inflate_chunk(x, x->d + head_end, zsize, raw, why, sizeof why);
    size_t next = head_end + (size_t)zsize;
    if (bad) {
        fi->bad_chunks++;
        x->next_seq = (uint64_t)seq + 1; /* the head was sane: do not report it missing too */
        warn(x, "bad chunk %u at offset %zu: %s; skipped", seq, off, bad);
        return next;
    }
    check_seq(x, off, seq);
    fi->chunks++;
    fi->compressed_bytes += zsize;
    fi->raw_bytes += raw;
    if (pa_trace_feed(x->t, x->raw, raw, err, sizeof err) < 0)
        warn(x, "chunk %u at offset %zu: %s; the rest of the chunk is skipped", seq, off, err);
    return next;
}

static size_t end_frame(struct dec *x, size_t off)
{
    struct pa_file_info *fi = pa_trace_file(x->t);
    size_t size = pa_le32_get(x->d + off + 4);
    if (size != sizeof(struct pa_end)) {
        warn(x, "bad end frame at offset %zu: size %zu, expected %zu", off, size, sizeof(struct pa_end));
        return resync(x, off + 1);
    }
    if (size > x->len - off - PA_SKIPPABLE_HEAD)
        return past_end(x, off, "the end frame", PA_SKIPPABLE_HEAD + size);
    const uint8_t *p = x->d + off + PA_SKIPPABLE_HEAD;
    fi->have_end = 1;
    fi->end_chunks = pa_le32_get(p);
    fi->end_raw_bytes = pa_le64_get(p + 8);
    if (fi->end_chunks != fi->chunks + fi->bad_chunks)
        warn(x, "the end frame counts %llu chunks, the file has %llu", (unsigned long long)fi->end_chunks,
             (unsigned long long)fi->chunks + fi->bad_chunks);
    size_t next = off + PA_SKIPPABLE_HEAD + size;
    if (next < x->len)
        warn(x, "%zu bytes after the end frame at offset %zu are ignored", x->len - next, next);
    return x->len;
}

/* Dispatches on the frame magic at off. @return the next offset. */
static size_t frame(struct dec *x, size_t off)
{
    if (x->len - off < PA_SKIPPABLE_HEAD)
        return past_end(x, off, "a frame head", PA_SKIPPABLE_HEAD);
    uint32_t magic = pa_le32_get(x->d + off);
    if (magic == PA_FRAME_CHUNK)
        return chunk(x, off);
    if (magic == PA_FRAME_END)
        return end_frame(x, off);
    if (magic == PA_FRAME_HEADER) {
        warn(x, "a second trace header at offset %zu (file appended to?); the rest is ignored", off);
        return x->len;
    }
    if ((magic & SKIPPABLE_MASK) == (PA_FRAME_HEADER & SKIPPABLE_MASK)) {
        /* Another skippable frame: room for future framing, skipped whole. */
        uint64_t size = pa_le32_get(x->d + off + 4);
        if (size > x->len - off - PA_SKIPPABLE_HEAD)
            return past_end(x, off, "a skippable frame", PA_SKIPPABLE_HEAD + size);
        return off + PA_SKIPPABLE_HEAD + (size_t)size;
    }
    size_t next = resync(x, off + 1);
    if (next < x->len)
        warn(x, "garbage at offset %zu (magic 0x%08x): skipped %zu bytes to the next frame", off, magic,
             next - off);
    else
        warn(x, "garbage at offset %zu (magic 0x%08x): no frame follows, the last %zu bytes are ignored",
             off, magic, x->len - off);
    return next;
}

static void *zalloc(void *opaque, size_t n)
{
    (void)opaque;
    return pa_mem_alloc(n);
}

static void zfree(void *opaque, void *p)
{
    (void)opaque;
    pa_mem_free(p);
}

int pa_decode_buf(const uint8_t *data, size_t len, const char *name, pa_trace_t *t, pa_sbuf_t *diag)
{
    struct dec x = { .d = data, .len = len, .name = name, .t = t, .diag = diag };
    size_t off = 0;
    if (header(&x, &off) < 0)
        return -1;
    ZSTD_customMem cm = { zalloc, zfree, NULL };
    if (!(x.z = ZSTD_createDCtx_advanced(cm)))
        return fatal(&x, 0, "out of memory") - 1;
    while (off < len && !x.oom)
        off = frame(&x, off);
    if (x.nwarn > MAX_WARN_LINES)
        pa_sbuf_printf(diag, "%s: %zu more warnings not shown\n", name, x.nwarn - MAX_WARN_LINES);
    ZSTD_freeDCtx(x.z);
    pa_mem_free(x.raw);
    if (x.oom)
        return fatal(&x, off, "out of memory") - 1;
    return 0;
}

/* Regular files are mapped; pipes and the like are read whole. */
static int load(int fd, const uint8_t **data, size_t *len, int *mapped)
{
    struct stat st;
    size_t cap = 0;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            *data = p;
            *len = (size_t)st.st_size;
            *mapped = 1;
            return 0;
        }
    }
    *len = 0;
    for (;;) {
        if (*len == cap && pa_vec_reserve((void **)&buf, &cap, *len + 65536, 1) < 0) {
            pa_mem_free(buf);
            return -ENOMEM;
        }
        ssize_t n = read(fd, buf + *len, cap - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : 0;
            if (e)
                pa_mem_free(buf);
            else
                *data = buf;
            return -e;
        }
        *len += (size_t)n;
    }
}

int pa_decode_file(const char *path, pa_trace_t *t, pa_sbuf_t *diag)
{
    const uint8_t *data = NULL;
    size_t len = 0;
    int mapped = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        pa_sbuf_printf(diag, "%s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = load(fd, &data, &len, &mapped);
    close(fd);
    if (rc < 0) {
        pa_sbuf_printf(diag, "%s: cannot read: %s\n", path, strerror(-rc));
        return rc == -ENOMEM ? -2 : -1;
    }
    rc = pa_decode_buf(data ? data : (const uint8_t *)"", len, path, t, diag);
    if (mapped)
        munmap((void *)data, len);
    else
        pa_mem_free((void *)data);
    return rc;
}
