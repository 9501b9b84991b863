#pragma once
// The library's logger: spdlog logger "frontmcp" (stderr unless the application
// registered its own logger of that name first). stdout stays free for the protocol.
#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <string>
#include <string_view>

namespace frontmcp::util {
spdlog::logger& log();

/// Logs (at error) an exception that escaped a detached coroutine; nothing for nullptr.
void log_escaped(std::exception_ptr e, const char* what);

/// A co_spawn completion handler that does so: co_spawn(ex, task(), LogEscaped{"..."}).
struct LogEscaped {
  const char* what;  // a string literal naming the task
  void operator()(std::exception_ptr e) const { log_escaped(e, what); }
};

/// A named value of a structured log line: `key=value` in text logs, a JSON field in
/// JSON-lines logs (see frontmcp::configure_logging).
struct LogField {
  std::string_view key;
  std::string_view value;
};
/// Logs `msg` with fields (session, request id, method ...). Cheap when `level` is off.
void log_event(spdlog::level::level_enum level, std::string_view msg, std::initializer_list<LogField> fields);

/// For a line that a client (or a failure loop) can trigger at any rate: lets the first
/// call through, then at most one per interval; the others log at debug or not at all.
/// Thread-safe, lock-free.
class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::nanoseconds interval) noexcept : interval_(interval.count()) {}
  /// True when this occurrence may be logged loudly.
  bool allow() noexcept {
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto last = last_.load(std::memory_order_relaxed);
    return (last == kNever || now - last >= interval_) &&
           last_.compare_exchange_strong(last, now, std::memory_order_relaxed);
  }

 private:
  static constexpr std::int64_t kNever = INT64_MIN;
  std::int64_t interval_;
  std::atomic<std::int64_t> last_{kNever};
};

/// The node id every JSON log line carries (set by Server::start).
void set_log_node(std::string node_id);
}  // namespace frontmcp::util
