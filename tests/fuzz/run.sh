#!/usr/bin/env bash
# Runs the reader's libFuzzer targets (build: CC=clang cmake -B build-fuzz -DPYAGENT_FUZZ=ON
# && cmake --build build-fuzz --target fuzz), one after the other, niced, each starting
# from the committed seeds and regressions plus what earlier runs found (kept in --work).
# Allocations and run time per input are capped, so an unbounded allocation or a hang
# is a finding like a crash. Prints one line of figures per target; exit 1 on a finding
# (the input is saved under WORK/artifacts/).
#   tests/fuzz/run.sh --minutes 30           the long run: 30 minutes over all targets
#   tests/fuzz/run.sh --seconds 20 --target decode
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$src/../.." && pwd)
bin_dir=$top/build-fuzz/tests
work=""
seconds=""
minutes=""
targets=()
all=(decode records leaks summary report script export flamegraph)

usage() {
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
    echo "usage: $0 [--bin-dir DIR] [--work DIR] [--seconds N | --minutes N] [--target NAME]..." >&2
    echo "targets: ${all[*]}" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --bin-dir) bin_dir=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --target) targets+=("$2"); shift 2 ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown argument $1" >&2; usage ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
work=${work:-$(dirname "$bin_dir")/fuzz-work}
if [ -n "$minutes" ]; then
    seconds=$(( minutes * 60 / ${#targets[@]} ))
fi
seconds=${seconds:-20}
case $seconds in ''|*[!0-9]*) echo "run.sh: --seconds and --minutes take whole numbers" >&2; exit 2 ;; esac
[ "$seconds" -ge 1 ] || seconds=1

# Per input: 30 s (a hang; an input takes milliseconds, but a loaded 2-core machine
# once stalled one for 13 s inside ASan's free), 256 MiB in one allocation (four times
# the largest buffer the format allows: a 64 MiB chunk), 2 GiB resident.
limits=(-timeout=30 -malloc_limit_mb=256 -rss_limit_mb=2048)

findings=0
for name in "${targets[@]}"; do
    exe=$bin_dir/fuzz_$name
    if [ ! -x "$exe" ]; then
        echo "run.sh: $exe is missing (CC=clang cmake -B build-fuzz -DPYAGENT_FUZZ=ON; cmake --build build-fuzz --target fuzz)" >&2
        exit 2
    fi
    mkdir -p "$work/corpus/$name" "$work/artifacts" "$work/logs"
    log=$work/logs/$name.log
    rc=0
    nice -n 10 "$exe" "$work/corpus/$name" "$src/corpus" "$src/regressions" -dict="$src/pyagent.dict" \
        -max_total_time="$seconds" "${limits[@]}" -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/$name-" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")
    echo "fuzz_$name: ${seconds}s, ${execs:-?} execs (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?} (inputs/bytes)"
    if [ $rc -ne 0 ]; then
        findings=$((findings + 1))
        echo "fuzz_$name: FINDING (exit $rc); log $log:" >&2
        grep -E 'ERROR|SUMMARY|fuzz: |Test unit written|^    #[0-9]' "$log" | head -n 40 >&2 || tail -n 40 "$log" >&2
    fi
done
exit $((findings > 0))
