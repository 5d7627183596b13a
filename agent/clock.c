/* clock.c — TSC-based timestamps. An invariant TSC (constant_tsc and nonstop_tsc in
 * /proc/cpuinfo) ticks at a fixed rate on every core; the rate is measured against
 * CLOCK_MONOTONIC, and the conversion is re-anchored at buffer boundaries, so an
 * error in the measured rate never accumulates beyond one buffer's span. */
#include "clock.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

#include "common.h"

typedef pa_clock_anchor_t anchor_t;

int pa_clock_tsc;
uint64_t pa_clock_mult;
_Atomic(anchor_t *) pa_clock_current;
static anchor_t origin;           /* the first anchor: long baselines refine pa_clock_mult */
static anchor_t anchors[2];
static atomic_int which;

static int invariant_tsc(void)
{
    char buf[8192];
    int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    return strstr(buf, " constant_tsc") && strstr(buf, " nonstop_tsc");
}

/* The TSC read sits between two clock readings: its time is their midpoint. A pair
 * more than a few microseconds apart was interrupted (preempted, on a busy machine)
 * and says nothing precise: it is taken again. */
#define TAKE_SPREAD_NS 4000

static int take(anchor_t *out)
{
    for (int tries = 0; tries < 50; tries++) {
        uint64_t a = pa_now_ns(), t = __rdtsc(), b = pa_now_ns();
        if (b - a <= TAKE_SPREAD_NS) {
            *out = (anchor_t){ t, a + (b - a) / 2 };
            return 0;
        }
    }
    return -1;
}

void pa_clock_init(void)
{
    if (!invariant_tsc())
        return;
    anchor_t end;
    if (take(&origin) != 0)
        return;
    do
        if (take(&end) != 0)
            return;
    while (end.ns - origin.ns < 2000000);
    if (end.tsc <= origin.tsc)
        return;
    pa_clock_mult = (uint64_t)(((unsigned __int128)(end.ns - origin.ns) << 32) / (end.tsc - origin.tsc));
    anchors[0] = end;
    atomic_store(&pa_clock_current, &anchors[0]);
    pa_clock_tsc = 1;
}

/* Anchoring happens on the call path (under the GIL) and at writer flushes (any
 * thread): one at a time, or two could write the same spare slot. */
static pa_spin_t anchoring = PA_SPIN_INIT;

void pa_clock_anchor(void)
{
    anchor_t now;
    if (!pa_clock_tsc || !pa_spin_trylock(&anchoring))
        return;
    if (take(&now) != 0) {
        pa_spin_unlock(&anchoring);
        return;
    }
    if (now.tsc > origin.tsc + 1000000000ull) /* a long baseline: a better rate */
        pa_clock_mult = (uint64_t)(((unsigned __int128)(now.ns - origin.ns) << 32) / (now.tsc - origin.tsc));
    int next = !atomic_load(&which);
    anchors[next] = now;
    atomic_store(&pa_clock_current, &anchors[next]);
    atomic_store(&which, next);
    pa_spin_unlock(&anchoring);
}

uint64_t pa_clock_ns(void)
{
    return pa_clock_tsc ? pa_clock_fast() : pa_now_ns();
}
