#!/usr/bin/env python3
"""Markdown ratio table from a proxy-bench TSV: medians per (target, path) and Gatehouse / peer per metric.

    bench/ratios.py bench/results/<date>-<host>.tsv [--target gatehouse] [--peers nginx,haproxy]

Medians over all rounds in the file (as the harness's --summarize); the ratio is target / peer, so below 1 is
better for CPU, latency and memory and above 1 is better for req/s.
"""
import argparse
import csv
import statistics
from collections import defaultdict

METRICS = [("proxy_us_req", "CPU µs/req", "lower"), ("rps", "req/s", "higher"),
           ("p50_ms", "p50 ms", "lower"), ("p99_ms", "p99 ms", "lower"), ("proxy_hwm_mib", "peak RSS MiB", "lower")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tsv")
    ap.add_argument("--target", default="gatehouse")
    ap.add_argument("--peers", default="nginx,haproxy")
    a = ap.parse_args()
    peers = a.peers.split(",")
    vals = defaultdict(list)
    with open(a.tsv) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["ts"] == "ts":
                continue
            if row["path"] == "idle":
                vals[(row["target"], "idle", "idle_bytes_per_conn")].append(float(row["idle_bytes_per_conn"]))
                continue
            for m, _, _ in METRICS:
                if row[m] not in ("-", ""):
                    vals[(row["target"], row["path"], m)].append(float(row[m]))
    med = {k: statistics.median(v) for k, v in vals.items()}
    n = {k: len(v) for k, v in vals.items()}
    paths = sorted({k[1] for k in med if k[1] != "idle"}, key=lambda p: ["/small", "/16k", "/1m"].index(p) if p in ["/small", "/16k", "/1m"] else 9)
    heads = [a.target] + peers + [f"{a.target}/{p}" for p in peers]
    print("| path | metric | " + " | ".join(heads) + " |")
    print("|" + "---|" * (2 + len(heads)))
    for p in paths:
        for m, label, better in METRICS:
            t = med.get((a.target, p, m))
            cells = []
            for who in [a.target] + peers:
                v = med.get((who, p, m))
                cells.append("-" if v is None else f"{v:,.1f}" if v < 1000 else f"{v:,.0f}")
            for peer in peers:
                v = med.get((peer, p, m))
                cells.append("-" if t is None or not v else f"**{t / v:.2f}**")
            print(f"| {p} | {label} ({better} is better, n={n.get((a.target, p, m), 0)}) | " + " | ".join(cells) + " |")
    t = med.get((a.target, "idle", "idle_bytes_per_conn"))
    cells = [f"{med[(w, 'idle', 'idle_bytes_per_conn')]:,.0f}" if (w, "idle", "idle_bytes_per_conn") in med else "-"
             for w in [a.target] + peers]
    for peer in peers:
        v = med.get((peer, "idle", "idle_bytes_per_conn"))
        cells.append("-" if t is None or not v else f"**{t / v:.2f}**")
    print("| idle | RSS bytes per idle keep-alive conn (lower) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
