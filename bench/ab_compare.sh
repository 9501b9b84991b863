#!/usr/bin/env bash
# Interleaved A/B of two frontmcp-server binaries, tools/call echo: server on CPU 0
# (--threads 1), mcp_load on CPU 1. Usage: OLD=path NEW=path LOAD=path [CLIENTS_LIST="32 256"] [ROUNDS=3] bench/ab_compare.sh
# OLD_PROTOCOL / NEW_PROTOCOL (session|modern, default session): the generation each side's
# load speaks (mcp_load --protocol), e.g. one binary with OLD_PROTOCOL=session NEW_PROTOCOL=modern.
# A binary with rate limits (--requests-per-second, --tool-calls-per-second) runs with both off
# (the load is one anonymous client address; checked with --help, so older binaries work too);
# LIMITS=high: on, counting every request, refusing none (bench/lib.sh).
set -u
. "$(dirname "$0")/lib.sh"
: "${OLD:?path of the old frontmcp-server}" "${NEW:?path of the new frontmcp-server}" "${LOAD:?path of mcp_load}"
run() {  # run BIN CLIENTS PROTOCOL -> prints req/s
  local out; out=$(mktemp)
  local limits
  read -ra limits <<< "$(rate_limit_flags "$1" "${LIMITS:-off}")"
  taskset -c 0 "$1" --port 0 --threads 1 --log-level error --max-sessions 20000 "${limits[@]}" > "$out" 2>/dev/null &
  local pid=$!
  local url; url=$(listening_url "$out" $pid 5)
  taskset -c 1 "$LOAD" --url "$url" --clients "$2" --protocol "$3" --duration-s 4 --warmup-s 1 --json 2>/dev/null | grep -o "\"throughput_rps\":[0-9.]*" | cut -d: -f2
  kill -9 $pid; wait $pid 2>/dev/null; rm -f "$out"
}
for c in ${CLIENTS_LIST:-32 256}; do
  for r in $(seq 1 ${ROUNDS:-3}); do
    echo "clients=$c round=$r old=$(run "$OLD" "$c" "${OLD_PROTOCOL:-session}") new=$(run "$NEW" "$c" "${NEW_PROTOCOL:-session}")"
  done
done
