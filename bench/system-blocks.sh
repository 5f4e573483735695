#!/usr/bin/env bash
#
# system-blocks.sh — what each block of `gatehouse up` buys, measured: the same open-loop redirect load (gatehouse
# load, Zipf codes) at one rate against the system with and without a block, in one run.
#
#   full, near cache off   edge → app → Redis hit (the benchmark's configuration)
#   full, near cache 2 s   the default: most hits answered inside the instance
#   no cache               --blocks edge,app,db,replica,zk: every redirect is a database read (replica)
#   no replica             --blocks edge,app,db,cache,zk: misses read the primary
# For each: p50/p99, hit ratio, DB queries per 1,000 redirects, server CPU per redirect (the up JVM, its children
# and the PostgreSQL servers). up on CPU 1, the load generator on CPU 0; load average recorded beside each.
#
# Usage: bench/system-blocks.sh [--rate N] [--duration S] [--out FILE]

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$(mktemp -d /tmp/gatehouse-system-blocks.XXXXXX)"
JAR="$ROOT/gatehouse-cli/target/gatehouse.jar"
RATE=300
DURATION=20
OUT="$ROOT/bench/results/$(date +%Y-%m-%d)-system-blocks.txt"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rate) RATE=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "system-blocks: unknown option $1" >&2; exit 2 ;;
    esac
done
. "$ROOT/bench/lib.sh"
bench_setup
[[ -f "$JAR" ]] || { echo "system-blocks: build the jar first (./mvnw -B -q -ntp -DskipTests -pl gatehouse-cli -am package)" >&2; exit 1; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
record() { echo "$*" | tee -a "$OUT"; }
load() { taskset -c 0 "$JAVA" $JVM_FLAGS -jar "$JAR" load "$@" 2>>"$RUN/load.err"; }

measure() {
    local name=$1; shift
    local home="$RUN/home-${name// /-}" port
    port=$(free_port)
    mkdir -p "$home"
    GATEHOUSE_HOME="$home" setsid taskset -c 1 "$JAVA" $JVM_FLAGS -jar "$JAR" up --listen "127.0.0.1:$port" \
        --listen-tls off --admin off "$@" >"$home/up.out" 2>"$home/up.err" &
    local pid=$!
    PIDS+=("$pid")
    up_banner "$home" "$pid" || { cat "$home/up.err" >&2; echo "up did not start in 180 s" >&2; exit 1; }
    local metrics servers out
    metrics=$(up_metrics "$home/up.out")
    servers=$(printf '%s\n' "$pid" $(pgrep -f -- "-D $home/postgres" || true) | paste -sd, -)
    # links are created through the edge with the API key up made for its demo consumer (none without the edge)
    export GATEHOUSE_API_KEY; GATEHOUSE_API_KEY=$(cat "$home/api-key" 2>/dev/null || true)
    load --target "http://127.0.0.1:$port" --rate "$RATE" --duration 20 --metrics "$metrics" >/dev/null || true   # JIT
    out=$(load --target "http://127.0.0.1:$port" --rate "$RATE" --duration "$DURATION" --warmup 5 --metrics "$metrics" \
        --cpu-of "$servers" || true)
    record "$name	up $*	rate $RATE	load $(loadavg)"
    echo "$out" | grep -E 'sent|latency|hit ratio|server CPU' | sed 's/^/    /' | tee -a "$OUT"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || true
}

mkdir -p "$(dirname "$OUT")"
record "# system-blocks $(date -u +%FT%TZ) on $(nproc) cores, $(git -C "$ROOT" rev-parse --short HEAD), load average $(loadavg)"
measure "full, near cache off" --near-cache 0s
measure "full, near cache 2s" --near-cache 2s
measure "no cache" --blocks edge,app,db,replica,zk
measure "no replica" --blocks edge,app,db,cache,zk --near-cache 0s
record "# done $(date -u +%FT%TZ), load average $(loadavg)"
