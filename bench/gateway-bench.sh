#!/usr/bin/env bash
#
# gateway-bench.sh — what the API gateway's filters cost per request, through the proxy benchmark harness
# (proxy-bench.sh, outside this repository: BENCH_HARNESS names it), in interleaved rounds, /small only.
#
# Targets (every one receives the same request bytes: an RS256 bearer token on every request, added by the `wrk`
# wrapper in bench/wrk-header/, so only the proxy's work differs):
#   haproxy                 the shared peer, no JWT check
#   haproxy-jwt             HAProxy 2.5+'s jwt_verify (bench/peers/haproxy-jwt.cfg): alg, signature, iss, aud, exp
#                           checked on every request (HAProxy has no cache of verified tokens)
#   gatehouse-bare          Gatehouse with no filter and no proxy headers (as gatehouse-bench.sh's gatehouse-bare)
#   gatehouse-3filters      gatehouse-bare + three `headers: {}` filters that change nothing: what the filter chain
#                           itself costs (issue 16: three no-op filters add <= 0.3 us per request)
#   gatehouse-jwt           + the jwt filter (RS256 public key, iss, aud), its verified-token cache on (default):
#                           a repeated token; the issue's target is <= 1 us over gatehouse-bare
#   gatehouse-jwt-nocache   the same with cache_size: 0, so every request verifies the signature: what a NEW token
#                           costs; the target is <= haproxy-jwt's cost over haproxy
#   gatehouse-limit-local   gatehouse-bare + a rate_limit (mode local) that never refuses (one hot bucket)
#   gatehouse-limit-global  the same limit in mode global: one Redis round trip per request (redis-server on CPU 0,
#                           beside wrk and the origin)
#   gatehouse-limit-hybrid  the same limit in mode hybrid: leases from Redis, most decisions local
#
# Usage: bench/gateway-bench.sh [--rounds N] [--only TARGET]... [--duration S] [--jit-warmup S] [--out FILE]
# Installs nginx, haproxy, wrk and redis-server with apt when missing; builds the jar when absent or stale; needs
# python3 with the `cryptography` module (for the key and token). Stops by itself: every harness run has fixed
# durations, and the Redis it starts is stopped on exit.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="${BENCH_HARNESS:-}"
[[ -x "$HARNESS" ]] || { echo "gateway-bench: set BENCH_HARNESS to the path of proxy-bench.sh" >&2; exit 1; }
HARNESS="$(realpath "$HARNESS")"; PEERS="$(dirname "$HARNESS")/peers"
JAR="$ROOT/gatehouse-cli/target/gatehouse.jar"
ROUNDS=2; DURATION=10; JIT_WARMUP=60; OUT=""; ONLY=()
ALL=(haproxy haproxy-jwt gatehouse-bare gatehouse-3filters gatehouse-jwt gatehouse-jwt-nocache gatehouse-limit-local gatehouse-limit-global gatehouse-limit-hybrid)
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --only) ONLY+=("$2"); shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
        --jit-warmup) JIT_WARMUP="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e 's/^# \{0,1\}//' -e '/^set -euo/d'; exit 0 ;;
        *) echo "gateway-bench: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
TARGETS=("${ONLY[@]:-${ALL[@]}}")
for t in "${TARGETS[@]}"; do [[ " ${ALL[*]} " == *" $t "* ]] || { echo "gateway-bench: unknown target $t" >&2; exit 2; }; done
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

missing=()
for tool in nginx haproxy wrk redis-server; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"; apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
. "$ROOT/.mvn/find-jdk.sh"; gatehouse_find_jdk
if [[ ! -f "$JAR" || -n "$(find "$ROOT"/*/src "$ROOT/pom.xml" "$ROOT"/*/pom.xml -newer "$JAR" -print -quit 2>/dev/null)" ]]; then
    log "building $JAR"
    (cd "$ROOT" && ./mvnw -B -q -ntp -DskipTests -pl gatehouse-cli -am package) >/tmp/gateway-bench-build.log 2>&1 \
        || { cat /tmp/gateway-bench-build.log >&2; exit 1; }
fi
. "$ROOT/.mvn/jvm-flags.sh"; gatehouse_jvm_flags
GATEHOUSE_CMD="$JAVA_HOME/bin/java ${GATEHOUSE_JVM_FLAGS[*]} -XX:+UseSerialGC -jar $JAR run \"\$PROXY_CONF\""
HAPROXY_CMD='haproxy -db -f "$PROXY_CONF"'

RUN="$(mktemp -d /tmp/gateway-bench.XXXXXX)"
REDIS_PID=""
cleanup() { [[ -z "$REDIS_PID" ]] || kill "$REDIS_PID" 2>/dev/null || true; rm -rf "$RUN"; }
trap cleanup EXIT

