/* spawn.c — pthread_create, interposed so that every thread started after
 * activation, from Python or from C, gets its counters before its start routine
 * runs, and threads started by threading.Thread carry their Python name. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "common.h"
#include "mem.h"
#include "python.h"
#include "sampler.h"
#include "thread.h"

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

typedef struct start_pack {
    void *(*fn)(void *);
    void *arg;
    char name[64];
} start_pack_t;

static create_fn real_create(void)
{
    static create_fn real;
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "pthread_create");
    return real;
}

static void *start_thread(void *p)
{
    start_pack_t pack = *(start_pack_t *)p;
    pa_in_agent = 1;
    pa_mem_free(p);
    if (pa_tracking()) {
        pa_thread_t *t = pa_thread_get();
        if (t && pack.name[0])
            pa_thread_set_name(t, pack.name);
        pa_sampler_thread_begin();
    }
    pa_in_agent = 0;
    return pack.fn(pack.arg);
}

PA_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    create_fn real = real_create();
    if (!real)
        return EAGAIN;
    if (!pa_tracking() || pa_in_agent)
        return real(th, attr, fn, arg);
    int saved = errno;
    pa_in_agent = 1;
    start_pack_t *pack = pa_mem_alloc(sizeof *pack);
    if (pack) {
        pack->fn = fn;
        pack->arg = arg;
        pa_py_new_thread_name((void *)fn, arg, pack->name, sizeof pack->name);
    }
    pa_in_agent = 0;
    errno = saved;
    if (!pack)
        return real(th, attr, fn, arg);
    int rc = real(th, attr, start_thread, pack);
    if (rc != 0) {
        pa_in_agent = 1;
        pa_mem_free(pack);
        pa_in_agent = 0;
    }
    return rc;
}
