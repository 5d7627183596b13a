/* symtab.h — names for native addresses from the ELF file itself: its full symbol
 * table (.symtab, static functions included) when the file still has one, else its
 * dynamic symbols (.dynsym). A binary search, where dladdr() scans every symbol. */
#ifndef PA_AGENT_SYMTAB_H
#define PA_AGENT_SYMTAB_H

#include <stdint.h>

/* Finds the function (STT_FUNC or STT_GNU_IFUNC symbol with a size) of the ELF file at
 * `path` whose [st_value, st_value + st_size) holds `vaddr`, a link-time address: the
 * runtime address minus the object's load bias (link_map l_addr).
 *
 * The first call for a path reads the file's .symtab (or .dynsym) and strings (ELF64 little-endian
 * only; every offset and size is checked against the file, so a truncated or hostile
 * file only yields "not found") into agent memory (pa_mem_*), where they stay for the
 * life of the process. A file without symbols, or that cannot be read, is remembered as
 * such and never read again. At most PA_SYMTAB_FILES files are cached; calls for further
 * paths return 0 without reading them.
 *
 * Not thread-safe: all calls must be serialized by the caller (the writer calls it with
 * its writer lock held). No libc malloc or stdio; may block on file I/O, so never call
 * it from an allocation hook or with the tables lock held.
 *
 * @return 1 and sets *name (NUL-terminated, owned by this module, valid forever) and
 *         *start (the symbol's st_value); 0 if no symbol holds vaddr, leaving both unset. */
int pa_symtab_lookup(const char *path, uintptr_t vaddr, const char **name, uintptr_t *start);

#define PA_SYMTAB_FILES 64

/* Frees every cached file, so the next lookup of any path reads it again (tests). Same
 * serialization contract; names returned before are invalid afterwards. */
void pa_symtab_clear(void);

#endif
