// subscriptions/listen (MCP 2026-07-28, basic/patterns/subscriptions.mdx): what of a
// listen request the server honors, and how its stream ends. The stream itself is the
// transport's (transport/modern_http.cpp), the listeners are session::ListenRegistry's.
#include "protocol/dispatcher.hpp"

namespace frontmcp::protocol {

namespace {

/// A boolean filter field: true when present and true; -32602 when present and not a bool.
Result<bool> flag(const json::object& n, std::string_view key) {
  auto* v = n.if_contains(key);
  if (!v) return false;
  if (!v->is_bool())
    return Error::invalid_params("subscriptions/listen: notifications." + std::string(key) + " must be a boolean");
  return v->get_bool();
}

}  // namespace

Result<session::ListenFilter> Dispatcher::listen_filter(const json::object* params) const {
  session::ListenFilter f;
  const json::value* n = params ? params->if_contains("notifications") : nullptr;
  if (!n) return f;
  if (!n->is_object()) return Error::invalid_params("subscriptions/listen: notifications must be an object");
  const auto& req = n->get_object();
  auto tools = flag(req, "toolsListChanged");
  if (!tools) return std::move(tools).error();
  auto prompts = flag(req, "promptsListChanged");
  if (!prompts) return std::move(prompts).error();
  auto resources = flag(req, "resourcesListChanged");
  if (!resources) return std::move(resources).error();
  // Only what this server can ever send: a list it has no entries of never changes here.
  f.tools = *tools && registry_.has_tools();
  f.prompts = *prompts && registry_.has_prompts();
  f.resources = *resources && registry_.has_resources();
  if (auto* subs = req.if_contains("resourceSubscriptions")) {
    if (!subs->is_array()) {
      return Error::invalid_params("subscriptions/listen: notifications.resourceSubscriptions must be an array");
    }
    const auto& uris = subs->get_array();
    if (uris.size() > options_.session.max_subscriptions_per_session) {
      return Error::invalid_params("subscriptions/listen: at most " +
                                   std::to_string(options_.session.max_subscriptions_per_session) +
                                   " resourceSubscriptions");
    }
    // capabilities() advertises resources.subscribe: subscriptions are always honored.
    f.resource_subscriptions = true;
    for (const auto& u : uris) {
      if (!u.is_string() || u.get_string().empty() || u.get_string().size() > options_.session.max_uri_bytes) {
        return Error::invalid_params("subscriptions/listen: resourceSubscriptions holds URIs (strings of at most " +
                                     std::to_string(options_.session.max_uri_bytes) + " bytes)");
      }
      f.uris.emplace_back(u.get_string().data(), u.get_string().size());
    }
  }
  return f;
}

json::object Dispatcher::listen_result_meta() const {
  const auto& si = options_.info;
  json::object server_info{{"name", si.name}, {"version", si.version}};
  if (!si.title.empty()) server_info["title"] = si.title;
  return json::object{{modern::kMetaServerInfo, std::move(server_info)}};
}

}  // namespace frontmcp::protocol
