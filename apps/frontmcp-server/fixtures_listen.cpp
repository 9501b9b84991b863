// The conformance suite's subscriptions/listen triggers (MCP 2026-07-28, server-stateless
// scenario): each announces a list change to every session and every listen stream that
// asked for it, on every node, without changing the registry.
#include <frontmcp/context.hpp>

#include "fixtures.hpp"

namespace frontmcp_server {

using namespace frontmcp;
namespace json = boost::json;

namespace {

constexpr const char* kTriggered = "Mutation triggered";

Tool trigger(std::string name, std::string description, ListKind kind) {
  Tool t;
  t.name = std::move(name);
  t.description = std::move(description);
  t.input_schema = json::object{{"type", "object"}, {"properties", json::object{}}};
  t.handler = [kind](Context& ctx, const json::object&) -> Result<ToolResult> {
    ctx.notify_list_changed(kind);
    return ToolResult::text(kTriggered);
  };
  return t;
}

}  // namespace

void add_listen_fixtures(Server& server) {
  server.add_tool(trigger("test_trigger_tool_change",
                          "Sends notifications/tools/list_changed to every client that listens for it",
                          ListKind::tools));
  server.add_tool(trigger("test_trigger_prompt_change",
                          "Sends notifications/prompts/list_changed to every client that listens for it",
                          ListKind::prompts));
}

}  // namespace frontmcp_server
