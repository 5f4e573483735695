#!/usr/bin/env python3
"""Context switches and CPU time per request of a process tree's threads, by thread group.

    bench/thread_counts.py snap PID OUT.json           # every thread of PID and its descendants, now
    bench/thread_counts.py diff BEFORE.json AFTER.json REQUESTS [--names NAMES.txt]

A snapshot reads, for each task under /proc/<pid>/task: voluntary and nonvoluntary context switches (status) and
the time it ran (schedstat, ns). `diff` subtracts, divides by REQUESTS and prints one row per thread group: the
thread's name with its numbers folded (lettuce-epollEventLoop-4-1 -> lettuce-epollEventLoop-N-N), so the three app
instances' pools add up to one row. Threads of other processes (redis-server, postgres) are grouped by process.
The kernel keeps only 15 characters of a Java thread's name; NAMES.txt (`jcmd PID Thread.print`) gives the full
names by native id. Counts do not depend on how busy the machine is; the CPU column does, a little (cache misses).
A voluntary switch is a thread that blocked (park, epoll_wait, a socket read with nothing to read): each one
is a later wake-up, a trip through the scheduler, on the one core `up` runs on in the benchmark.
"""
import json
import os
import re
import sys


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def tree(pid):
    seen, todo = [], [pid]
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += children(p)
    return seen


def snap(pid):
    rows = {}
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/comm") as f:
                pcomm = f.read().strip()
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            base = f"/proc/{p}/task/{tid}"
            try:
                with open(f"{base}/comm") as f:
                    comm = f.read().strip()
                with open(f"{base}/status") as f:
                    st = f.read()
                with open(f"{base}/schedstat") as f:
                    ran_ns = int(f.read().split()[0])
            except OSError:
                continue  # ended between the listing and the read
            vol = int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", st, re.M).group(1))
            nonvol = int(re.search(r"^nonvoluntary_ctxt_switches:\s+(\d+)", st, re.M).group(1))
            rows[f"{p}/{tid}"] = {"pid": p, "tid": int(tid), "process": pcomm, "comm": comm, "vol": vol,
                                  "nonvol": nonvol, "ran_ns": ran_ns}
    return {"root": pid, "threads": rows}


def full_names(path):
    """Native id -> Java thread name, from `jcmd PID Thread.print`."""
    names = {}
    if not path:
        return names
    with open(path) as f:
        for line in f:
            m = re.match(r'^"(.*?)".* nid=(0x[0-9a-f]+|\d+)', line)
            if m:
                nid = m.group(2)
                names[int(nid, 16) if nid.startswith("0x") else int(nid)] = m.group(1)
    return names


def group(row, root, names):
    if row["pid"] != root:
        return f'[process {row["process"]}]'
    name = names.get(row["tid"], row["comm"])
    return re.sub(r"\d+", "N", name)


def diff(before, after, requests, names):
    root = after["root"]
    groups = {}
    for key, a in after["threads"].items():
        b = before["threads"].get(key, {"vol": 0, "nonvol": 0, "ran_ns": 0})  # a thread born in the window
        g = groups.setdefault(group(a, root, names), {"threads": 0, "vol": 0, "nonvol": 0, "ran_ns": 0})
        g["threads"] += 1
        for k in ("vol", "nonvol", "ran_ns"):
            g[k] += a[k] - b[k]
    # threads that ended in the window are counted up to the first snapshot only: say how many
    gone = [k for k in before["threads"] if k not in after["threads"]]
    rows = sorted(groups.items(), key=lambda kv: -(kv[1]["vol"] + kv[1]["nonvol"]))
    print(f"| thread group | threads | voluntary / req | involuntary / req | CPU us / req |")
    print(f"|---|---|---|---|---|")
    tv = tn = tr = 0
    for name, g in rows:
        if g["vol"] + g["nonvol"] == 0 and g["ran_ns"] == 0:
            continue
        tv += g["vol"]; tn += g["nonvol"]; tr += g["ran_ns"]
        print(f'| {name} | {g["threads"]} | {g["vol"] / requests:.3f} | {g["nonvol"] / requests:.3f} | '
              f'{g["ran_ns"] / 1000 / requests:.1f} |')
    jvm = {k: sum(g[k] for n, g in groups.items() if not n.startswith("[process")) for k in ("vol", "nonvol", "ran_ns")}
    print(f'| **all threads** | | **{tv / requests:.3f}** | **{tn / requests:.3f}** | **{tr / 1000 / requests:.1f}** |')
    print(f'| **the JVM only** | | **{jvm["vol"] / requests:.3f}** | **{jvm["nonvol"] / requests:.3f}** | '
          f'**{jvm["ran_ns"] / 1000 / requests:.1f}** |')
    if gone:
        print(f"({len(gone)} threads ended during the window; their last counts are missing)")


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "snap":
        with open(sys.argv[3], "w") as f:
            json.dump(snap(int(sys.argv[2])), f)
    elif len(sys.argv) >= 5 and sys.argv[1] == "diff":
        names = full_names(sys.argv[sys.argv.index("--names") + 1]) if "--names" in sys.argv else {}
        with open(sys.argv[2]) as f:
            before = json.load(f)
        with open(sys.argv[3]) as f:
            after = json.load(f)
        diff(before, after, int(sys.argv[4]), names)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
