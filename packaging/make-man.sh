#!/bin/sh
# Writes the pyagent(1) man page from the CLI's own help texts, so the page and
# `pyagent help CMD` can never disagree. usage: make-man.sh PYAGENT_CLI VERSION OUT
set -eu
cli=$1 version=$2 out=$3
# roff: a leading dot or quote would start a request; backslashes must be doubled.
verbatim() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }
{
    printf '.TH PYAGENT 1 "" "pyagent %s" "User Commands"\n' "$version"
    printf '.SH NAME\npyagent \\- in-process performance agent and trace reader for CPython\n'
    printf '.SH SYNOPSIS\n.nf\n'
    printf 'LD_PRELOAD=/usr/lib/libpyagent.so python3 app.py\n'
    "$cli" --help | sed -n 's/^  pyagent /pyagent /p' | verbatim
    printf '.fi\n.SH DESCRIPTION\n'
    printf 'libpyagent.so, preloaded into a CPython process, samples where the CPU goes per Python\n'
    printf 'function (hardware counters where the machine has them, the task clock where not),\n'
    printf 'tracks every allocation with its stack, prints a leak report at exit and writes a\n'
    printf 'compressed trace. Configuration is by PYAGENT_* environment variables (listed under\n'
    printf '\\fBpyagent run\\fR, which sets them from flags). The \\fBpyagent\\fR commands read traces.\n'
    printf '.SH COMMANDS\n'
    for cmd in $("$cli" --help | sed -n 's/^  pyagent \([a-z]*\).*/\1/p'); do
        printf '.SS %s\n.nf\n' "$cmd"
        "$cli" help "$cmd" | verbatim
        printf '.fi\n'
    done
    printf '.SH EXIT STATUS\n0 success, 1 an unusable trace, 2 a usage error; \\fBpyagent run\\fR exits with its\n'
    printf "command's status (126/127 when it cannot be started).\n"
    printf '.SH SEE ALSO\nperf(1), heaptrack(1)\n'
} > "$out"
