#!/usr/bin/env bash
#
# gatehouse-instances.sh — does every Gatehouse JVM run equally fast? Starts N Gatehouse instances one after the
# other on the harness topology (origin nginx + wrk on CPU 0, Gatehouse on CPU 1, 50 keep-alive connections), warms
# each one up, then measures K windows of wrk on one path and prints, per instance and window, req/s and CPU µs per
# request of the JVM, its user share, and the CPU of every JVM thread group (event loop, C2/C1 compilers, GC, other)
# over the window, so a slow instance can be told apart: more work on the event loop (code) or CPU elsewhere.
#
#   bench/gatehouse-instances.sh OUTDIR [--instances 6] [--windows 3] [--duration 8] [--warmup 40] [--path /small]
#                                       [--java-opts '...'] [--jfr]   (--jfr: a JFR recording of the last window)
#                                       [--jar A.jar --jar B.jar]     (A/B: instances alternate between the jars)
#                                       [--java-opts-b '...']         (more options for the second jar: to A/B
#                                                                      JVM flags, pass the same jar twice)
#
# Writes OUTDIR/instances.tsv (one row per window) and, per instance, the compiled-method list at the end
# (OUTDIR/iN-codelist.txt, jcmd Compiler.codelist) to diff a slow instance against a fast one.
# Stops by itself: fixed durations; everything started is killed by process group on exit.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUTDIR="${1:?usage: gatehouse-instances.sh OUTDIR [--instances N] [--windows K] [--duration S] [--warmup S] [--path P] [--java-opts S] [--jfr]}"; shift
INSTANCES=6; WINDOWS=3; DURATION=8; WARMUP=40; PATH_UNDER_TEST=/small; EXTRA_JAVA_OPTS=""; JFR=0; JARS=(); JAVA_OPTS_B=
while [[ $# -gt 0 ]]; do
    case "$1" in
        --instances) INSTANCES="$2"; shift 2 ;;
        --windows) WINDOWS="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --path) PATH_UNDER_TEST="$2"; shift 2 ;;
        --java-opts) EXTRA_JAVA_OPTS="$2"; shift 2 ;;
        --jfr) JFR=1; shift ;;
        --jar) JARS+=("$(realpath "$2")"); shift 2 ;;
        --java-opts-b) JAVA_OPTS_B="$2"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$OUTDIR"; OUTDIR="$(realpath "$OUTDIR")"
