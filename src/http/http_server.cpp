#include "http/http_server.hpp"

#include "http/http_io.hpp"
#include "protocol/jsonrpc.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/json/serialize.hpp>
#include "util/log.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <optional>
#if defined(__linux__)
#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/socket.h>
#endif
#include <memory>
#include <mutex>
#include <stdexcept>
#include <unordered_set>

namespace frontmcp::http {

namespace {

using tcp = net::ip::tcp;
using bhttp::status;

std::string_view path_of(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

/// "host:port" / "[v6]:port" -> host (brackets kept for v6); nullopt when the port is
/// not a number (such a header is rejected, not guessed at).
std::optional<std::string_view> strip_port(std::string_view host) {
  std::size_t colon;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    if (close + 1 == host.size()) return host;
    if (host[close + 1] != ':') return std::nullopt;
    colon = close + 1;
  } else {
    colon = host.find(':');
    if (colon == std::string_view::npos) return host;
  }
  auto port = host.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return host.substr(0, colon);
}

bool host_allowed(const Site& site, std::string_view host_header) {
  auto parsed = strip_port(host_header);
  if (!parsed) return false;
  auto host = *parsed;
  if (is_loopback_host(host)) return true;
  const auto& allowed = site.options.allowed_hosts;
  return std::find(allowed.begin(), allowed.end(), host) != allowed.end();
}

bool origin_allowed(const Site& site, std::string_view origin) {
  const auto& allowed = site.options.allowed_origins;
  if (std::find(allowed.begin(), allowed.end(), origin) != allowed.end()) return true;
  // Only a web page's own origin: chrome-extension://localhost or ws://127.0.0.1 is not
  // a loopback page (browsers serialize the scheme in lower case).
  std::string_view rest;
  if (origin.starts_with("http://")) {
    rest = origin.substr(7);
  } else if (origin.starts_with("https://")) {
    rest = origin.substr(8);
  } else {
    return false;
  }
  auto host = strip_port(rest);
  return host && is_loopback_host(*host);
}

bool cors_allows(const Site& site, std::string_view origin) {
  for (const auto& o : site.options.cors_allowed_origins) {
    if (o == "*" || o == origin) return true;
  }
  return false;
}

struct Denied {
  std::string message;
  Headers headers;
};

std::string_view lookup_header(const void* req, std::string_view name) { return header(*static_cast<const Request*>(req), name); }

/// Runs HttpOptions::authorize; nullopt = allowed.
std::optional<Denied> authorize(Exchange& ex, std::string_view path) {
  AuthRequest ar;
  std::string method(ex.req.method_string());
  ar.method = method;
  ar.path = path;
  boost::system::error_code ec;
  auto peer = ex.stream.socket().remote_endpoint(ec);
  std::string remote = ec ? std::string() : peer.address().to_string();
  ar.remote_address = remote;
  ar.session_id = header(ex.req, "Mcp-Session-Id");
  std::string query_sid;
  if (ar.session_id.empty() && path == ex.site.options.message_path) {
    query_sid = query_param(ex.req, "sessionId");
    ar.session_id = query_sid;
  }
  ar.lookup = &lookup_header;
  ar.context = &ex.req;
  AuthDecision d;
  try {
    d = ex.site.options.authorize(ar);
  } catch (const std::exception& e) {
    util::log().error("authorization hook threw: {}", e.what());
    d = AuthDecision::deny("Bearer", "Unauthorized: authorization failed");
  } catch (...) {
    util::log().error("authorization hook threw a non-exception");
    d = AuthDecision::deny("Bearer", "Unauthorized: authorization failed");
  }
  if (d.allowed) {
    ex.principal = std::move(d.principal);
    return std::nullopt;
  }
  util::log_event(spdlog::level::info, "request rejected by the authorization hook",
                  {{"method", ar.method}, {"path", ar.path}, {"remote", ar.remote_address}, {"session", ar.session_id}});
  Denied out{d.message.empty() ? std::string("Unauthorized") : d.message, {}};
  out.headers.emplace_back("WWW-Authenticate", d.www_authenticate.empty() ? std::string("Bearer") : d.www_authenticate);
  return out;
}

/// DNS-rebinding protection: a browser page on another site may reach a loopback server,
/// but it cannot forge Host and always sends its own Origin. A 403 when either is refused.
std::optional<Reply> check_rebinding(const Exchange& ex) {
  auto host = header(ex.req, "Host");
  if (!host_allowed(ex.site, host)) {
    util::log().warn("rejected request with Host '{}' (DNS-rebinding protection)", host);
    return error_reply(status::forbidden, errc::kServerError, "Forbidden: Host not allowed");
  }
  auto origin = header(ex.req, "Origin");
  if (!origin.empty() && !origin_allowed(ex.site, origin)) {
    util::log().warn("rejected request with Origin '{}' (DNS-rebinding protection)", origin);
    return error_reply(status::forbidden, errc::kServerError, "Forbidden: Origin not allowed");
  }
  return std::nullopt;
}

/// Everything route() decides without I/O: the reply to write (health, metrics, CORS
/// preflight, rejections), or else the transport that serves the request.
std::optional<Reply> plan_route(Exchange& ex, const Site::Handler*& handler) {
  const auto& site = ex.site;
  const auto& opt = site.options;
  std::string_view target(ex.req.target().data(), ex.req.target().size());
  auto path = path_of(target);
  // E.g. distributed mode: every response names the node (load balancers and operators).
  for (const auto& h : site.response_headers) ex.headers.push_back(h);

  const bool probe = path == opt.healthz_path || path == opt.readyz_path ||
                     (path == opt.metrics_path && !opt.metrics_path.empty());
  if (probe && site.probes_host_checked) {
    if (auto denied = check_rebinding(ex)) return denied;
  }
  if (path == opt.healthz_path) return Reply{status::ok, R"({"status":"ok"})", "application/json", {}};
  if (path == opt.readyz_path) {
    auto [ready, body] = site.readiness();
    return Reply{ready ? status::ok : status::service_unavailable, std::move(body), "application/json", {}};
  }
  if (path == opt.metrics_path && !opt.metrics_path.empty()) {
    if (ex.req.method() != bhttp::verb::get) {
      return error_reply(status::method_not_allowed, errc::kServerError, "Method Not Allowed", header_list("Allow", "GET"));
    }
    return Reply{status::ok, site.metrics_text(), "text/plain; version=0.0.4; charset=utf-8", {}};
  }
  for (const auto& [route_path, h] : site.routes) {
    if (route_path == path) handler = &h;
  }
  if (!handler) return error_reply(status::not_found, errc::kServerError, "Not Found");

  auto origin = header(ex.req, "Origin");
  if (site.dns_rebinding_protection) {
    if (auto denied = check_rebinding(ex)) return denied;
  }
  if (!origin.empty() && cors_allows(site, origin)) {
    ex.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
    ex.headers.emplace_back("Vary", "Origin");
    ex.headers.emplace_back("Access-Control-Expose-Headers", "Mcp-Session-Id, X-FrontMCP-Machine-Id");
    if (ex.req.method() == bhttp::verb::options) {
      Headers preflight = header_list("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
      preflight.emplace_back("Access-Control-Allow-Headers",
                             "Content-Type, Accept, Authorization, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID");
      preflight.emplace_back("Access-Control-Max-Age", "600");
      return Reply{status::no_content, {}, {}, std::move(preflight)};
    }
  }
  if (opt.authorize) {
    if (auto denied = authorize(ex, path)) {
      return error_reply(status::unauthorized, errc::kServerError, denied->message, std::move(denied->headers));
    }
  }
  // Distributed mode keeps answering requests that still arrive on open connections
  // while draining (the sessions live in Redis, so any node may serve them); standalone
  // mode cannot hand them anywhere.
  if (site.draining.load() && !site.serves_while_draining) {
    return error_reply(status::service_unavailable, errc::kServerError, "Service Unavailable: server is shutting down",
                       header_list("Retry-After", "1"));
  }
  return std::nullopt;
}

net::awaitable<Answer> route(Exchange& ex) {
  const Site::Handler* handler = nullptr;
  if (std::optional<Reply> reply = plan_route(ex, handler)) co_return Answer::of(std::move(*reply));
  ex.site.counters.requests.fetch_add(1, std::memory_order_relaxed);
  co_return co_await (*handler)(ex);
}

/// What a request that could not be read is answered before the connection closes;
/// nullopt when nothing is (the peer closed or reset, a read timed out).
struct EarlyError {
  status st;
  std::string_view message;
};
std::optional<EarlyError> early_error(const boost::system::error_code& ec) {
  if (ec == bhttp::error::header_limit) {
    return EarlyError{status::request_header_fields_too_large, "Request header fields too large"};
  }
  // Beast checks Content-Length against the body limit while reading the header.
  if (ec == bhttp::error::body_limit) {
    return EarlyError{status::payload_too_large, "Payload Too Large: body exceeds the limit"};
  }
  if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) return std::nullopt;
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == bhttp::error::short_read ||
      ec == bhttp::error::need_more || ec == bhttp::error::stale_parser) {
    return std::nullopt;  // the peer is gone, or closed its side mid-request
  }
  // RFC 9112 §2.2: a server that receives a message it cannot parse answers 400.
  return EarlyError{status::bad_request, "Bad Request: malformed HTTP request"};
}

/// RFC 9112 §3.2: a request with two Host field lines, or an HTTP/1.1 request without
/// one, is answered 400 (the two could name different hosts to two different parsers).
bool host_field_ok(const bhttp::request_parser<bhttp::string_body>& parser) {
  auto hosts = parser.get().count(bhttp::field::host);
  return hosts == 1 || (hosts == 0 && parser.get().version() < 11);
}

/// Closes a connection whose client may still be sending the request we refused
/// ("lingering close", RFC 9112 §9.6): shut down our side (the client sees the end of the
/// response), then read and discard what arrives until the client closes its side, for at
/// most kLingeringCloseTime in all, kLingeringCloseIdle without data, and
/// kLingeringCloseMaxBytes. Closing at once would make the kernel answer the unread bytes
/// with a reset, which a client still writing (Node's HTTP client with a large body) sees
/// as EPIPE before it reads our answer. Timed by the connection's deadline (the reaper).
net::awaitable<void> linger_close(beast::tcp_stream& stream, Deadline& deadline) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  constexpr std::size_t kChunk = 16 * 1024;
  auto scratch = std::make_unique<char[]>(kChunk);  // only on this error path
  const auto until = std::chrono::steady_clock::now() + kLingeringCloseTime;
  std::size_t discarded = 0;
  while (discarded < kLingeringCloseMaxBytes) {
    auto now = std::chrono::steady_clock::now();
    if (now >= until) break;
    deadline.after(std::min<std::chrono::steady_clock::duration>(kLingeringCloseIdle, until - now));
    std::size_t n = co_await stream.socket().async_read_some(net::buffer(scratch.get(), kChunk),
                                                             net::redirect_error(net::use_awaitable, ec));
    if (ec) break;  // end of stream: the client is done; or a reset, or the deadline
    discarded += n;
  }
  deadline.never();
}

