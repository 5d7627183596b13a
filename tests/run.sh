#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as errors and
# runs every CTest test (unit, layout and export checks, integration on every CPython
# found), then the reader and unit tests again under AddressSanitizer + UBSan, then the
# reader's libFuzzer targets for a bounded time (tests/fuzz).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/.ci/deps.sh"
pa_deps_install chromium dpkg-dev man-db  # the flame graph page is tested in a real browser; the .deb is built and installed
pa_deps_install clang libclang-rt-dev clang-tidy cppcheck valgrind  # libFuzzer (libclang-rt), static analysis, memcheck
build=${PA_BUILD_DIR:-$top/build}  # not PYAGENT_*: the agent refuses names it does not know
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPYAGENT_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
echo "== sanitizers (reader, unit tests)"
cmake -S "$top" -B "$build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPYAGENT_WERROR=ON -DPYAGENT_SANITIZE=ON >/dev/null
cmake --build "$build-asan" -j"$(nproc)" >/dev/null
(cd "$build-asan" && ctest --output-on-failure -j2)
echo "== fuzzing (reader; libFuzzer, bounded: tests/fuzz)"
CC=clang cmake -S "$top" -B "$build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPYAGENT_WERROR=ON -DPYAGENT_FUZZ=ON >/dev/null
cmake --build "$build-fuzz" -j"$(nproc)" --target fuzz >/dev/null
(cd "$build-fuzz" && ctest --output-on-failure -R fuzz)
echo "== all tests"
cd "$build"
ctest --output-on-failure -j2 "$@"
