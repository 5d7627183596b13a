/* unwind.c — libunwind's unw_backtrace (its fast path: no malloc, no signal-mask
 * syscalls, unlike an unw_step loop), minus the agent's own frames. */
#define UNW_LOCAL_ONLY
#include "unwind.h"

#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

static uintptr_t self_start, self_end;

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    uintptr_t base = (uintptr_t)data;
    if (info->dlpi_addr != base)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = base + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!self_start || lo < self_start)
            self_start = lo;
        if (hi > self_end)
            self_end = hi;
    }
    return 1;
}

int pa_unwind_init(void)
{
    /* The global cache is guarded by a lock that blocks all signals around every
     * lookup: two sigprocmask syscalls per new frame (~20k at Python start-up). */
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    Dl_info info;
    if (!dladdr((void *)pa_unwind_init, &info))
        return -1;
    dl_iterate_phdr(find_self, info.dli_fbase);
    return self_end ? 0 : -1;
}

/* A fork child inherits libunwind's internal locks as they were: if a thread of the
 * parent was inside unw_backtrace (a sample, an allocation), the child's first
 * unwind waits forever (the battery: forks from a thread at 1 kHz sampling, one
 * child in 40 hung on 3.9). Before a fork no unwind starts and the ones in flight
 * are waited for; meanwhile an unwind returns no frame (an allocation or a sample
 * keeps its Python frames). */
static atomic_int in_flight, forking;

static int enter(void)
{
    atomic_fetch_add(&in_flight, 1);
    if (!atomic_load(&forking))
        return 1;
    atomic_fetch_sub(&in_flight, 1);
    return 0;
}

static void leave(void) { atomic_fetch_sub(&in_flight, 1); }

void pa_unwind_fork_prepare(void)
{
    atomic_store(&forking, 1);
    while (atomic_load(&in_flight))
        sched_yield();
}

void pa_unwind_fork_parent(void) { atomic_store(&forking, 0); }

void pa_unwind_fork_child(void)
{
    atomic_store(&in_flight, 0);
    atomic_store(&forking, 0);
}

static int backtrace(void **scratch, int size)
{
    if (!enter())
        return 0;
    int n = unw_backtrace(scratch, size);
    leave();
    return n;
}

int pa_unwind(uintptr_t *ips, int max, void **scratch)
{
    int n = backtrace(scratch, max + PA_UNWIND_SLACK);
    int skip = 0;
    while (skip < n && (uintptr_t)scratch[skip] >= self_start && (uintptr_t)scratch[skip] < self_end)
        skip++;
    int out = n - skip < max ? n - skip : max;
    if (out > 0)
        memcpy(ips, scratch + skip, (size_t)out * sizeof *ips);
    return out > 0 ? out : 0;
}

int pa_unwind_from(uintptr_t *ips, int max, void **scratch, uintptr_t start)
{
    int n = backtrace(scratch, max + PA_UNWIND_SLACK);
    int skip = 0;
    while (skip < n && skip <= PA_UNWIND_SLACK && (uintptr_t)scratch[skip] != start)
        skip++;
    if (skip >= n || skip > PA_UNWIND_SLACK) {
        ips[0] = start; /* the signal frame was not crossed: the interrupted address alone */
        return max > 0;
    }
    int out = n - skip < max ? n - skip : max;
    memcpy(ips, scratch + skip, (size_t)out * sizeof *ips);
    return out;
}
