#!/usr/bin/env bash
# shellcheck disable=SC2016
#
# cache-memory.sh — memory per cached 1 KiB object: Gatehouse's cache filter beside Varnish.
#
# For each target: start it in front of a local nginx origin that answers every /obj/<n> with a distinct 1 KiB body
# and "Cache-Control: max-age=3600"; fill 2,000 objects first (so start-up allocations, JIT and pools are behind us);
# read the RSS of the whole process tree; fill N more distinct objects with curl (--parallel, one URL each); let it
# settle; read RSS again. bytes/object = RSS delta / N. A sample of the N objects is then requested again and must be
# hits (Cache-Status / X-Cache), so an evicting or non-caching target cannot look cheap. For Gatehouse it also
# prints the live-heap delta after a full GC (GC.class_histogram), which is what the objects themselves hold.
#
#   bench/cache-memory.sh [--objects N] [--only gatehouse|varnish] [--out FILE] [--java-opts '...']
#
# TSV on stdout (and appended to --out): target objects rss_before_kib rss_after_kib bytes_per_object live_heap_bytes_per_object
# Needs: nginx, varnishd (apt-get install -y varnish), curl, a JDK (found as ./gatehouse finds it), the jar (built
# when missing or older than the sources). Stops every process it started (process groups) on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OBJECTS=100000; ONLY=(); OUT=""; EXTRA_JAVA_OPTS=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --objects) OBJECTS="$2"; shift 2 ;;
        --only) ONLY+=("$2"); shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --java-opts) EXTRA_JAVA_OPTS="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e 's/^# \{0,1\}//' -e '/^set -euo/d'; exit 0 ;;
        *) echo "cache-memory: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
