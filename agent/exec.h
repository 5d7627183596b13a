/* exec.h — the interposed exec family (exec.c). */
#ifndef PA_EXEC_H
#define PA_EXEC_H

/* Looks up libc's exec functions; from the constructor, before any vfork child can
 * call them. */
void pa_exec_resolve(void);

#endif
