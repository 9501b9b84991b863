#pragma once
// x-mcp-header (MCP 2026-07-28, server/tools.mdx; SEP-2243): a tool's inputSchema may mark
// properties whose argument values a Streamable HTTP client mirrors into `Mcp-Param-{Name}`
// headers (so intermediaries can route on them without reading the body). The
// declarations are found and checked once, when the tool is registered
// (Registry::add_tool); the request check is protocol/param_headers.hpp. Pure, no I/O.
#include <boost/json/object.hpp>
#include <frontmcp/result.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace frontmcp::registry {

/// The schema extension property.
inline constexpr std::string_view kXMcpHeader = "x-mcp-header";

/// One declaration: the argument at `path` (a chain of `properties` keys from the
/// arguments' root) is mirrored into `Mcp-Param-{name}`.
struct ParamHeader {
  enum class Type { string, integer, boolean };
  std::vector<std::string> path;
  std::string name;  // as declared (header names compare case-insensitively)
  Type type = Type::string;
};

/// The declarations of `input_schema`, or why they are invalid (Error::invalid_params).
/// The spec's constraints: the value is a non-empty RFC 9110 token, unique
/// case-insensitively; the property is typed string, integer or boolean (not number); and
/// it is reachable from the root through `properties` keys only (never under items,
/// additionalProperties, oneOf/anyOf/allOf/not, if/then/else, $defs or the like; `$ref`
/// is not followed, but what it points to under $defs / definitions is searched).
Result<std::vector<ParamHeader>> scan_param_headers(const json::object& input_schema);

/// True if `s` is an RFC 9110 token (1*tchar): a valid header field name.
bool is_http_token(std::string_view s) noexcept;

}  // namespace frontmcp::registry