[[ ${#JARS[@]} -gt 0 ]] || JARS=("$ROOT/gatehouse-cli/target/gatehouse.jar")
RUN="$(mktemp -d -t gh-instances.XXXXXX)"; chmod 755 "$RUN"
. "$ROOT/bench/lib.sh"; bench_setup

PROXY_PORT=18090; BACKEND_PORT=18091
bench_origin_start "$RUN" "$BACKEND_PORT"; PIDS+=("$BENCH_ORIGIN_PID")
sed -e "s|@PROXY_PORT@|$PROXY_PORT|g" -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" "$ROOT/bench/gatehouse-bench.yaml" >"$RUN/gatehouse.yaml"
URL="http://127.0.0.1:$PROXY_PORT"
HZ=$(getconf CLK_TCK)

# utime+stime ticks of one process (or task) from its stat line; comm may hold spaces, so cut after the last ')'
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13, $12 }' "$1" 2>/dev/null || echo "0 0"; }
# per thread group (by comm): total ticks, one line per group
thread_ticks() {
    local pid=$1 t
    for t in /proc/"$pid"/task/*; do
        printf '%s\t%s\n' "$(tr ' ' '_' <"$t/comm" 2>/dev/null)" "$(ticks "$t/stat" | cut -d' ' -f1)"
    done | awk -F'\t' '{ n = $1
        if (n ~ /^C2_Compiler/) g = "c2"; else if (n ~ /^C1_Compiler/) g = "c1";
        else if (n ~ /^gatehouse-[0-9]/) g = "loop";
        else if (n ~ /GC|VM_Thread/) g = "gc_vm"; else g = "other"
        s[g] += $2 } END { for (g in s) print g, s[g] }' | sort
}

printf 'jar\tinstance\twindow\treq_s\tp99_ms\tus_req\tuser_pct\tloop_us_req\tc2_us_req\tc1_us_req\tgc_vm_us_req\tother_us_req\n' >"$OUTDIR/instances.tsv"
for i in $(seq 1 "$INSTANCES"); do
    variant=$(( (i - 1) % ${#JARS[@]} ))
    jar="${JARS[$variant]}"; opts="$EXTRA_JAVA_OPTS"; label="$(basename "$jar")"
    if [[ $variant -eq 1 && -n "$JAVA_OPTS_B" ]]; then opts="$opts $JAVA_OPTS_B"; label="$label+b"; fi
    # shellcheck disable=SC2086
    setsid taskset -c 1 "$JAVA" $JVM_FLAGS $opts \
        -jar "$jar" run "$RUN/gatehouse.yaml" >"$RUN/proxy-$i.log" 2>&1 &
    pid=$!; PIDS+=("$pid")
    until curl -fsS -o /dev/null --max-time 1 "$URL$PATH_UNDER_TEST" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { cat "$RUN/proxy-$i.log" >&2; exit 1; }
        sleep 0.05
    done
    log "instance $i (pid $pid, $(basename "$jar")): warm-up ${WARMUP}s"
    taskset -c 0 wrk -t1 -c50 -d"$(( WARMUP / 2 ))s" "$URL/small" >/dev/null
    taskset -c 0 wrk -t1 -c50 -d"$(( WARMUP / 2 ))s" "$URL/16k" >/dev/null
    for w in $(seq 1 "$WINDOWS"); do
        if [[ $JFR -eq 1 && $w -eq $WINDOWS ]]; then
            "$JAVA_HOME/bin/jcmd" "$pid" JFR.start name=i settings=profile filename="$OUTDIR/i$i.jfr" >/dev/null
        fi
        read -r t0 u0 < <(ticks /proc/"$pid"/stat); thread_ticks "$pid" >"$RUN/th0"
        taskset -c 0 wrk -t1 -c50 -d"${DURATION}s" --timeout 5s --latency "$URL$PATH_UNDER_TEST" >"$RUN/wrk.txt"
        requests=$(awk '/requests in/ { print $1; exit }' "$RUN/wrk.txt")
        # wrk prints the 99th percentile as e.g. "99%    2.05ms" (or us / s)
        p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; print v }' "$RUN/wrk.txt")
        read -r t1 u1 < <(ticks /proc/"$pid"/stat); thread_ticks "$pid" >"$RUN/th1"
        if [[ $JFR -eq 1 && $w -eq $WINDOWS ]]; then "$JAVA_HOME/bin/jcmd" "$pid" JFR.stop name=i >/dev/null; fi
        row=$(join -a2 -e0 -o 0,1.2,2.2 "$RUN/th0" "$RUN/th1" | awk -v hz="$HZ" -v n="$requests" '
            { d[$1] = ($3 - $2) * 1e6 / hz / n }
            END { printf "%.2f\t%.2f\t%.2f\t%.2f\t%.2f", d["loop"], d["c2"], d["c1"], d["gc_vm"], d["other"] }')
        awk -v jar="$label" -v p99="$p99" -v i="$i" -v w="$w" -v n="$requests" -v d="$DURATION" -v hz="$HZ" -v t="$(( t1 - t0 ))" -v u="$(( u1 - u0 ))" -v row="$row" \
            'BEGIN { printf "%s\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.1f\t%s\n", jar, i, w, n / d, p99, t * 1e6 / hz / n, 100 * u / t, row }' \
            | tee -a "$OUTDIR/instances.tsv"
    done
    "$JAVA_HOME/bin/jcmd" "$pid" Compiler.codelist >"$OUTDIR/i$i-codelist.txt" 2>&1 || true
    kill -TERM -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
done
column -t "$OUTDIR/instances.tsv"
if [[ ${#JARS[@]} -gt 1 ]]; then
    echo "median over all windows, per jar:"
    python3 - "$OUTDIR/instances.tsv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
for jar in dict.fromkeys(r["jar"] for r in rows):
    us = [float(r["us_req"]) for r in rows if r["jar"] == jar]
    user = [float(r["us_req"]) * float(r["user_pct"]) / 100 for r in rows if r["jar"] == jar]
    rps = [float(r["req_s"]) for r in rows if r["jar"] == jar]
    p99 = [float(r["p99_ms"]) for r in rows if r["jar"] == jar]
    print(f"  {jar:28s} {statistics.median(us):6.2f} us/req [{min(us):.2f}-{max(us):.2f}]  user {statistics.median(user):5.2f}"
          f"  {statistics.median(rps):8.0f} req/s  p99 {statistics.median(p99):.2f} ms  n={len(us)}")
PY
fi
