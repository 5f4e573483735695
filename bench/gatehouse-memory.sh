#!/usr/bin/env bash
# gatehouse-memory.sh — where Gatehouse's memory goes: RSS at start, after traffic, with N idle and N half-sent
# (slowloris) connections, after they close, and after traffic; with --nmt, the JVM's Native Memory Tracking summary at each step.
#
#   bench/gatehouse-memory.sh [--conns N] [--nmt] [--java-opts '...'] [--transport T] [--label NAME] [--out FILE]
#                             [--start-only] [--jar FILE]
#
# Runs ./gatehouse (its JVM flags from .mvn/jvm-flags.sh, then --java-opts) on loopback in front of a small Python
# origin (/small 100 B, /16k), drives it with Python clients (keep-alive GETs; N connections that send nothing; N that
# send a request head without its final empty line), and appends one TSV line per step to --out (default stdout):
#   label  step  rss_kib  rss_anon_kib  rss_file_kib  threads  heap_live_kib (after a full GC)  classes (loaded)
# --start-only stops after the first step (base RSS at start, 5 s after listening). --jar runs that jar with the same
# launcher flags instead of ./gatehouse: an older build (a throwaway worktree's) beside this one, in one run, since the
# machine's noise differs from day to day (bench/results/2026-12-06-base-rss.md).
# NMT summaries go next to --out (or to the work directory) as <label>-<step>.nmt. It stops what it started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONNS=2000; NMT=0; JAVA_OPTS=""; TRANSPORT=auto; LABEL=default; OUT=/dev/stdout; START_ONLY=0; JAR=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --conns) CONNS="$2"; shift 2 ;;
        --nmt) NMT=1; shift ;;
        --java-opts) JAVA_OPTS="$2"; shift 2 ;;
        --transport) TRANSPORT="$2"; shift 2 ;;   # server.transport: auto (epoll), epoll, io_uring, nio
        --label) LABEL="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --start-only) START_ONLY=1; shift ;;
        --jar) JAR="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-memory.XXXXXX")