TARGETS=(gatehouse varnish)
[[ ${#ONLY[@]} -eq 0 ]] || TARGETS=("${ONLY[@]}")
PRIME=2000
JAR="$ROOT/gatehouse-cli/target/gatehouse.jar"
HARNESS="${BENCH_HARNESS:-$ROOT/../shared/bench/proxy-bench.sh}"
VCL="$(dirname "$HARNESS")/peers/varnish.vcl"
[[ -r "$VCL" ]] || { echo "cache-memory: $VCL not found (set BENCH_HARNESS to the harness's proxy-bench.sh)" >&2; exit 1; }

RUN="$(mktemp -d "${TMPDIR:-/tmp}/cache-memory.XXXXXX")"
chmod 755 "$RUN"   # Varnish's worker process runs as its own user and reads the VCL and its -n directory here
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
bench_setup
for tool in nginx curl; do command -v "$tool" >/dev/null || { echo "cache-memory: $tool is missing" >&2; exit 1; }; done
if [[ " ${TARGETS[*]} " == *" varnish "* ]] && ! command -v varnishd >/dev/null; then
    log "installing varnish"; apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq varnish >/dev/null
fi
if [[ ! -f "$JAR" || -n "$(find "$ROOT"/*/src "$ROOT/pom.xml" "$ROOT"/*/pom.xml -newer "$JAR" -print -quit 2>/dev/null)" ]]; then
    log "building $JAR"
    (cd "$ROOT" && ./mvnw -B -q -ntp -DskipTests -pl gatehouse-cli -am package) >"$RUN/build.log" 2>&1 || { cat "$RUN/build.log" >&2; exit 1; }
fi

tree_rss_kib() {   # VmRSS summed over a process and its descendants
    local root=$1 total=0 p
    for p in $(ps -e -o pid=,ppid= | awk -v r="$root" '{ kids[$2] = kids[$2] " " $1 } END {
            n = split(r, q, " "); out = r; i = 1
            while (i <= n) { split(kids[q[i]], c, " "); for (j in c) { q[++n] = c[j]; out = out " " c[j] } i++ }
            print out }'); do
        total=$(( total + $(awk '/^VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0) ))
    done
    echo "$total"
}
fill() {   # port first last: 8 curls side by side, each a keep-alive connection through its share of the URLs
    local port=$1 first=$2 last=$3 k from to share pids=()
    share=$(( (last - first + 8) / 8 ))
    for (( k = 0; k < 8; k++ )); do
        from=$(( first + k * share )); to=$(( from + share - 1 )); (( to <= last )) || to=$last
        (( from <= to )) || continue
        curl -s -o /dev/null --max-time 900 "http://127.0.0.1:$port/obj/[$from-$to]" & pids+=($!)
    done
    for k in "${pids[@]}"; do wait "$k"; done
}
hits_of_sample() {   # port first last: how many of 200 spread objects answer as hits
    local port=$1 first=$2 last=$3 hits=0 i step
    step=$(( (last - first + 1) / 200 )); (( step > 0 )) || step=1
    for (( i = first; i <= last; i += step )); do
        local head
        head=$(curl -s -o /dev/null -D - --max-time 10 "http://127.0.0.1:$port/obj/$i" || true)
        if grep -qiE '^(x-cache: *hit|cache-status: *gatehouse; *hit)' <<<"$head"; then hits=$((hits + 1)); fi
    done
    echo "$hits"
}
live_heap_bytes() { "$JAVA_HOME/bin/jcmd" "$1" GC.class_histogram | awk '$1 == "Total" {print $3}'; }

# ---- origin: nginx on CPU 0, a distinct 1 KiB body per URL ($uri is in it), fresh for an hour ----
ORIGIN_PORT=$(free_port)
# /obj/NNNNNN plus a space plus this padding: 1 KiB bodies (give or take the digits)
PAD=$(head -c 1012 /dev/zero | tr '\0' o)
mkdir -p "$RUN/origin"
cat >"$RUN/origin/nginx.conf" <<CONF
worker_processes 1; pid $RUN/origin/nginx.pid; error_log $RUN/origin/error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_timeout 300s; keepalive_requests 10000000; client_body_temp_path $RUN/origin/tmp;
  server { listen 127.0.0.1:$ORIGIN_PORT;
    location /obj/ { default_type text/plain; add_header Cache-Control "max-age=3600"; return 200 "\$uri $PAD"; } } }
CONF
setsid taskset -c 0 nginx -p "$RUN/origin" -c "$RUN/origin/nginx.conf" -g 'daemon off;' >"$RUN/origin/out.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$ORIGIN_PORT/obj/0" && break; sleep 0.1; done
size=$(curl -s "http://127.0.0.1:$ORIGIN_PORT/obj/1" | wc -c)
log "origin on $ORIGIN_PORT: /obj/1 is $size bytes"

measure() {   # name start-command port [jvm]
    local name=$1 port=$3 pid before after live0 live1 hits
    setsid taskset -c 1 bash -c "exec $2" >"$RUN/$name.log" 2>&1 &
    pid=$!; PIDS+=($pid)
    for _ in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$port/obj/0" && break; sleep 0.2; done
    curl -sf -o /dev/null "http://127.0.0.1:$port/obj/0" || { cat "$RUN/$name.log" >&2; exit 1; }
    fill "$port" 1 "$PRIME"
    sleep 3
    # a JVM: a full collection first (the class histogram runs one), so garbage does not count as objects
    [[ -z "${4:-}" ]] || live0=$(live_heap_bytes "$pid")
    before=$(tree_rss_kib "$pid")
    log "$name: RSS ${before} KiB after $PRIME objects; filling $OBJECTS more"
    fill "$port" $((PRIME + 1)) $((PRIME + OBJECTS))
    sleep 5
    [[ -z "${4:-}" ]] || live1=$(live_heap_bytes "$pid")
    after=$(tree_rss_kib "$pid")
    hits=$(hits_of_sample "$port" $((PRIME + 1)) $((PRIME + OBJECTS)))
    log "$name: RSS ${after} KiB; $hits of 200 sampled objects are hits"
    (( hits >= 190 )) || log "!!! $name: only $hits/200 sampled objects were hits: the figure below is not per cached object"
    local per=$(( (after - before) * 1024 / OBJECTS )) heap="-"
    [[ -z "${4:-}" ]] || heap=$(( (live1 - live0) / OBJECTS ))
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$OBJECTS" "$before" "$after" "$per" "$heap" | tee -a "${OUT:-/dev/null}"
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

[[ -z "$OUT" || -s "$OUT" ]] || printf 'target\tobjects\trss_before_kib\trss_after_kib\tbytes_per_object\tlive_heap_bytes_per_object\n' >"$OUT"
printf 'target\tobjects\trss_before_kib\trss_after_kib\tbytes_per_object\tlive_heap_bytes_per_object\n'
for t in "${TARGETS[@]}"; do
    port=$(free_port)
    case "$t" in
        gatehouse)
            cat >"$RUN/gatehouse.yaml" <<YAML
listeners:
  - name: mem
    address: 127.0.0.1:$port
    routes:
      - name: all
        cluster: origin
        filters:
          - cache: {max_size: 400MiB}
clusters:
  - name: origin
    endpoints: [127.0.0.1:$ORIGIN_PORT]
admin: {address: "off"}
server: {event_loops: 1}
YAML
            measure gatehouse "$JAVA $JVM_FLAGS $EXTRA_JAVA_OPTS -jar $JAR run $RUN/gatehouse.yaml" "$port" jvm ;;
        varnish)
            sed "s/@BACKEND_PORT@/$ORIGIN_PORT/" "$VCL" >"$RUN/varnish.vcl"
            # the harness's Varnish settings, with room for the objects
            measure varnish "varnishd -F -a 127.0.0.1:$port -f $RUN/varnish.vcl -n $RUN/varnish -s malloc,1g -p thread_pools=1 -p thread_pool_min=100 -p thread_pool_max=1000 -p workspace_client=128k -p timeout_idle=300" "$port" ;;
        *) echo "cache-memory: unknown target $t" >&2; exit 2 ;;
    esac
done
