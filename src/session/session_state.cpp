#include "session/session_state.hpp"

namespace frontmcp::session {

namespace {
std::string_view transport_name(TransportKind k) {
  switch (k) {
    case TransportKind::legacy_sse:
      return "legacy_sse";
    case TransportKind::stdio:
      return "stdio";
    case TransportKind::streamable_http:
      break;
  }
  return "streamable_http";
}
}  // namespace

json::object SessionState::to_json() const {
  json::array subs;
  for (const auto& s : subscriptions) subs.push_back(json::string(s));
  json::object o{{"id", id},
                 {"transport", transport_name(transport)},
                 {"initialized", initialized},
                 {"protocolVersion", protocol_version},
                 {"clientInfo", client_info},
                 {"clientCapabilities", client_capabilities},
                 {"subscriptions", std::move(subs)},
                 {"nodeId", node_id},
                 {"epoch", epoch},
                 {"createdAt", created_at_ms}};
  if (log_level) o["logLevel"] = to_string(*log_level);
  if (!principal.empty()) o["principal"] = principal;  // absent: "" (records of older nodes too)
  return o;
}

Result<SessionState> SessionState::from_json(const json::object& o) {
  SessionState s;
  try {
    s.id = json::value_to<std::string>(o.at("id"));
    auto t = o.at("transport").as_string();
    s.transport = t == "legacy_sse" ? TransportKind::legacy_sse
                  : t == "stdio"    ? TransportKind::stdio
                                    : TransportKind::streamable_http;
    s.initialized = o.at("initialized").as_bool();
    s.protocol_version = json::value_to<std::string>(o.at("protocolVersion"));
    s.client_info = o.at("clientInfo").as_object();
    s.client_capabilities = o.at("clientCapabilities").as_object();
    for (const auto& v : o.at("subscriptions").as_array()) s.subscriptions.insert(json::value_to<std::string>(v));
    s.node_id = json::value_to<std::string>(o.at("nodeId"));
    s.epoch = o.at("epoch").to_number<std::uint64_t>();
    s.created_at_ms = o.at("createdAt").to_number<std::int64_t>();
    if (auto l = o.if_contains("logLevel")) s.log_level = parse_log_level(l->as_string());
    if (auto p = o.if_contains("principal")) s.principal = json::value_to<std::string>(*p);
  } catch (const std::exception& e) {
    return Error::internal(std::string("corrupt session record: ") + e.what());
  }
  return s;
}

}  // namespace frontmcp::session
