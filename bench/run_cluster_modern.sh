#!/usr/bin/env bash
# tools/call echo through a round-robin NGINX (no affinity) in front of 3 distributed nodes
# and one redis-server, in both MCP generations, one invocation (issue 13, item 10):
#   session    2025-11-25: initialize through NGINX, then every call with Mcp-Session-Id;
#              round robin sends 2 of 3 calls to a node that does not own the session
#              (a Redis lookup per call; docs/ha.md)
#   stateless  2026-07-28: no session, no Redis on the request path (mcp_load --protocol modern)
# Usage: bench/run_cluster_modern.sh [--server PATH] [--load PATH]
#   env: CLIENTS="32 256" DURATION=10 WARMUP=2 SERVER_CPU=0 LOAD_CPU=1
# Pinning: the nodes, redis-server and nginx on CPU $SERVER_CPU, mcp_load on $LOAD_CPU.
# Every wait is bounded; everything started here is killed on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVER=${FRONTMCP_SERVER:-$ROOT/build-bench/bin/frontmcp-server}
LOAD=${MCP_LOAD:-$ROOT/build-bench/bin/mcp_load}
while [[ $# -gt 0 ]]; do
  case $1 in
    --server) SERVER=$2; shift 2 ;;
    --load) LOAD=$2; shift 2 ;;
    *) echo "run_cluster_modern.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
CLIENTS=${CLIENTS:-"32 256"}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT=$(mktemp -d /tmp/frontmcp-cluster-modern.XXXXXX)
for f in "$SERVER" "$LOAD"; do [[ -x $f ]] || { echo "run_cluster_modern.sh: $f is not executable (build it first)" >&2; exit 2; }; done
command -v nginx >/dev/null || { echo "run_cluster_modern.sh: nginx is not installed" >&2; exit 2; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

. "$(dirname "$0")/lib.sh"
kill_on_exit

start_redis "$OUT" "$SERVER_CPU"

UPSTREAMS=""
for n in 1 2 3; do
  port=$(free_port)
  taskset -c "$SERVER_CPU" "$SERVER" --port "$port" --threads 1 --log-level warn --max-sessions 100000 \
    --requests-per-second 0 --tool-calls-per-second 0 --mode distributed --redis "redis://127.0.0.1:$REDIS_PORT" --node-id "bench-$n" \
    >"$OUT/node$n.out" 2>"$OUT/node$n.err" &
  PIDS+=($!)
  timeout 20 bash -c "until grep -q 'listening on' '$OUT/node$n.out'; do sleep 0.05; done" \
    || { echo "node $n did not start:"; cat "$OUT/node$n.err"; exit 1; }
  UPSTREAMS+="        server 127.0.0.1:$port;"$'\n'
done

NGINX_PORT=$(free_port)
mkdir -p "$OUT/nginx/tmp"
cat >"$OUT/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log warn;
events { worker_connections 4096; }
http {
    client_body_temp_path $OUT/nginx/tmp/client_body;
    proxy_temp_path       $OUT/nginx/tmp/proxy;
    fastcgi_temp_path     $OUT/nginx/tmp/fastcgi;
    uwsgi_temp_path       $OUT/nginx/tmp/uwsgi;
    scgi_temp_path        $OUT/nginx/tmp/scgi;
    access_log off;
    upstream frontmcp {
$UPSTREAMS        keepalive 256;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location /mcp {
            proxy_pass http://frontmcp;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_buffering off;
        }
    }
}
CONF
taskset -c "$SERVER_CPU" nginx -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" &
PIDS+=($!)
timeout 10 bash -c "until (echo > /dev/tcp/127.0.0.1/$NGINX_PORT) 2>/dev/null; do sleep 0.05; done"
URL="http://127.0.0.1:$NGINX_PORT/mcp"

declare -A RPS P99 ERR
for c in $CLIENTS; do
  for p in session modern; do
    json=$(timeout $((DURATION + WARMUP + 120)) taskset -c "$LOAD_CPU" "$LOAD" --url "$URL" --clients "$c" \
      --duration-s "$DURATION" --warmup-s "$WARMUP" --protocol "$p" --json)
    echo "$json" >"$OUT/$p-$c.json"
    echo "[$(date +%T)] $p-c$c: $json"
    RPS[$p,$c]=$(python3 -c 'import json,sys; print(round(json.load(sys.stdin)["throughput_rps"]))' <<<"$json")
    P99[$p,$c]=$(python3 -c 'import json,sys; print(round(json.load(sys.stdin)["latency_us"]["p99"]/1000,2))' <<<"$json")
    ERR[$p,$c]=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["errors"])' <<<"$json")
  done
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
done

echo
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); raw results in $OUT"
echo "| clients | sessions (2025-11-25) req/s (p99 ms, errors) | stateless (2026-07-28) req/s (p99 ms, errors) | stateless / sessions |"
echo "|---:|---:|---:|---:|"
for c in $CLIENTS; do
  s=${RPS[session,$c]}; m=${RPS[modern,$c]}
  printf "| %s | %s (%s, %s) | %s (%s, %s) | %s.%02dx |\n" "$c" "$s" "${P99[session,$c]}" "${ERR[session,$c]}" \
    "$m" "${P99[modern,$c]}" "${ERR[modern,$c]}" "$((m / s))" "$(((100 * m / s) % 100))"
done
