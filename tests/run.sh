#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as errors,
# runs every CTest test (unit, layout checks, integration on every CPython found).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/.ci/deps.sh"
pa_deps_install
build=${PYAGENT_BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPYAGENT_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j2 "$@"