# ---- an RSA key and one RS256 token (iss https://issuer.test, aud edge-api, valid for a day) ----
python3 - "$RUN" <<'PY'
import base64, json, sys, time
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
run = sys.argv[1]
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
open(f"{run}/jwt-public.pem", "wb").write(key.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
now = int(time.time())
head = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"iss": "https://issuer.test", "aud": "edge-api", "sub": "bench-client",
                       "iat": now, "exp": now + 86400}).encode())
sig = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
open(f"{run}/token", "w").write(f"{head}.{body}.{b64(sig)}")
PY
export BENCH_HEADER="Authorization: Bearer $(cat "$RUN/token")"
export PATH="$ROOT/bench/wrk-header:$PATH"

# ---- configs ----
REDIS_PORT=$(( 26000 + RANDOM % 1000 ))
bare="$RUN/gatehouse-bare.yaml"
sed 's|^\(    address: .*\)$|\1\n    proxy_headers: {x_forwarded: false, via: false, request_id: false}|' \
    "$ROOT/bench/gatehouse-bench.yaml" >"$bare"
# The harness's readiness probe (curl, no token) must get a 200: a first route for curl's User-Agent, without the
# filter (wrk sends no User-Agent, so every measured request takes the filtered route). HAProxy's config does the same.
probe_route='      - name: probe\n        match: {headers: [{name: user-agent, regex: "curl/.*"}]}\n        cluster: origin'
sed -i "s|^\(      - name: all\)$|$probe_route\n\1|" "$bare"   # gatehouse-bare too: the same routing work
grep -q "name: probe" "$bare" || { echo "gateway-bench: could not derive $bare" >&2; exit 1; }
with_filter() {  # name filter-yaml-line [top-level-yaml]
    sed "s|^\(      - name: all\)$|\1\n        filters:\n          - $2|" "$bare" >"$RUN/$1.yaml"
    [[ -z "${3:-}" ]] || printf '%s\n' "$3" >>"$RUN/$1.yaml"
    grep -q "filters:" "$RUN/$1.yaml" || { echo "gateway-bench: could not derive $1.yaml" >&2; exit 1; }
}
with_filter gatehouse-3filters 'headers: {}\n          - headers: {}\n          - headers: {}'
jwt="jwt: {public_key_file: $RUN/jwt-public.pem, algorithms: [RS256], issuer: \"https://issuer.test\", audiences: [edge-api]"
with_filter gatehouse-jwt "$jwt}"
with_filter gatehouse-jwt-nocache "$jwt, cache_size: 0}"
limit='rate_limit: {key: client_ip, limits: [{rate: 100000000/s, burst: 100000000}]'
with_filter gatehouse-limit-local "$limit}"
with_filter gatehouse-limit-global "$limit, mode: global}" "redis: {address: \"127.0.0.1:$REDIS_PORT\"}"
with_filter gatehouse-limit-hybrid "$limit, mode: hybrid}" "redis: {address: \"127.0.0.1:$REDIS_PORT\"}"
sed "s|@JWT_PUBLIC_KEY@|$RUN/jwt-public.pem|" "$ROOT/bench/peers/haproxy-jwt.cfg" >"$RUN/haproxy-jwt.cfg"

if [[ " ${TARGETS[*]} " == *" gatehouse-limit-g"* || " ${TARGETS[*]} " == *" gatehouse-limit-h"* ]]; then
    setsid taskset -c 0 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
        >"$RUN/redis.log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

mkdir -p "$ROOT/bench/results"
[[ -n "$OUT" ]] || OUT="$ROOT/bench/results/$(date +%F)-gateway.tsv"
COMMON=(--duration "$DURATION" --warmup 3 --paths /small --out "$OUT")
for (( round = 1; round <= ROUNDS; round++ )); do
    for t in "${TARGETS[@]}"; do
        log "round $round: $t"
        case "$t" in
            haproxy)     "$HARNESS" --name "$t" --proxy-conf "$PEERS/haproxy.cfg" --proxy-cmd "$HAPROXY_CMD" --round "$round" "${COMMON[@]}" ;;
            haproxy-jwt) "$HARNESS" --name "$t" --proxy-conf "$RUN/haproxy-jwt.cfg" --proxy-cmd "$HAPROXY_CMD" --round "$round" "${COMMON[@]}" ;;
            *)           "$HARNESS" --name "$t" --proxy-conf "$RUN/$t.yaml" --proxy-cmd "$GATEHOUSE_CMD" \
                             --jit-warmup "$JIT_WARMUP" --round "$round" "${COMMON[@]}" ;;
        esac
    done
done
"$HARNESS" --summarize "$OUT"
