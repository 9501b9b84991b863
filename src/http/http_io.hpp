#pragma once
// Beast types and response helpers shared by the HTTP transports. Heavy: include only
// from the few .cpp files that speak HTTP (Asio/Beast are compiled once, separately).
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <frontmcp/options.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/counters.hpp"
#include "http/forwarded.hpp"
#include "http/response_head.hpp"
#include "session/stream.hpp"
#include "util/async_event.hpp"
#include "util/metrics.hpp"
#include "util/rate_limit.hpp"

namespace frontmcp::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;

/// A connection's current deadline. Cheaper than a timer per socket operation (whose
/// cost grows with the number of open connections): the server's reaper looks at every
/// connection once per kReapInterval and cancels the socket operations of those whose
/// deadline has passed. Timeouts are therefore accurate to about one interval.
/// Written on the connection's executor, read by the reaper: hence atomic.
class Deadline {
 public:
  void after(std::chrono::steady_clock::duration d) noexcept {
    at_.store((std::chrono::steady_clock::now() + d).time_since_epoch().count(), std::memory_order_relaxed);
  }
  void never() noexcept { at_.store(kNever, std::memory_order_relaxed); }
  bool passed(std::chrono::steady_clock::time_point now) const noexcept {
    return now.time_since_epoch().count() > at_.load(std::memory_order_relaxed);
  }

 private:
  static constexpr std::int64_t kNever = INT64_MAX;
  std::atomic<std::int64_t> at_{kNever};
};

/// How often the reaper looks for connections past their deadline.
inline constexpr std::chrono::milliseconds kReapInterval{500};

struct Exchange;
struct Answer;

/// What the HTTP layer serves and everything it needs to know of the server above it: the
/// HTTP options, the paths with their handlers (the transports register theirs), the
/// probes, and a few flags. Built by the composition root (core/server.cpp); outlives the
/// HttpServer and every connection.
struct Site {
  using Handler = std::function<net::awaitable<Answer>(Exchange&)>;

  const HttpOptions& options;
  metrics::Metrics& metrics;
  Counters& counters;
  /// Set when the server drains (read on every request).
  const std::atomic<bool>& draining;
  /// Threads running the io_context.
  unsigned io_threads = 1;
  bool dns_rebinding_protection = true;
  /// DNS-rebinding protection covers the probes and /metrics too: only on a loopback bind
  /// (on a routable one, Kubernetes probes send the pod IP as Host).
  bool probes_host_checked = true;
  /// Requests that arrive while draining are still served (the sessions outlive this
  /// process), else refused with 503.
  bool serves_while_draining = false;
  /// Added to every response (the node's identity behind a load balancer).
  std::vector<std::pair<std::string, std::string>> response_headers = {};
  /// Exact paths and who serves them.
  std::vector<std::pair<std::string, Handler>> routes = {};
  /// GET /readyz: (ready, JSON body); GET /metrics: the exposition text.
  std::function<std::pair<bool, std::string>()> readiness = {};
  std::function<std::string()> metrics_text = {};
  /// HttpOptions::request_rate's buckets, by principal or client address (router.cpp);
  /// null when that limit is off.
  std::unique_ptr<util::KeyedRateLimiter> request_limiter =
      options.request_rate.enabled() ? std::make_unique<util::KeyedRateLimiter>(kRateLimitMaxKeys) : nullptr;
  /// HttpOptions::trusted_proxies, parsed (throws std::invalid_argument on a bad entry).
  AddressSet trusted_proxies{options.trusted_proxies};
};

/// One request being answered on one connection.
struct Exchange {
  const Site& site;
  beast::tcp_stream& stream;
  /// The connection's read buffer: bytes read past this request stay here for the next.
  beast::flat_buffer& buffer;
  Deadline& deadline;
  const Request& req;
  /// The connection's waker (its timer lives on the connection's executor), reused by
  /// every wait of every request on this connection. Waits re-check their condition, so
  /// a late wake-up meant for an earlier wait is harmless.
  std::shared_ptr<util::Waker> waker;
  Headers headers;  // added to every response (CORS, affinity ...)
  bool keep_alive = true;
  /// Who sent the request (AuthDecision::principal; "" without an authorization hook).
  std::string principal = {};
  /// The connection's peer (IPv4-mapped addresses as IPv4), read once per connection;
  /// unspecified when it was already gone.
  net::ip::address peer = {};
};

