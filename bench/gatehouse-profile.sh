#!/usr/bin/env bash
# shellcheck disable=SC2016
#
# gatehouse-profile.sh — where a proxy's CPU goes under wrk load, on the topology of the proxy
# benchmark harness (proxy-bench.sh, named by BENCH_HARNESS)
# (origin nginx and wrk on CPU 0, the proxy on CPU 1, 50 keep-alive connections, loopback only).
#
#   bench/gatehouse-profile.sh OUTDIR               # Gatehouse: JFR + perf stat + strace -c on /small and /16k
#   bench/gatehouse-profile.sh OUTDIR --proxy nginx # the same counts for the nginx peer (no JFR)
#   bench/gatehouse-profile.sh OUTDIR --startup     # Gatehouse cold start: wrk /small in 1 s slices for 40 s
#   bench/gatehouse-profile.sh OUTDIR --h2          # HTTP/2 over TLS: h2load -c4 -m32 instead of wrk (/small)
#
# Per path, in this order, each step with its own wrk run of fixed length:
#   1. JFR (Gatehouse only; the JVM runs with -XX:+DebugNonSafepoints from the start, else code compiled during the
#      warm-up attributes samples to the nearest safepoint's method, inlined callees to their callers): 25 s recording
#      with settings=profile -> OUTDIR/<path>.jfr, folded by bench/fold_jfr.py
#      into OUTDIR/<path>-jfr.txt;
#   2. perf stat -e task-clock,context-switches,cpu-migrations,page-faults on the proxy's pid for 5 s, beside
#      a 5 s wrk run (its request count is the divisor) -> OUTDIR/<path>-perfstat.txt;
#   3. perf record -g (kernel + JIT symbols via jcmd Compiler.perfmap) 5 s -> OUTDIR/<path>-perf.txt, with the
#      recording and the JIT map kept (OUTDIR/<path>-perf.data, -perf.map; PERF_FREQ sets the rate, default 499 Hz)
#      for bench/perf_leaves.py (where user time goes; who reads the clock);
#   4. strace -c -f on the proxy for one 5 s wrk run -> OUTDIR/<path>-strace.txt. strace slows the proxy several
#      times over; syscalls per request stay meaningful (same work per request), rps during it do not.
# Options: --proxy gatehouse|nginx, --paths LIST (default /small,/16k), --warmup S (default 60, JVM JIT),
#          --startup (cold-start curve only), --java-opts '...' (more JVM options for Gatehouse).
# Stops by itself: fixed durations, and everything started is killed by process group on exit.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="$(realpath "${BENCH_HARNESS:?set BENCH_HARNESS to the path of the harness proxy-bench.sh}" | xargs dirname)/peers"
OUTDIR="${1:?usage: gatehouse-profile.sh OUTDIR [--proxy gatehouse|nginx] [--paths LIST] [--warmup S] [--startup]}"; shift
PROXY=gatehouse; PATHS=/small,/16k; WARMUP=60; STARTUP=0; H2=0; EXTRA_JAVA_OPTS=
while [[ $# -gt 0 ]]; do
    case "$1" in
        --proxy) PROXY="$2"; shift 2 ;;
        --paths) PATHS="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --startup) STARTUP=1; shift ;;
        --h2) H2=1; PATHS=/small; shift ;;
        --java-opts) EXTRA_JAVA_OPTS="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$OUTDIR"; OUTDIR="$(realpath "$OUTDIR")"
PROXY_PORT=18090; BACKEND_PORT=18091
RUN="$(mktemp -d -t gh-profile.XXXXXX)"; chmod 755 "$RUN"
. "$ROOT/bench/lib.sh"; bench_setup

# ---- origin: the harness's nginx origin, same settings ----
bench_origin_start "$RUN" "$BACKEND_PORT"; PIDS+=("$BENCH_ORIGIN_PID")

# ---- proxy on CPU 1 ----
render() { sed -e "s|@PROXY_PORT@|$PROXY_PORT|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" -e "s|@RUN_DIR@|$RUN|g" "$1" >"$2"; }
if [[ $H2 -eq 1 ]]; then
    # a throwaway certificate, as the harness makes one per run
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
        -keyout "$RUN/key.pem" -out "$RUN/cert.pem" 2>/dev/null
    [[ "$PROXY" == gatehouse ]] || { echo "--h2 profiles Gatehouse only" >&2; exit 2; }
    sed -e "s|@ALPN@|h2, http/1.1|" -e "s|@BENCH_CERT@|$RUN/cert.pem|" -e "s|@BENCH_KEY@|$RUN/key.pem|" \
        "$ROOT/bench/gatehouse-bench-tls.yaml" >"$RUN/gatehouse-tls.yaml"
    render "$RUN/gatehouse-tls.yaml" "$RUN/gatehouse.yaml"
elif [[ "$PROXY" == gatehouse ]]; then
    render "$ROOT/bench/gatehouse-bench.yaml" "$RUN/gatehouse.yaml"
fi
if [[ "$PROXY" == gatehouse ]]; then
    # shellcheck disable=SC2086
    setsid taskset -c 1 "$JAVA" $JVM_FLAGS $EXTRA_JAVA_OPTS \
        -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
        -jar "$ROOT/gatehouse-cli/target/gatehouse.jar" run "$RUN/gatehouse.yaml" >"$RUN/proxy.log" 2>&1 &
else
    render "$PEERS/nginx-proxy.conf" "$RUN/nginx-proxy.conf"
    setsid taskset -c 1 nginx -p "$RUN" -c "$RUN/nginx-proxy.conf" -g 'daemon off;' >"$RUN/proxy.log" 2>&1 &
