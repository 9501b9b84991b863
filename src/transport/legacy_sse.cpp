// The HTTP+SSE transport of MCP 2024-11-05: GET /sse opens a session and its stream
// (first event "endpoint" names the POST URL); POST /message?sessionId=... carries client
// messages, answered 202 with every response on the stream. The session ends with its
// stream.
#include "cluster/cluster.hpp"
#include "transport/sse_format.hpp"
#include "transport/transports.hpp"

#include <boost/asio/this_coro.hpp>
#include "util/log.hpp"

namespace frontmcp::transport {

namespace bhttp = http::bhttp;
using bhttp::status;
using protocol::MessageKind;

namespace {
/// Runs a POST /message's messages; every answer goes to the session's /sse stream.
void dispatch_legacy(core::ServerCore& core, const std::shared_ptr<session::Session>& session, protocol::ParsedBody& parsed,
                     const std::vector<protocol::Message>& msgs, const net::any_io_executor& exec) {
  session->touch();
  const auto& stream = session->standalone();
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const auto& m = msgs[i];
    switch (m.kind) {
      case MessageKind::request:
        if (m.method == "initialize") {
          if (session->initialized()) {
            stream->send_response(protocol::make_error(
                *m.id, Error{errc::kInvalidRequest, "Invalid Request: Server already initialized", {}}));
            break;
          }
          auto r = core.dispatcher.initialize(*session, m.params);
          stream->send_response(r ? protocol::make_result(*m.id, std::move(r).value())
                                  : protocol::make_error(*m.id, r.error()));
        } else {
          spawn_request(exec, core, session, std::move(parsed.messages[i]), stream, nullptr, nullptr);
        }
        break;
      case MessageKind::notification: core.dispatcher.handle_notification(session, m); break;
      case MessageKind::response:
      case MessageKind::error_response: core.dispatcher.handle_response(session, m); break;
    }
  }
}
}  // namespace

std::function<void(const std::shared_ptr<session::Session>&, std::string)> legacy_relay_handler(
    core::ServerCore& core, net::any_io_executor ex) {
  return [&core, ex](const std::shared_ptr<session::Session>& session, std::string body) {
    auto parsed = protocol::parse_body(body, core.options.session.max_batch_size);
    if (!parsed) return;
    std::vector<protocol::Message> msgs;
    for (const auto& v : parsed->messages) {
      auto m = protocol::classify(v);
      if (!m) return;
      msgs.push_back(*m);
    }
    dispatch_legacy(core, session, *parsed, msgs, ex);
  };
}

net::awaitable<bool> handle_legacy_stream(Exchange& ex) {
  if (ex.core.options.mode == DeploymentMode::serverless) {
    // The legacy transport answers on a long-lived stream only: not in serverless mode.
    co_return co_await http::write_error(ex, status::not_found, errc::kServerError,
                                         "Not Found: the HTTP+SSE transport needs a long-lived stream, which serverless mode "
                                         "does not offer; use Streamable HTTP on the MCP endpoint");
  }
  if (ex.req.method() != bhttp::verb::get) {
    co_return co_await http::write_error(ex, status::method_not_allowed, errc::kServerError, "Method not allowed.",
                                         http::header_list("Allow", "GET"));
  }
  if (!http::accepts(ex.req, "text/event-stream")) {
    co_return co_await http::write_error(ex, status::not_acceptable, errc::kServerError,
                                         "Not Acceptable: Client must accept text/event-stream");
  }
  auto session = ex.core.sessions.create(session::TransportKind::legacy_sse, ex.principal);
  if (!session) {
    ex.core.counters.sessions_rejected.fetch_add(1);
    co_return co_await http::write_error(ex, status::service_unavailable, errc::kServerError,
                                         "Service Unavailable: session limit reached", http::header_list("Retry-After", "5"));
  }
  auto& cluster = ex.core.cluster;
  if (cluster) {
    // The record tells other nodes where this stream is, so a POST /message that reaches
    // them is relayed here.
    auto st = co_await cluster->create(session);
    if (!st) {
      ex.core.sessions.remove(session->id());
      co_return co_await write_store_error(ex, st.error());
    }
    add_affinity_cookie(ex);
  }
  http::SseOptions opts;
  opts.event_ids = false;
  sse::append_event(opts.first_event, {}, "endpoint", ex.core.options.http.message_path + "?sessionId=" + session->id());
  util::log().debug("legacy SSE session {} opened", session->id());
  co_await http::pump_sse(ex, *session->standalone(), 0, opts);
  ex.core.sessions.remove(session->id());
  if (cluster) {
    auto removed = co_await cluster->remove(session->id());
    if (!removed) util::log().warn("legacy SSE session {}: record not removed ({})", session->id(), removed.error().message);
  }
  util::log().debug("legacy SSE session {} closed", session->id());
  co_return false;  // the stream's end is the connection's end
}

