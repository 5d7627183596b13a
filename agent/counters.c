/* counters.c — libpfm4 encoding and perf_event groups. Only what the kernel accepts
 * counts: libpfm4 happily encodes hardware events on machines whose hypervisor hides
 * the PMU, and perf_event_open is the only honest probe. */
#include "counters.h"

#include "common.h"

#include <pyagent/format.h>

#include <dlfcn.h>
#include <errno.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* libpfm4 is opened only when counters are asked for: the preload library is mapped
 * into every process (shells included), which should not pay for it. */
static struct {
    pfm_err_t (*initialize)(void);
    pfm_err_t (*encode)(const char *, int, pfm_os_t, void *);
    const char *(*strerror)(int);
} pfm;

static int pfm_ready(char *err, size_t errlen)
{
    static int rc = -1, done;
    if (!done) {
        done = 1;
        void *h = dlopen("libpfm.so.4", RTLD_NOW | RTLD_LOCAL);
        if (h) {
            *(void **)&pfm.initialize = dlsym(h, "pfm_initialize");
            *(void **)&pfm.encode = dlsym(h, "pfm_get_os_event_encoding");
            *(void **)&pfm.strerror = dlsym(h, "pfm_strerror");
        }
        if (!pfm.initialize || !pfm.encode || !pfm.strerror) {
            snprintf(err, errlen, "libpfm.so.4 not available (install libpfm4)");
            pfm.initialize = NULL;
            return -1;
        }
        rc = pfm.initialize();
    }
    if (!pfm.initialize)
        snprintf(err, errlen, "libpfm.so.4 not available (install libpfm4)");
    else if (rc != PFM_SUCCESS)
        snprintf(err, errlen, "libpfm4 initialisation failed: %s", pfm.strerror(rc));
    return pfm.initialize && rc == PFM_SUCCESS ? 0 : -1;
}

static int encode_one(const char *name, pa_event_t *ev, char *err, size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    snprintf(ev->name, sizeof ev->name, "%s", name);
    pfm_perf_encode_arg_t arg;
    memset(&arg, 0, sizeof arg);
    arg.attr = &ev->attr;
    arg.size = sizeof arg;
    /* user level unless the name says otherwise: kernel counting needs perf_event_paranoid < 2 */
    int rc = pfm.encode(name, PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg);
    if (rc != PFM_SUCCESS) {
        snprintf(err, errlen, "unknown event '%s': %s", name, pfm.strerror(rc));
        return -1;
    }
    ev->attr.size = sizeof ev->attr;
    ev->attr.disabled = 1; /* the group leader enables the whole group */
    ev->attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    return 0;
}

int pa_events_encode(const char *list, pa_event_set_t *out, char *err, size_t errlen)
{
    out->n = 0;
    if (pfm_ready(err, errlen) != 0)
        return -1;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        char name[PA_EVENT_NAME];
        if (len == 0 || len >= sizeof name) {
            snprintf(err, errlen, "bad event name '%.*s' in '%s'", (int)len, p, list);
            return -1;
        }
        if (out->n == PA_MAX_EVENTS) {
            snprintf(err, errlen, "too many events in '%s' (at most %d)", list, PA_MAX_EVENTS);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = 0;
        if (encode_one(name, &out->ev[out->n], err, errlen) != 0)
            return -1;
        out->n++;
        p += len + (p[len] == ',');
    }
    if (out->n == 0) {
        snprintf(err, errlen, "no event given");
        return -1;
    }
    return 0;
}

static int perf_open(struct perf_event_attr *attr, int group)
{
    return (int)syscall(SYS_perf_event_open, attr, 0 /* this thread */, -1, group, PERF_FLAG_FD_CLOEXEC);
}

