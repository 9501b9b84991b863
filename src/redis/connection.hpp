#pragma once
// One Redis connection (TCP or TLS) as used by Client and Subscriber: open (resolve,
// connect, TLS handshake, AUTH, SELECT), read and write on the owner's strand, close.
// Internal to src/redis/: includes Asio's SSL headers.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "redis/redis.hpp"
#include "redis/resp.hpp"

namespace frontmcp::redis::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using Strand = net::strand<net::any_io_executor>;
using Clock = std::chrono::steady_clock;

/// "<n> ms", for messages.
std::string format_ms(std::chrono::milliseconds d);

/// What a caller sees: Error{kServerError, "redis: " + reason}.
Error redis_error(std::string_view reason);
/// Why a connection failed (no "redis: " prefix; becomes Connection::close_reason).
Error failure(std::string reason);

/// The TLS context for `cfg` (nullptr when cfg.tls is false): peer verification unless
/// cfg.tls_verify is false, against the system CAs plus cfg.tls_ca_file. Throws
/// std::invalid_argument naming the field when the CA file cannot be loaded.
std::shared_ptr<net::ssl::context> make_tls_context(const Config& cfg);

/// All members are used on the owner's strand only. Owned by shared_ptr: the coroutines
/// working on a connection (reader, writer, watchdog) keep it alive, so a connection that
/// was replaced by a new one is never touched after it is freed.
struct Connection {
  Connection(const Strand& strand, net::ssl::context* tls_context);

  tcp::socket& socket() noexcept { return tls ? tls->next_layer() : plain; }
  /// Idempotent: records the first reason, cancels every pending operation on the
  /// connection (socket, resolver, timers).
  void close(std::string reason);

  /// One read or write; `ec` set on failure (operation_aborted after close()).
  net::awaitable<std::size_t> read_some(net::mutable_buffer buf, boost::system::error_code& ec);
  net::awaitable<void> write(net::const_buffer buf, boost::system::error_code& ec);
  /// Reads until the next complete reply (used while opening, before the reader loop).
  net::awaitable<Result<Reply>> read_reply();

  tcp::resolver resolver;
  tcp::socket plain;                                   // when not TLS
  std::unique_ptr<net::ssl::stream<tcp::socket>> tls;  // when TLS
  ReplyReader reader;
  std::string out;                                        // bytes waiting for the writer
  net::steady_timer wake;                                 // cancelled to wake the writer
  net::steady_timer watch;                                // the watchdog's timer; cancelled to re-arm it
  Clock::time_point deadline = Clock::time_point::max();  // owner-defined meaning
  bool ready = false;                                     // opened: AUTH and SELECT done
  bool closed = false;
  std::string close_reason;
};

/// Resolves, connects, does the TLS handshake, AUTH and SELECT. Not bounded by itself:
/// the owner's watchdog closes the connection at the connect deadline.
net::awaitable<Status> open(Connection& c, const Config& cfg);

/// Writes `c.out` whenever it is not empty, until the connection closes; a failed write
/// closes it. Owners wake it with `c.wake.cancel()` after appending to `c.out`.
net::awaitable<void> write_loop(std::shared_ptr<Connection> c);

/// Reads until the connection closes and hands every complete reply to `on_reply` (which
/// may close the connection to stop); a failed read or a malformed reply closes it.
net::awaitable<void> read_loop(std::shared_ptr<Connection> c, std::function<void(Reply)> on_reply);

/// Exponential back-off between reconnect attempts, with jitter (so that many nodes do
/// not reconnect in lock-step after a Redis restart).
class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max);
  std::chrono::milliseconds next();
  void reset() noexcept { current_ = min_; }

 private:
  std::chrono::milliseconds min_, max_, current_;
  std::minstd_rand rng_;
};

/// The connection state as logged: one line per transition (connected, lost, restored,
/// cannot connect), debug lines for the retries in between.
class StateLog {
 public:
  StateLog(std::string what, std::string target) : what_(std::move(what)), target_(std::move(target)) {}
  void connected();
  void lost(const std::string& reason);
  void attempt_failed(const std::string& reason);

 private:
  std::string what_;    // "redis", "redis subscriber"
  std::string target_;  // the redacted URL
  bool ever_connected_ = false;
  bool down_reported_ = false;
  Clock::time_point down_since_{};
};

}  // namespace frontmcp::redis::detail
