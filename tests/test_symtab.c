/* test_symtab.c — .symtab lookup: a static function of this very executable is found,
 * misses and unusable files answer 0, and truncated, stripped or corrupted copies of the
 * executable never crash (run under ASan with PYAGENT_SANITIZE). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <elf.h>
#include <glob.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symtab.h"

/* Static, so only .symtab names it; dladdr() cannot. */
static __attribute__((noinline, used)) int pa_test_static_fn(int x)
{
    return x * 3 + 1;
}

static int (*volatile fn_ptr)(int) = pa_test_static_fn;

static struct {
    char dir[64];
    unsigned char *exe; /* a copy of /proc/self/exe */
    size_t exe_len;
    uintptr_t fn_vaddr; /* pa_test_static_fn's link-time address */
} T;

static uintptr_t load_bias(const void *addr)
{
    Dl_info info;
    struct link_map *lm = NULL;
    assert_true(dladdr1(addr, &info, (void **)&lm, RTLD_DL_LINKMAP));
    assert_non_null(lm);
    return lm->l_addr;
}

static void put_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    (void)state;
    strcpy(T.dir, "/tmp/test_symtab.XXXXXX");
    if (!mkdtemp(T.dir))
        return -1;
    FILE *f = fopen("/proc/self/exe", "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 20;
    T.exe = malloc(cap);
    for (size_t got; T.exe && (got = fread(T.exe + T.exe_len, 1, cap - T.exe_len, f)) > 0;)
        if ((T.exe_len += got) == cap)
            T.exe = realloc(T.exe, cap *= 2);
    fclose(f);
    T.fn_vaddr = (uintptr_t)fn_ptr - load_bias((const void *)(uintptr_t)fn_ptr);
    return T.exe ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    pa_symtab_clear();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", T.dir);
    (void)!system(cmd);
    free(T.exe);
    return 0;
}

static int lookup_file(const char *path, uintptr_t vaddr)
{
    const char *name = NULL;
    uintptr_t start = 0;
    pa_symtab_clear();
    int found = pa_symtab_lookup(path, vaddr, &name, &start);
    if (found)
        assert_non_null(name); /* and readable: ASan checks the read */
    return found && strlen(name) < 4096;
}

static void test_symtab_finds_static_fn(void **state)
{
    (void)state;
    assert_int_equal(fn_ptr(1), 4);
    Dl_info info;
    assert_true(dladdr((const void *)(uintptr_t)fn_ptr, &info));
    assert_null(info.dli_sname); /* the gap this module fills */
    for (uintptr_t off = 0; off < 3; off++) {
        const char *name = NULL;
        uintptr_t start = 0;
        assert_int_equal(pa_symtab_lookup("/proc/self/exe", T.fn_vaddr + off, &name, &start), 1);
        assert_string_equal(name, "pa_test_static_fn");
        assert_int_equal(start, T.fn_vaddr);
    }
}

static void test_symtab_miss_is_zero(void **state)
{
    (void)state;
    const char *name = "unset";
    uintptr_t start = 7;
    assert_int_equal(pa_symtab_lookup("/proc/self/exe", 0, &name, &start), 0);
    assert_int_equal(pa_symtab_lookup("/proc/self/exe", UINTPTR_MAX, &name, &start), 0);
    assert_string_equal(name, "unset");
    assert_int_equal(start, 7);
}

static void test_symtab_unreadable_is_zero(void **state)
{
    (void)state;
    const char *name;
    uintptr_t start;
    for (int again = 0; again < 2; again++) { /* the second time from the negative cache */
        assert_int_equal(pa_symtab_lookup("/nonexistent/libx.so", 0x1000, &name, &start), 0);
        assert_int_equal(pa_symtab_lookup("", 0x1000, &name, &start), 0);
        assert_int_equal(pa_symtab_lookup(NULL, 0x1000, &name, &start), 0);
        assert_int_equal(pa_symtab_lookup("/tmp", 0x1000, &name, &start), 0); /* a directory */
        assert_int_equal(pa_symtab_lookup("/dev/null", 0x1000, &name, &start), 0);
    }
}

static void test_symtab_garbage_is_zero(void **state)
{
    (void)state;
    unsigned char junk[8192];
    srand(1);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)rand();
    char path[128];
    snprintf(path, sizeof path, "%s/garbage", T.dir);
    put_file(path, junk, sizeof junk);
    assert_int_equal(lookup_file(path, 0x1000), 0);
    memcpy(junk, T.exe, sizeof(Elf64_Ehdr)); /* a valid header pointing at junk */
    put_file(path, junk, sizeof junk);
    assert_int_equal(lookup_file(path, 0x1000), 0);
}

