/* symtab.c — function lookup in an ELF file's .symtab, read once per file and kept as a
 * sorted array plus the string table, both in agent memory. */
#include "symtab.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "mem.h"

/* 16 bytes per function: libpython has about 10,000 of them. */
typedef struct sym { uint64_t start; uint32_t size, name; } sym_t;

#define NAME_CACHE 512

typedef struct file {
    char *path;
    sym_t *syms; /* sorted by start, one per start; NULL: nothing usable in this file */
    size_t n;
    /* The string table stays in the file: reading all of it (a megabyte for
     * libpython) costs hundreds of page faults, each a hypervisor exit on these VMs,
     * for the few dozen names a process needs. Names read are kept. */
    uint64_t str_off, str_size;
    struct { uint32_t name; char *text; } cache[NAME_CACHE];
} file_t;

static file_t files[PA_SYMTAB_FILES];
static size_t nfiles;

/* pread rather than mmap: a mapped file that shrinks later (a C extension rebuilt in
 * place while the host runs) would turn a read of the mapping into SIGBUS in the host. */
static int read_at(int fd, void *buf, uint64_t len, uint64_t off, uint64_t fsize)
{
    if (off > fsize || len > fsize - off)
        return -1;
    for (uint64_t done = 0; done < len;) {
        ssize_t got = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        done += (uint64_t)got;
    }
    return 0;
}

/* Same start: the larger symbol first, so deduplication keeps it. */
static int before(const sym_t *a, const sym_t *b)
{
    return a->start != b->start ? a->start < b->start : a->size > b->size;
}

/* Heapsort: in place, for when no scratch space can be had. */
static void sift(sym_t *v, size_t i, size_t n)
{
    for (size_t c; (c = 2 * i + 1) < n; i = c) {
        if (c + 1 < n && before(&v[c], &v[c + 1]))
            c++;
        if (!before(&v[i], &v[c]))
            return;
        sym_t t = v[i];
        v[i] = v[c];
        v[c] = t;
    }
}

static void heap_sort(sym_t *v, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(v, i, n);
    for (size_t k = n; k-- > 1;) {
        sym_t t = v[0];
        v[0] = v[k];
        v[k] = t;
        sift(v, 0, k);
    }
}

/* Bottom-up merge sort through the agent's own scratch buffer, not qsort: glibc's
 * qsort may take its buffer from the host's malloc. A third of heapsort's work on
 * libpython's symbols, which every process with native frames sorts at exit. */
static void sort_syms(sym_t *v, size_t n)
{
    sym_t *tmp = n > 1 ? pa_mem_alloc(n * sizeof *tmp) : NULL;
    if (!tmp) {
        heap_sort(v, n);
        return;
    }
    sym_t *src = v, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = before(&src[j], &src[i]) ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        sym_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
    pa_mem_free(tmp);
}

static int keep(const Elf64_Sym *s, uint64_t strsz)
{
    int type = ELF64_ST_TYPE(s->st_info);
    return (type == STT_FUNC || type == STT_GNU_IFUNC) && s->st_shndx != SHN_UNDEF &&
           s->st_size && s->st_name && s->st_name < strsz && s->st_value + s->st_size > s->st_value;
}

/* Reads the symbols in blocks of 4096 (a few reads for libpython, and the whole
 * .symtab is never held at once). */
#define BLOCK 4096

static int read_syms(file_t *f, int fd, const Elf64_Shdr *tab, uint64_t fsize, uint64_t strsz)
{
    Elf64_Sym *blk = pa_mem_alloc(BLOCK * sizeof *blk);
    size_t cap = 0;
    int rc = -1;
    uint64_t total = tab->sh_size / sizeof blk[0];
    if (!blk)
        return -1;
    for (uint64_t i = 0; i < total; i += BLOCK) {
        uint64_t k = total - i < BLOCK ? total - i : BLOCK;
        if (read_at(fd, blk, k * sizeof blk[0], tab->sh_offset + i * sizeof blk[0], fsize) != 0)
            goto out;
        for (uint64_t j = 0; j < k; j++) {
            if (!keep(&blk[j], strsz))
                continue;
            if (f->n == cap) {
                cap = cap ? cap * 2 : 1024;
                sym_t *v = pa_mem_realloc(f->syms, cap * sizeof *v);
                if (!v)
                    goto out;
                f->syms = v;
            }
            uint64_t size = blk[j].st_size > UINT32_MAX ? UINT32_MAX : blk[j].st_size;
            f->syms[f->n++] = (sym_t){ blk[j].st_value, (uint32_t)size, blk[j].st_name };
        }
    }
    rc = f->n ? 0 : -1;
out:
    pa_mem_free(blk);
    if (rc != 0)
        return -1;
    sort_syms(f->syms, f->n);
    size_t w = 1;
    for (size_t r = 1; r < f->n; r++)
        if (f->syms[r].start != f->syms[w - 1].start)
            f->syms[w++] = f->syms[r];
    f->n = w;
    sym_t *v = pa_mem_realloc(f->syms, w * sizeof *v);
    if (v)
        f->syms = v;
    return 0;
}

