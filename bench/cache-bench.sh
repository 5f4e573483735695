#!/usr/bin/env bash
# shellcheck disable=SC2016  # proxy commands are single-quoted on purpose: the harness expands them
#
# cache-bench.sh — Gatehouse's cache filter beside Varnish, nginx proxy_cache and HAProxy's cache, in the proxy
# benchmark harness's cache-hit case (proxy-bench.sh --paths /small: the origin sends "Cache-Control: max-age=3600",
# so after the harness's warm-up every request is a hit; backend_us_req ~0 confirms it), then memory per cached
# 1 KiB object for Gatehouse and Varnish (bench/cache-memory.sh), then the ratios the issue sets as targets:
#   CPU µs per hit:        gatehouse / the best of the three        (target <= 1)
#   hits/s per core:       1e6 / CPU µs per hit, gatehouse / best   (target >= 1)
#   bytes per object:      gatehouse / varnish                      (target <= 1)
#
# Each round runs the four targets one after the other (wrk and the origin on CPU 0, the proxy on CPU 1, 50
# keep-alive connections); rounds interleave so machine noise spreads over all of them. Gatehouse gets a JIT
# warm-up first, as bench/gatehouse-bench.sh does.
#
# Usage (paths resolve from this script):
#   bench/cache-bench.sh                     # 3 rounds, 10 s per target, 60 s JIT warm-up, then memory: ~12 minutes
#   bench/cache-bench.sh --quick             # 1 round, 5 s, 30 s JIT warm-up, 20,000 objects: ~4 minutes
# Options:
#   --rounds N         interleaved rounds (default 3)
#   --quick            1 round, --duration 5 --warmup 3 --jit-warmup 30 --objects 20000
#   --only NAME        varnish | nginx-cache | haproxy-cache | gatehouse-cache (repeatable)
#   --duration S       measured seconds (default 10)    --warmup S  per-target warm-up (default 3)
#   --jit-warmup S     Gatehouse's JIT warm-up (default 60)
#   --objects N        distinct 1 KiB objects for the memory figure (default 100000); --no-memory skips it
#   --java-opts STR    extra JVM flags for Gatehouse
#   --out FILE         TSV to append to (default bench/results/<date>-cache-<host>.tsv; memory rows go to FILE.memory)
# Env: BENCH_HARNESS (default ../shared/bench/proxy-bench.sh beside the repository), JAVA_HOME (found like ./gatehouse).
# Needs nginx, haproxy, varnishd, wrk, curl (installed with apt-get when missing) and the jar (built when stale).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="${BENCH_HARNESS:-$ROOT/../shared/bench/proxy-bench.sh}"
[[ -x "$HARNESS" ]] || { echo "cache-bench: harness not found at $HARNESS (set BENCH_HARNESS to proxy-bench.sh)" >&2; exit 1; }
HARNESS="$(realpath "$HARNESS")"
PEERS="$(dirname "$HARNESS")/peers"
JAR="$ROOT/gatehouse-cli/target/gatehouse.jar"
CONF="$ROOT/bench/gatehouse-cache-bench.yaml"

ROUNDS=3; DURATION=10; WARMUP=3; JIT_WARMUP=60; OBJECTS=100000; MEMORY=1; ONLY=(); OUT=""; EXTRA_JAVA_OPTS=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --quick) ROUNDS=1; DURATION=5; WARMUP=3; JIT_WARMUP=30; OBJECTS=20000; shift ;;
        --only) ONLY+=("$2"); shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --jit-warmup) JIT_WARMUP="$2"; shift 2 ;;
        --objects) OBJECTS="$2"; shift 2 ;;
        --no-memory) MEMORY=0; shift ;;
        --java-opts) EXTRA_JAVA_OPTS="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e 's/^# \{0,1\}//' -e '/^set -euo/d'; exit 0 ;;
        *) echo "cache-bench: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