/// One header, built outside co_await expressions (g++ 12 miscompiles braced string
/// literals in coroutine arguments: "array used as initializer").
Headers header_list(std::string name, std::string value);

/// A whole response, decided without I/O. A coroutine that can answer in several ways
/// builds one and writes it from a single co_await: every co_await site keeps its own
/// temporaries in the coroutine's frame, and a frame that outgrows Asio's recycled blocks
/// costs a malloc per request (docs/benchmarks.md).
struct Reply {
  bhttp::status status = bhttp::status::ok;
  std::string body;
  std::string_view content_type = "application/json";  // a static string
  Headers extra;
};

/// What a request handler leaves to its connection: a reply to write, or nothing when
/// it wrote the response itself (a stream); `keep` then says whether the connection may
/// be reused. Returning the reply instead of writing it lets every coroutine frame of the
/// handler go before the write suspends, so the next request on another connection
/// reuses them (Asio recycles a few frames per thread) instead of allocating its own.
struct Answer {
  std::optional<Reply> reply;
  bool keep = true;

  static Answer of(Reply r) { return Answer{std::move(r), true}; }
  static Answer written(bool keep) { return Answer{std::nullopt, keep}; }
};

/// Who sent `ex`, as a rate-limit key (router.cpp): "p:" and the principal, or for the
/// anonymous principal the client's address (address_key; behind HttpOptions::trusted_proxies
/// read from X-Forwarded-For). HttpOptions::request_rate's key, and an anonymous stateless
/// tools/call's (modern::Envelope::client).
std::string client_key(const Exchange& ex);

/// A JSON-RPC error body (id null) with the given HTTP status.
Reply error_reply(bhttp::status status, int code, std::string_view message, Headers extra = {});

/// Writes a complete response. Returns false if the connection must close.
net::awaitable<bool> write_reply(Exchange& ex, Reply reply);
net::awaitable<bool> write_response(Exchange& ex, bhttp::status status, std::string body,
                                    std::string_view content_type = "application/json", Headers extra = {});
net::awaitable<bool> write_error(Exchange& ex, bhttp::status status, int code, std::string_view message,
                                 Headers extra = {});

struct SseOptions {
  bool event_ids = true;          // "id:" lines (resumable streams)
  bool end_when_finished = true;  // end the HTTP response when the stream finishes
  std::string first_event;        // written right after the headers (legacy "endpoint" event)
  bool priming_event = false;     // an empty event carrying an id, to prime Last-Event-ID
  /// End the response as soon as the server drains (a replay of another node's stream: the
  /// client resumes it on another node). Other streams end when they finish: a POST stream
  /// with its last response, a standalone stream when Server::stop finishes it (once its
  /// session has no request in flight), so a drain never cuts a request's answer.
  bool ends_at_drain = false;
};

/// Watches the client side of a connection while the server has nothing to read from it
/// (an SSE stream, a request being served): a read that completes means the client hung up
/// (`closed`), or pipelined a request, whose bytes stay in the connection's buffer for the
/// next parse. Touched only on the connection's executor.
struct PeerWatch {
  bool closed = false;
  bool done = false;  // the read completed: nothing is watched any more
};
/// Starts watching (on `exec`, the connection's); ex.waker is notified when the read
/// completes. end_peer_watch must be awaited before the connection is used again.
std::shared_ptr<PeerWatch> start_peer_watch(Exchange& ex, const net::any_io_executor& exec);
/// Stops the watch and waits until its read is gone.
net::awaitable<void> end_peer_watch(Exchange& ex, const PeerWatch& peer);

/// Sends SSE headers, then the stream's events after `cursor` until it finishes (or the
/// server drains, with `ends_at_drain`). Returns true if the HTTP response ended cleanly (connection reusable).
net::awaitable<bool> pump_sse(Exchange& ex, session::SseStream& stream, std::uint64_t cursor, SseOptions opts,
                              Headers extra = {});

/// Header value helpers.
std::string_view header(const Request& req, std::string_view name);
bool accepts(const Request& req, std::string_view mime);
/// A query parameter of the request target, decoded ("" when absent).
std::string query_param(const Request& req, std::string_view key);

}  // namespace frontmcp::http
