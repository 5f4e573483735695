#!/usr/bin/env bash
# shellcheck disable=SC2016  # proxy commands are single-quoted on purpose: the harness expands them
#
# gatehouse-bench.sh — Gatehouse beside nginx and HAProxy on the proxy benchmark
# harness (proxy-bench.sh, not part of this repository: BENCH_HARNESS names it), in interleaved rounds, one TSV, one summary.
#
# Each round runs nginx, HAProxy and Gatehouse, one after the other, over /small (100 B), /16k and /1m with
# 50 keep-alive connections (wrk and the origin nginx on CPU 0, the proxy on CPU 1). Round 1 also opens 9000 idle
# keep-alive connections to each proxy and records RSS per connection. Every invocation of the harness restarts
# the origin and the proxy, so rounds are independent samples; interleaving spreads machine noise over all of them.
#
# Targets, so that each comparison is of the same work per request:
#   nginx, haproxy   the shared harness's peers: they add no proxy headers
#   gatehouse-bare   Gatehouse adding none either (proxy_headers: x_forwarded, via, request_id off): against them
#   gatehouse-bare-uring  gatehouse-bare with server.transport: io_uring (one-shot polls; auto is epoll)
#   gatehouse-bare-epoll  gatehouse-bare with server.transport: epoll named: with -uring, an A/B of the transports in the
#                    same run; neither is in the default target list
#   gatehouse        Gatehouse as it ships: X-Forwarded-For/-Proto/-Host, Via and X-Request-Id added
#   nginx-headers    nginx adding those same headers (bench/peers/nginx-proxy-headers.conf): against gatehouse
# The headers cost the origin and wrk too (CPU 0 runs both and is the busier core), so req/s and latency
# compare fairly only between targets that send the same bytes.
#
# Usage (from anywhere; paths are resolved from this script):
#   bench/gatehouse-bench.sh                    # 3 rounds of the 5 targets, ~21 minutes
#   bench/gatehouse-bench.sh --rounds 5
#   bench/gatehouse-bench.sh --quick            # 1 round, 5 s per path, 30 s JIT warm-up: ~3 minutes
#   bench/gatehouse-bench.sh --only gatehouse   # one target (see Targets); repeatable
# Options:
#   --rounds N       interleaved rounds (default 3)
#   --quick          1 round, --duration 5 --warmup 2, JIT warm-up 30 s
#   --only NAME      run only this target (may be given several times)
#   --no-idle        skip the 9000-idle-connection probe
#   --out FILE       TSV to append to (default bench/results/<date>-<host>.tsv)
#   --duration S     measured seconds per path (default 10)   --warmup S  per-path warm-up (default 3)
#   --jit-warmup S   Gatehouse JIT warm-up before the first path (default 60, as the harness recommends)
#   --java-opts STR  extra JVM flags for Gatehouse (appended, so they win over the defaults below)
#   --mode MODE      http (default) | https (keep-alive over TLS) | https-newconn (a full handshake per request,
#                    /small) | h2 (HTTP/2 over TLS with h2load, /small); peers use the harness's peers/*-tls.*
#   --paths LIST     override the paths (comma-separated)
# Env: BENCH_HARNESS (required: the path of the harness's proxy-bench.sh), JAVA_HOME (a JDK >= 21; found like ./gatehouse).
#
# What it needs and installs when missing: nginx, haproxy, wrk (apt-get update once, then apt-get install -y);
# the jar (./mvnw -B -q -ntp -DskipTests -pl gatehouse-cli -am package) when absent or older than the sources.
# It stops by itself: every harness run has fixed durations and stops what it started (process groups).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="${BENCH_HARNESS:-}"
[[ -x "$HARNESS" ]] || { echo "gatehouse-bench: harness not found at "$HARNESS" (set BENCH_HARNESS to the path of proxy-bench.sh)" >&2; exit 1; }
HARNESS="$(realpath "$HARNESS")"
PEERS="$(dirname "$HARNESS")/peers"
JAR="$ROOT/gatehouse-cli/target/gatehouse.jar"
CONF="$ROOT/bench/gatehouse-bench.yaml"

