#!/usr/bin/env python3
"""A second, independent open-loop load generator, to check `gatehouse load` against (not a JVM, not the JDK's
HTTP client): GET requests at a fixed rate over keep-alive HTTP/1.1 connections, request i due at start + i/rate.

Latency is counted from the intended send time (coordinated omission corrected, as wrk2 does), and the generator's
own lateness (actual send time minus intended) is reported beside it: when the generator is late, its p99 says so
instead of charging the server for it.

  bench/system-openloop.py URL RATE SECONDS [--paths FILE] [--warmup SECONDS] [--dump FILE]

FILE holds one path (or link code) a line, requested in turn with a Zipf(1.0) popularity, like `gatehouse load`.
"""
import argparse
import asyncio
import random
import sys
import time
from urllib.parse import urlsplit


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


class Conn(asyncio.Protocol):
    """One keep-alive connection: one request at a time; responses are parsed just far enough to find their end."""

    def __init__(self, pool):
        self.pool, self.buf, self.waiter, self.transport = pool, b"", None, None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buf += data
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buf[:head_end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            end = head_end + 4 + length
            if len(self.buf) < end:
                return
            status = int(head.split(" ", 2)[1])
            self.buf = self.buf[end:]
            waiter, self.waiter = self.waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result(status)

    def connection_lost(self, exc):
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("closed"))
        self.pool.discard(self)


async def run(url, rate, seconds, paths, seed):
    u = urlsplit(url)
    host, port = u.hostname, u.port or 80
    loop = asyncio.get_running_loop()
    idle, alive = [], set()
    lat, late, dues = [], [], []
    errors = ok = 0
    rnd = random.Random(seed)
    # Zipf(1.0) over the paths, by inverse CDF on precomputed weights
    weights = [1.0 / (k + 1) for k in range(len(paths))]
    cum, acc = [], 0.0
    for w in weights:
        acc += w
        cum.append(acc)

    def pick():
        import bisect
        return paths[min(len(paths) - 1, bisect.bisect_left(cum, rnd.random() * acc))]

    async def one(due, path):
        nonlocal errors, ok
        late.append(max(0.0, time.perf_counter() - due))
        try:
            if idle:
                c = idle.pop()
            else:
                _, c = await asyncio.wait_for(loop.create_connection(lambda: Conn(alive), host, port), 2)
                alive.add(c)
            c.waiter = loop.create_future()
            c.transport.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            status = await asyncio.wait_for(c.waiter, 10)
            lat.append(time.perf_counter() - due)
            dues.append(wall_start + (due - start))
            if status >= 400:
                errors += 1
            else:
                ok += 1
            idle.append(c)
        except Exception:
            errors += 1

    interval = 1.0 / rate
    total = int(seconds * rate)
    tasks = []
    start = time.perf_counter()
    wall_start = time.time()
    gave_up = None
    for i in range(total):
        due = start + i * interval
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        elif -wait > 1.0:
            # A second behind its own schedule: this generator cannot drive the rate (one Python thread, near its
            # limit at 7,350/s here), and going on would only measure its backlog, for minutes (session 17).
            gave_up = (i, total, -wait)
            break
        tasks.append(asyncio.ensure_future(one(due, pick())))
        if len(tasks) > 5000:
            tasks = [t for t in tasks if not t.done()]
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for c in list(alive):
        c.transport.close()
    return lat, late, dues, ok, errors, total, elapsed, gave_up


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url")
    ap.add_argument("rate", type=int)
    ap.add_argument("seconds", type=float)
    ap.add_argument("--paths")
    ap.add_argument("--warmup", type=float, default=0)
    ap.add_argument("--dump", help="write each request's intended send time (Unix epoch s) and latency (us) to this file")
    a = ap.parse_args()
    base = urlsplit(a.url)
    if a.paths:
        with open(a.paths) as f:
            paths = ["/" + line.strip().lstrip("/") for line in f if line.strip()]
    else:
        paths = [base.path or "/"]
    if a.warmup > 0:
        asyncio.run(run(a.url, a.rate, a.warmup, paths, 7))
    lat, late, dues, ok, errors, total, elapsed, gave_up = asyncio.run(run(a.url, a.rate, a.seconds, paths, 42))
    if gave_up:
        i, n, behind = gave_up
        print(f"gave up: {behind:.1f} s behind its own schedule at request {i} of {n}; this generator cannot send "
              f"{a.rate:g} requests/s on this machine, and its figures below are not the server's")
    if a.dump:
        with open(a.dump, "w") as f:
            for d, v in zip(dues, lat):
                f.write(f"{d:.6f}\t{v * 1e6:.0f}\n")  # intended send time (Unix epoch s), latency (us)
    ms = lambda v: v * 1000.0
    print(f"sent {gave_up[0] if gave_up else total}, ok {ok}, errors {errors}, achieved {ok / elapsed:.0f}/s")
    print("latency from the intended send time (ms): " + "  ".join(
        f"p{p:g} {ms(pct(lat, p)):.2f}" for p in (50, 90, 99, 99.9)) + f"  max {ms(max(lat) if lat else 0):.2f}")
    print("generator lateness, send minus intended (ms): " + "  ".join(
        f"p{p:g} {ms(pct(late, p)):.2f}" for p in (50, 90, 99, 99.9)) + f"  max {ms(max(late) if late else 0):.2f}")
    return 0 if errors == 0 and not gave_up else 1


if __name__ == "__main__":
    sys.exit(main())
