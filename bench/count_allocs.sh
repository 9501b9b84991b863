#!/usr/bin/env bash
# Heap allocations per `tools/call echo`, counted (not timed): deterministic, unlike this
# VM's throughput. Starts frontmcp-server with bench/alloc/alloc_count.so preloaded, reads
# the process's malloc count before and after one mcp_load run, and divides the difference
# by every request of that run (warm-up, measured, and the two of each session's set-up).
#
# Usage: bench/count_allocs.sh [--server PATH] [--load PATH] [--shim PATH] [--max-per-request N]
# Env: CLIENTS=32 DURATION=3 WARMUP=1 FRONTMCP_THREADS=1 (same defaults from build-bench/),
#   PROTOCOL=session (or modern: the stateless 2026-07-28 tools/call, mcp_load --protocol modern),
#   LIMITS=off (the rate limits; high: on, but refusing nothing, bench/lib.sh).
# With --max-per-request it exits 1 above N (ctest integration.alloc_budget: a coroutine
# frame that stops being recycled, say, adds ~8 per request).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVER=${FRONTMCP_SERVER:-$ROOT/build-bench/bin/frontmcp-server}
LOAD=${MCP_LOAD:-$ROOT/build-bench/bin/mcp_load}
SHIM=${ALLOC_SHIM:-$ROOT/build-bench/bin/alloc_count.so}
MAX=""
while (($#)); do
  case $1 in
    --server) SERVER=$2; shift 2 ;;
    --load) LOAD=$2; shift 2 ;;
    --shim) SHIM=$2; shift 2 ;;
    --max-per-request) MAX=$2; shift 2 ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) echo "count_allocs.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
CLIENTS=${CLIENTS:-32}
DURATION=${DURATION:-3}
WARMUP=${WARMUP:-1}
FRONTMCP_THREADS=${FRONTMCP_THREADS:-1}
PROTOCOL=${PROTOCOL:-session}
for f in "$SERVER" "$LOAD" "$SHIM"; do [[ -e $f ]] || { echo "count_allocs.sh: $f missing (make bench builds it)" >&2; exit 2; }; done

DIR=$(mktemp -d /tmp/frontmcp-allocs.XXXXXX)
COUNTS=$DIR/counts
PID=""
cleanup() { [[ -z $PID ]] || { kill -KILL "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }; }
trap cleanup EXIT

. "$(dirname "$0")/lib.sh"
read -ra LIMIT_FLAGS <<< "$(rate_limit_flags "$SERVER" "${LIMITS:-off}")"
ALLOC_COUNT_FILE=$COUNTS LD_PRELOAD=$SHIM "$SERVER" --host 127.0.0.1 --port 0 --threads "$FRONTMCP_THREADS" \
  --log-level warn "${LIMIT_FLAGS[@]}" >"$DIR/server.out" 2>"$DIR/server.err" &
PID=$!
URL=$(listening_url "$DIR/server.out" "$PID" 15)
[[ -n $URL ]] || { echo "count_allocs.sh: server did not start" >&2; cat "$DIR/server.err" >&2; exit 1; }

# snapshot N: asks for the count and waits (≤ 5 s) until it is line N of the file.
snapshot() {
  kill -USR2 "$PID"
  for _ in $(seq 50); do
    [[ -f $COUNTS && $(wc -l <"$COUNTS") -ge $1 ]] && { sed -n "${1}p" "$COUNTS"; return; }
    sleep 0.1
  done
  echo "count_allocs.sh: no count from the server" >&2; exit 1
}

before=$(snapshot 1)
timeout $((WARMUP + DURATION + 60)) "$LOAD" --url "$URL" --protocol "$PROTOCOL" --clients "$CLIENTS" \
  --warmup-s "$WARMUP" --duration-s "$DURATION" --json >"$DIR/load.json"
after=$(snapshot 2)
python3 - "$DIR/load.json" "$before" "$after" "$CLIENTS" "$MAX" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
before, after, clients = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
total = r["requests"] + r["warmup_requests"] + r.get("setup_requests", 2 * clients)
errors = r["errors"] + r["warmup_errors"]
per = (after - before) / max(total, 1)
print(f"requests {total}  errors {errors}  allocations {after - before}  per request {per:.2f}")
if errors or total < 1000:
    sys.exit(f"count_allocs.sh: the run is not usable ({total} requests, {errors} errors)")
if sys.argv[5] and per > float(sys.argv[5]):
    sys.exit(f"count_allocs.sh: {per:.2f} allocations per request, over the budget of {sys.argv[5]}")
PY