fi
PROXY_PID=$!; PIDS+=("$PROXY_PID")
T0=$(date +%s.%N)
SCHEME=http; [[ $H2 -eq 0 ]] || SCHEME=https
until curl -kfsS -o /dev/null --max-time 1 "$SCHEME://127.0.0.1:$PROXY_PORT/small" 2>/dev/null; do
    kill -0 "$PROXY_PID" 2>/dev/null || { cat "$RUN/proxy.log" >&2; exit 1; }
    sleep 0.05
done
READY=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
log "$PROXY ready after ${READY}s"
# the process that does the work: the JVM itself, or nginx's worker
WORKER="$PROXY_PID"
[[ "$PROXY" == gatehouse ]] || { sleep 0.5; WORKER="$(pgrep -P "$PROXY_PID" | head -1)"; }
URL="$SCHEME://127.0.0.1:$PROXY_PORT"
if [[ $H2 -eq 1 ]]; then
    # prints wrk's "N requests in" line so the counting below stays one parser
    wrk_run() { taskset -c 0 h2load -t1 -c4 -m32 -D "$2" "$URL$1" | awk '/^requests:/ { print $8 " requests in" } { print }'; }
else
    wrk_run() { taskset -c 0 wrk -t1 -c50 -d"$2s" --timeout 5s "$URL$1"; }
fi
requests() { awk '/requests in/ { print $1; exit }'; }

if [[ $STARTUP -eq 1 ]]; then
    # rps per 1 s slice from the first second after the proxy answers (no warm-up at all)
    echo "# $PROXY cold start: ready after ${READY}s; wrk -c50 /small in 1 s slices (t = seconds since ready)" >"$OUTDIR/startup.txt"
    for i in $(seq 1 40); do
        r="$(wrk_run /small 1 | awk '/^Requests\/sec:/ { print $2 }')"
        echo "$i $r" >>"$OUTDIR/startup.txt"
    done
    cat "$OUTDIR/startup.txt"
    exit 0
fi

if [[ "$PROXY" == gatehouse && "$WARMUP" -gt 0 ]]; then
    log "JIT warm-up ${WARMUP}s"
    IFS=',' read -r -a PL <<<"$PATHS"
    for p in "${PL[@]}"; do wrk_run "$p" $(( WARMUP / ${#PL[@]} )) >/dev/null; done
fi

IFS=',' read -r -a PL <<<"$PATHS"
for p in "${PL[@]}"; do
    tag="${p#/}"
    if [[ "$PROXY" == gatehouse ]]; then
        log "$p: JFR 25 s"
        "$JAVA_HOME/bin/jcmd" "$PROXY_PID" JFR.start name=bench settings=profile duration=25s filename="$OUTDIR/$tag.jfr" >/dev/null
        wrk_run "$p" 27 >"$OUTDIR/$tag-jfr-wrk.txt"
        sleep 1
        python3 "$ROOT/bench/fold_jfr.py" --jfr "$JAVA_HOME/bin/jfr" --top 30 --focus-file "$ROOT/bench/jfr-focus.txt" "$OUTDIR/$tag.jfr" >"$OUTDIR/$tag-jfr.txt" 2>&1 || true
        "$JAVA_HOME/bin/jfr" summary "$OUTDIR/$tag.jfr" >"$OUTDIR/$tag-jfr-summary.txt" 2>&1 || true
    fi
    log "$p: perf stat 5 s"
    wrk_run "$p" 6 >"$RUN/wrk.txt" &
    w=$!; sleep 0.5
    perf stat -e task-clock,context-switches,cpu-migrations,page-faults -p "$WORKER" -- sleep 5 \
        >"$OUTDIR/$tag-perfstat.txt" 2>&1 || true
    wait "$w"
    # 5 of wrk's 6 s were under perf stat: scale the request count to the window
    echo "wrk: $(requests <"$RUN/wrk.txt") requests in 6 s -> $(( $(requests <"$RUN/wrk.txt") * 5 / 6 )) in the 5 s window" >>"$OUTDIR/$tag-perfstat.txt"

    log "$p: perf record 5 s"
    wrk_run "$p" 6 >"$RUN/wrk.txt" &
    w=$!; sleep 0.5
    perf record -q -F "${PERF_FREQ:-499}" -g -p "$WORKER" -o "$RUN/perf.data" -- sleep 5 >/dev/null 2>&1 || true
    wait "$w"
    [[ "$PROXY" != gatehouse ]] || "$JAVA_HOME/bin/jcmd" "$PROXY_PID" Compiler.perfmap >/dev/null 2>&1 || true
    perf report -i "$RUN/perf.data" --no-children --sort dso,sym --stdio -g none --percent-limit 0.7 \
        >"$OUTDIR/$tag-perf.txt" 2>/dev/null || true
    perf report -i "$RUN/perf.data" --no-children --sort dso --stdio -g none >"$OUTDIR/$tag-perf-dso.txt" 2>/dev/null || true
    # kept for call-graph questions (perf report -i ... -g caller); JIT frames unwind with --java-opts -XX:+PreserveFramePointer
    cp "$RUN/perf.data" "$OUTDIR/$tag-perf.data"
    [[ "$PROXY" != gatehouse ]] || cp "/tmp/perf-$PROXY_PID.map" "$OUTDIR/$tag-perf.map" 2>/dev/null || true

    log "$p: strace -c 5 s"
    strace -c -f -p "$WORKER" -o "$OUTDIR/$tag-strace.txt" &
    s=$!; sleep 1
    wrk_run "$p" 5 >"$RUN/wrk.txt"
    kill -INT "$s"; wait "$s" 2>/dev/null || true
    echo "wrk: $(requests <"$RUN/wrk.txt") requests during strace" >>"$OUTDIR/$tag-strace.txt"
done
log "done: $OUTDIR"
