#!/usr/bin/env bash
# Orphan-scanner cost with many sessions in Redis (default 100,000):
#   1. idle cost: all sessions belong to a live node; time of one scanner query
#      (orphans.lua, what every node runs every heartbeatIntervalMs) - should not grow
#      with the number of sessions;
#   2. claim cost: the owning node dies; time until a surviving node has claimed every
#      session (takeover.lua, pipelined in batches of 128), and Redis memory per session.
# Usage: bench/scanner.sh [SESSIONS]   (env FRONTMCP_SERVER, default build-bench/bin)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVER=${FRONTMCP_SERVER:-$ROOT/build-bench/bin/frontmcp-server}
N=${1:-100000}
OUT=$(mktemp -d /tmp/frontmcp-scan-bench.XXXXXX)
. "$(dirname "$0")/lib.sh"
kill_on_exit

start_redis "$OUT"
RP=$REDIS_PORT
cli() { redis-cli -p "$RP" "$@"; }

# N session records owned by "dead-node", written in one pipe (same layout as save.lua).
python3 - "$N" >"$OUT/load.resp" <<'EOF'
import sys
n = int(sys.argv[1])
def cmd(*a):
    out = [f"*{len(a)}\r\n"]
    for x in a:
        b = str(x)
        out.append(f"${len(b.encode())}\r\n{b}\r\n")
    return "".join(out)
state = '{"id":"%s","transport":"streamable_http","initialized":true,"protocolVersion":"2025-11-25","clientInfo":{"name":"bench","version":"1"},"clientCapabilities":{},"subscriptions":[],"nodeId":"dead-node","epoch":0,"createdAt":0}'
w = sys.stdout.write
for i in range(n):
    sid = f"bench{i:08d}"
    w(cmd("HSET", f"mcp:ha:session:{sid}", "nodeId", "dead-node", "epoch", "0", "state", state % sid))
    w(cmd("PEXPIRE", f"mcp:ha:session:{sid}", "3600000"))
    w(cmd("SADD", "mcp:ha:node:dead-node:sessions", sid))
EOF
mem0=$(cli info memory | awk -F: '/^used_memory:/{print $2}' | tr -d '\r')
cli --pipe <"$OUT/load.resp" >/dev/null
mem1=$(cli info memory | awk -F: '/^used_memory:/{print $2}' | tr -d '\r')
# "dead-node" is alive for now: its heartbeat exists and its index entry is in the future.
cli set mcp:ha:heartbeat:dead-node '{}' px 600000 >/dev/null
now_ms=$(( $(date +%s%N) / 1000000 ))
cli zadd mcp:ha:nodes $((now_ms + 600000)) dead-node >/dev/null

# 1. The scanner's query while nobody is dead: median of 200 runs, measured in Redis
#    (SLOWLOG with threshold 0 records each command's execution time in microseconds).
SHA=$(cli script load "$(cat "$ROOT/src/cluster/lua/orphans.lua")")
cli config set slowlog-log-slower-than 0 >/dev/null
cli config set slowlog-max-len 1000 >/dev/null
cli slowlog reset >/dev/null
for _ in $(seq 200); do cli evalsha "$SHA" 1 mcp:ha:nodes mcp:ha: 200 16 128 >/dev/null; done
idle_us=$(cli slowlog get 1000 | python3 -c '
import sys
lines=[l.strip() for l in sys.stdin]
# redis-cli prints each entry as: id, timestamp, duration, then the arguments
vals=[]
for i,l in enumerate(lines):
    if l == "evalsha" and i >= 1:
        try: vals.append(int(lines[i-1]))
        except ValueError: pass
vals.sort()
print(vals[len(vals)//2] if vals else "n/a")')
cli config set slowlog-log-slower-than 10000 >/dev/null

# 2. The node dies (heartbeat gone, dead since long before the grace period); one node
#    with sub-second settings claims everything.
cli del mcp:ha:heartbeat:dead-node >/dev/null
cli zadd mcp:ha:nodes $((now_ms - 600000)) dead-node >/dev/null
PORT=$(free_port)
start=$(date +%s%N)
"$SERVER" --mode distributed --redis "redis://127.0.0.1:$RP" --port "$PORT" --node-id claimer \
  --heartbeat-interval-ms 100 --heartbeat-ttl-ms 1000 --takeover-grace-period-ms 200 --log-level warn \
  --max-sessions 1000 >"$OUT/node.out" 2>"$OUT/node.err" &
PIDS+=($!)
deadline=$((SECONDS + 600))
while (( $(cli scard mcp:ha:node:claimer:sessions) < N )); do
  (( SECONDS < deadline )) || { echo "not all claimed in 600 s"; exit 1; }
  sleep 0.1
done
end=$(date +%s%N)
claim_s=$(python3 -c "print(round(($end-$start)/1e9,2))")
epochs=$(cli eval "local n=0 for _,id in ipairs(redis.call('SRANDMEMBER', KEYS[1], 1000)) do if redis.call('HGET','mcp:ha:session:'..id,'epoch')=='1' then n=n+1 end end return n" 1 mcp:ha:node:claimer:sessions)
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "| sessions in Redis | scanner query, nobody dead (median) | all claimed after the owner died (incl. node start) | claims/s | Redis memory per session | sampled epoch == 1 |"
echo "|---|---|---|---|---|---|"
echo "| $N | ${idle_us} µs | ${claim_s} s | $(python3 -c "print(round($N/$claim_s))") | $(( (mem1 - mem0) / N )) B | $epochs / 1000 |"
