#!/usr/bin/env python3
"""tail-episodes.py DUMP [--timehist FILE] [--over-ms 5] [--bucket-ms 50] — when the slow requests of an open-loop
run happened, and what the server's core ran meanwhile.

DUMP is bench/system-openloop.py's --dump (per request: intended send time in Unix seconds, latency in us). The
slow requests (over --over-ms) are grouped into episodes: runs of --bucket-ms buckets, two buckets of calm at most
between them. A p99 made by a few long stalls (GC, the host) shows as a few long episodes; one made by steady
queueing shows as many short ones.

--timehist: `perf sched timehist` text of the same window, recorded on the server's core with a monotonic clock
(`perf sched record -k mono -C 1 -o perf.data -- sleep 15`, then `perf sched timehist -i perf.data > FILE`), read on
the same boot as the run (the monotonic clock is turned into Unix time with this machine's offset now). It adds, per
100 ms, how busy the core was and which threads ran most, for the worst episodes, and the mean busy time of the
buckets with slow requests against those without: an episode on a busy core is queueing (a burst of work, or the
host running it slower, which makes the same work take longer); one on an idle core happened elsewhere (the
generator's core, the network path).
"""
import argparse
import collections
import datetime
import statistics
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--timehist")
    ap.add_argument("--over-ms", type=float, default=5.0)
    ap.add_argument("--bucket-ms", type=float, default=50.0)
    a = ap.parse_args()
    over_us, bucket = a.over_ms * 1000, a.bucket_ms / 1000
    rows = []
    with open(a.dump) as f:
        for line in f:
            t, v = line.split("\t")
            rows.append((float(t), int(v)))
    if not rows:
        print("no requests in the dump"); return
    t0 = rows[0][0]
    slow = sum(1 for _, v in rows if v > over_us)
    print(f"requests {len(rows)}, over {a.over_ms:g} ms: {slow} ({100 * slow / len(rows):.2f} %)")
    buckets = collections.defaultdict(list)
    for t, v in rows:
        buckets[int((t - t0) / bucket)].append(v)
    bad = [(k, max(v), sum(1 for x in v if x > over_us)) for k, v in sorted(buckets.items()) if max(v) > over_us]
    episodes = []   # [first bucket, last bucket, max latency, slow requests]
    for k, m, c in bad:
        if episodes and k - episodes[-1][1] <= 2:
            e = episodes[-1]
            e[1], e[2], e[3] = k, max(e[2], m), e[3] + c
        else:
            episodes.append([k, k, m, c])
    print(f"{a.bucket_ms:g}-ms buckets with a slow request: {len(bad)} of {len(buckets)}; episodes: {len(episodes)}")
    worst = sorted(episodes, key=lambda e: -e[3])[:10]
    for s, e, m, c in worst:
        at = datetime.datetime.fromtimestamp(t0 + s * bucket, datetime.timezone.utc).strftime("%H:%M:%S.%f")[:-3]
        print(f"  {at}  +{s * bucket:6.2f} s  {(e - s + 1) * a.bucket_ms:5.0f} ms long  max {m / 1000:6.1f} ms  slow {c}")
    if not a.timehist:
        return
    offset = time.time() - time.monotonic()
    busy = collections.Counter()
    by_thread = collections.defaultdict(collections.Counter)
    with open(a.timehist) as f:
        for line in f:
            p = line.split()
            try:
                t, run = float(p[0]), float(p[-1])
            except (ValueError, IndexError):
                continue   # the header lines
            if p[2] == "<idle>":
                continue
            k = int((t + offset) * 10)   # 100 ms buckets of Unix time; a run is counted where it ended
            busy[k] += run
            by_thread[k][p[2].split("[")[0]] += run
    lat = collections.defaultdict(list)
    for t, v in rows:
        lat[int(t * 10)].append(v)
    both = sorted(k for k in busy if k in lat)
    if not both:
        print("the timehist does not overlap the dump (another boot, or another window?)"); return
    hot = [busy[k] for k in both if any(v > over_us for v in lat[k])]
    calm = [busy[k] for k in both if not any(v > over_us for v in lat[k])]
    print(f"core busy per 100 ms ({len(both)} buckets in both): with slow requests "
          f"{statistics.mean(hot) if hot else 0:.1f} ms ({len(hot)} buckets), without {statistics.mean(calm) if calm else 0:.1f} ms ({len(calm)})")
    total = collections.Counter()
    for k in both:
        total.update(by_thread[k])
    print("ran most in the window (ms): " + ", ".join(f"{n} {v:.0f}" for n, v in total.most_common(8)))
    ranked = sorted(both, key=lambda k: -sum(1 for v in lat[k] if v > over_us))[:8]
    print("the 100-ms buckets with the most slow requests:")
    for k in sorted(ranked):
        n_slow = sum(1 for v in lat[k] if v > over_us)
        top = ", ".join(f"{n} {v:.0f}" for n, v in by_thread[k].most_common(5))
        at = datetime.datetime.fromtimestamp(k / 10, datetime.timezone.utc).strftime("%H:%M:%S.%f")[:-5]
        print(f"  {at}  busy {busy[k]:5.1f} ms  max {max(lat[k]) / 1000:6.1f} ms  slow {n_slow:4d}  ran: {top}")


if __name__ == "__main__":
    main()
