#pragma once
// A small Redis client on Asio coroutines: one connection, pipelined commands, a timeout
// on every command, automatic reconnect with back-off, AUTH (password or ACL user),
// SELECT, TLS (rediss://). RESP replies are parsed with hiredis's reader (Debian's
// libhiredis); requests are written by hand (RESP arrays of bulk strings).
//
// Threading: a Client/Subscriber runs on its own strand of the executor it is given; all
// public members may be called from any thread and any coroutine. An awaiting caller is
// resumed on its own executor.
//
// Failure model (docs/redis.md): a command fails with Error{kServerError, "redis: ..."}
// when the connection is down (immediately: no queueing while disconnected), when it
// times out (the connection is then reset, failing everything in flight, and
// reconnected with back-off), or when the write fails. A Redis error reply is NOT a
// failure of the call: it is a Reply of type error (so callers can react to NOSCRIPT).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <frontmcp/result.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace frontmcp::redis {

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string username;  // ACL user; empty = "default" / password-only AUTH
  std::string password;  // empty = no AUTH
  int db = 0;
  bool tls = false;
  bool tls_verify = true;   // verify the server certificate (rediss://); ?verify=false turns it off
  std::string tls_ca_file;  // extra CA bundle; empty = system default
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds command_timeout{2'000};
  std::chrono::milliseconds reconnect_min{50};
  std::chrono::milliseconds reconnect_max{2'000};
  /// Subscriber only: an idle subscriber connection is PINGed this often, and reset when
  /// no reply comes within command_timeout (a subscriber has no commands of its own that
  /// would notice a dead peer).
  std::chrono::milliseconds ping_interval{5'000};
  /// Subscriber only, optional: proof that the subscription is alive, with the time (steady
  /// clock) at which the proving command was sent: the SUBSCRIBE once all channels are
  /// confirmed, then each PING whose reply came. With it set, the subscriber PINGs every
  /// ping_interval even while messages flow (a message proves nothing about when Redis
  /// last had the connection). Runs on the subscriber's strand; keep it cheap.
  std::function<void(std::chrono::steady_clock::time_point sent)> on_alive;
  /// Client only, optional: called when a command or pipeline ends, with the time since it
  /// was submitted and how it ended (for metrics; runs on the client's strand, keep it cheap).
  /// error_reply: a reply was an error other than NOSCRIPT (an empty script cache is normal).
  enum class Outcome { ok, error_reply, failed };
  std::function<void(std::chrono::nanoseconds elapsed, Outcome)> on_command;

  /// redis://[[user]:password@]host[:port][/db][?timeout=ms]  and  rediss://... (TLS).
  /// Query keys: timeout (command timeout, ms), connect_timeout (ms), verify (true|false),
  /// ca (path). Unknown keys, bad ports and bad db numbers are errors.
  static Result<Config> from_url(std::string_view url);
  /// The URL with the password replaced by "***" (for logs).
  std::string redacted() const;
};

/// The kind of a Redis error reply, read once from its first word (RESP errors carry
/// their kind only as text: "NOSCRIPT No matching script", "WRONGTYPE Operation ...").
enum class ErrorKind {
  none,       ///< not an error reply
  noscript,   ///< EVALSHA of a script the server does not have (new/restarted Redis, SCRIPT FLUSH)
  wrongtype,  ///< a key holds another type than the command needs (a key written by hand)
  other,
};
ErrorKind error_kind_of(std::string_view error_text) noexcept;

struct Reply {
  enum class Type { nil, status, error, integer, string, array };
  Type type = Type::nil;
  std::string str;  // status, error, string
  long long integer = 0;
  std::vector<Reply> elements;  // array

  bool is_error() const noexcept { return type == Type::error; }
  ErrorKind error_kind() const noexcept { return is_error() ? error_kind_of(str) : ErrorKind::none; }
  /// The caller sends the script itself (ErrorKind::noscript).
  bool is_noscript() const noexcept { return error_kind() == ErrorKind::noscript; }
  bool is_nil() const noexcept { return type == Type::nil; }
};

using Command = std::vector<std::string>;

class Client {
 public:
  /// Does not connect; call start(). Throws std::invalid_argument when cfg.tls is set and
  /// the CA file (cfg.tls_ca_file) cannot be loaded.
  Client(boost::asio::any_io_executor ex, Config cfg);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Starts connecting in the background (and reconnecting whenever the connection is
  /// lost, until stop()). `on_state(true)` is called after each successful connect
  /// (AUTH + SELECT done), `on_state(false)` when the connection is lost; from the
  /// client's strand.
  void start(std::function<void(bool connected)> on_state = {});
  /// Closes the connection, fails pending commands, stops reconnecting. Idempotent; any
  /// thread, also from on_state. Once it has returned, on_state neither runs nor will run
  /// (it waits for a call in progress, so on_state must not wait for the thread calling
  /// stop()). A stopped client cannot be started again.
  void stop();
  /// Only once no thread runs the executor any more (after the I/O threads are joined,
  /// before the io_context goes): stops, then drops the commands still waiting for a reply
  /// and the connection, without completing them. A waiting caller's coroutine is owned by
  /// its command, and that coroutine (run_command's frame) owns the client's state, so
  /// such a command would otherwise keep both alive forever: a leak, seen when a node was
  /// stopped while Redis did not answer (docs/reliability.md).
  void abandon();
  bool connected() const noexcept;
  /// Why the last connection attempt failed or the last connection was lost ("" when
  /// none yet). For readiness reports and diagnostics; any thread.
  std::string last_error() const;

  /// Commands issued one after another from one thread reach Redis in that order. The
  /// caller's cancellation is not observed: the call ends with the reply, the timeout or
  /// the loss of the connection.
  boost::asio::awaitable<Result<Reply>> command(Command cmd);
  /// All commands written at once; replies in order. Fails as a whole on a connection
  /// error or timeout.
  boost::asio::awaitable<Result<std::vector<Reply>>> pipeline(std::vector<Command> cmds);
  /// Fire and forget (errors are logged at debug level).
  void send(Command cmd);

  const Config& config() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// Pub/Sub on its own connection: subscribes to `channels`, and again after every
/// reconnect. on_message(channel, payload) and on_state(connected) run on the
/// subscriber's strand (keep them short; post heavier work elsewhere). on_state(true)
/// follows the confirmation of every channel; on_state(false), the loss of such a
/// connection. Messages published while disconnected are lost (Pub/Sub keeps nothing).
/// The constructor throws like Client's.
class Subscriber {
 public:
  Subscriber(boost::asio::any_io_executor ex, Config cfg, std::vector<std::string> channels,
             std::function<void(std::string_view channel, std::string_view payload)> on_message,
             std::function<void(bool connected)> on_state = {});
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  void start();
  /// Same guarantees as Client::stop(), for on_message and on_state.
  void stop();
  /// True once the SUBSCRIBE of all channels was confirmed on the current connection.
  bool subscribed() const noexcept;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

/// RESP encoding of one command (exposed for tests and for the pipeline writer).
void append_command(std::string& out, const Command& cmd);

}  // namespace frontmcp::redis