net::awaitable<bool> handle_legacy_message(Exchange& ex) {
  if (ex.req.method() != bhttp::verb::post) {
    co_return co_await http::write_error(ex, status::method_not_allowed, errc::kServerError, "Method not allowed.",
                                         http::header_list("Allow", "POST"));
  }
  std::string sid = http::query_param(ex.req, "sessionId");
  if (sid.empty()) {
    co_return co_await http::write_error(ex, status::bad_request, errc::kServerError,
                                         "Bad Request: sessionId query parameter is required");
  }
  auto session = ex.core.sessions.find(sid);
  std::optional<std::string> relay_to;
  bool checked = false;  // the principal, once
  if (ex.core.cluster && (!session || !cluster::owns(*session))) {
    auto r = co_await ex.core.cluster->resolve(sid);
    if (!r) co_return co_await write_store_error(ex, r.error());
    session = r->session;
    checked = true;
    if (session && foreign_session(ex, *session)) {
      session = nullptr;  // 404 below, like an unknown session
    } else if (session && !cluster::owns(*session)) {
      relay_to = ex.core.cluster->owner_of(sid);
    } else if (session) {
      // Its owner died with the stream: a legacy session cannot outlive its stream.
      auto removed = co_await ex.core.cluster->remove(sid);
      if (!removed) util::log().debug("legacy SSE session {}: record not removed ({})", sid, removed.error().message);
      session = nullptr;
    }
  }
  if (!session || session->transport() != session::TransportKind::legacy_sse ||
      (!checked && foreign_session(ex, *session))) {
    co_return co_await http::write_error(ex, status::not_found, errc::kSessionNotFound, "Session not found");
  }
  auto ct = http::header(ex.req, "Content-Type");
  if (ct.substr(0, 16) != "application/json") {
    co_return co_await http::write_error(ex, status::unsupported_media_type, errc::kServerError,
                                         "Unsupported Media Type: Content-Type must be application/json");
  }
  auto parsed = protocol::parse_body(ex.req.body(), ex.core.options.session.max_batch_size);
  if (!parsed) co_return co_await http::write_error(ex, status::bad_request, parsed.error().code, parsed.error().message);
  std::vector<protocol::Message> msgs;
  for (const auto& v : parsed->messages) {
    auto m = protocol::classify(v);
    if (!m) co_return co_await http::write_error(ex, status::bad_request, m.error().code, m.error().message);
    msgs.push_back(*m);
  }
  if (relay_to) {
    // Distributed mode: the /sse stream is on another node; it answers there.
    auto st = co_await ex.core.cluster->relay_legacy(sid, *relay_to, std::string(ex.req.body()));
    if (!st) {
      auto code = st.error().code == errc::kSessionNotFound ? status::not_found : status::service_unavailable;
      co_return co_await http::write_error(ex, code, st.error().code, st.error().message,
                                           http::header_list("Retry-After", "1"));
    }
    co_return co_await http::write_response(ex, status::accepted, "Accepted", "text/plain");
  }
  dispatch_legacy(ex.core, session, *parsed, msgs, co_await net::this_coro::executor);
  co_return co_await http::write_response(ex, status::accepted, "Accepted", "text/plain");
}

}  // namespace frontmcp::transport
