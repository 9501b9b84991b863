#pragma once
// Mcp-Param-{Name} headers of a modern tools/call over HTTP (MCP 2026-07-28,
// basic/transports/streamable-http.mdx "Server Behavior for Custom Headers"): every
// argument a tool declares with x-mcp-header (registry/x_mcp_header.hpp) that the call
// carries, not null, must come as its header too, equal once decoded. Runs after
// modern::check_request, before the handler; HTTP only (stdio has no headers). Pure.
#include <optional>
#include <vector>

#include "protocol/jsonrpc.hpp"
#include "protocol/modern.hpp"
#include "registry/registry.hpp"

namespace frontmcp::protocol {

/// The header name of a declaration.
inline constexpr std::string_view kParamHeaderPrefix = "Mcp-Param-";

/// The declarations' headers checked against `arguments` (params.arguments; null when
/// absent): a value present and not null needs its header, which must decode
/// (modern::header_value) to it — strings as they are, numbers numerically ("42" and
/// "42.0" equal 42), booleans as "true"/"false". A value that is not a string, number or
/// boolean is left to the tool (its arguments' validation owns it). A refusal (400
/// -32020, echoing `id`) when a header is missing, undecodable, holds characters a header
/// value may not, or differs.
std::optional<modern::Refusal> check_param_headers(const std::vector<registry::ParamHeader>& declarations,
                                                   const json::object* arguments, const modern::HeaderLookup& header,
                                                   const json::value& id);

/// The tool a tools/call names (`name`: its params.name, null when absent): null for
/// another method, a name that is no string, or an unknown tool (the dispatcher's -32602).
/// Looked up once per request (modern::Envelope::tool).
std::shared_ptr<const registry::ToolEntry> called_tool(const registry::Registry& registry, const Message& m,
                                                       const json::value* name);

/// The same for a request whose tool (called_tool) is `tool`: a tools/call of a tool with
/// declarations is checked; anything else passes.
std::optional<modern::Refusal> check_param_headers(const registry::ToolEntry* tool, const Message& m,
                                                   const modern::HeaderLookup& header);

}  // namespace frontmcp::protocol
