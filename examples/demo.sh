#!/usr/bin/env bash
# Builds pyagent and shows what a user sees, each step as the command a user would
# type: examples/leaks.py under the agent (the leak report printed at exit, then the
# reader's summary and leak table), and examples/hotspots.py (where the CPU went, per
# function and per line, and an HTML flame graph). Five more worked examples, one
# command each: examples/README.md.
#
# usage: bash examples/demo.sh [BUILD_DIR]    (default: build/ in the source tree)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/.ci/deps.sh"
pa_deps_install
build=$(realpath -m "${1:-$top/build}")
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

out=$(mktemp -d)
cd "$out"
echo "pyagent is $build/pyagent; traces go to $out"
step() {
    echo
    echo "\$ pyagent $*"
    "$build/pyagent" "$@"
}

step run --leak-top 3 -o leaks.trace -- python3 "$top/examples/leaks.py"
step summary leaks.trace
step leaks leaks.trace --top 3

step run --leak-report off -o hotspots.trace -- python3 "$top/examples/hotspots.py"
# The event that triggered the samples: cycles with a PMU, task-clock without one.
lead=$("$build/pyagent" summary hotspots.trace --json |
       python3 -c 'import json, sys; print([e["name"] for e in json.load(sys.stdin)["sampling"]["events"] if e["leader"]][0])')
step report hotspots.trace --event "$lead" --top 6
step report hotspots.trace --thread resizer --lines --event "$lead" --top 3
step flamegraph hotspots.trace
