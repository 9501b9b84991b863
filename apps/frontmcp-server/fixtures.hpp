#pragma once
#include <frontmcp/server.hpp>

namespace frontmcp_server {
/// The demo content: every fixture the official conformance suite expects, plus echo,
/// touch_resource and whoami.
void register_fixtures(frontmcp::Server& server);
/// The multi-round-trip (MCP 2026-07-28) fixtures of the conformance suite (fixtures_mrtr.cpp).
void add_mrtr_fixtures(frontmcp::Server& server);
/// test_x_mcp_header (fixtures_headers.cpp): an argument mirrored into Mcp-Param-Region.
void add_header_fixtures(frontmcp::Server& server);
/// test_trigger_tool_change and test_trigger_prompt_change (subscriptions/listen).
void add_listen_fixtures(frontmcp::Server& server);
}  // namespace frontmcp_server
