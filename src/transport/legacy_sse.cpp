// The HTTP+SSE transport of MCP 2024-11-05: GET /sse opens a session and its stream
// (first event "endpoint" names the POST URL); POST /message?sessionId=... carries client
// messages, answered 202 with every response on the stream. The session ends with its
// stream.
#include <boost/asio/this_coro.hpp>

#include "http/sse_format.hpp"
#include "transport/transports.hpp"
#include "util/log.hpp"

namespace frontmcp::transport {

namespace bhttp = http::bhttp;
using bhttp::status;

namespace {

/// Runs a POST /message's messages; every answer goes to the session's /sse stream.
void dispatch_legacy(Deps& deps, const std::shared_ptr<session::Session>& session, Inbound& in,
                     const net::any_io_executor& exec) {
  session->touch();
  const auto& stream = session->standalone();
  for (std::size_t i = 0; i < in.msgs.size(); ++i) {
    deps.dispatcher.accept(session, in.msgs[i], std::move(in.parsed.messages[i]), stream, exec);
  }
}

http::Answer accepted() {
  return http::Answer::of(http::Reply{status::accepted, "Accepted", "text/plain", {}});
}

}  // namespace

std::function<void(const std::shared_ptr<session::Session>&, std::string)> legacy_relay_handler(
    Deps& deps, net::any_io_executor ex) {
  return [&deps, ex](const std::shared_ptr<session::Session>& session, std::string body) {
    auto in = read_messages(body, deps.options.session.max_batch_size);
    if (in) dispatch_legacy(deps, session, *in, ex);
  };
}

net::awaitable<http::Answer> handle_legacy_stream(Deps& deps, Exchange& ex) {
  if (deps.options.mode == DeploymentMode::serverless) {
    // The legacy transport answers on a long-lived stream only: not in serverless mode.
    co_return http::Answer::of(http::error_reply(
        status::not_found, errc::kServerError,
        "Not Found: the HTTP+SSE transport needs a long-lived stream, which serverless mode does not offer; use "
        "Streamable HTTP on the MCP endpoint"));
  }
  if (ex.req.method() != bhttp::verb::get) {
    co_return http::Answer::of(http::error_reply(status::method_not_allowed, errc::kServerError, "Method not allowed.",
                                                 http::header_list("Allow", "GET")));
  }
  if (!http::accepts(ex.req, "text/event-stream")) {
    co_return http::Answer::of(http::error_reply(status::not_acceptable, errc::kServerError,
                                                 "Not Acceptable: Client must accept text/event-stream"));
  }
  auto session = deps.sessions.create(session::TransportKind::legacy_sse, ex.principal);
  if (!session) {
    deps.sessions_rejected.fetch_add(1);
    co_return http::Answer::of(http::error_reply(status::service_unavailable, errc::kServerError,
                                                 "Service Unavailable: session limit reached",
                                                 http::header_list("Retry-After", "5")));
  }
  // A shared directory records where this stream is, so a POST /message that reaches
  // another node is forwarded here.
  auto created = co_await deps.directory.create(session, asker_of(ex));
  if (!created) {
    deps.sessions.remove(session->id());
    co_return http::Answer::of(failure_reply(created.error()));
  }
  add_headers(ex, *created);
  http::SseOptions opts;
  opts.event_ids = false;
  http::sse::append_event(opts.first_event, {}, "endpoint",
                          deps.options.http.message_path + "?sessionId=" + session->id());
  util::log().debug("legacy SSE session {} opened", session->id());
  co_await http::pump_sse(ex, *session->standalone(), 0, opts);
  deps.sessions.remove(session->id());
  auto removed = co_await deps.directory.remove(session->id());
  if (!removed)
    util::log().warn("legacy SSE session {}: record not removed ({})", session->id(), removed.error().message);
  util::log().debug("legacy SSE session {} closed", session->id());
  co_return http::Answer::written(false);  // the stream's end is the connection's end
}

net::awaitable<http::Answer> handle_legacy_message(Deps& deps, Exchange& ex) {
  if (ex.req.method() != bhttp::verb::post) {
    co_return http::Answer::of(http::error_reply(status::method_not_allowed, errc::kServerError, "Method not allowed.",
                                                 http::header_list("Allow", "POST")));
  }
  std::string sid = http::query_param(ex.req, "sessionId");
  if (sid.empty()) {
    co_return http::Answer::of(http::error_reply(status::bad_request, errc::kServerError,
                                                 "Bad Request: sessionId query parameter is required"));
  }
  auto route = co_await deps.directory.route_legacy(sid);
  if (!route) co_return http::Answer::of(failure_reply(route.error()));
  auto& session = route->session;
  if (!session || session->transport() != session::TransportKind::legacy_sse || foreign_session(deps, ex, *session)) {
    co_return http::Answer::of(http::error_reply(status::not_found, errc::kSessionNotFound, "Session not found"));
  }
  auto ct = http::header(ex.req, "Content-Type");
  if (ct.substr(0, 16) != "application/json") {
    co_return http::Answer::of(http::error_reply(status::unsupported_media_type, errc::kServerError,
                                                 "Unsupported Media Type: Content-Type must be application/json"));
  }
  auto in = read_messages(ex.req.body(), deps.options.session.max_batch_size);
  if (!in) co_return http::Answer::of(http::error_reply(status::bad_request, in.error().code, in.error().message));
  if (!route->here) {
    // The /sse stream is in another process; it answers there.
    auto st = co_await deps.directory.forward_legacy(sid, std::string(ex.req.body()));
    if (!st) co_return http::Answer::of(failure_reply(st.error()));
    co_return accepted();
  }
  dispatch_legacy(deps, session, *in, co_await net::this_coro::executor);
  co_return accepted();
}

}  // namespace frontmcp::transport