static int load(file_t *f)
{
    Elf64_Shdr *sh = NULL;
    Elf64_Ehdr eh;
    struct stat st;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        goto fail;
    uint64_t fsize = (uint64_t)st.st_size;
    if (read_at(fd, &eh, sizeof eh, 0, fsize) != 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_shentsize != sizeof *sh || eh.e_shnum == 0)
        goto fail;
    sh = pa_mem_alloc((size_t)eh.e_shnum * sizeof *sh);
    if (!sh || read_at(fd, sh, (uint64_t)eh.e_shnum * sizeof *sh, eh.e_shoff, fsize) != 0)
        goto fail;
    /* .symtab names static functions too; a stripped file keeps .dynsym only */
    const Elf64_Shdr *tab = NULL;
    for (size_t i = 0; i < eh.e_shnum && !tab; i++)
        if (sh[i].sh_type == SHT_SYMTAB)
            tab = &sh[i];
    for (size_t i = 0; i < eh.e_shnum && !tab; i++)
        if (sh[i].sh_type == SHT_DYNSYM)
            tab = &sh[i];
    if (!tab || tab->sh_entsize != sizeof(Elf64_Sym) || tab->sh_link >= eh.e_shnum ||
        tab->sh_offset > fsize || tab->sh_size > fsize - tab->sh_offset)
        goto fail; /* checked whole here: per-block offsets below cannot wrap */
    const Elf64_Shdr *str = &sh[tab->sh_link];
    if (str->sh_type != SHT_STRTAB || !str->sh_size || str->sh_size > UINT32_MAX ||
        str->sh_offset > fsize || str->sh_size > fsize - str->sh_offset)
        goto fail;
    f->str_off = str->sh_offset;
    f->str_size = str->sh_size;
    if (read_syms(f, fd, tab, fsize, str->sh_size) != 0)
        goto fail;
    pa_mem_free(sh);
    close(fd);
    return 0;
fail:
    pa_mem_free(sh);
    pa_mem_free(f->syms);
    f->syms = NULL;
    f->n = 0;
    close(fd);
    return -1;
}

static file_t *find(const char *path)
{
    for (size_t i = 0; i < nfiles; i++)
        if (!strcmp(files[i].path, path))
            return &files[i];
    if (nfiles == PA_SYMTAB_FILES)
        return NULL;
    file_t *f = &files[nfiles];
    memset(f, 0, sizeof *f);
    f->path = pa_mem_strdup(path);
    if (!f->path)
        return NULL;
    nfiles++;
    load(f); /* a failure stays cached as an empty file */
    return f;
}

/* A name from the file's string table, read once (at most 1 KiB of it: C++ names
 * can be long, function names that long are cut). */
static char *read_name(const file_t *f, uint32_t off)
{
    char buf[1024];
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    uint64_t want = f->str_size - off < sizeof buf - 1 ? f->str_size - off : sizeof buf - 1;
    int ok = fstat(fd, &st) == 0 && off < f->str_size &&
             read_at(fd, buf, want, f->str_off + off, (uint64_t)st.st_size) == 0;
    close(fd);
    if (!ok)
        return NULL;
    buf[want] = 0;
    return pa_mem_strdup(buf);
}

static const char *name_of(file_t *f, uint32_t off)
{
    unsigned h = (off * 2654435761u) % NAME_CACHE;
    for (unsigned probe = 0; probe < NAME_CACHE; probe++, h = (h + 1) % NAME_CACHE) {
        if (f->cache[h].text && f->cache[h].name == off)
            return f->cache[h].text;
        if (!f->cache[h].text) {
            f->cache[h].text = read_name(f, off);
            f->cache[h].name = off;
            return f->cache[h].text;
        }
    }
    return read_name(f, off); /* cache full: kept by the caller's copy only (leaks a little) */
}

int pa_symtab_lookup(const char *path, uintptr_t vaddr, const char **name, uintptr_t *start)
{
    file_t *f = path && path[0] ? find(path) : NULL;
    if (!f || !f->n || vaddr < f->syms[0].start)
        return 0;
    size_t lo = 0, hi = f->n; /* the last symbol starting at or before vaddr is in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->syms[mid].start <= vaddr)
            lo = mid;
        else
            hi = mid;
    }
    const sym_t *s = &f->syms[lo];
    if (vaddr - s->start >= s->size)
        return 0;
    if (!(*name = name_of(f, s->name)))
        return 0;
    *start = (uintptr_t)s->start;
    return 1;
}

void pa_symtab_clear(void)
{
    for (size_t i = 0; i < nfiles; i++) {
        pa_mem_free(files[i].path);
        pa_mem_free(files[i].syms);
        for (unsigned k = 0; k < NAME_CACHE; k++)
            pa_mem_free(files[i].cache[k].text);
    }
    nfiles = 0;
}
