#!/usr/bin/env python3
"""Bytes allocated per request by thread group, from a JFR recording's jdk.ThreadAllocationStatistics.

    bench/jfr_alloc.py RECORDING.jfr REQUESTS [--jfr /path/to/jfr]

The event carries each Java thread's allocated bytes since it started, at the start of the recording and again when
it is dumped (period everyChunk in the default and profile settings): the difference is what the thread allocated
during the recording, exactly, not sampled. Virtual threads allocate on their carrier, so the app's request
handlers show under the ForkJoinPool workers. Threads born during the recording count from zero; threads that ended
before the dump are missing (their last figure is not emitted).
"""
import argparse
import json
import re
import shutil
import subprocess


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recording")
    ap.add_argument("requests", type=int)
    ap.add_argument("--jfr", default=shutil.which("jfr") or "jfr")
    a = ap.parse_args()
    raw = subprocess.run([a.jfr, "print", "--json", "--events", "jdk.ThreadAllocationStatistics", a.recording],
                         check=True, capture_output=True, text=True).stdout
    events = json.loads(raw)["recording"]["events"]
    events.sort(key=lambda e: e["values"]["startTime"])
    opening = events[0]["values"]["startTime"] if events else None
    first, last, names = {}, {}, {}
    for e in events:
        v = e["values"]
        t = v.get("thread") or {}
        tid = t.get("javaThreadId") or t.get("osThreadId")
        names[tid] = t.get("javaName") or t.get("osName") or "?"
        # only the opening batch is a baseline; a thread first seen later was born in the recording: from zero
        first.setdefault(tid, v["allocated"] if v["startTime"] == opening else 0)
        last[tid] = v["allocated"]
    groups = {}
    for tid, end in last.items():
        g = re.sub(r"\d+", "N", names[tid])
        groups[g] = groups.get(g, 0) + end - first[tid]
    total = sum(groups.values())
    print(f"| thread group | bytes / req |")
    print(f"|---|---|")
    for g, b in sorted(groups.items(), key=lambda kv: -kv[1]):
        if b > 0:
            print(f"| {g} | {b / a.requests:,.0f} |")
    print(f"| **all Java threads** | **{total / a.requests:,.0f}** |")


if __name__ == "__main__":
    main()
