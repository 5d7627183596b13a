#!/usr/bin/env python3
"""Compact tables from run.py's JSON: one row per workload, one column per configuration.

    python3 bench/tables.py /tmp/bench-312.json [cpu|wall|rss|size|samples|persample]

cpu/wall/rss: median paired ratio to the baseline; a configuration with runs that failed
the exit-status/stdout check shows "(k/n OK)" after its ratio. size: median output file
(the agent's trace, heaptrack's, perf's or austin's data). samples: median samples per run.
persample: CPU per extra sample between two configurations (see run.py PER_SAMPLE_PAIRS).
"""
import json
import sys

OUTPUT_KEYS = ("trace_bytes_median", "heaptrack_bytes_median", "perf_bytes_median",
               "austin_bytes_median")


def fmt_bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0


def ok_note(s):
    return "" if s.get("ok", s["n"]) == s["n"] else " (%d/%d OK)" % (s["ok"], s["n"])


def ratio_table(summary, configs, metric):
    key = {"cpu": "cpu_ratio_median", "wall": "wall_ratio_median", "rss": "rss_ratio_median"}[metric]
    base_key = {"cpu": "cpu_median", "wall": "wall_median", "rss": "maxrss_kib_median"}[metric]
    unit = {"cpu": "CPU s", "wall": "wall s", "rss": "peak RSS MiB"}[metric]
    print("| workload | baseline %s | %s |" % (unit, " | ".join(configs)))
    print("|---|---:|" + "---:|" * len(configs))
    for w, per in summary.items():
        base = per["baseline"][base_key]
        if metric == "rss":
            base /= 1024.0
        cells = []
        for c in configs:
            s = per.get(c)
            cells.append("–" if not s or s.get(key) is None else "%.2fx%s" % (s[key], ok_note(s)))
        print("| %s | %.3f | %s |" % (w, base, " | ".join(cells)))


def value_table(summary, configs, what):
    print("| workload | %s |" % " | ".join(configs))
    print("|---|" + "---:|" * len(configs))
    for w, per in summary.items():
        cells = []
        for c in configs:
            s = per.get(c) or {}
            if what == "size":
                v = next((s[k] for k in OUTPUT_KEYS if s.get(k) is not None), None)
                cells.append("–" if v is None else fmt_bytes(v))
            else:
                v = s.get("samples_median")
                cells.append("–" if v is None else "%.0f" % v)
        print("| %s | %s |" % (w, " | ".join(cells)))


def per_sample_table(summary):
    print("| workload | pair | rounds | extra samples | extra CPU ms | µs/sample (median of "
          "paired) | µs/sample (of medians) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for w, per in summary.items():
        for pair, v in per.get("_per_sample", {}).items():
            print("| %s | %s | %d | %.0f | %+.1f | %.0f | %.0f |" % (
                w, pair, v["n"], v["extra_samples_median"], v["extra_cpu_s_median"] * 1e3,
                v["us_per_sample_median"], v["us_per_sample_of_medians"]))


def startup_table(st):
    print()
    print("| `python -c pass` | %s |" % " | ".join(st))
    print("|---|" + "---:|" * len(st))
    print("| wall ms (median) | %s |" % " | ".join("%.1f" % s["wall_ms_median"] for s in st.values()))
    print("| wall +ms (median of paired) | %s |" % " | ".join(
        "–" if c == "baseline" else "%+.1f" % s["wall_diff_ms_median"] for c, s in st.items()))
    print("| CPU +ms (median of paired) | %s |" % " | ".join(
        "–" if c == "baseline" else "%+.1f%s" % (s["cpu_diff_ms_median"], ok_note(s))
        for c, s in st.items()))


def main():
    data = json.load(open(sys.argv[1]))
    metric = sys.argv[2] if len(sys.argv) > 2 else "cpu"
    summary = data["summary"]
    configs = [c for c in data["configs"] if c != "baseline"]
    if metric in ("cpu", "wall", "rss"):
        ratio_table(summary, configs, metric)
    elif metric in ("size", "samples"):
        value_table(summary, configs, metric)
    elif metric == "persample":
        per_sample_table(summary)
    else:
        sys.exit("unknown metric %r" % metric)
    st = data.get("startup") or {}
    if st and metric == "cpu":
        startup_table(st)


if __name__ == "__main__":
    main()
