#!/usr/bin/env bash
#
# system-gc.sh — which JVM flags should `gatehouse up` run with? Each variant in turn: `up` pinned to CPU 1 (near
# cache off, as system-bench.sh), warmed at the rate, then the independent Python generator (bench/system-openloop.py,
# CPU 0) at that rate: its p99, the up JVM's GC pauses in the window (-Xlog:gc), the server CPU per redirect (the up JVM,
# its children and the PostgreSQL servers, from /proc) and the RSS of the whole tree after the run.
#
# Usage: bench/system-gc.sh [--rate R] [--duration S] [--warmup S] [--rounds N] NAME='FLAGS' ...
#   e.g. bench/system-gc.sh base='' parallel='-XX:+UseParallelGC' g1='-XX:+UseG1GC -XX:MaxGCPauseMillis=5'
# A variant's flags come after the launcher's (they win; a collector named there replaces Serial). Variants are
# interleaved per round. Rows go to stdout, tab-separated, with the load average.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$(mktemp -d /tmp/gatehouse-system-gc.XXXXXX)"
. "$ROOT/bench/lib.sh"
bench_jar SYSTEM_GC_JAR   # SYSTEM_GC_JAR: another jar (a copy, so a rebuild cannot change it mid-run)
RATE=2450 DURATION=20 WARMUP=30 ROUNDS=1
NAMES=() FLAGS=()
# this script's options besides lib.sh's --duration, --warmup and --help
gc_option() {
    case "$1" in
        --rate) RATE=$2; BENCH_SHIFT=2 ;;
        --rounds) ROUNDS=$2; BENCH_SHIFT=2 ;;
        *=*) NAMES+=("${1%%=*}"); FLAGS+=("${1#*=}"); BENCH_SHIFT=1 ;;
        *) return 1 ;;
    esac
}
bench_args system-gc 2,12 gc_option "$@"
[[ ${#NAMES[@]} -gt 0 ]] || { echo "system-gc: name at least one variant (NAME='FLAGS')" >&2; exit 2; }
bench_setup
# up stops its PostgreSQL servers (detached by pg_ctl) on SIGTERM: give it time to, before lib.sh's clean-up kills
UP=""
stop_up() {
    [[ -n "$UP" ]] || return 0
    kill -TERM "$UP" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$UP" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$UP" 2>/dev/null || true
    UP=""
}
trap 'stop_up; bench_cleanup' EXIT
[[ -f "$JAR" ]] || { echo "system-gc: build the jar first" >&2; exit 1; }
# the launcher's flags without its collector, so that a variant's collector is the only one
BASE_FLAGS=$(echo "$JVM_FLAGS" | tr ' ' '\n' | grep -v -- '-XX:+Use.*GC' | paste -sd' ')
tree_pids() { local p=$1; echo "$p"; for c in $(pgrep -P "$p" || true); do tree_pids "$c"; done; }
cpu_ticks() { local t=0; for p in "$@"; do [[ -r /proc/$p/stat ]] && t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat") )); done; echo "$t"; }
rss_kib() { local t=0; for p in "$@"; do [[ -r /proc/$p/status ]] && t=$(( t + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status") )); done; echo "$t"; }

printf 'variant\tround\tp50_ms\tp99_ms\tp999_ms\tgen_late_p99_ms\tgc_pauses\tgc_total_ms\tgc_longest_ms\tcpu_us_per_redirect\trss_mib\tload\tflags\n'
for round in $(seq 1 "$ROUNDS"); do
    for i in "${!NAMES[@]}"; do
        name=${NAMES[$i]} flags=${FLAGS[$i]}
        collector=$(echo "$flags" | grep -oE -- '-XX:\+Use[A-Za-z0-9]+GC' || echo -XX:+UseSerialGC)
        home="$RUN/$name-$round"; mkdir -p "$home"; port=$(free_port)
        # shellcheck disable=SC2086
        GATEHOUSE_HOME="$home" setsid taskset -c 1 "$JAVA" $BASE_FLAGS $collector $flags "-Xlog:gc:file=$home/gc.log:uptimemillis" \
            -jar "$JAR" up --listen "127.0.0.1:$port" --listen-tls off --admin off --app-ports 0,0,0 --near-cache 0s \
            >"$home/up.out" 2>"$home/up.err" &
        up=$!; UP=$up; PIDS+=("$up")
        if ! up_banner "$home" "$up"; then
            printf '%s\t%s\tdid not start: %s\n' "$name" "$round" "$(tail -n 3 "$home/up.out" "$home/up.err" | tr '\n\t' '  ')"
            stop_up
            continue
        fi
        metrics=$(up_metrics "$home/up.out")
        GATEHOUSE_API_KEY=$(cat "$home/api-key") taskset -c 0 "$JAVA" $JVM_FLAGS -jar "$JAR" load --target "http://127.0.0.1:$port" \
            --links 1000 --codes "$home/codes" --rate 300 --duration 5 --warmup 0 --metrics "$metrics" >/dev/null 2>&1 || true
        taskset -c 0 python3 "$ROOT/bench/system-openloop.py" "http://127.0.0.1:$port/" "$RATE" "$WARMUP" --paths "$home/codes" >/dev/null || true
        pids=($(tree_pids "$up") $(pgrep -f -- "-D $home/postgres" || true))
        gc_before=$(wc -l <"$home/gc.log"); t0=$(cpu_ticks "${pids[@]}")
        out=$(taskset -c 0 python3 "$ROOT/bench/system-openloop.py" "http://127.0.0.1:$port/" "$RATE" "$DURATION" --paths "$home/codes" || true)
        t1=$(cpu_ticks "${pids[@]}"); rss=$(rss_kib "${pids[@]}")
        gc=$(tail -n +"$((gc_before + 1))" "$home/gc.log" | { grep -oE 'Pause [A-Za-z]+ .* [0-9.]+ms$' || true; } \
            | awk '{n++; v=$NF; sub("ms","",v); v+=0; s+=v; if (v>m) m=v} END {printf "%d\t%.1f\t%.1f", n, s, m}')
        lat=$(echo "$out" | grep 'latency from the intended')
        late=$(echo "$out" | grep 'lateness' | grep -oE 'p99 [0-9.]+' | awk '{print $2}')
        pct() { echo "$lat" | grep -oE "$1 [0-9.]+" | head -1 | awk '{print $2}'; }
        # per redirect answered (a starved generator sends fewer than RATE x DURATION)
        okn=$(echo "$out" | grep -oE 'ok [0-9]+' | head -1 | awk '{print $2}')
        cpu=$(awk -v t="$(( t1 - t0 ))" -v hz="$(getconf CLK_TCK)" -v n="${okn:-0}" 'BEGIN{printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0)}')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" "$(pct p50)" "$(pct p99)" "$(pct p99.9)" "$late" "$gc" \
            "$cpu" "$(( rss / 1024 ))" "$(cut -d' ' -f1-3 /proc/loadavg)" "$flags"
        stop_up
    done
done
