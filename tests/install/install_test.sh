#!/usr/bin/env bash
# Installs frontmcp into a temporary prefix, then:
#  1. checks that the core library has no Redis, hiredis, TLS or cluster code in it (libcrypto
#     only in util/crypto.cpp, for requestState's HMAC);
#  2. builds examples/hello_server against it with find_package(frontmcp) (the core only),
#     starts it and initializes an MCP session over HTTP; builds examples/typed_tools the
#     same way and calls its typed tools (bad arguments, a structured result);
#  3. builds examples/cluster_server with find_package(frontmcp COMPONENTS cluster), starts
#     two nodes on one redis-server, initializes on one and calls a tool on the other.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR [CXX]  (CXX: the compiler the library was built
# with; Asio is compiled into the library, so the example must use the same compiler)
set -euo pipefail
build_dir=$1
src_dir=$2
cxx=${3:-c++}
work=$(mktemp -d)
pids=()  # every process started here, killed on exit
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# build_example NAME: configures and builds examples/NAME against the installed prefix.
build_example() {
  cmake -S "$src_dir/examples/$1" -B "$work/$1" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    > "$work/$1.configure.log" || { cat "$work/$1.configure.log"; exit 1; }
  cmake --build "$work/$1" -j2 > "$work/$1.build.log" || { cat "$work/$1.build.log"; exit 1; }
}
# start_server NAME CMD...: starts CMD, waits (at most 10 s) for its listening line; the URL
# is left in $started_url.
start_server() {
  local name=$1 out="$work/$1.out"; shift
  "$@" > "$out" 2> "$out.err" &
  local pid=$!
  pids+=("$pid")
  started_url=""
  for _ in $(seq 1 100); do
    started_url=$(grep -o -m1 "http://[^ ]*/mcp" "$out" || true)
    [ -n "$started_url" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$out.err"; exit 1; }
    sleep 0.1
  done
  echo "$name did not start"; cat "$out.err"; exit 1
}
# initialize URL BODY_FILE: an MCP initialize; prints the response headers.
initialize() {
  curl -s --max-time 5 -D - -o "$2" -X POST "$1" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"install-test","version":"1"}}}'
}
session_id() { awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}' <<< "$1" | tr -d '\r'; }

cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log" || { cat "$work/install.log"; exit 1; }
test -f "$work/prefix/lib/cmake/frontmcp/frontmcpConfig.cmake"
test -f "$work/prefix/include/frontmcp/server.hpp"

# 1. The core library: no symbol of the cluster or the Redis client, no reference to
#    hiredis or libssl (TLS), and libcrypto referenced by util/crypto.cpp only (HMAC-SHA256
#    of requestState; docs/dependencies.md).
core_lib=$(find "$work/prefix" -name libfrontmcp.a | head -1)
[ -n "$core_lib" ] || { echo "libfrontmcp.a not installed"; exit 1; }
if nm -C "$core_lib" | grep -E "frontmcp::(cluster|redis)::" | head -5 | grep .; then
  echo "the core library holds cluster or Redis code"; exit 1
fi
if nm "$core_lib" | grep -E " [UTtDdBb] (redis[A-Z]|SSL_|OPENSSL_init_ssl)" | head -5 | grep .; then
  echo "the core library references hiredis or libssl"; exit 1
fi
if nm -A "$core_lib" | grep -E " [UTtDdBb] (EVP_|HMAC|CRYPTO_|RAND_|OSSL_|ERR_)" | grep -v "crypto.cpp.o:" | head -5 | grep .; then
  echo "libcrypto is referenced outside util/crypto.cpp"; exit 1
fi
nm -A "$core_lib" > "$work/core.nm"  # not piped into grep -q: pipefail would see nm's SIGPIPE
grep -q "crypto.cpp.o:.* U EVP_MAC_init" "$work/core.nm" || { echo "util/crypto.cpp does not use EVP_MAC (check the test)"; exit 1; }

# 2. The core only.
build_example hello_server
start_server hello_server "$work/hello_server/hello_server" 0
url=$started_url

headers=$(initialize "$url" "$work/body")
grep -qi '^mcp-session-id:' <<< "$headers" || { echo "no session id"; echo "$headers"; exit 1; }
grep -q '"name":"hello-server"' "$work/body" || { echo "unexpected body"; cat "$work/body"; exit 1; }
sid=$(session_id "$headers")
body=$(curl -s --max-time 5 -X POST "$url" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' -H "Mcp-Session-Id: $sid" \
  -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"greet","arguments":{"name":"Ada"}}}')
grep -q 'Hello, Ada!' <<< "$body" || { echo "greet failed: $body"; exit 1; }
if nm -C "$work/hello_server/hello_server" | grep -ciE "frontmcp::(cluster|redis)|redisReader" | grep -qv '^0$'; then
  echo "hello_server (core only) links Redis code"; exit 1
fi

# 2b. Typed tools (<frontmcp/typed.hpp>, header-only on the core): arguments a model got
#     wrong are a tool error (isError) naming the member; a struct result is structuredContent.
build_example typed_tools
start_server typed_tools "$work/typed_tools/typed_tools" 0
url=$started_url
headers=$(initialize "$url" "$work/tbody")
sid=$(session_id "$headers")
[ -n "$sid" ] || { echo "no session id from typed_tools"; echo "$headers"; exit 1; }
typed_call() {
  curl -s --max-time 5 -X POST "$url" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-11-25' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":$1}"
}
body=$(typed_call '{"name":"forecast","arguments":{"city":"Paris","days":"3"}}')
# Only isError and the member's name: the server may refuse the call by its inputSchema
# before the typed parser does, in words of its own.
{ grep -q '"isError":true' <<< "$body" && grep -q 'days' <<< "$body"; } || { echo "bad arguments not refused: $body"; exit 1; }
body=$(typed_call '{"name":"forecast","arguments":{"city":"Paris","days":2}}')
grep -q 'Paris: sunny for 2 days' <<< "$body" || { echo "forecast failed: $body"; exit 1; }
body=$(typed_call '{"name":"stats","arguments":{"values":[1,2,3]}}')
grep -q '"structuredContent":{"count":3,"sum":6,"mean":2,"min":1,"max":3}' <<< "$body" || { echo "stats failed: $body"; exit 1; }

# 3. The cluster component: two nodes, one Redis.
redis_port=$(( 20000 + RANDOM % 20000 ))
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no > "$work/redis.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
build_example cluster_server
start_server node-a "$work/cluster_server/cluster_server" 0 "redis://127.0.0.1:$redis_port" node-a; url_a=$started_url
start_server node-b "$work/cluster_server/cluster_server" 0 "redis://127.0.0.1:$redis_port" node-b; url_b=$started_url
headers=$(initialize "$url_a" "$work/cbody")
grep -qi '^x-frontmcp-machine-id: node-a' <<< "$headers" || { echo "no machine id from node-a"; echo "$headers"; exit 1; }
sid=$(session_id "$headers")
[ -n "$sid" ] || { echo "no session id from node-a"; echo "$headers"; exit 1; }
body=$(curl -s --max-time 5 -X POST "$url_b" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' -H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-11-25' \
  -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}')
grep -q 'served by node-b' <<< "$body" || { echo "node-b did not serve node-a's session: $body"; exit 1; }
echo "install test passed: find_package(frontmcp) from $work/prefix (core without Redis/TLS; hello_server and typed_tools answered);" \
  "find_package(frontmcp COMPONENTS cluster): node-b served a session made on node-a"
