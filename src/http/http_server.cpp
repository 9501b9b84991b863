#include "http/http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <optional>

#include "http/http_io.hpp"
#include "http/router.hpp"
#include "protocol/jsonrpc.hpp"
#include "util/log.hpp"
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
net::awaitable<void> reject(const Site& site, beast::tcp_stream& stream, beast::flat_buffer& buffer, Deadline& deadline,
                            status st, std::string_view msg) {
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
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),           // TCP flags
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),        // SYN | ACK
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),  // SYN without ACK?
      BPF_STMT(BPF_RET | BPF_K, 0),                     //   drop
      BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),           // keep everything else
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(code)), code};
  if (::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
    util::log().warn("drain: cannot filter new handshakes on the listener (errno {}); closing it may reset a few",
                     errno);
  }
#else
  (void)acceptor;
#endif
}

net::awaitable<void> run_connection(const Site& site, std::shared_ptr<ConnectionSet> connections, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  auto conn = std::make_shared<Connection>();
  conn->stream = &stream;
  conn->executor = stream.get_executor();
  ConnectionGuard guard(site.counters, std::move(connections), conn);
  beast::flat_buffer buffer;
  auto waker = std::make_shared<util::Waker>(stream.get_executor());
  const auto& opt = site.options;
  boost::system::error_code peer_ec;
  const net::ip::address peer = unmapped(stream.socket().remote_endpoint(peer_ec).address());
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
    Exchange ex{site,          stream, buffer, conn->deadline,
                req,           waker,  {},     req.keep_alive() && !site.draining.load(),
                std::string(), peer};
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
      tcp::socket socket =
          co_await acceptor.async_accept(connection_executor(), net::redirect_error(net::use_awaitable, ec));
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

std::uint16_t HttpServer::port() const {
  return impl_->port;
}
std::uint64_t HttpServer::open_connections() const {
  return impl_->site.counters.connections_open.load();
}
bool HttpServer::drained() const {
  return impl_->listener_closed.load() && open_connections() == 0;
}

}  // namespace frontmcp::http
