# shellcheck shell=bash
# origin.sh — sourced by the bench scripts: the harness's origin (nginx on CPU 0, same settings as
# ../shared/bench/proxy-bench.sh) serving /small (100 B), /16k and /1m from DIR.
#
#   bench_origin_start DIR PORT    # starts it in its own process group; sets BENCH_ORIGIN_PID
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