NMT_DIR=$([[ "$OUT" == /dev/stdout ]] && echo "$WORK" || dirname "$OUT")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
ulimit -n $(( CONNS * 2 + 1024 ))

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mkdir -p "$WORK/www"
head -c 100 /dev/zero | tr '\0' 's' >"$WORK/www/small"
head -c 16384 /dev/zero | tr '\0' 'x' >"$WORK/www/16k"
cat >"$WORK/origin.py" <<'PY'
import http.server, os, sys
os.chdir(sys.argv[2])
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
cat >"$WORK/client.py" <<'PY'
import http.client, socket, sys, threading, time
cmd = sys.argv[1]; port = int(sys.argv[2])
if cmd == "load":
    n, path = int(sys.argv[3]), sys.argv[4]
    def worker(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(k):
            c.request("GET", path); r = c.getresponse(); r.read()
            if r.status != 200: raise SystemExit("status %d" % r.status)
    ts = [threading.Thread(target=worker, args=(n // 4,)) for _ in range(4)]
    [t.start() for t in ts]; [t.join() for t in ts]
elif cmd == "hold":
    n, mode, ready = int(sys.argv[3]), sys.argv[4], sys.argv[5]
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        if mode == "half":
            s.sendall(b"GET /small HTTP/1.1\r\nHost: edge\r\nUser-Agent: slowloris\r\nX-Wait: a")   # mid-line
        socks.append(s)
    open(ready, "w").close()
    sys.stdin.read()   # until the script closes our stdin
    for s in socks: s.close()
PY
ORIGIN_PORT=$(free_port); EDGE_PORT=$(free_port); ADMIN_PORT=$(free_port)
python3 "$WORK/origin.py" "$ORIGIN_PORT" "$WORK/www" & PIDS+=($!)
cat >"$WORK/gatehouse.yaml" <<YAML
server: { transport: $TRANSPORT }
listeners:
  - name: edge
    address: 127.0.0.1:$EDGE_PORT
    # long enough that the held connections stay for the measurement (the defaults close them after 10 s / 60 s)
    timeouts: { request_header: 600s, idle: 600s }
    routes: [ { name: all, cluster: origin } ]
clusters:
  - name: origin
    endpoints: ["127.0.0.1:$ORIGIN_PORT"]
admin: { address: "127.0.0.1:$ADMIN_PORT" }
YAML
opts="$JAVA_OPTS"; [[ $NMT -eq 0 ]] || opts="$opts -XX:NativeMemoryTracking=summary"
if [[ -z "$JAR" ]]; then
    GATEHOUSE_JAVA_OPTS="$opts" "$ROOT/gatehouse" run "$WORK/gatehouse.yaml" >"$WORK/gatehouse.log" 2>&1 & GH=$!; PIDS+=($GH)
else   # the launcher's flags, as ./gatehouse gives them, on another jar
    . "$ROOT/.mvn/find-jdk.sh"; gatehouse_find_jdk; . "$ROOT/.mvn/jvm-flags.sh"; gatehouse_jvm_flags
    read -r -a extra <<<"$opts"
    "$JAVA_HOME/bin/java" "${GATEHOUSE_JVM_FLAGS[@]}" "${extra[@]}" -jar "$JAR" run "$WORK/gatehouse.yaml" \
        >"$WORK/gatehouse.log" 2>&1 & GH=$!; PIDS+=($GH)
fi
for _ in $(seq 1 600); do grep -q "listener edge on" "$WORK/gatehouse.log" && break; sleep 0.2; done
grep -q "listener edge on" "$WORK/gatehouse.log" || { cat "$WORK/gatehouse.log" >&2; exit 1; }
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $ORIGIN_PORT), 1)" 2>/dev/null; do sleep 0.2; done

step() {   # settle, then one TSV line (and an NMT summary)
    sleep 5
    local rss anon file threads
    rss=$(awk '/^VmRSS/{print $2}' /proc/$GH/status); anon=$(awk '/^RssAnon/{print $2}' /proc/$GH/status)
    file=$(awk '/^RssFile/{print $2}' /proc/$GH/status); threads=$(awk '/^Threads/{print $2}' /proc/$GH/status)
    [[ $NMT -eq 0 ]] || "$JAVA_HOME/bin/jcmd" "$GH" VM.native_memory summary >"$NMT_DIR/$LABEL-$1.nmt" 2>&1 || true
    # live heap: the class histogram runs a full collection first (after the RSS reading, so it does not shrink it)
    live=$("$JAVA_HOME/bin/jcmd" "$GH" GC.class_histogram | awk '$1 == "Total" {print int($3 / 1024)}')
    classes=$("$JAVA_HOME/bin/jcmd" "$GH" PerfCounter.print | awk -F= '$1 == "java.cls.loadedClasses" {print $2}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$LABEL" "$1" "$rss" "$anon" "$file" "$threads" "$live" "$classes" >>"$OUT"
}
hold() {   # hold N connections of a kind while measuring, then close them
    local fifo="$WORK/hold.in" ready="$WORK/hold.ready"
    rm -f "$fifo" "$ready"; mkfifo "$fifo"
    python3 "$WORK/client.py" hold "$EDGE_PORT" "$CONNS" "$1" "$ready" <"$fifo" & local holder=$!
    exec 9>"$fifo"
    until [[ -e "$ready" ]]; do kill -0 "$holder" || exit 1; sleep 0.2; done
    step "$2"
    exec 9>&-; wait "$holder"
}
. "$ROOT/.mvn/find-jdk.sh"; gatehouse_find_jdk
# Connections first, on a fresh process: what they cost is not hidden in memory that traffic touched before.
step start
[[ $START_ONLY -eq 0 ]] || exit 0
hold idle "idle-$CONNS"
step after-idle
hold half "half-$CONNS"
step after-half
python3 "$WORK/client.py" load "$EDGE_PORT" 8000 /small
python3 "$WORK/client.py" load "$EDGE_PORT" 2000 /16k
step after-load
hold half "half-$CONNS-after-load"