/// Answers a request that could not be read or was refused before its body was read
/// (Connection: close), then closes with linger_close.
net::awaitable<void> reject(const Site& site, beast::tcp_stream& stream, beast::flat_buffer& buffer,
                            Deadline& deadline, status st, std::string_view msg) {
  Request dummy{bhttp::verb::unknown, "/", 11};
  Exchange ex{site, stream, buffer, deadline, dummy, nullptr, {}, false};
  co_await write_error(ex, st, errc::kServerError, msg);
  co_await linger_close(stream, deadline);
}

/// One open connection, known to the server so a drain can close it while it idles.
/// `alive`, `idle` and `stream` are touched only on the connection's strand.
struct Connection {
  beast::tcp_stream* stream = nullptr;
  net::any_io_executor executor;
  Deadline deadline;
  bool alive = true;
  bool idle = false;
  std::uint64_t served = 0;  // requests answered on this connection
};

class ConnectionSet {
 public:
  void add(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(mu_);
    set_.insert(c);
  }
  void remove(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(mu_);
    set_.erase(c);
  }
  /// Cancels the socket operations of every connection past its deadline.
  void reap(std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mu_);
    for (const auto& c : set_) {
      if (!c->deadline.passed(now)) continue;
      c->deadline.never();  // once is enough
      cancel_on_strand(c, /*only_if_idle=*/false);
    }
  }

  /// Closes every connection that is waiting for its next request (keep-alive). A
  /// connection that has not sent its first request yet is left alone: its client has
  /// probably sent it already, and closing a socket with unread bytes resets it.
  void close_idle() {
    std::lock_guard lock(mu_);
    for (const auto& c : set_) cancel_on_strand(c, /*only_if_idle=*/true);
  }

 private:
  /// `alive` and `idle` may only be read on the connection's own executor.
  static void cancel_on_strand(const std::shared_ptr<Connection>& c, bool only_if_idle) {
    net::post(c->executor, [c, only_if_idle] {
      if (c->alive && (!only_if_idle || (c->idle && c->served > 0))) c->stream->socket().cancel();
    });
  }

  std::mutex mu_;
  std::unordered_set<std::shared_ptr<Connection>> set_;
};

