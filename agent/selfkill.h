/* selfkill.h — kill() sent to the process itself (selfkill.c). */
#ifndef PA_SELFKILL_H
#define PA_SELFKILL_H

/* Looks up libc's kill; from the constructor. */
void pa_selfkill_resolve(void);

#endif
