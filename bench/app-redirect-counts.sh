#!/usr/bin/env bash
#
# app-redirect-counts.sh — what one redirect costs `up`'s JVM in counts that do not depend on a busy machine:
# context switches (wake-ups) per redirect by thread group, bytes allocated per redirect by thread group (exact,
# JFR's per-thread allocation counters) and by first Gatehouse frame (sampled), beside CPU µs per redirect.
#
#   bench/app-redirect-counts.sh [--jar JAR] [--rate R] [--seconds S] [--warmup S] [--near-cache 0s] [--out FILE]
#
# `up` runs as system-bench.sh runs it (pinned to CPU 1, up's JVM flags, --near-cache 0s so a cache hit is a Redis
# hit, moved ports: nothing fixed is bound, so it can run beside another `up`), `gatehouse load` on CPU 0 over the
# same 1,000 Zipf links. After --warmup s at 300/s, two windows of --seconds at --rate: thread snapshots around
# the first (bench/thread_counts.py), a JFR recording (settings=profile) over the second (bench/jfr_alloc.py,
# bench/fold_jfr.py); the divisor is the redirects the load got answered in that window. Defaults: 500/s for 20 s
# (10,000 redirects), 40 s of warm-up. About 3 minutes. KEEP=DIR keeps the recording and the thread dump.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$(mktemp -d /tmp/gatehouse-app-counts.XXXXXX)"
JAR="$ROOT/gatehouse-cli/target/gatehouse.jar"
RATE=500
SECONDS_=20
WARMUP=40
NEAR=0s
OUT=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --jar) JAR=$2; shift 2 ;;
        --rate) RATE=$2; shift 2 ;;
        --seconds) SECONDS_=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --near-cache) NEAR=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "app-redirect-counts: unknown option $1" >&2; exit 2 ;;
    esac
done
[[ -f "$JAR" ]] || { echo "app-redirect-counts: no jar at $JAR (./mvnw -B -ntp -DskipTests -pl gatehouse-cli -am package)" >&2; exit 1; }

. "$ROOT/bench/lib.sh"
bench_setup
. "$ROOT/.mvn/up-jvm-flags.sh"; gatehouse_up_jvm_flags
UP_JVM_FLAGS="${GATEHOUSE_JVM_FLAGS[*]}"
JCMD="$JAVA_HOME/bin/jcmd"
JFR="$JAVA_HOME/bin/jfr"
out() { if [[ -n "$OUT" ]]; then tee -a "$OUT"; else cat; fi; }

HOME_="$RUN/home"; mkdir -p "$HOME_"
PORT=$(free_port)
log "starting up (near cache $NEAR) on CPU 1, edge on 127.0.0.1:$PORT"
GATEHOUSE_HOME="$HOME_" setsid taskset -c 1 "$JAVA" $UP_JVM_FLAGS -jar "$JAR" up --listen "127.0.0.1:$PORT" --listen-tls off \
    --admin off --app-ports 0,0,0 --near-cache "$NEAR" >"$HOME_/up.out" 2>"$HOME_/up.err" &
UP_PID=$!
PIDS+=("$UP_PID")
up_banner "$HOME_" "$UP_PID" || { cat "$HOME_/up.err" >&2; echo "up did not start in 180 s" >&2; exit 1; }
METRICS=$(up_metrics "$HOME_/up.out")
export GATEHOUSE_API_KEY; GATEHOUSE_API_KEY=$(cat "$HOME_/api-key")
load() { taskset -c 0 "$JAVA" $JVM_FLAGS -jar "$JAR" load --target "http://127.0.0.1:$PORT" --links 1000 --codes "$RUN/codes" \
    --metrics "$METRICS" "$@" 2>>"$RUN/load.err"; }