ROUNDS=3
DURATION=10
WARMUP=3
JIT_WARMUP=60
IDLE_CONNS=9000
ONLY=()
OUT=""
EXTRA_JAVA_OPTS=""
MODE=http
PATHS=""

while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --quick) ROUNDS=1; DURATION=5; WARMUP=2; JIT_WARMUP=30; shift ;;
        --only) ONLY+=("$2"); shift 2 ;;
        --no-idle) IDLE_CONNS=0; shift ;;
        --out) OUT="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --jit-warmup) JIT_WARMUP="$2"; shift 2 ;;
        --java-opts) EXTRA_JAVA_OPTS="$2"; shift 2 ;;
        --mode) MODE="$2"; shift 2 ;;
        --paths) PATHS="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e 's/^# \{0,1\}//' -e '/^set -euo/d'; exit 0 ;;
        *) echo "gatehouse-bench: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
TARGETS=(nginx haproxy gatehouse-bare gatehouse nginx-headers)
# the TLS peers have no header-adding variant: without headers on both sides there is no like-for-like pair to add
[[ "$MODE" == http ]] || TARGETS=(nginx haproxy gatehouse-bare gatehouse)
[[ ${#ONLY[@]} -eq 0 ]] || TARGETS=("${ONLY[@]}")
for t in "${TARGETS[@]}"; do
    case "$t" in nginx|haproxy|gatehouse|gatehouse-bare|gatehouse-bare-uring|gatehouse-bare-epoll|nginx-headers) ;;
        *) echo "gatehouse-bench: unknown target $t" >&2; exit 2 ;; esac
done

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# Client side of the run: plain keep-alive HTTP/1.1 (the default), HTTPS keep-alive, a full TLS handshake per
# request, or HTTP/2 over TLS through h2load. The proxy -> origin leg is plain HTTP/1.1 in every mode.
MODE_ARGS=()
case "$MODE" in
    http) ;;
    https) MODE_ARGS=(--tls) ;;
    https-newconn) MODE_ARGS=(--tls --new-conn); PATHS="${PATHS:-/small}" ;;
    h2) MODE_ARGS=(--h2); PATHS="${PATHS:-/small}" ;;
    *) echo "gatehouse-bench: unknown mode $MODE (http | https | https-newconn | h2)" >&2; exit 2 ;;
esac
[[ "$MODE" == http ]] || IDLE_CONNS=0    # the idle-connection probe is plain HTTP only
[[ -z "$PATHS" ]] || MODE_ARGS+=(--paths "$PATHS")

# ---- tools: install only what is missing (the harness also needs taskset, curl, setsid, python3) ----
missing=()
for tool in nginx haproxy wrk; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [[ "$MODE" == h2 ]] && ! command -v h2load >/dev/null; then missing+=(nghttp2-client); fi
if [[ "$MODE" != http ]] && ! command -v cc >/dev/null; then missing+=(gcc); fi
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The packaged nginx starts a system instance on install; the harness runs its own and needs only the binary.

# ---- JDK and jar ----
# shellcheck source=/dev/null
. "$ROOT/.mvn/find-jdk.sh"
gatehouse_find_jdk
JAVA="$JAVA_HOME/bin/java"
if [[ ! -f "$JAR" || -n "$(find "$ROOT"/*/src "$ROOT/pom.xml" "$ROOT"/*/pom.xml -newer "$JAR" -print -quit 2>/dev/null)" ]]; then
    log "building $JAR"
    (cd "$ROOT" && ./mvnw -B -q -ntp -DskipTests -pl gatehouse-cli -am package) >/tmp/gatehouse-bench-build.log 2>&1 \
        || { cat /tmp/gatehouse-bench-build.log >&2; exit 1; }
