#!/bin/sh
# The preload library exports exactly the interposed libc functions and the public
# pyagent_* API: anything else would leak into every program it is loaded into.
lib=$1
expected="_Exit _exit aligned_alloc calloc dlsym execv execve execvp execvpe fexecve free kill malloc malloc_usable_size memalign posix_memalign pthread_create pvalloc pyagent_active pyagent_api_version pyagent_counter pyagent_counter_int pyagent_mark pyagent_pause pyagent_region_begin pyagent_region_end pyagent_resume pyagent_trace_path realloc reallocarray sigaction signal sigtimedwait sigwait sigwaitinfo valloc"
actual=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TWiV]/ {print $3}' | sed 's/@.*//' | sort -u | tr '\n' ' ' | sed 's/ $//')
if [ "$actual" != "$expected" ]; then
    echo "export list differs"
    echo "expected: $expected"
    echo "actual:   $actual"
    exit 1
fi
# No undefined data symbol from CPython: it would stop non-Python programs from starting.
if nm -D --undefined-only "$lib" | grep -E ' (Py|_Py)'; then
    echo "undefined Python symbols"
    exit 1
fi
echo "exports ok: $actual"
