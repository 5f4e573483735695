#!/usr/bin/env python3
"""The cost of each hop of a redirect, from the spans `gatehouse up --trace-file FILE` wrote (JSON lines).

For every trace of a redirect (the app's SERVER span is "GET /{code}") it splits the time the edge saw into:
  edge     the edge's SERVER span minus the app's SERVER span: proxying, both loopback legs, the edge's own work
  app      the app's SERVER span minus its Redis and PostgreSQL calls: routing, the handler, the near cache
  redis    the Redis calls' spans (GET, and on a miss the fill)
  postgres the database calls' spans (misses only)
and prints median / p90 / p99 in microseconds, for cache hits (no database call) and misses separately.

  bench/system-hops.py TRACE_FILE [SINCE_EPOCH_NANOS]     (traces whose edge span starts earlier are left out)
"""
import json
import sys
from collections import defaultdict


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main(path, since=0):
    traces = defaultdict(list)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                s = json.loads(line)
                traces[s["trace"]].append(s)
    rows = {"hit": defaultdict(list), "miss": defaultdict(list)}
    for spans in traces.values():
        edge = [s for s in spans if s["service"] == "gatehouse-edge" and s["kind"] == "SERVER"]
        app = [s for s in spans if s["service"] == "gatehouse-app" and s["kind"] == "SERVER" and s["name"] == "GET /{code}"]
        if len(edge) != 1 or len(app) != 1 or app[0]["parent"] != edge[0]["span"]:
            continue
        e, a = edge[0], app[0]
        if e["start"] < since:
            continue
        calls = [s for s in spans if s["kind"] == "CLIENT" and s["parent"] == a["span"]]
        redis = sum(s["end"] - s["start"] for s in calls if s["name"].startswith("redis"))
        pg = sum(s["end"] - s["start"] for s in calls if s["name"].startswith("postgresql"))
        kind = "miss" if pg > 0 else "hit"
        r = rows[kind]
        r["total (edge span)"].append(e["end"] - e["start"])
        r["edge"].append((e["end"] - e["start"]) - (a["end"] - a["start"]))
        r["app"].append((a["end"] - a["start"]) - redis - pg)
        r["redis"].append(redis)
        r["postgres"].append(pg)
    print("| redirects | hop | n | median us | p90 us | p99 us |")
    print("|---|---|---|---|---|---|")
    for kind in ("hit", "miss"):
        for hop in ("total (edge span)", "edge", "app", "redis", "postgres"):
            v = rows[kind][hop]
            if not v:
                continue
            print("| %s | %s | %d | %.0f | %.0f | %.0f |" % (kind, hop, len(v), pct(v, 50) / 1e3, pct(v, 90) / 1e3, pct(v, 99) / 1e3))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 0)
