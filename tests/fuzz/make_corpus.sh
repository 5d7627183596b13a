#!/usr/bin/env bash
# Generates seed traces for the fuzz targets from real runs of small Python programs
# under the agent: CPU sampling (Python and native frames), trace mode (calls,
# generators, exceptions, threads, marks, counters, regions, pause/resume, counted
# functions), leaks, and a run SIGKILLed mid-write (a torn tail). Each trace is also
# written as a bare record sequence (<name>.records: the header's records, then every
# chunk decompressed), the other input form the targets take. Seeds over 64 KiB are
# dropped: mutations work best on small inputs. Traces are kept as NAME.tracefile.
#   tests/fuzz/make_corpus.sh [--lib build/libpyagent.so] [--python python3] [--out tests/fuzz/corpus]
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$src/../.." && pwd)
lib=$top/build/libpyagent.so
python=python3
out=$src/corpus
while [ $# -gt 0 ]; do
    case $1 in
    --lib) lib=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) sed -n '2,8p' "$0" >&2; exit 2 ;;
    esac
done
[ -f "$lib" ] || { echo "make_corpus.sh: no agent at $lib (--lib PATH)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

cat >"$tmp/spin.py" <<'PY'
import time
def leaf(n):
    return sum(i * i for i in range(n))
def mid(n):
    return leaf(n) + leaf(n // 2)
end = time.process_time() + 0.3
while time.process_time() < end:
    mid(2000)
PY
cat >"$tmp/calls.py" <<'PY'
import pyagent, threading
pyagent.resume()  # started paused: the interpreter's start-up calls stay out
def rec(n):
    return 0 if n == 0 else 1 + rec(n - 1)
def gen(n):
    for i in range(n):
        yield i
def fails():
    raise ValueError("x")
def work(k):
    with pyagent.region("work"):
        rec(5)
        sum(gen(3))
        try:
            fails()
        except ValueError:
            pass
        pyagent.mark("step", k=k, ok=True, who="w\u00e9")
        pyagent.counter("items", k)
        pyagent.counter("ratio", k / 3)
work(1)
pyagent.pause()
rec(3)
pyagent.resume()
t = threading.Thread(target=work, args=(2,), name="worker")
t.start()
t.join()
PY
cat >"$tmp/leaky.py" <<'PY'
import ctypes
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
keep = []
def cache(n):
    keep.append(bytearray(n))
def forget(n):
    libc.malloc(n)
for i in range(20):
    cache(1000 + i)
    forget(4096)
PY
cat >"$tmp/killed.py" <<'PY'
import sys, time
keep = []
def grow():
    keep.append(bytearray(20000))
    if len(keep) > 50:
        del keep[:25]
end = time.time() + 0.6
while time.time() < end:
    grow()
    time.sleep(0.002)
print("ready", flush=True)
time.sleep(60)
PY

# run NAME PROGRAM [VAR=VALUE...]: one traced run of PROGRAM.
run() {
    local name=$1 prog=$2
    shift 2
    env -u LD_PRELOAD "$@" LD_PRELOAD="$lib" PYAGENT_OUTPUT="$tmp/$name.trace" PYAGENT_LEAK_REPORT=off \
        "$python" "$tmp/$prog" >/dev/null 2>"$tmp/$name.err" || { cat "$tmp/$name.err" >&2; return 1; }
}
run sampling spin.py PYAGENT_FREQ=1000 PYAGENT_ALLOC=off
run sampling-native spin.py PYAGENT_FREQ=500 PYAGENT_ALLOC=off PYAGENT_NATIVE=full PYAGENT_NATIVE_DEPTH=8
run trace calls.py PYAGENT_MODE=trace PYAGENT_START=paused PYAGENT_COUNT=rec PYAGENT_ALLOC=off
run trace-c calls.py PYAGENT_MODE=trace PYAGENT_START=paused PYAGENT_TRACE_C=on PYAGENT_EVENTS=off \
    PYAGENT_NATIVE_DEPTH=2 PYAGENT_PYTHON_DEPTH=8
run leaky leaky.py PYAGENT_EVENTS=off PYAGENT_NATIVE_DEPTH=4

# The torn tail: SIGKILL while the agent writes every 10 ms.
env -u LD_PRELOAD LD_PRELOAD="$lib" PYAGENT_OUTPUT="$tmp/killed.trace" PYAGENT_FLUSH_MS=10 PYAGENT_EVENTS=off \
    PYAGENT_NATIVE_DEPTH=2 "$python" "$tmp/killed.py" >"$tmp/killed.out" 2>/dev/null &
pid=$!
for _ in $(seq 100); do grep -q ready "$tmp/killed.out" 2>/dev/null && break; sleep 0.1; done
kill -KILL $pid
wait $pid 2>/dev/null || true
# Cut inside the last chunk, as a kill during a write would.
size=$(stat -c %s "$tmp/killed.trace")
truncate -s $((size - 7)) "$tmp/killed.trace"

# Bare records: the header's records, then each chunk's decompressed records.
"$python" - "$tmp" <<'PY'
import ctypes, ctypes.util, glob, struct, sys
zstd = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
zstd.ZSTD_decompress.restype = ctypes.c_size_t
zstd.ZSTD_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]
zstd.ZSTD_isError.argtypes = [ctypes.c_size_t]
for path in glob.glob(sys.argv[1] + "/*.trace"):
    d = open(path, "rb").read()
    magic, size = struct.unpack_from("<II", d, 0)
    assert magic == 0x184D2A50, path
    records = bytearray(d[8 + 16:8 + size])
    off = 8 + size
    while off + 8 <= len(d):
        magic, size = struct.unpack_from("<II", d, off)
        if magic != 0x184D2A51 or off + 24 > len(d):
            break
        seq, raw, zsize = struct.unpack_from("<IIQ", d, off + 8)
        z = d[off + 24:off + 24 + zsize]
        if len(z) < zsize:
            break  # the torn tail
        buf = ctypes.create_string_buffer(raw)
        got = zstd.ZSTD_decompress(buf, raw, z, zsize)
        if not zstd.ZSTD_isError(got):
            records += buf.raw[:got]
        off += 24 + zsize
    open(path[:-len(".trace")] + ".records", "wb").write(records)
PY

# Kept as NAME.tracefile (.gitignore leaves *.trace out) and NAME.records.
for f in "$tmp"/*.trace "$tmp"/*.records; do
    n=$(stat -c %s "$f")
    name=$(basename "$f")
    name=${name%.trace}
    [ "$name" = "$(basename "$f")" ] || name=$name.tracefile
    if [ "$n" -gt 65536 ]; then
        echo "make_corpus.sh: $name is $n bytes, over 64 KiB: not kept" >&2
        continue
    fi
    cp "$f" "$out/$name"
    chmod 644 "$out/$name"
    echo "$name: $n bytes"
done
