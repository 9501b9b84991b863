#!/usr/bin/env bash
# Instructions per steady-state tools/call echo, counted by callgrind (the VM's timing noise
# is larger than the differences this is for). One binary per run:
#   [LIMITS=off|high] bench/instructions_per_request.sh BIN [session|modern] [CLIENTS]
# Prints "<protocol> requests N instructions/request M". Needs valgrind and mcp_load
# (LOAD=path, default build/bin/mcp_load). KEEP=DIR keeps the callgrind dumps there (for
# callgrind_annotate). Every wait is bounded.
set -euo pipefail
BIN=${1:?path of a frontmcp-server binary}
PROTOCOL=${2:-session}
CLIENTS=${3:-2}
LOAD=${LOAD:-build/bin/mcp_load}
dir=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && cp "$dir"/cg.out* "$KEEP"/ 2>/dev/null; rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib.sh"
read -ra limits <<< "$(rate_limit_flags "$BIN" "${LIMITS:-off}")"
valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$BIN" --port 0 --threads 1 --log-level warn \
  "${limits[@]}" > "$dir/server.log" 2>&1 &
pid=$!
url=$(listening_url "$dir/server.log" $pid 60)  # valgrind starts slowly
[ -n "$url" ] || { echo "server did not start" >&2; cat "$dir/server.log" >&2; kill -9 $pid; exit 1; }
timeout 120 "$LOAD" --url "$url" --clients "$CLIENTS" --duration-s 1 --warmup-s 0 --protocol "$PROTOCOL" --json > /dev/null
callgrind_control -z $pid > /dev/null 2>&1
timeout 120 "$LOAD" --url "$url" --clients "$CLIENTS" --duration-s 3 --warmup-s 0 --protocol "$PROTOCOL" --json > "$dir/load.json"
callgrind_control -d $pid > /dev/null 2>&1
kill -INT $pid
wait $pid 2>/dev/null || true
python3 - "$dir" "$PROTOCOL" <<'PY'
import glob, json, sys
d, protocol = sys.argv[1], sys.argv[2]
j = json.load(open(f"{d}/load.json"))
n = j["requests"] + j["setup_requests"]
dump = sorted(f for f in glob.glob(f"{d}/cg.out*") if f.endswith(".1"))[0]
total = next(int(l.split()[1]) for l in open(dump) if l.startswith(("summary:", "totals:")))
print(f"{protocol} requests {n} instructions/request {total // n}")
PY
