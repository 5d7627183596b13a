/* exec.c — the exec family, interposed because an exec replaces the image without
 * running destructors or atexit handlers: the trace of the image being replaced is
 * finished first (session.c), or everything it buffered would be lost. Python's
 * os.exec* and subprocess reach libc through these names; execl and friends call
 * libc's internal execve and are not seen (their callers are C programs, dormant). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "exec.h"
#include "log.h"
#include "session.h"

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);

/* Resolved by the constructor: a vfork child (subprocess, posix_spawn) calls these
 * on its parent's memory, where dlsym, which may allocate, must not run. */
static execve_fn real_execve, real_execvpe;
static execv_fn real_execv, real_execvp;
static fexecve_fn real_fexecve;

void pa_exec_resolve(void)
{
    *(void **)&real_execve = dlsym(RTLD_NEXT, "execve");
    *(void **)&real_execv = dlsym(RTLD_NEXT, "execv");
    *(void **)&real_execvp = dlsym(RTLD_NEXT, "execvp");
    *(void **)&real_execvpe = dlsym(RTLD_NEXT, "execvpe");
    *(void **)&real_fexecve = dlsym(RTLD_NEXT, "fexecve");
}

static int runnable(const char *path) { return faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0; }

/* What execvp would find: a missing command is the common failure, and it must not
 * end a trace while the program goes on (subprocess tries each PATH entry in turn). */
static int findable(const char *file)
{
    if (!*file)
        return 0;
    if (strchr(file, '/'))
        return runnable(file);
    const char *dirs = getenv("PATH");
    if (!dirs)
        dirs = "/bin:/usr/bin";
    for (const char *p = dirs;; p++) {
        const char *end = strchrnul(p, ':');
        char path[PATH_MAX];
        int dir_len = (int)(end - p);
        if (snprintf(path, sizeof path, "%.*s%s%s", dir_len, p, dir_len ? "/" : "", file) < (int)sizeof path &&
            runnable(path))
            return 1;
        if (!*end)
            return 0;
        p = end;
    }
}

/* will_run is only asked of a recording process (a dormant one pays no check).
 * @return whether this image's trace was finished (then a failed exec says so). */
static int before(int (*will_run)(const char *), const char *target)
{
    if (!pa_tracking())
        return 0;
    int saved = errno;
    int finished = will_run(target) && pa_session_exec();
    errno = saved;
    return finished;
}

static int always(const char *unused) { return 1; }

static void after_failure(int finished)
{
    if (finished)
        pa_log("exec failed (%s) after this image's trace was finished; the rest of the process is not recorded",
               strerror(errno));
}

PA_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    execve_fn fn = real_execve;
    int finished = before(runnable, path);
    int rc = fn ? fn(path, argv, envp) : (errno = ENOSYS, -1);
    after_failure(finished);
    return rc;
}

PA_EXPORT int execv(const char *path, char *const argv[])
{
    execv_fn fn = real_execv;
    int finished = before(runnable, path);
    int rc = fn ? fn(path, argv) : (errno = ENOSYS, -1);
    after_failure(finished);
    return rc;
}

PA_EXPORT int execvp(const char *file, char *const argv[])
{
    execv_fn fn = real_execvp;
    int finished = before(findable, file);
    int rc = fn ? fn(file, argv) : (errno = ENOSYS, -1);
    after_failure(finished);
    return rc;
}

PA_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    execve_fn fn = real_execvpe;
    int finished = before(findable, file);
    int rc = fn ? fn(file, argv, envp) : (errno = ENOSYS, -1);
    after_failure(finished);
    return rc;
}

PA_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    fexecve_fn fn = real_fexecve;
    int finished = before(always, NULL);
    int rc = fn ? fn(fd, argv, envp) : (errno = ENOSYS, -1);
    after_failure(finished);
    return rc;
}
