#!/usr/bin/env bash
# Packaging: `cmake --install` lays out a working tree (the installed `pyagent run`
# finds the installed library, pkg-config finds the header, the man page renders), and
# `cpack -G DEB` builds a package that installs with dpkg, runs, and removes cleanly.
# usage: test_package.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A program with a leak the report must name (its function and bytes).
cat >"$tmp/leaky.py" <<'EOF'
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
def keep_buffer():
    return libc.malloc(123457)
keep_buffer()
print("done")
EOF

# $1: the pyagent CLI to use. Runs the leaky program through `pyagent run`.
check_run() {
    local cli=$1 out="$tmp/run.$RANDOM"
    mkdir "$out"
    (cd "$out" && "$cli" run -o leaky.trace -- python3 "$tmp/leaky.py" >stdout 2>stderr) ||
        fail "$cli run exited $?: $(cat "$out/stderr")"
    [ "$(cat "$out/stdout")" = done ] || fail "stdout changed: $(cat "$out/stdout")"
    grep -q "123,457 bytes in 1 block" "$out/stderr" || fail "leak report missing: $(cat "$out/stderr")"
    grep -q "keep_buffer" "$out/stderr" || fail "leak not attributed to keep_buffer"
    grep -q "^pyagent: trace leaky.trace (" "$out/stderr" || fail "run did not name the trace"
    "$cli" leaks "$out/leaky.trace" --json >"$out/leaks.json"
    grep -q keep_buffer "$out/leaks.json" || fail "pyagent leaks does not read the trace"
}

echo "== cmake --install"
stage="$tmp/stage"
cmake --install "$build" --prefix "$stage" >/dev/null
for f in bin/pyagent include/pyagent.h include/pyagent/format.h share/man/man1/pyagent.1; do
    [ -f "$stage/$f" ] || fail "$f not installed"
done
lib=$(find "$stage" -name libpyagent.so) && [ -n "$lib" ] || fail "libpyagent.so not installed"
pc=$(find "$stage" -name pyagent.pc) && [ -n "$pc" ] || fail "pyagent.pc not installed"
check_run "$stage/bin/pyagent"
for cmd in summary leaks report flamegraph script export run; do
    "$stage/bin/pyagent" help $cmd >"$tmp/help" && grep -q "usage: pyagent $cmd" "$tmp/help" || fail "no help for $cmd"
    grep -q "^\.SS $cmd\$" "$stage/share/man/man1/pyagent.1" || fail "man page lacks $cmd"
done
man -l "$stage/share/man/man1/pyagent.1" 2>&1 >/dev/null | grep . && fail "man page warnings"

echo "== pkg-config and the C API header"
cflags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags pyagent | xargs)
[ "$cflags" = "-I$stage/include" ] || fail "pkg-config --cflags pyagent gave '$cflags'"
cc $cflags -Wall -Werror -shared -fPIC -o "$tmp/capi.so" "$src/tests/victims/capi_user.c" ||
    fail "capi_user.c does not build against the installed header"

echo "== Debian package"
(cd "$build" && cpack -G DEB >"$tmp/cpack.log" 2>&1) || fail "cpack failed: $(cat "$tmp/cpack.log")"
deb=$(ls "$build"/pyagent_*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no .deb built"
dpkg-deb -I "$deb" >"$tmp/info" && dpkg-deb -c "$deb" >"$tmp/contents"
grep -q "Depends:.*libunwind8" "$tmp/info" || fail "package does not depend on libunwind8"
grep -q "./usr/bin/pyagent$" "$tmp/contents" || fail "package lacks /usr/bin/pyagent"
if [ "$(id -u)" -eq 0 ] && ! dpkg-query -W pyagent >/dev/null 2>&1; then
    dpkg -i "$deb" >/dev/null || fail "dpkg -i failed"
    trap 'dpkg -r pyagent >/dev/null 2>&1; rm -rf "$tmp"' EXIT
    check_run /usr/bin/pyagent
    pkg-config --cflags pyagent >/dev/null || fail "installed pyagent.pc not found by pkg-config"
    dpkg -r pyagent >/dev/null || fail "dpkg -r failed"
    [ ! -e /usr/bin/pyagent ] || fail "dpkg -r left /usr/bin/pyagent"
else
    echo "(not root, or a pyagent package is already installed: dpkg -i step skipped)"
fi
echo "PASS"
