#!/usr/bin/env python3
"""Top self and total methods from a JFR recording, and where allocation comes from.

    bench/fold_jfr.py RECORDING.jfr [--top 25] [--jfr /path/to/jfr] [--focus-file bench/jfr-focus.txt]

Reads `jfr print --json` (jdk.ExecutionSample, jdk.ObjectAllocationSample) and prints:
  * self: share of execution samples whose top frame is the method;
  * total: share of samples with the method anywhere on the stack (counted once per sample);
  * our code: total share of the io.gatehouse frames;
  * allocation: sampled allocation weight by object class and by the first io.gatehouse / io.netty frame.
JFR samples Java threads running Java code only: time in syscalls and the kernel is not in these figures (the
harness's user% and perf give that split).
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys


def frames_of(event):
    st = event["values"].get("stackTrace") or {}
    out = []
    for f in st.get("frames", []):
        m = f["method"]
        out.append(f'{m["type"]["name"]}.{m["name"]}'.replace("/", "."))
    return out  # top first


def load(jfr, path, event):
    raw = subprocess.run([jfr, "print", "--json", "--stack-depth", "96", "--events", event, path],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(raw)["recording"]["events"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recording")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--focus", action="append", default=[],
                    help="LABEL=substr1|substr2: share of samples with any matching frame on the stack (repeatable)")
    ap.add_argument("--jfr", default=shutil.which("jfr") or os.path.join(os.environ.get("JAVA_HOME", ""), "bin", "jfr"))
    ap.add_argument("--focus-file", help="file with one --focus spec per line (e.g. bench/jfr-focus.txt)")
    a = ap.parse_args()
    if a.focus_file:
        with open(a.focus_file) as f:
            a.focus += [line.strip() for line in f if line.strip() and not line.startswith("#")]

    samples = load(a.jfr, a.recording, "jdk.ExecutionSample")
    n = len(samples)
    if n == 0:
        sys.exit("no execution samples")
    self_c, total_c, ours = collections.Counter(), collections.Counter(), 0
    pkg = collections.Counter()
    for e in samples:
        fr = frames_of(e)
        if not fr:
            continue
        self_c[fr[0]] += 1
        for m in set(fr):
            total_c[m] += 1
        if any(m.startswith("io.gatehouse.") for m in fr):
            ours += 1
        top = fr[0]
        parts = top.split(".")
        pkg[".".join(parts[:4]) if top.startswith("io.netty") else ".".join(parts[:3])] += 1

    print(f"execution samples: {n}")
    print(f"samples with an io.gatehouse frame on the stack: {100 * ours / n:.1f}%\n")
    print(f"top {a.top} self (top frame):")
    for m, c in self_c.most_common(a.top):
        print(f"  {100 * c / n:5.1f}%  {m}")
    print(f"\ntop {a.top} self by package:")
    for m, c in pkg.most_common(a.top):
        print(f"  {100 * c / n:5.1f}%  {m}")
    print(f"\ntop {a.top} total (on stack), io.gatehouse and io.netty.handler/util frames:")
    shown = 0
    for m, c in total_c.most_common():
        if m.startswith("io.gatehouse.") or m.startswith("io.netty.handler.") or m.startswith("io.netty.util.concurrent.") \
                or m.startswith("io.netty.util.internal.") or m.startswith("io.netty.buffer."):
            print(f"  {100 * c / n:5.1f}%  {m}")
            shown += 1
            if shown >= a.top:
                break

    if a.focus:
        print("\nfocus (share of samples with a matching frame anywhere on the stack):")
        stacks = [frames_of(e) for e in samples]
        for spec in a.focus:
            label, _, subs = spec.partition("=")
            keys = subs.split("|")
            hit = sum(1 for fr in stacks if any(k in m for m in fr for k in keys))
            print(f"  {100 * hit / n:5.1f}%  {label}")

    allocs = load(a.jfr, a.recording, "jdk.ObjectAllocationSample")
    if allocs:
        by_class, by_site, by_stack = collections.Counter(), collections.Counter(), collections.Counter()
        weight = 0
        for e in allocs:
            w = e["values"].get("weight", 0)
            weight += w
            cls = e["values"]["objectClass"]["name"]
            by_class[cls] += w
            fr = frames_of(e)
            site = next((m for m in fr if m.startswith("io.gatehouse.")), None) \
                or next((m for m in fr if m.startswith("io.netty.")), "other")
            by_site[site] += w
            # the allocating frame and its two callers, to name the exact site
            by_stack[cls + " <- " + " <- ".join(fr[:4])] += w
        print(f"\nallocation samples: {len(allocs)}, sampled weight {weight / 2**20:.0f} MiB")
        print("top classes by weight:")
        for m, w in by_class.most_common(15):
            print(f"  {100 * w / weight:5.1f}%  {m}")
        print("top allocating frames (first io.gatehouse frame, else first io.netty frame):")
        for m, w in by_site.most_common(15):
            print(f"  {100 * w / weight:5.1f}%  {m}")
        print("top allocation stacks (class <- allocating frame <- callers):")
        for m, w in by_stack.most_common(12):
            print(f"  {100 * w / weight:5.1f}%  {m}")


if __name__ == "__main__":
    main()