static void test_symtab_truncated_is_zero(void **state)
{
    (void)state;
    size_t cuts[] = { 0, 1, 4, 16, 63, 64, 65, 4096, T.exe_len / 4, T.exe_len / 2,
                      T.exe_len - 4096, T.exe_len - 65, T.exe_len - 64, T.exe_len - 1 };
    char path[128];
    snprintf(path, sizeof path, "%s/truncated", T.dir);
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        put_file(path, T.exe, cuts[i]);
        assert_int_equal(lookup_file(path, T.fn_vaddr), 0);
    }
    put_file(path, T.exe, T.exe_len); /* and whole, the same path works */
    assert_int_equal(lookup_file(path, T.fn_vaddr), 1);
}

static void test_symtab_stripped_is_zero(void **state)
{
    (void)state;
    char path[128], cmd[300];
    snprintf(path, sizeof path, "%s/stripped", T.dir);
    put_file(path, T.exe, T.exe_len);
    snprintf(cmd, sizeof cmd, "objcopy --strip-all '%s' 2>/dev/null", path);
    if (system(cmd) != 0)
        skip();
    assert_int_equal(lookup_file(path, T.fn_vaddr), 0);
}

/* Header fields a hostile file might set; each must be refused, not followed. */
static void test_symtab_bad_headers_are_zero(void **state)
{
    (void)state;
    unsigned char *buf = malloc(T.exe_len);
    assert_non_null(buf);
    char path[128];
    snprintf(path, sizeof path, "%s/bad", T.dir);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
    for (int c = 0; c < 13; c++) {
        memcpy(buf, T.exe, T.exe_len);
        Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff), *tab = NULL;
        for (size_t i = 0; i < eh->e_shnum; i++)
            if (sh[i].sh_type == SHT_SYMTAB)
                tab = &sh[i];
        assert_non_null(tab);
        Elf64_Shdr *str = &sh[tab->sh_link];
        switch (c) {
        case 0: eh->e_ident[EI_CLASS] = ELFCLASS32; break;
        case 1: eh->e_ident[EI_DATA] = ELFDATA2MSB; break;
        case 2: eh->e_shoff = UINT64_MAX - 8; break;
        case 3: eh->e_shoff = T.exe_len - 10; break;
        case 4: eh->e_shnum = 0xffff; break;
        case 5: eh->e_shentsize = 32; break;
        case 6: tab->sh_size = UINT64_MAX - 23; break;
        case 7: tab->sh_offset = UINT64_MAX - 100; break;
        case 8: tab->sh_link = 0xffff; break;
        case 9: tab->sh_entsize = 0; break;
        case 10: str->sh_size = UINT64_MAX; break;
        case 11: str->sh_offset = T.exe_len; break;
        case 12: eh->e_ident[EI_MAG1] = 'X'; break;
        }
        put_file(path, buf, T.exe_len);
        assert_int_equal(lookup_file(path, T.fn_vaddr), 0);
    }
    free(buf);
}

/* Random bytes in the headers and tables: any answer, but no crash or bad read. */
static void test_symtab_fuzzed_does_not_crash(void **state)
{
    (void)state;
    unsigned char *buf = malloc(T.exe_len);
    assert_non_null(buf);
    char path[128];
    snprintf(path, sizeof path, "%s/fuzzed", T.dir);
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)T.exe;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(T.exe + eh->e_shoff);
    size_t regions[4][2] = { { 0, sizeof *eh }, { eh->e_shoff, eh->e_shnum * sizeof *sh } };
    for (size_t i = 0; i < eh->e_shnum; i++)
        if (sh[i].sh_type == SHT_SYMTAB) {
            regions[2][0] = sh[i].sh_offset, regions[2][1] = sh[i].sh_size;
            regions[3][0] = sh[sh[i].sh_link].sh_offset, regions[3][1] = sh[sh[i].sh_link].sh_size;
        }
    srand(2);
    int found = 0;
    for (int it = 0; it < 400; it++) {
        memcpy(buf, T.exe, T.exe_len);
        for (int k = 1 + rand() % 8; k > 0; k--) {
            size_t *r = regions[rand() % 4];
            if (r[1])
                buf[r[0] + (size_t)rand() % r[1]] = (unsigned char)rand();
        }
        put_file(path, buf, T.exe_len);
        found += lookup_file(path, T.fn_vaddr);
    }
    print_message("fuzzed copies that still name the function: %d of 400\n", found);
    free(buf);
}

