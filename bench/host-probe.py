#!/usr/bin/env python3
"""host-probe.py SECONDS [--unit-ms MS] — how fast this vCPU runs while a benchmark does, as a slowdown factor.

This machine is a VM that shares its host: in one 20 s window the same loop ran 2.3-2.8x slower than in the next
(session 17), and the guest reports no steal time, so a slow host looks like a slow server. Every 100 ms this times
one fixed unit of pure Python arithmetic (about --unit-ms at full speed, calibrated at start) five times and keeps the
fastest of the five (another process on the same core delays one run, not all five); each second it keeps the
fastest of its samples. It prints the median and the worst second's time against the calibration: 1.00 is a host
at full speed. About 1 % of one core. Run it pinned to a core (taskset), beside the load.
"""
import sys, time

def unit(n):
    x = 0
    for i in range(n):
        x += i * i
    return x

def fastest(n, tries=5):
    best = float("inf")
    for _ in range(tries):
        t = time.perf_counter()
        unit(n)
        best = min(best, time.perf_counter() - t)
    return best

def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip()); return
    seconds = float(args[0])
    unit_ms = float(args[args.index("--unit-ms") + 1]) if "--unit-ms" in args else 0.2
    n = 1000
    while fastest(n) < unit_ms / 1000:  # calibrate: a unit of about unit_ms
        n *= 2
    calib = min(fastest(n, 20) for _ in range(5))
    per_second, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        second_end, best = time.monotonic() + 1, float("inf")
        while time.monotonic() < second_end:
            best = min(best, fastest(n))
            time.sleep(0.1)
        per_second.append(best / calib)
    per_second.sort()
    med = per_second[len(per_second) // 2]
    print(f"host speed: unit {calib * 1e6:.0f} us at calibration; over {len(per_second)} s the median second was "
          f"{med:.2f}x that, the slowest {per_second[-1]:.2f}x (1.00: full speed)")

if __name__ == "__main__":
    main()