void pa_group_close(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

int pa_group_open(const pa_event_set_t *set, int *fds)
{
    for (int i = 0; i < set->n; i++)
        fds[i] = -1;
    for (int i = 0; i < set->n; i++) {
        struct perf_event_attr attr = set->ev[i].attr;
        attr.disabled = i == 0;
        fds[i] = perf_open(&attr, i == 0 ? -1 : fds[0]);
        if (fds[i] < 0) {
            int e = errno;
            pa_group_close(fds, i);
            return -e;
        }
    }
    if (ioctl(fds[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP) != 0) {
        int e = errno;
        pa_group_close(fds, set->n);
        return -e;
    }
    return 0;
}

int pa_group_read(int leader, int n, uint64_t *values, int *scaled)
{
    uint64_t buf[3 + PA_MAX_EVENTS]; /* nr, time_enabled, time_running, values */
    ssize_t want = (ssize_t)((3 + (size_t)n) * sizeof buf[0]);
    if (n > PA_MAX_EVENTS || read(leader, buf, sizeof buf) < want)
        return -EIO;
    uint64_t enabled = buf[1], running = buf[2];
    *scaled = running && running < enabled;
    for (int i = 0; i < n; i++)
        values[i] = *scaled ? (uint64_t)((double)buf[3 + i] * enabled / running) : buf[3 + i];
    return 0;
}

int pa_events_probe(const pa_event_set_t *set, char *why, size_t whylen)
{
    int fds[PA_MAX_EVENTS];
    for (int i = 0; i < set->n; i++) {
        struct perf_event_attr attr = set->ev[i].attr;
        fds[i] = perf_open(&attr, -1);
        if (fds[i] < 0) {
            int e = errno;
            snprintf(why, whylen, "%s cannot be opened here: %s", set->ev[i].name, strerror(e));
            pa_group_close(fds, i);
            return e;
        }
    }
    pa_group_close(fds, set->n);
    return 0;
}

/* The default sets use generic perf events only, encoded here as libpfm4 encodes
 * them at user level (tests/test_counters.c compares the two): libpfm4's start-up
 * probes the PMU with cpuid, ~4 ms on these VMs, which a default run should not pay. */
static const struct { const char *name; uint32_t type; uint64_t config; } generic[] = {
    { "cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
    { "instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS },
    { "cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES },
    { "branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES },
    { "task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK },
    { "page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
    { "context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
};

int pa_events_encode_generic(const char *list, pa_event_set_t *out)
{
    out->n = 0;
    for (const char *p = list; *p && out->n < PA_MAX_EVENTS;) {
        size_t len = strcspn(p, ",");
        unsigned i = 0;
        while (i < PA_ARRAY_LEN(generic) && !(strlen(generic[i].name) == len && !strncmp(p, generic[i].name, len)))
            i++;
        if (i == PA_ARRAY_LEN(generic))
            return -1;
        pa_event_t *ev = &out->ev[out->n++];
        memset(ev, 0, sizeof *ev);
        snprintf(ev->name, sizeof ev->name, "%s", generic[i].name);
        ev->attr.type = generic[i].type;
        ev->attr.config = generic[i].config;
        ev->attr.size = sizeof ev->attr;
        ev->attr.exclude_kernel = 1;
        ev->attr.exclude_hv = 1;
        ev->attr.disabled = 1;
        ev->attr.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
        p += len + (p[len] == ',');
    }
    return out->n ? 0 : -1;
}

int pa_events_default(pa_event_set_t *out, char *note, size_t notelen)
{
    char why[160];
    note[0] = 0;
    if (pa_events_encode_generic(PA_EVENTS_HARDWARE, out) == 0 && pa_events_probe(out, why, sizeof why) == 0)
        return 0;
    if (pa_events_encode_generic(PA_EVENTS_SOFTWARE, out) != 0)
        return -1;
    snprintf(note, notelen, "no hardware counters (%s); counting %s instead", why, PA_EVENTS_SOFTWARE);
    char e2[160];
    return pa_events_probe(out, e2, sizeof e2) == 0 ? 0 : -1;
}

static int is_time_event(const struct perf_event_attr *a)
{
    return a->type == PERF_TYPE_SOFTWARE && (a->config == PERF_COUNT_SW_TASK_CLOCK || a->config == PERF_COUNT_SW_CPU_CLOCK);
}

/* Software events cost no PMU counter, so they always join the leader; a group
 * asking for more hardware counters than the PMU has would never be scheduled. */
int pa_events_plan(const pa_event_set_t *set, unsigned *flags, int *lead)
{
    int hw = 0, n_lead = 0;
    for (int i = 0; i < set->n; i++) {
        int sw = set->ev[i].attr.type == PERF_TYPE_SOFTWARE;
        flags[i] = is_time_event(&set->ev[i].attr) ? PA_EVF_TIME : 0;
        if (i == 0 || sw || hw < PA_GROUP_HW_MAX) {
            lead[n_lead++] = i;
            hw += !sw;
        } else {
            flags[i] |= PA_EVF_MULTIPLEXED;
        }
    }
    if (set->n)
        flags[0] |= PA_EVF_LEADER;
    return n_lead;
}