struct ConnectionGuard {
  Counters& counters;
  // Shared: a connection's coroutine frame may be destroyed with the io_context, after
  // the HttpServer that made the set (a drain that ended at its deadline).
  std::shared_ptr<ConnectionSet> set;
  std::shared_ptr<Connection> conn;
  ConnectionGuard(Counters& c, std::shared_ptr<ConnectionSet> s, std::shared_ptr<Connection> cn)
      : counters(c), set(std::move(s)), conn(std::move(cn)) {
    counters.connections_open.fetch_add(1);
    set->add(conn);
  }
  ~ConnectionGuard() {
    conn->alive = false;
    set->remove(conn);
    counters.connections_open.fetch_sub(1);
  }
};

/// Draining: how long a connection accepted before the drain may take to send its first
/// request, and how many not-yet-accepted connections are taken from the backlog.
constexpr std::chrono::milliseconds kDrainFirstRequestWait{2'000};
constexpr std::size_t kMaxBacklogOnDrain = 4096;
/// Draining: how long the listener stays open, refusing new handshakes, so that handshakes
/// already under way complete and get accepted (one round trip is enough; this allows for
/// a slow network), and how often the queue is emptied meanwhile.
constexpr std::chrono::milliseconds kHandshakeSettle{200};
constexpr std::chrono::milliseconds kHandshakeSettlePoll{10};

/// Makes the kernel drop new connection attempts (a TCP segment with SYN and without ACK)
/// on a listening socket while letting handshakes under way finish. Closing a listener
/// resets the connections in its accept queue, and a client whose handshake completed there
/// may already have sent its request: it sees ECONNRESET, which a proxy must not retry for
/// a POST. With this filter the queue can be emptied for good before the close; a dropped
/// SYN is retransmitted by the client and then refused (ECONNREFUSED, safe to retry).
/// A classic BPF socket filter runs on segments addressed to the listener with the data
/// pointer at the TCP header (byte 13 holds the flags). Linux only; elsewhere a no-op.
void refuse_new_handshakes(tcp::acceptor& acceptor) {
#if defined(__linux__)
  static sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),              // TCP flags
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),           // SYN | ACK
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),     // SYN without ACK?
      BPF_STMT(BPF_RET | BPF_K, 0),                        //   drop
      BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),              // keep everything else
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(code)), code};
  if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
    util::log().warn("drain: cannot filter new handshakes on the listener (errno {}); closing it may reset a few", errno);
  }
