#pragma once
// The HTTP transports: Streamable HTTP (/mcp) and the legacy HTTP+SSE pair
// (/sse + /message). Each answers one request and says whether the connection may be
// reused.
#include "http/http_io.hpp"

namespace frontmcp::transport {

using http::Exchange;
namespace net = boost::asio;

net::awaitable<bool> handle_streamable(Exchange& ex);
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
/// co_spawns serve_request on the current strand, detached, logging what escapes.
void spawn_request(const net::any_io_executor& ex, core::ServerCore& core, std::shared_ptr<session::Session> session,
                   json::value msg, std::shared_ptr<session::Outbound> out,
                   std::shared_ptr<session::SseStream> done_stream, std::shared_ptr<Countdown> countdown);

}  // namespace frontmcp::transport