log "warm-up: $WARMUP s at 300/s"
# errors here (a loaded machine) do not stop the run: the windows below report their own
load --rate 300 --duration "$WARMUP" --warmup 0 >"$RUN/warmup.txt" || log "warm-up: $(grep -E "^sent" "$RUN/warmup.txt")"
# Two windows of the same load: the first for context switches and CPU (nothing else attached), the second with JFR
# for allocation (its sampler interrupts threads, which would count as switches). Each generator JVM warms up
# before its window opens (its "requesting" line), so a window holds the measured run only.
window() {  # NAME: runs the load; begin_NAME once its measured run starts, end_NAME when it is over
    local name=$1
    load --rate "$RATE" --duration "$SECONDS_" --warmup 10 --warmup-max 30 --cpu-of "$UP_PID" >"$RUN/$name.txt" &
    local pid=$!
    until grep -q '^requesting' "$RUN/$name.txt" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    "begin_$name"
    # a non-zero exit with a report (errors on a loaded machine) still counts: the report says how many
    wait "$pid" || grep -qE '^sent [0-9]+' "$RUN/$name.txt" || { cat "$RUN/$name.txt" "$RUN/load.err" >&2; exit 1; }
    "end_$name"
}
begin_switches() { python3 "$ROOT/bench/thread_counts.py" snap "$UP_PID" "$RUN/before.json"; }
end_switches() { python3 "$ROOT/bench/thread_counts.py" snap "$UP_PID" "$RUN/after.json"; }
begin_alloc() { "$JCMD" "$UP_PID" JFR.start name=counts settings=profile >/dev/null; }
end_alloc() {
    "$JCMD" "$UP_PID" JFR.dump name=counts filename="$RUN/window.jfr" >/dev/null
    "$JCMD" "$UP_PID" JFR.stop name=counts >/dev/null
}
answered() { grep -E '^sent [0-9]+, ok [0-9]+' "$RUN/$1.txt" | grep -oE 'ok [0-9]+' | awk '{print $2}'; }
log "window 1 (context switches): $SECONDS_ s at $RATE/s"
window switches
log "window 2 (allocation, JFR): $SECONDS_ s at $RATE/s"
window alloc
"$JCMD" "$UP_PID" Thread.print >"$RUN/threads.txt"
N=$(answered switches); NA=$(answered alloc)
[[ -n "$N" && "$N" -gt 0 && -n "$NA" && "$NA" -gt 0 ]] || { cat "$RUN/switches.txt" "$RUN/alloc.txt" >&2; exit 1; }

{
    echo "# app-redirect-counts $(date -u +%FT%TZ), $(git -C "$ROOT" rev-parse --short HEAD), jar $JAR, near cache $NEAR, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    grep -E '^(sent|latency|cache hit|server CPU)' "$RUN/switches.txt" | sed 's/^ */    /'
    echo "    (allocation window) $(grep -E '^sent' "$RUN/alloc.txt")"
    echo
    echo "Context switches and CPU per redirect ($N redirects at $RATE/s; the up JVM and its child processes):"
    echo
    python3 "$ROOT/bench/thread_counts.py" diff "$RUN/before.json" "$RUN/after.json" "$N" --names "$RUN/threads.txt"
    echo
    echo "Bytes allocated per redirect ($NA redirects; JFR per-thread counters, exact; JFR's own threads included):"
    echo
    python3 "$ROOT/bench/jfr_alloc.py" "$RUN/window.jfr" "$NA" --jfr "$JFR"
    echo
    echo "Allocation by first Gatehouse frame (sampled):"
    python3 "$ROOT/bench/fold_jfr.py" "$RUN/window.jfr" --jfr "$JFR" --top 15 | sed -n '/allocation/,$p'
} | out
[[ -n "${KEEP:-}" ]] && cp "$RUN/window.jfr" "$RUN/threads.txt" "$KEEP"/ 2>/dev/null || true
kill -TERM "$UP_PID" 2>/dev/null || true
for _ in $(seq 1 60); do kill -0 "$UP_PID" 2>/dev/null || break; sleep 0.5; done