TARGETS=(varnish nginx-cache haproxy-cache gatehouse-cache)
[[ ${#ONLY[@]} -eq 0 ]] || TARGETS=("${ONLY[@]}")
for t in "${TARGETS[@]}"; do
    case "$t" in varnish|nginx-cache|haproxy-cache|gatehouse-cache) ;; *) echo "cache-bench: unknown target $t" >&2; exit 2 ;; esac
done

RUN="$(mktemp -d "${TMPDIR:-/tmp}/cache-bench.XXXXXX")"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_setup     # JAVA, JVM_FLAGS (./gatehouse's, SerialGC), log(), cleanup of RUN on exit

missing=()
for tool in nginx haproxy wrk curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
command -v varnishd >/dev/null || missing+=(varnish)
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [[ ! -f "$JAR" || -n "$(find "$ROOT"/*/src "$ROOT/pom.xml" "$ROOT"/*/pom.xml -newer "$JAR" -print -quit 2>/dev/null)" ]]; then
    log "building $JAR"
    (cd "$ROOT" && ./mvnw -B -q -ntp -DskipTests -pl gatehouse-cli -am package) >"$RUN/build.log" 2>&1 || { cat "$RUN/build.log" >&2; exit 1; }
fi

JAVA_OPTS="$JVM_FLAGS"; [[ -z "$EXTRA_JAVA_OPTS" ]] || JAVA_OPTS="$JAVA_OPTS $EXTRA_JAVA_OPTS"
GATEHOUSE_CMD="$JAVA $JAVA_OPTS -jar $JAR run \"\$PROXY_CONF\""
NGINX_CMD='nginx -p "$BENCH_RUN_DIR" -c "$PROXY_CONF" -g "daemon off;"'
HAPROXY_CMD='haproxy -db -f "$PROXY_CONF"'
# the harness's own Varnish settings (run-baseline.sh)
VARNISH_CMD='varnishd -F -a 127.0.0.1:$PROXY_PORT -f "$PROXY_CONF" -n "$BENCH_RUN_DIR/varnish" -s malloc,256m -p thread_pools=1 -p thread_pool_min=100 -p thread_pool_max=1000 -p workspace_client=128k -p timeout_idle=300'

mkdir -p "$ROOT/bench/results"
[[ -n "$OUT" ]] || OUT="$ROOT/bench/results/$(date +%F)-cache-$(hostname -s).tsv"
COMMON=(--paths /small --duration "$DURATION" --warmup "$WARMUP" --out "$OUT")
{
    echo "# $(date -u +%FT%TZ) $0 rounds=$ROUNDS duration=$DURATION warmup=$WARMUP jit_warmup=$JIT_WARMUP objects=$OBJECTS targets=${TARGETS[*]}"
    echo "# $(nginx -v 2>&1) | $(haproxy -v 2>&1 | head -1) | $(varnishd -V 2>&1 | head -1) | $(wrk -v 2>&1 | head -1)"
    echo "# $("$JAVA" -version 2>&1 | head -1) | $(nproc) CPUs | $(uname -r) | load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# gatehouse: $GATEHOUSE_CMD ($(git -C "$ROOT" rev-parse --short HEAD))"
} | tee -a "$OUT.meta" >&2

run_target() {  # name round
    case "$1" in
        varnish)       "$HARNESS" --name varnish --proxy-conf "$PEERS/varnish.vcl" --proxy-cmd "$VARNISH_CMD" --round "$2" "${COMMON[@]}" ;;
        nginx-cache)   "$HARNESS" --name nginx-cache --proxy-conf "$PEERS/nginx-cache.conf" --proxy-cmd "$NGINX_CMD" --round "$2" "${COMMON[@]}" ;;
        haproxy-cache) "$HARNESS" --name haproxy-cache --proxy-conf "$PEERS/haproxy-cache.cfg" --proxy-cmd "$HAPROXY_CMD" --round "$2" "${COMMON[@]}" ;;
        gatehouse-cache) "$HARNESS" --name gatehouse-cache --proxy-conf "$CONF" --proxy-cmd "$GATEHOUSE_CMD" \
                           --jit-warmup "$JIT_WARMUP" --round "$2" "${COMMON[@]}" ;;
    esac
}

