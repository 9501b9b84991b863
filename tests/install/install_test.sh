#!/usr/bin/env bash
# Installs frontmcp into a temporary prefix, builds examples/hello_server against it with
# find_package(frontmcp), starts it and initializes an MCP session over HTTP.
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
echo "install test passed: find_package(frontmcp) from $work/prefix, hello_server answered"