fi

# JVM flags: the launcher's own (.mvn/jvm-flags.sh, so what is measured is what ships), plus SerialGC, which the JVM
# picks on the one CPU the harness pins it to anyway; stated so that a machine with more CPUs measures the same.
# shellcheck source=/dev/null
. "$ROOT/.mvn/jvm-flags.sh"
gatehouse_jvm_flags
JAVA_OPTS="${GATEHOUSE_JVM_FLAGS[*]} -XX:+UseSerialGC"
[[ -z "$EXTRA_JAVA_OPTS" ]] || JAVA_OPTS="$JAVA_OPTS $EXTRA_JAVA_OPTS"
GATEHOUSE_CMD="$JAVA $JAVA_OPTS -jar $JAR run \"\$PROXY_CONF\""
NGINX_CMD='nginx -p "$BENCH_RUN_DIR" -c "$PROXY_CONF" -g "daemon off;"'
HAPROXY_CMD='haproxy -db -f "$PROXY_CONF"'

mkdir -p "$ROOT/bench/results"
[[ -n "$OUT" ]] || OUT="$ROOT/bench/results/$(date +%F)-$(hostname -s).tsv"
COMMON=(--duration "$DURATION" --warmup "$WARMUP" --out "$OUT" "${MODE_ARGS[@]}")
NGINX_CONF="$PEERS/nginx-proxy.conf"; HAPROXY_CONF="$PEERS/haproxy.cfg"
NGINX_HEADERS_CONF="$ROOT/bench/peers/nginx-proxy-headers.conf"
BARE_CONF="$(mktemp /tmp/gatehouse-bench-bare.XXXXXX.yaml)"
BARE_URING_CONF="$(mktemp /tmp/gatehouse-bench-bare-uring.XXXXXX.yaml)"
BARE_EPOLL_CONF="$(mktemp /tmp/gatehouse-bench-bare-epoll.XXXXXX.yaml)"
trap 'rm -f "$BARE_CONF" "$BARE_URING_CONF" "$BARE_EPOLL_CONF" "${TLS_CONF:-}"' EXIT
if [[ "$MODE" != http ]]; then
    NGINX_CONF="$PEERS/nginx-tls.conf"; HAPROXY_CONF="$PEERS/haproxy-tls.cfg"
    # ALPN as the peers offer it: h2 only where HTTP/2 is measured
    TLS_CONF="$(mktemp /tmp/gatehouse-bench-tls.XXXXXX.yaml)"; CONF="$TLS_CONF"
    if [[ "$MODE" == h2 ]]; then alpn='h2, http/1.1'; else alpn='http/1.1'; fi
    sed "s|@ALPN@|$alpn|" "$ROOT/bench/gatehouse-bench-tls.yaml" > "$CONF"
    for t in "${TARGETS[@]}"; do
        [[ "$t" != nginx-headers ]] || { echo "gatehouse-bench: nginx-headers is plain HTTP only" >&2; exit 2; }
    done
fi
# gatehouse-bare: the same config, adding no proxy headers (the listener's first key after its address)
sed 's|^\(    address: .*\)$|\1\n    proxy_headers: {x_forwarded: false, via: false, request_id: false}|' "$CONF" > "$BARE_CONF"
grep -q 'x_forwarded: false' "$BARE_CONF" || { echo "gatehouse-bench: could not derive $BARE_CONF from $CONF" >&2; exit 1; }
# gatehouse-bare-uring / -epoll: the same with the transport named instead of auto
sed 's|^server: {event_loops: 1}$|server: {event_loops: 1, transport: io_uring}|' "$BARE_CONF" > "$BARE_URING_CONF"
grep -q 'transport: io_uring' "$BARE_URING_CONF" || { echo "gatehouse-bench: could not derive $BARE_URING_CONF" >&2; exit 1; }
sed 's|^server: {event_loops: 1}$|server: {event_loops: 1, transport: epoll}|' "$BARE_CONF" > "$BARE_EPOLL_CONF"
grep -q 'transport: epoll' "$BARE_EPOLL_CONF" || { echo "gatehouse-bench: could not derive $BARE_EPOLL_CONF" >&2; exit 1; }