for (( r = 1; r <= ROUNDS; r++ )); do
    for t in "${TARGETS[@]}"; do
        log "=== round $r/$ROUNDS: $t (load average $(cut -d' ' -f1-3 /proc/loadavg))"
        run_target "$t" "$r" >/dev/null || { log "!!! $t round $r failed; retrying once"; run_target "$t" "$r" >/dev/null; } \
            || log "!!! $t round $r failed again (rows it wrote are kept)"
    done
done
log "=== cache hits /small (median [min-max] over $ROUNDS rounds) — $OUT"
"$HARNESS" --summarize "$OUT"

if [[ $MEMORY -eq 1 ]]; then
    log "=== memory per cached 1 KiB object ($OBJECTS objects)"
    BENCH_HARNESS="$HARNESS" "$ROOT/bench/cache-memory.sh" --objects "$OBJECTS" --out "$OUT.memory" \
        ${EXTRA_JAVA_OPTS:+--java-opts "$EXTRA_JAVA_OPTS"} >/dev/null
fi

log "=== ratios"
python3 - "$OUT" "$OUT.memory" "$MEMORY" <<'PY'
import csv, statistics, sys
tsv, mem, with_memory = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
us, rps, backend = {}, {}, {}
with open(tsv) as f:
    for row in csv.DictReader(f, delimiter="\t"):
        if row.get("ts") == "ts" or row.get("path") != "/small":
            continue
        t = row["target"]
        for d, k in ((us, "proxy_us_req"), (rps, "rps"), (backend, "backend_us_req")):
            if row.get(k) not in (None, "", "-"):
                d.setdefault(t, []).append(float(row[k]))
med = {t: statistics.median(v) for t, v in us.items()}
print("| target | CPU µs per hit | hits/s per core (1e6 / µs) | hits/s measured | origin µs per request |")
print("|---|---|---|---|---|")
for t in med:
    print(f"| {t} | {med[t]:.1f} | {1e6 / med[t]:,.0f} | {statistics.median(rps[t]):,.0f} | {statistics.median(backend.get(t, [0])):.2f} |")
peers = {t: v for t, v in med.items() if t != "gatehouse-cache"}
if "gatehouse-cache" in med and peers:
    best = min(peers, key=peers.get)
    g = med["gatehouse-cache"]
    print(f"\nCPU µs per hit: gatehouse / best ({best}) = {g:.1f} / {peers[best]:.1f} = {g / peers[best]:.2f} (target <= 1)")
    print(f"hits/s per core: gatehouse / best ({best}) = {1e6 / g:,.0f} / {1e6 / peers[best]:,.0f} = {peers[best] / g:.2f} (target >= 1)")
if with_memory:
    per = {}
    with open(mem) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["target"] != "target":
                per.setdefault(row["target"], []).append((int(row["bytes_per_object"]), row["live_heap_bytes_per_object"]))
    for t, v in per.items():
        b, heap = v[-1]
        print(f"memory per cached 1 KiB object, {t}: {b} bytes of RSS" + ("" if heap == "-" else f" ({heap} bytes of live heap)"))
    if "gatehouse" in per and "varnish" in per and per["varnish"][-1][0] > 0:
        g, v = per["gatehouse"][-1][0], per["varnish"][-1][0]
        print(f"bytes per object: gatehouse / varnish = {g} / {v} = {g / v:.2f} (target <= 1)")
        heap = per["gatehouse"][-1][1]
        if heap != "-":
            # a JVM's RSS grows in steps (heap already committed and touched counts before the fill): the live heap
            # the objects hold is the steadier figure, so both are printed
            print(f"  (by gatehouse's live heap instead of RSS: {heap} / {v} = {int(heap) / v:.2f})")
PY
