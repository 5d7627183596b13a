#!/usr/bin/env python3
"""Compact tables from run.py's JSON: one row per workload, one column per configuration.

    python3 bench/tables.py /tmp/bench-312.json [cpu|wall|rss]
"""
import json
import sys


def main():
    data = json.load(open(sys.argv[1]))
    metric = sys.argv[2] if len(sys.argv) > 2 else "cpu"
    key = {"cpu": "cpu_ratio_median", "wall": "wall_ratio_median", "rss": "rss_ratio_median"}[metric]
    summary = data["summary"]
    configs = [c for c in data["configs"] if c != "baseline"]
    print("| workload | baseline %s s | %s |" % (
        "CPU" if metric == "cpu" else "wall", " | ".join(configs)))
    print("|---|---:|" + "---:|" * len(configs))
    for w, per in summary.items():
        base = per["baseline"]["cpu_median" if metric == "cpu" else "wall_median"]
        cells = []
        for c in configs:
            s = per.get(c)
            cells.append("–" if not s or s.get(key) is None else "%.2fx" % s[key])
        print("| %s | %.3f | %s |" % (w, base, " | ".join(cells)))
    st = data.get("startup") or {}
    if st:
        print()
        print("| `python -c pass` | %s |" % " | ".join(st))
        print("|---|" + "---:|" * len(st))
        print("| wall ms (median) | %s |" % " | ".join("%.1f" % s["wall_ms_median"] for s in st.values()))
        print("| wall +ms (median of paired) | %s |" % " | ".join(
            "–" if c == "baseline" else "%+.1f" % s["wall_diff_ms_median"] for c, s in st.items()))
        print("| CPU +ms (median of paired) | %s |" % " | ".join(
            "–" if c == "baseline" else "%+.1f" % s["cpu_diff_ms_median"] for c, s in st.items()))


if __name__ == "__main__":
    main()
