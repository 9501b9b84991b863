#include "session/message_bus.hpp"

namespace frontmcp::session {

bool LocalMessageBus::to_session(const std::string& session_id, const json::value& msg) {
  auto s = sessions_.find(session_id);
  if (!s) return false;
  s->send_unsolicited(msg);
  return true;
}

void LocalMessageBus::to_subscribers(std::string_view uri, const json::value& msg) {
  for (const auto& s : sessions_.subscribers(uri)) s->send_unsolicited(msg);
  sessions_.listeners().to_subscribers(uri, msg);
}

void LocalMessageBus::to_all(const json::value& msg) {
  for (const auto& s : sessions_.all()) {
    if (s->initialized()) s->send_unsolicited(msg);
  }
  sessions_.listeners().to_all(msg);
}

bool LocalMessageBus::client_response(const std::string& session_id, const std::string& request_id,
                                      Result<json::value> answer) {
  auto s = sessions_.find(session_id);
  return s && s->resolve_pending(request_id, std::move(answer));
}

}  // namespace frontmcp::session
