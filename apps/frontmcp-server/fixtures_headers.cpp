// The reference server's x-mcp-header fixture (MCP 2026-07-28, SEP-2243): a tool whose
// `region` argument a Streamable HTTP client mirrors into `Mcp-Param-Region`, so the
// server's header check (protocol/param_headers.hpp) can be exercised. The same tool as
// the TypeScript SDK's conformance fixture.
#include <boost/json/object.hpp>

#include "fixtures.hpp"

namespace frontmcp_server {

namespace json = boost::json;
using namespace frontmcp;

void add_header_fixtures(Server& server) {
  Tool t;
  t.name = "test_x_mcp_header";
  t.description = "Tests SEP-2243 Mcp-Param-* server-side validation";
  json::object region{
      {"type", "string"}, {"description", "mirrored into Mcp-Param-Region"}, {"x-mcp-header", "Region"}};
  json::object level{{"type", "integer"}, {"description", "non-mirrored argument"}};
  t.input_schema = {{"type", "object"},
                    {"properties", json::object{{"region", std::move(region)}, {"level", std::move(level)}}}};
  t.handler = [](Context&, const json::object& args) -> Result<ToolResult> {
    auto r = args.if_contains("region");
    return ToolResult::text("region=" + (r && r->is_string() ? std::string(r->get_string()) : std::string("<none>")));
  };
  server.add_tool(std::move(t));
}

}  // namespace frontmcp_server
