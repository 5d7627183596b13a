#!/bin/sh
# check_layouts.sh SRC_DIR BUILD_TMP_DIR
#
# For every CPython 3.8..3.13 whose headers are on this machine (Debian's
# /usr/include/python3.N and each pyenv version's include/python3.N), compiles
# tests/layout_probe.c against those headers, and compares its offsetof() output
# with the agent's table (tests/layout_dump.c + agent/pylayout.c).
# Prints one line per version; exits non-zero on any mismatch or build failure,
# and 0 (with a message) when no headers are found at all.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 SRC_DIR BUILD_TMP_DIR" >&2
    exit 2
fi
src=$1
tmp=$2

# cc with the flags used for both test programs.
ccw() {
    cc -std=c11 -O0 -Wall -Wextra "$@"
}

mkdir -p "$tmp" || exit 2

# Candidate include dirs, one per line as "include_dir|label", unsorted.
candidates() {
    for inc in /usr/include/python3.*; do
        [ -f "$inc/Python.h" ] && echo "$inc|$inc"
    done
    root=
    if command -v pyenv >/dev/null 2>&1; then
        root=$(pyenv root 2>/dev/null)
    fi
    if [ -z "$root" ]; then
        if [ -n "${PYENV_ROOT:-}" ]; then
            root=$PYENV_ROOT
        elif [ -n "${HOME:-}" ] && [ -d "$HOME/.pyenv" ]; then
            root=$HOME/.pyenv
        fi
    fi
    if [ -n "$root" ] && [ -d "$root/versions" ]; then
        for prefix in "$root"/versions/3.*; do
            for inc in "$prefix"/include/python3.*; do
                [ -f "$inc/Python.h" ] && echo "$inc|$prefix"
            done
        done
    fi
}

dump="$tmp/layout_dump"
if ! ccw -I"$src/agent" -o "$dump" \
        "$src/tests/layout_dump.c" "$src/agent/pylayout.c" 2>"$tmp/layout_dump.log"; then
    echo "FAIL: cannot build layout_dump:"
    cat "$tmp/layout_dump.log"
    exit 1
fi

found=0
failed=0
# Sort by the python3.N suffix of the include dir (version order), then by label.
list=$(candidates | awk -F'|' '{ v = $1; sub(/.*\/python/, "", v); print v "|" $0 }' |
       sort -t'|' -k1,1V -k3,3 | cut -d'|' -f2-)
# Read the list without a pipe so that found/failed survive the loop.
IFS='
'
for entry in $list; do
    inc=${entry%%|*}
    label=${entry#*|}
    ver=${inc##*/python}          # e.g. 3.12, 3.13t, 3.11d
    case $ver in
        3.8|3.9|3.10|3.11|3.12|3.13) ;;
        3.[0-7]|3.[0-7][a-z]*)
            echo "skip $ver ($label): the agent supports 3.8 .. 3.13"; continue ;;
        *)
            # 3.14+, or an ABI-suffixed tree (3.13t free-threaded, 3.11d debug)
            # whose layout differs from the default release build.
            echo "skip $ver ($label): not a 3.8 .. 3.13 default release build"; continue ;;
    esac
    minor=${ver#3.}
    found=$((found + 1))
    patch=$(sed -n 's/^#define PY_VERSION[ \t]*"\(.*\)".*/\1/p' "$inc/patchlevel.h" 2>/dev/null)
    case $label in
        */$patch) desc=$label ;;
        *) desc="$label, $patch" ;;
    esac

    tag=$(echo "$inc" | tr '/' '_')
    probe="$tmp/probe$tag"
    if ! ccw -DPy_BUILD_CORE -I"$inc" -o "$probe" \
            "$src/tests/layout_probe.c" 2>"$probe.log"; then
        echo "FAIL $ver ($desc): layout_probe does not compile:"
        sed 's/^/    /' "$probe.log" | head -20
        failed=$((failed + 1))
        continue
    fi
    if ! "$probe" >"$probe.hdr" 2>&1; then
        echo "FAIL $ver ($desc): layout_probe failed"
        failed=$((failed + 1))
        continue
    fi
    if ! "$dump" "$minor" >"$probe.agent" 2>&1; then
        echo "FAIL $ver ($desc): $(cat "$probe.agent")"
        failed=$((failed + 1))
        continue
    fi
    if cmp -s "$probe.hdr" "$probe.agent"; then
        echo "ok $ver ($desc)"
    else
        diffs=$(awk -F= '
            NR == FNR { hdr[$1] = $2; order[++n] = $1; next }
            { agent[$1] = $2; if (!($1 in hdr)) order[++n] = $1 }
            END {
                for (i = 1; i <= n; i++) {
                    k = order[i]
                    h = (k in hdr) ? hdr[k] : "(missing)"
                    a = (k in agent) ? agent[k] : "(missing)"
                    if (h != a) printf "%s %s: headers=%s agent=%s", (d++ ? ";" : ""), k, h, a
                }
            }' "$probe.hdr" "$probe.agent")
        echo "MISMATCH $ver ($desc):$diffs"
        failed=$((failed + 1))
    fi
done

if [ "$found" -eq 0 ]; then
    echo "check_layouts: no CPython 3.8..3.13 headers found (looked in /usr/include and pyenv); nothing to check"
    exit 0
fi
if [ "$failed" -ne 0 ]; then
    echo "check_layouts: $failed of $found CPython layout(s) FAILED"
    exit 1
fi
echo "check_layouts: all $found CPython layout(s) match"
exit 0
