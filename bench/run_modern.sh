#!/usr/bin/env bash
# Throughput of tools/call in both MCP generations, one invocation (issue 13, item 10):
#   frontmcp-server with sessions (2025-11-25: initialize first, Mcp-Session-Id on each call),
#   frontmcp-server stateless (2026-07-28: no initialize; MCP-Protocol-Version, Mcp-Method,
#     Mcp-Name headers and the params._meta envelope on each call; mcp_load --protocol modern),
#   the TS SDK 1.x session server (bench/load/ts_server.mjs),
#   the TS SDK v2 createMcpHandler stateless server (bench/load/ts_server_v2.mjs).
# Same pinning, load generator and knobs as bench/run_load.sh (this runs it with
# CASES="frontmcp frontmcp_modern ts ts2" SKIP_MEMORY=1); flags and env are passed through,
# e.g. CLIENTS="32 256" DURATION=10 bench/run_modern.sh --out DIR.
set -euo pipefail
export CASES=${CASES:-"frontmcp frontmcp_modern ts ts2"}
export SKIP_MEMORY=${SKIP_MEMORY:-1}
exec bash "$(dirname "${BASH_SOURCE[0]}")/run_load.sh" "$@"
