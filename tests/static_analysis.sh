#!/usr/bin/env bash
# Static analysis of the agent and the reader: cppcheck (warning, portability and
# performance checks) and clang-tidy (the checks in .clang-tidy, run file by file on a
# compile database configured with clang). Exit 0 clean, 1 findings, 77 when neither
# tool is installed (CTest: skipped). A tool that is missing is named and skipped.
#   tests/static_analysis.sh [--work DIR] [--only cppcheck|clang-tidy] [FILE.c...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$top/build-tidy
only=""
files=()
while [ $# -gt 0 ]; do
    case $1 in
    --work) work=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) files+=("$1"); shift ;;
    esac
done
cd "$top"
[ ${#files[@]} -gt 0 ] || files=(agent/*.c reader/*.c)
ran=0
failed=0

if [ "$only" != clang-tidy ]; then
    if command -v cppcheck >/dev/null; then
        ran=1
        echo "== cppcheck $(cppcheck --version | sed 's/^Cppcheck //')"
        # -D_GNU_SOURCE: the configuration the build compiles (CMakeLists.txt).
        if nice cppcheck --enable=warning,portability,performance --inline-suppr --error-exitcode=1 -q \
            --std=c11 -D_GNU_SOURCE -I include -I agent -I reader "${files[@]}"; then
            echo "cppcheck: clean (${#files[@]} files)"
        else
            failed=1
        fi
    else
        echo "static_analysis.sh: cppcheck not installed (apt-get install cppcheck): skipped"
    fi
fi

if [ "$only" != cppcheck ]; then
    if command -v clang-tidy >/dev/null && command -v clang >/dev/null; then
        ran=1
        echo "== $(clang-tidy --version | grep -i 'version' | head -n 1 | sed 's/^ *//')"
        # A compile database with clang's view of the flags (configure only, no build).
        CC=clang cmake -S "$top" -B "$work" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
        # One compilation per clang-tidy process: in one process the analyzer's state
        # leaks from one run to the next (clang 14 then reports the va_lists of the next
        # run as uninitialised), so files compiled by several targets (agent modules in
        # unit tests) keep only their first entry, and xargs passes one file at a time.
        mkdir -p "$work/tidy-db"
        python3 - "$work/compile_commands.json" "$work/tidy-db/compile_commands.json" <<'PY'
import json, sys
seen, out = set(), []
for entry in json.load(open(sys.argv[1])):
    if entry["file"] not in seen:
        seen.add(entry["file"])
        out.append(entry)
json.dump(out, open(sys.argv[2], "w"), indent=1)
PY
        log=$work/clang-tidy.log
        if printf '%s\n' "${files[@]}" |
            nice xargs -P "$(nproc)" -n 1 clang-tidy -p "$work/tidy-db" --quiet >"$log" 2>&1; then
            echo "clang-tidy: clean (${#files[@]} files)"
        else
            grep -E '(error|warning):' "$log" | sort -u || cat "$log"
            failed=1
        fi
    else
        echo "static_analysis.sh: clang-tidy or clang not installed (apt-get install clang clang-tidy): skipped"
    fi
fi

[ $ran -eq 1 ] || exit 77
exit $failed