{
    echo "# $(date -u +%FT%TZ) $0 mode=$MODE rounds=$ROUNDS duration=$DURATION warmup=$WARMUP jit_warmup=$JIT_WARMUP idle=$IDLE_CONNS targets=${TARGETS[*]}"
    echo "# $(nginx -v 2>&1) | $(haproxy -v 2>&1 | head -1) | $(wrk -v 2>&1 | head -1)"
    echo "# $("$JAVA" -version 2>&1 | head -1) | $(nproc) CPUs | $(uname -r) | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "# gatehouse: $GATEHOUSE_CMD ($(git -C "$ROOT" rev-parse --short HEAD))"
} | tee -a "$OUT.meta" >&2

run_target() {  # name round
    local name="$1" round="$2" idle=()
    if [[ "$round" == 1 && "$IDLE_CONNS" -gt 0 ]]; then idle=(--idle-conns "$IDLE_CONNS" --idle-hold 5); fi
    case "$name" in
        nginx)     "$HARNESS" --name nginx --proxy-conf "$NGINX_CONF" --proxy-cmd "$NGINX_CMD" \
                       --round "$round" "${COMMON[@]}" "${idle[@]}" ;;
        haproxy)   "$HARNESS" --name haproxy --proxy-conf "$HAPROXY_CONF" --proxy-cmd "$HAPROXY_CMD" \
                       --round "$round" "${COMMON[@]}" "${idle[@]}" ;;
        gatehouse) "$HARNESS" --name gatehouse --proxy-conf "$CONF" --proxy-cmd "$GATEHOUSE_CMD" \
                       --jit-warmup "$JIT_WARMUP" --round "$round" "${COMMON[@]}" "${idle[@]}" ;;
        gatehouse-bare) "$HARNESS" --name gatehouse-bare --proxy-conf "$BARE_CONF" --proxy-cmd "$GATEHOUSE_CMD" \
                       --jit-warmup "$JIT_WARMUP" --round "$round" "${COMMON[@]}" "${idle[@]}" ;;
        gatehouse-bare-uring) "$HARNESS" --name gatehouse-bare-uring --proxy-conf "$BARE_URING_CONF" --proxy-cmd "$GATEHOUSE_CMD" \
                       --jit-warmup "$JIT_WARMUP" --round "$round" "${COMMON[@]}" "${idle[@]}" ;;
        gatehouse-bare-epoll) "$HARNESS" --name gatehouse-bare-epoll --proxy-conf "$BARE_EPOLL_CONF" --proxy-cmd "$GATEHOUSE_CMD" \
                       --jit-warmup "$JIT_WARMUP" --round "$round" "${COMMON[@]}" "${idle[@]}" ;;
        nginx-headers) "$HARNESS" --name nginx-headers --proxy-conf "$NGINX_HEADERS_CONF" --proxy-cmd "$NGINX_CMD" \
                       --round "$round" "${COMMON[@]}" "${idle[@]}" ;;
    esac
}

for (( r = 1; r <= ROUNDS; r++ )); do
    for t in "${TARGETS[@]}"; do
        log "=== round $r/$ROUNDS: $t"
        # one retry: a harness run dies on the first failed wrk call (set -e), e.g. when a peer's test holds a port
        run_target "$t" "$r" >/dev/null || { log "!!! $t round $r failed; retrying once"; run_target "$t" "$r" >/dev/null; } \
            || log "!!! $t round $r failed again (rows it wrote are kept)"
    done
done

log "=== summary (median [min-max] over $ROUNDS interleaved rounds) — $OUT"
"$HARNESS" --summarize "$OUT"
