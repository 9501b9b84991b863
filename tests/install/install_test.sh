#!/usr/bin/env bash
# Installs frontmcp into a temporary prefix, then:
#  1. checks that the core library has no Redis, hiredis, OpenSSL or cluster code in it;
#  2. builds examples/hello_server against it with find_package(frontmcp) (the core only),
#     starts it and initializes an MCP session over HTTP;
#  3. builds examples/cluster_server with find_package(frontmcp COMPONENTS cluster), starts
#     two nodes on one redis-server, initializes on one and calls a tool on the other.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR [CXX]  (CXX: the compiler the library was built
# with; Asio is compiled into the library, so the example must use the same compiler)
set -euo pipefail
build_dir=$1
src_dir=$2
cxx=${3:-c++}
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log" || { cat "$work/install.log"; exit 1; }
test -f "$work/prefix/lib/cmake/frontmcp/frontmcpConfig.cmake"
test -f "$work/prefix/include/frontmcp/server.hpp"

# 1. The core library: no symbol of the cluster or the Redis client, no reference to
#    hiredis or OpenSSL (defined or undefined).
core_lib=$(find "$work/prefix" -name libfrontmcp.a | head -1)
[ -n "$core_lib" ] || { echo "libfrontmcp.a not installed"; exit 1; }
if nm -C "$core_lib" | grep -E "frontmcp::(cluster|redis)::" | head -5 | grep .; then
  echo "the core library holds cluster or Redis code"; exit 1
fi
if nm "$core_lib" | grep -E " [UTtDdBb] (redis[A-Z]|SSL_|EVP_|HMAC|OPENSSL_|ERR_)" | head -5 | grep .; then
  echo "the core library references hiredis or OpenSSL"; exit 1
fi

cmake -S "$src_dir/examples/hello_server" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache > "$work/configure.log" || { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" -j2 > "$work/build.log" || { cat "$work/build.log"; exit 1; }

"$work/build/hello_server" 0 > "$work/out" 2> "$work/err" &
server_pid=$!
url=""
for _ in $(seq 1 100); do  # up to 10 s for the listening line
  url=$(grep -o -m1 "http://[^ ]*/mcp" "$work/out" || true)
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/err"; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "hello_server did not start"; cat "$work/err"; exit 1; }

headers=$(curl -s --max-time 5 -D - -o "$work/body" -X POST "$url" \
  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
  -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"install-test","version":"1"}}}')
grep -qi '^mcp-session-id:' <<< "$headers" || { echo "no session id"; echo "$headers"; exit 1; }
grep -q '"name":"hello-server"' "$work/body" || { echo "unexpected body"; cat "$work/body"; exit 1; }
sid=$(awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}' <<< "$headers" | tr -d '\r')
body=$(curl -s --max-time 5 -X POST "$url" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' -H "Mcp-Session-Id: $sid" \
  -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"greet","arguments":{"name":"Ada"}}}')
grep -q 'Hello, Ada!' <<< "$body" || { echo "greet failed: $body"; exit 1; }
if nm -C "$work/build/hello_server" | grep -ciE "frontmcp::(cluster|redis)|redisReader" | grep -qv '^0$'; then
  echo "hello_server (core only) links Redis code"; exit 1
fi
kill -9 "$server_pid"; server_pid=""

# 3. The cluster component: two nodes, one Redis.
redis_port=$(( 20000 + RANDOM % 20000 ))
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no > "$work/redis.log" 2>&1 &
redis_pid=$!
trap 'kill -9 $redis_pid ${node_a:-} ${node_b:-} 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
cmake -S "$src_dir/examples/cluster_server" -B "$work/cbuild" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_COMPILER_LAUNCHER=ccache > "$work/cconfigure.log" || { cat "$work/cconfigure.log"; exit 1; }
cmake --build "$work/cbuild" -j2 > "$work/cbuild.log" || { cat "$work/cbuild.log"; exit 1; }
start_node() {  # start_node NAME OUTFILE -> pid in $started_pid, URL in $started_url
  "$work/cbuild/cluster_server" 0 "redis://127.0.0.1:$redis_port" "$1" > "$2" 2> "$2.err" &
  started_pid=$!
  started_url=""
  for _ in $(seq 1 100); do
    started_url=$(grep -o -m1 "http://[^ ]*/mcp" "$2" || true)
    [ -n "$started_url" ] && break
    kill -0 "$started_pid" 2>/dev/null || { cat "$2.err"; exit 1; }
    sleep 0.1
  done
  [ -n "$started_url" ] || { echo "cluster_server $1 did not start"; cat "$2.err"; exit 1; }
}
start_node node-a "$work/a.out"; node_a=$started_pid; url_a=$started_url
start_node node-b "$work/b.out"; node_b=$started_pid; url_b=$started_url
headers=$(curl -s --max-time 5 -D - -o "$work/cbody" -X POST "$url_a" \
  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
  -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"install-test","version":"1"}}}')
grep -qi '^x-frontmcp-machine-id: node-a' <<< "$headers" || { echo "no machine id from node-a"; echo "$headers"; exit 1; }
sid=$(awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}' <<< "$headers" | tr -d '\r')
[ -n "$sid" ] || { echo "no session id from node-a"; echo "$headers"; exit 1; }
body=$(curl -s --max-time 5 -X POST "$url_b" -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' -H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-11-25' \
  -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}')
grep -q 'served by node-b' <<< "$body" || { echo "node-b did not serve node-a's session: $body"; exit 1; }
echo "install test passed: find_package(frontmcp) from $work/prefix (core without Redis/OpenSSL; hello_server answered);" \
  "find_package(frontmcp COMPONENTS cluster): node-b served a session made on node-a"
