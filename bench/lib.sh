# shellcheck shell=bash
# lib.sh — sourced by the bench scripts (ROOT and RUN set first); sourcing only defines functions.
#
#   bench_setup                    # JAVA (a JDK >= 21), JVM_FLAGS (./gatehouse's, plus SerialGC), PIDS, log(),
#                                  # and traps that kill every process group in PIDS and remove RUN on exit
#   bench_origin_start DIR PORT    # the harness's origin (nginx on CPU 0, same settings as
#                                  # the harness's proxy-bench.sh) serving /small (100 B), /16k and /1m from DIR,
#                                  # in its own process group; sets BENCH_ORIGIN_PID
#   bench_args NAME LINES OWN "$@" # the options the system scripts share: --duration S and --warmup S (set
#                                  # DURATION, WARMUP; defaults are the script's), -h/--help (prints lines LINES of the
#                                  # script, its header); every other word goes to the function OWN, which takes its
#                                  # own options, sets BENCH_SHIFT to the words it used, and returns 1 for one it does
#                                  # not know ("NAME: unknown option X", exit 2)
#   bench_jar VAR                  # JAR: the file named by $VAR when set (a copy of the jar: a build in the same
#                                  # tree meanwhile cannot change it mid-run), else gatehouse-cli/target/gatehouse.jar
#   up_banner HOME PID             # waits (at most 180 s) for `gatehouse up`'s banner in HOME/up.out; 1: it died
#                                  # or never came
#   bench_jar_build                # builds JAR when absent or older than the sources, unless $VAR named it (after
#                                  # bench_setup: it logs, and writes RUN/build.log)
bench_setup() {
    . "$ROOT/.mvn/find-jdk.sh"; gatehouse_find_jdk
    JAVA="$JAVA_HOME/bin/java"
    . "$ROOT/.mvn/jvm-flags.sh"; gatehouse_jvm_flags
    # SerialGC is what the JVM picks on the one CPU the proxy is pinned to; stated so that a machine with more CPUs
    # measures the same
    JVM_FLAGS="${GATEHOUSE_JVM_FLAGS[*]} -XX:+UseSerialGC"
    PIDS=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# A loopback port free now (the kernel's choice).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits up to 180 s for the banner of the `gatehouse up` with pid PID whose stdout is HOME/up.out; returns 1 at once
# when the process is gone, or after 180 s without a banner (the caller says what that means for its run).
up_banner() {
    local home=$1 pid=$2
    for _ in $(seq 1 1800); do
        grep -q "the system is up" "$home/up.out" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# The app instances' /metrics URLs, comma-separated, from the banner `gatehouse up` wrote to FILE.
up_metrics() {
    grep -oE '^ +app-[0-9]+ .* http://127\.0\.0\.1:[0-9]+' "$1" | grep -oE 'http://127\.0\.0\.1:[0-9]+' | sed 's|$|/metrics|' | paste -sd, -
}

bench_cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
    sleep 1
    for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
    rm -rf "$RUN"
}

bench_origin_start() {
    local dir=$1 port=$2
    head -c 100 /dev/zero | tr '\0' a >"$dir/small"; head -c 16384 /dev/zero | tr '\0' b >"$dir/16k"
    head -c 1048576 /dev/zero | tr '\0' c >"$dir/1m"; mkdir -p "$dir/backend"
    cat >"$dir/backend/nginx.conf" <<CONF
worker_processes 1; worker_rlimit_nofile 20000; pid $dir/backend/nginx.pid; error_log $dir/backend/error.log warn;
events { worker_connections 19000; multi_accept on; }
http { access_log off; sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_timeout 300s; keepalive_requests 10000000;
  open_file_cache max=100 inactive=300s; client_body_temp_path $dir/backend/tmp; default_type application/octet-stream;
  etag off; expires 1h;
  server { listen 127.0.0.1:$port backlog=4096 reuseport;
    location = /small { alias $dir/small; } location = /16k { alias $dir/16k; } location = /1m { alias $dir/1m; } } }
CONF
    setsid taskset -c 0 nginx -p "$dir/backend" -c "$dir/backend/nginx.conf" -g 'daemon off;' >/dev/null 2>&1 &
    BENCH_ORIGIN_PID=$!
}

bench_args() {
    local name=$1 lines=$2 own=$3; shift 3
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --duration) DURATION=$2; shift 2 ;;
            --warmup) WARMUP=$2; shift 2 ;;
            -h|--help) sed -n "${lines}p" "$0"; exit 0 ;;
            *)
                BENCH_SHIFT=0
                "$own" "$@" || { echo "$name: unknown option $1" >&2; exit 2; }
                shift "$BENCH_SHIFT" ;;
        esac
    done
}

bench_jar() {
    BENCH_JAR_VAR=$1
    JAR="${!1:-$ROOT/gatehouse-cli/target/gatehouse.jar}"
}

bench_jar_build() {
    if [[ -z "${!BENCH_JAR_VAR:-}" ]] && [[ ! -f "$JAR" || -n "$(find "$ROOT"/*/src "$ROOT/pom.xml" "$ROOT"/*/pom.xml -newer "$JAR" -print -quit 2>/dev/null)" ]]; then
        log "building $JAR"
        (cd "$ROOT" && ./mvnw -B -q -ntp -DskipTests -pl gatehouse-cli -am package) >"$RUN/build.log" 2>&1 \
            || { cat "$RUN/build.log" >&2; exit 1; }
    fi
}
