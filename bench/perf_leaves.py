#!/usr/bin/env python3
"""Where the event loop's user-space time goes, from a perf.data kept by gatehouse-profile.sh.

    perf script -i OUT/small-perf.data -F comm,tid,ip,sym,dso > script.txt   # JIT names from /tmp/perf-PID.map
    bench/perf_leaves.py script.txt [user|clock] [--thread gatehouse-1]

user  (default): samples whose leaf frame is outside the kernel, by symbol, as a share of the thread's samples.
clock: samples inside clock_gettime, by their first three JIT frames (who reads the clock).
Run the profile with --java-opts -XX:+PreserveFramePointer so that stacks unwind through JIT code.
"""
import argparse
import collections
import re
import sys


def samples(path, thread):
    cur = None
    for line in open(path, errors="replace"):
        if not line.strip():
            if cur and cur["comm"].startswith(thread):
                yield cur
            cur = None
        elif not line[0].isspace():
            cur = {"comm": line.split()[0], "stack": []}
        elif cur is not None:
            m = re.match(r"\s*[0-9a-f]+ (.*) \((.*)\)$", line.rstrip())
            if m:
                cur["stack"].append((m.group(1), m.group(2)))
    if cur and cur["comm"].startswith(thread):
        yield cur


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("script", help="output of perf script -F comm,tid,ip,sym,dso")
    ap.add_argument("mode", nargs="?", default="user", choices=["user", "clock"])
    ap.add_argument("--thread", default="gatehouse-1", help="thread name prefix (default gatehouse-1)")
    a = ap.parse_args()
    path, mode, thread = a.script, a.mode, a.thread
    counts, total = collections.Counter(), 0
    for s in samples(path, thread):
        total += 1
        stack = s["stack"]
        if not stack:
            continue
        if mode == "user":
            sym, dso = stack[0]
            if "kernel" not in dso:
                counts[(sym[:140], dso.split("/")[-1][:24])] += 1
        elif mode == "clock":
            if any("clock_gettime" in sym or "javaTimeNanos" in sym for sym, _ in stack[:4]):
                jit = [sym[:90] for sym, dso in stack if dso.startswith("/tmp/perf-")]
                counts[" <- ".join(jit[:3])] += 1
    if not total:
        sys.exit(f"no samples of a thread named {thread}*")
    print(f"{total} samples of {thread}*; {sum(counts.values())} ({100 * sum(counts.values()) / total:.2f} %) counted")
    for key, n in counts.most_common(40):
        print(f"{100 * n / total:5.2f} %  {key}")


if __name__ == "__main__":
    main()