static void test_symtab_cache_is_bounded(void **state)
{
    (void)state;
    const char *name;
    uintptr_t start;
    pa_symtab_clear();
    char path[64];
    for (int i = 0; i < PA_SYMTAB_FILES; i++) {
        snprintf(path, sizeof path, "/nonexistent/%d.so", i);
        assert_int_equal(pa_symtab_lookup(path, 0x1000, &name, &start), 0);
    }
    assert_int_equal(pa_symtab_lookup("/proc/self/exe", T.fn_vaddr, &name, &start), 0); /* full */
    pa_symtab_clear();
    assert_int_equal(pa_symtab_lookup("/proc/self/exe", T.fn_vaddr, &name, &start), 1);
}

/* pyenv builds keep .symtab; _PyObject_Malloc is static there. */
static void test_symtab_pyenv_libpython(void **state)
{
    (void)state;
    glob_t g;
    const char *home = getenv("HOME");
    char pat[256];
    snprintf(pat, sizeof pat, "%s/.pyenv/versions/3.12.*/lib/libpython3.12.so.1.0", home ? home : "/root");
    if (glob(pat, 0, NULL, &g) != 0)
        skip();
    char cmd[512], line[512];
    snprintf(cmd, sizeof cmd, "nm --defined-only '%s' 2>/dev/null", g.gl_pathv[0]);
    FILE *p = popen(cmd, "r");
    unsigned long long vaddr = 0;
    char type, sym[256];
    while (p && fgets(line, sizeof line, p))
        if (sscanf(line, "%llx %c %255s", &vaddr, &type, sym) == 3 && !strcmp(sym, "_PyObject_Malloc"))
            break;
        else
            vaddr = 0;
    if (p)
        pclose(p);
    if (!vaddr) {
        globfree(&g);
        skip();
    }
    const char *name = NULL;
    uintptr_t start = 0;
    assert_int_equal(pa_symtab_lookup(g.gl_pathv[0], (uintptr_t)vaddr + 4, &name, &start), 1);
    assert_string_equal(name, "_PyObject_Malloc");
    assert_int_equal(start, vaddr);
    globfree(&g);
}

/* Every 40th function of libpython (by address, as nm lists it) is found at its own
 * start: the symbols were sorted and deduplicated right. At an address with several
 * names (aliases) any of them will do. */
static void test_symtab_libpython_sorted(void **state)
{
    (void)state;
    glob_t g;
    const char *home = getenv("HOME");
    char pat[256], cmd[512], line[512];
    snprintf(pat, sizeof pat, "%s/.pyenv/versions/3.12.*/lib/libpython3.12.so.1.0", home ? home : "/root");
    if (glob(pat, 0, NULL, &g) != 0)
        skip();
    snprintf(cmd, sizeof cmd, "nm --defined-only -n -S '%s' 2>/dev/null", g.gl_pathv[0]);
    FILE *p = popen(cmd, "r");
    unsigned long long vaddr, size, prev = 0;
    char type, sym[256], names[8][256];
    int nnames = 0, seen = 0, checked = 0;
    while (p && fgets(line, sizeof line, p)) {
        if (sscanf(line, "%llx %llx %c %255s", &vaddr, &size, &type, sym) != 4 || !size ||
            (type != 't' && type != 'T'))
            continue;
        if (vaddr != prev || !nnames) {
            if (nnames && seen++ % 40 == 0) {
                const char *name = NULL;
                uintptr_t start = 0;
                assert_int_equal(pa_symtab_lookup(g.gl_pathv[0], (uintptr_t)prev, &name, &start), 1);
                assert_int_equal(start, prev);
                int ok = 0;
                for (int i = 0; i < nnames; i++)
                    ok |= !strcmp(name, names[i]);
                if (!ok)
                    fail_msg("%llx: %s is none of the names nm gives, e.g. %s", prev, name, names[0]);
                checked++;
            }
            nnames = 0;
            prev = vaddr;
        }
        if (nnames < 8)
            snprintf(names[nnames++], sizeof names[0], "%s", sym);
    }
    if (p)
        pclose(p);
    globfree(&g);
    if (!checked)
        skip();
    assert_true(checked > 50);
}

int main(void)
{
#define TC(f) cmocka_unit_test(f)
    const struct CMUnitTest tests[] = {
        TC(test_symtab_finds_static_fn),
        TC(test_symtab_miss_is_zero),
        TC(test_symtab_unreadable_is_zero),
        TC(test_symtab_garbage_is_zero),
        TC(test_symtab_truncated_is_zero),
        TC(test_symtab_stripped_is_zero),
        TC(test_symtab_bad_headers_are_zero),
        TC(test_symtab_fuzzed_does_not_crash),
        TC(test_symtab_cache_is_bounded),
        TC(test_symtab_libpython_sorted), TC(test_symtab_pyenv_libpython),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