#else
  (void)acceptor;
#endif
}

net::awaitable<void> run_connection(const Site& site, std::shared_ptr<ConnectionSet> connections,
                                    tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  auto conn = std::make_shared<Connection>();
  conn->stream = &stream;
  conn->executor = stream.get_executor();
  ConnectionGuard guard(site.counters, std::move(connections), conn);
  beast::flat_buffer buffer;
  auto waker = std::make_shared<util::Waker>(stream.get_executor());
  const auto& opt = site.options;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opt.max_header_bytes));
    parser.body_limit(opt.max_body_bytes);
    boost::system::error_code ec;
    bool draining = site.draining.load();
    // A new connection still gets its first request served while draining (with a short
    // wait): the load balancer sent it before the listener closed.
    conn->deadline.after(draining ? std::min<std::chrono::milliseconds>(opt.idle_timeout, kDrainFirstRequestWait)
                                  : opt.idle_timeout);
    conn->idle = true;
    if (draining && conn->served > 0) break;  // checked after idle is set: see ConnectionSet::close_idle
    co_await bhttp::async_read_header(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    conn->idle = false;
    if (ec) {
      if (auto e = early_error(ec)) {
        co_await reject(site, stream, buffer, conn->deadline, e->st, e->message);
        co_return;
      }
      break;  // closed, reset or timed out: nothing to answer
    }
    if (!host_field_ok(parser)) {
      co_await reject(site, stream, buffer, conn->deadline, status::bad_request,
                      "Bad Request: a request needs exactly one Host header");
      co_return;
    }
    conn->deadline.after(opt.read_timeout);
    co_await bhttp::async_read(stream, buffer, parser, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
      if (auto e = early_error(ec)) {
        co_await reject(site, stream, buffer, conn->deadline, e->st, e->message);
        co_return;
      }
      break;
    }
    Request req = parser.release();
    conn->deadline.never();  // handlers may take long; each write sets its own deadline
    Exchange ex{site, stream, buffer, conn->deadline, req, waker, {}, req.keep_alive() && !site.draining.load()};
    Answer answer = co_await route(ex);
    bool keep = answer.reply ? co_await write_reply(ex, std::move(*answer.reply)) : answer.keep;
    ++conn->served;
    if (!keep) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

/// Answers a connection over the limit with 503 and closes it, without reading its
/// request (allowed by HTTP/1.1 for a server that is about to close).
net::awaitable<void> refuse_connection(tcp::socket socket) {
  static const std::string kResponse = [] {
    std::string body = protocol::error_body(errc::kServerError, "Service Unavailable: too many connections");
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
           "Connection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  boost::system::error_code ec;
  co_await net::async_write(socket, net::buffer(kResponse), net::redirect_error(net::use_awaitable, ec));
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

}  // namespace

bool is_loopback_host(std::string_view host) {
  // Exact forms only: a prefix test would let "127.0.0.1.evil.example" through.
  constexpr std::string_view kLocalhost = "localhost";
  if (host.size() == kLocalhost.size() &&
      std::equal(host.begin(), host.end(), kLocalhost.begin(),
                 [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; })) {
    return true;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string h(host);
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

/// Descriptors kept free for everything but client connections (Redis, the listener, log
/// files, a refused connection's brief socket): the effective connection limit is at most
/// the descriptor limit minus this.
constexpr std::size_t kReservedDescriptors = 64;
/// After accept() fails (EMFILE, ENFILE, ENOBUFS...): wait this long before the next try,
/// doubling up to the maximum, instead of spinning on a listener that stays readable.
constexpr std::chrono::milliseconds kAcceptBackoffMin{10};
constexpr std::chrono::milliseconds kAcceptBackoffMax{1'000};
/// A repeated warning (accept failures, the connection limit) is logged at most this often,
/// with the number of occurrences since the last line.
constexpr std::chrono::seconds kRepeatedWarningInterval{1};

/// The soft RLIMIT_NOFILE (0 if unknown).
std::size_t descriptor_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<std::size_t>(rl.rlim_cur);
}

/// A warning that may repeat many times a second: the first one, then at most one line per
/// interval with the count. Single coroutine (the accept loop): no locking.
class RepeatedWarning {
 public:
  template <class... Args>
  void warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
    auto now = std::chrono::steady_clock::now();
    ++count_;
    if (now - last_ < kRepeatedWarningInterval) return;
    if (count_ > 1) {
      util::log().warn("{} (x{} in the last {} ms)", fmt::format(fmt, std::forward<Args>(args)...), count_,
                       std::chrono::duration_cast<std::chrono::milliseconds>(now - last_).count());
    } else {
      util::log().warn(fmt, std::forward<Args>(args)...);
    }
    last_ = now;
    count_ = 0;
  }

 private:
  std::chrono::steady_clock::time_point last_{};
  std::size_t count_ = 0;
};

struct HttpServer::Impl {
  const Site& site;
  net::io_context& ioc;
  tcp::acceptor acceptor;
  std::shared_ptr<ConnectionSet> connections = std::make_shared<ConnectionSet>();
  std::uint16_t port = 0;

  Impl(const Site& s, net::io_context& i) : site(s), ioc(i), acceptor(net::make_strand(i)) {}

  /// Each connection's executor: a strand when several threads run the io_context; the
  /// io_context itself when one thread does (a strand would only add overhead).
  net::any_io_executor connection_executor() {
    if (site.io_threads == 1) return ioc.get_executor();
    return net::make_strand(ioc);
  }

  /// Runs until the acceptor closes; see Deadline.
  net::awaitable<void> reap_loop() {
    net::steady_timer timer(acceptor.get_executor());
    while (acceptor.is_open() || closing) {  // while draining too (first-request deadlines)
      timer.expires_after(kReapInterval);
      boost::system::error_code ec;
      co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
      connections->reap(std::chrono::steady_clock::now());
    }
  }

  /// Set (on the acceptor's strand) by stop_accepting().
  bool closing = false;
  /// min(max_connections, descriptor limit - kReservedDescriptors), set by start().
  std::size_t connection_limit = 0;
  RepeatedWarning accept_warning, limit_warning;
  std::chrono::milliseconds accept_backoff = kAcceptBackoffMin;
  /// Set once the listener is closed after a drain (read by Server::stop on another thread).
  std::atomic<bool> listener_closed{false};

  /// Drain: connections whose handshake completed but that were not accepted yet would be
  /// reset by closing the listener; accept them (without waiting) and serve them first.
  void accept_backlog() {
    boost::system::error_code ec;
    acceptor.non_blocking(true, ec);
    for (std::size_t i = 0; i < kMaxBacklogOnDrain && !ec; ++i) {
      tcp::socket socket(connection_executor());
      acceptor.accept(socket, ec);
      if (ec) break;
      socket.set_option(tcp::no_delay(true), ec);
      auto ex = socket.get_executor();
      net::co_spawn(ex, run_connection(site, connections, std::move(socket)), util::LogEscaped{"connection"});
    }
  }

  /// Drain: no new handshakes; the ones under way finish and are accepted; then the
  /// listener closes with an empty queue (see refuse_new_handshakes).
  net::awaitable<void> close_listener() {
    refuse_new_handshakes(acceptor);
    net::steady_timer timer(acceptor.get_executor());
    auto until = std::chrono::steady_clock::now() + kHandshakeSettle;
    while (std::chrono::steady_clock::now() < until) {
      accept_backlog();
      timer.expires_after(kHandshakeSettlePoll);
      boost::system::error_code ec;
      co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    accept_backlog();
    boost::system::error_code ec;
    acceptor.close(ec);
    listener_closed = true;
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      // Checked before every accept, not only on operation_aborted: the cancel of
      // stop_accepting() finds no pending accept when it runs between two of them.
      if (closing) {
        co_await close_listener();
        co_return;
      }
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(connection_executor(), net::redirect_error(net::use_awaitable, ec));
      if (ec == net::error::operation_aborted && closing) continue;
      if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        // Out of descriptors (or buffers): the listener stays readable, so retrying at once
        // would spin a core and flood the log. Back off; connections wait in the backlog.
        accept_warning.warn("accept failed: {}; pausing accepts for {} ms", ec.message(), accept_backoff.count());
        net::steady_timer pause(acceptor.get_executor());
        pause.expires_after(accept_backoff);
        boost::system::error_code wait_ec;
        co_await pause.async_wait(net::redirect_error(net::use_awaitable, wait_ec));
        accept_backoff = std::min(accept_backoff * 2, kAcceptBackoffMax);
        continue;
      }
      accept_backoff = kAcceptBackoffMin;
      if (site.counters.connections_open.load() >= connection_limit) {
        site.counters.connections_rejected.fetch_add(1);
        site.metrics.http_response(503);
        limit_warning.warn("connection limit ({}) reached: answering 503", connection_limit);
        auto ex = socket.get_executor();
        net::co_spawn(ex, refuse_connection(std::move(socket)), util::LogEscaped{"connection"});
        continue;
      }
      // Small JSON-RPC messages must not wait for Nagle's algorithm.
      socket.set_option(tcp::no_delay(true), ec);
      auto ex = socket.get_executor();
      net::co_spawn(ex, run_connection(site, connections, std::move(socket)), util::LogEscaped{"connection"});
    }
  }
};

HttpServer::HttpServer(const Site& site, net::io_context& ioc) : impl_(std::make_unique<Impl>(site, ioc)) {}
HttpServer::~HttpServer() = default;

void HttpServer::start() {
  auto& a = impl_->acceptor;
  const auto& opt = impl_->site.options;
  boost::system::error_code ec;
  auto addr = net::ip::make_address(opt.host == "localhost" ? "127.0.0.1" : opt.host, ec);
  if (ec) throw std::runtime_error("invalid bind address '" + opt.host + "': " + ec.message());
  tcp::endpoint ep(addr, opt.port);
  a.open(ep.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(ep, ec);
  if (ec) throw std::runtime_error("cannot bind " + opt.host + ":" + std::to_string(opt.port) + ": " + ec.message());
  a.listen(net::socket_base::max_listen_connections);
  impl_->port = a.local_endpoint().port();
  // The connection limit must stay below the descriptor limit, or accept() fails with
  // EMFILE before the limit answers 503 (the reference server raises the soft limit to the
  // hard one at start; see docs/operations.md).
  impl_->connection_limit = opt.max_connections;
  if (auto fds = descriptor_limit(); fds != 0) {
    std::size_t usable = fds > 2 * kReservedDescriptors ? fds - kReservedDescriptors : fds / 2;
    if (usable < impl_->connection_limit) {
      util::log().warn("connection limit lowered from {} to {}: the descriptor limit (ulimit -n) is {}",
                       opt.max_connections, usable, fds);
      impl_->connection_limit = usable;
    }
  }
  net::co_spawn(a.get_executor(), impl_->accept_loop(), util::LogEscaped{"connection"});
  net::co_spawn(a.get_executor(), impl_->reap_loop(), util::LogEscaped{"connection"});
}

void HttpServer::stop_accepting() {
  net::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    boost::system::error_code ec;
    impl->closing = true;
    impl->acceptor.cancel(ec);  // the accept loop takes the backlog, then closes
  });
  impl_->connections->close_idle();
}

std::uint16_t HttpServer::port() const { return impl_->port; }
std::uint64_t HttpServer::open_connections() const { return impl_->site.counters.connections_open.load(); }
bool HttpServer::drained() const { return impl_->listener_closed.load() && open_connections() == 0; }

}  // namespace frontmcp::http
