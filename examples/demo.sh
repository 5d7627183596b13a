#!/usr/bin/env bash
# Builds pyagent, runs two examples under it and shows what a user sees: for
# examples/leaks.py the leak report printed at exit, then the reader's summary and
# leak table; for examples/hotspots.py where the CPU went (`pyagent report`, per
# function and per thread) and an HTML flame graph.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/.ci/deps.sh"
pa_deps_install
build=${PYAGENT_BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
out=$(mktemp -d)
echo "== LD_PRELOAD=$build/libpyagent.so python3 examples/leaks.py   (in $out)"
(cd "$out" && LD_PRELOAD="$build/libpyagent.so" PYAGENT_LEAK_TOP=3 python3 "$top/examples/leaks.py")
trace=$(ls "$out"/pyagent-*.trace)
echo
echo "== pyagent summary $trace"
"$build/pyagent" summary "$trace"
echo
echo "== pyagent leaks $trace --top 3"
"$build/pyagent" leaks "$trace" --top 3

echo
echo "== LD_PRELOAD=$build/libpyagent.so PYAGENT_LEAK_REPORT=off python3 examples/hotspots.py"
(cd "$out" && rm -f pyagent-*.trace && LD_PRELOAD="$build/libpyagent.so" PYAGENT_LEAK_REPORT=off python3 "$top/examples/hotspots.py")
trace=$(ls "$out"/pyagent-*.trace)
echo
echo "== pyagent report $trace --event task-clock --top 6"
"$build/pyagent" report "$trace" --event task-clock --top 6
echo
echo "== pyagent report $trace --thread resizer --lines --top 3"
"$build/pyagent" report "$trace" --thread resizer --lines --event task-clock --top 3
echo
echo "== pyagent flamegraph $trace"
"$build/pyagent" flamegraph "$trace"
