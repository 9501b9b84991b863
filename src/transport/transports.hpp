#pragma once
// The HTTP transports: Streamable HTTP (/mcp) and the legacy HTTP+SSE pair
// (/sse + /message). Each answers one request and says whether the connection may be
// reused (handle_streamable: or returns the reply for the connection to write).
#include "http/http_io.hpp"

namespace frontmcp::transport {

using http::Exchange;
namespace net = boost::asio;

net::awaitable<http::Answer> handle_streamable(Exchange& ex);
net::awaitable<bool> handle_legacy_stream(Exchange& ex);
net::awaitable<bool> handle_legacy_message(Exchange& ex);

/// Runs one request through the dispatcher and puts its response on `out`; when the
/// last of a POST's requests is done, finishes `done_stream` (if given). A free
/// function, not a lambda, so it is safe with co_spawn on g++ 12.
struct Countdown {
  std::atomic<std::size_t> remaining;
  explicit Countdown(std::size_t n) : remaining(n) {}
};
net::awaitable<void> serve_request(core::ServerCore& core, std::shared_ptr<session::Session> session,
                                   json::value msg, std::shared_ptr<session::Outbound> out,
                                   std::shared_ptr<session::SseStream> done_stream,
                                   std::shared_ptr<Countdown> countdown);
/// Distributed mode: writes a session's changed state (setLevel, subscribe ...) before
/// the response goes out; a failure turns the response into that error.
net::awaitable<json::value> persist_changes(core::ServerCore& core, const std::shared_ptr<session::Session>& session,
                                            const json::value& id, json::value response);

/// Messages for a session's standalone stream, through the bus (a replica has none).
class BusOutbound final : public session::Outbound {
 public:
  BusOutbound(core::ServerCore& core, std::string session_id) : core_(core), sid_(std::move(session_id)) {}
  void send(const json::value& msg) override { core_.bus->to_session(sid_, msg); }
  void send_response(const json::value& msg) override { core_.bus->to_session(sid_, msg); }

 private:
  core::ServerCore& core_;
  std::string sid_;
};
/// Distributed mode: `__frontmcp_node=<this node>` on the response (Secure behind TLS).
void add_affinity_cookie(Exchange& ex);
/// True if `s` was created by another principal than the request's (Exchange::principal).
/// The caller then answers exactly as for an unknown session (404); this counts it
/// (frontmcp_session_principal_mismatch_total) and logs it at warning, at most once per
/// kMismatchLogInterval (the rest at debug).
bool foreign_session(Exchange& ex, const session::Session& s);
/// A session-store failure: 404 for kSessionNotFound, else 503 + Retry-After (retryable).
net::awaitable<bool> write_store_error(Exchange& ex, const Error& e);

/// The standalone stream if this node owns the session, else a BusOutbound.
std::shared_ptr<session::Outbound> unsolicited_target(core::ServerCore& core, const std::shared_ptr<session::Session>& s);

/// Distributed mode: runs a legacy POST /message body relayed from another node.
std::function<void(const std::shared_ptr<session::Session>&, std::string)> legacy_relay_handler(
    core::ServerCore& core, net::any_io_executor ex);

/// co_spawns serve_request on the current strand, detached, logging what escapes.
void spawn_request(const net::any_io_executor& ex, core::ServerCore& core, std::shared_ptr<session::Session> session,
                   json::value msg, std::shared_ptr<session::Outbound> out,
                   std::shared_ptr<session::SseStream> done_stream, std::shared_ptr<Countdown> countdown);

}  // namespace frontmcp::transport
