#pragma once
// The server's Prometheus metrics, on prometheus-cpp (Debian 12's prometheus-cpp-dev 1.0.1).
// Every series is registered once, when Metrics is built, and its handle held: the hot path
// is a call on a held handle (a counter is an atomic add; a histogram observation a bucket
// search and two adds under the histogram's own mutex), never a label lookup or an
// allocation. GET /metrics serialises the registry with prometheus-cpp's TextSerializer
// (exposition format 0.0.4); see util/exposition.hpp and docs/observability.md.
//
// Label values come from closed sets (the MCP methods we know, the HTTP codes we send),
// so the number of series is fixed at construction: a client cannot blow up the
// cardinality by inventing method names.
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
class Counter;
class Histogram;
class Registry;
struct MetricFamily;
}  // namespace prometheus

namespace frontmcp::metrics {

/// A held prometheus-cpp counter (registered by Metrics).
class Counter {
 public:
  Counter() = default;
  explicit Counter(prometheus::Counter& c) noexcept : c_(&c) {}
  void inc() noexcept;
  std::uint64_t value() const noexcept;

 private:
  prometheus::Counter* c_ = nullptr;
};

/// A held prometheus-cpp latency histogram with fixed bucket bounds (seconds, `le`).
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                  0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5};
  Histogram() = default;
  explicit Histogram(prometheus::Histogram& h) noexcept : h_(&h) {}
  void observe(std::chrono::nanoseconds d) noexcept;
  std::uint64_t count() const;

 private:
  prometheus::Histogram* h_ = nullptr;
};

/// The JSON-RPC methods counted by name; anything else is "other".
enum class Method : std::uint8_t {
  initialize,
  ping,
  tools_list,
  tools_call,
  resources_list,
  resources_templates_list,
  resources_read,
  resources_subscribe,
  resources_unsubscribe,
  prompts_list,
  prompts_get,
  completion_complete,
  logging_set_level,
  other,
};
inline constexpr std::size_t kMethods = static_cast<std::size_t>(Method::other) + 1;
Method method_of(std::string_view name) noexcept;
std::string_view name_of(Method m) noexcept;

/// HTTP status codes counted by value; anything else is counted as "other".
inline constexpr std::array<int, 17> kHttpCodes{200, 202, 204, 400, 401, 403, 404, 405, 406,
                                                409, 413, 415, 429, 431, 500, 502, 503};

enum class Takeover : std::uint8_t { request, scanner };

/// Why a relayed (Pub/Sub) message was refused before delivery:
/// frontmcp_relay_refused_total{reason}. See cluster/relay_auth.hpp.
enum class RelayRefusal : std::uint8_t {
  unsigned_message,  ///< "unsigned": plain JSON while this node has a relay secret
  forged,            ///< "forged": the MAC matches no configured secret (or another channel's)
  stale,             ///< "stale": valid MAC, timestamp outside the replay window
  malformed,         ///< "malformed": not a well-formed signed header, or not a JSON object
  unknown_type,      ///< "unknown_type": a JSON object whose "t" this node does not handle
};
inline constexpr std::size_t kRelayRefusals = static_cast<std::size_t>(RelayRefusal::unknown_type) + 1;
/// The `reason` label value: "unsigned", "forged", "stale", "malformed", "unknown_type".
std::string_view name_of(RelayRefusal r) noexcept;

/// Which rate limit refused something: frontmcp_rate_limited_total{limit}
/// (docs/configuration.md "Rate limits").
enum class RateLimited : std::uint8_t {
  tool,     ///< "tool": a tools/call answered with isError (ServerOptions::tool_rate)
  request,  ///< "request": an HTTP request answered 429 (HttpOptions::request_rate)
};

/// Every metric the server counts as it goes, in its own registry (one per server, so two
/// servers in a process do not share counts). Those read at scrape time (sessions, open
/// connections, heartbeat age, readiness, process_*) are added by core/observability.cpp.
class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

 private:
  std::unique_ptr<prometheus::Registry> registry_;  // before the handles into it

 public:
  std::array<std::array<Counter, 2>, kMethods> requests;  // [method][0 ok, 1 error]
  std::array<Histogram, kMethods> request_duration;
  std::array<Counter, kHttpCodes.size() + 1> http_responses;  // last: other codes

  std::array<Counter, 2> takeovers;  // [Takeover]
  Counter orphans_claimed;
  Counter relay_published;
  Counter relay_delivered;
  Counter relay_dropped;
  std::array<Counter, kRelayRefusals> relay_refusals;  // [RelayRefusal]
  Counter redis_errors;
  Histogram redis_command_duration;
  /// Session records in Redis that did not parse (removed; the client got 404).
  Counter session_records_corrupt;
  /// Requests naming a session that belongs to another principal (answered 404).
  Counter session_principal_mismatch;
  /// Calls and requests refused by a rate limit.
  std::array<Counter, 2> rate_limited;  // [RateLimited]

  void request_done(Method m, bool ok, std::chrono::nanoseconds d) noexcept {
    auto i = static_cast<std::size_t>(m);
    requests[i][ok ? 0 : 1].inc();
    request_duration[i].observe(d);
  }
  void http_response(int code) noexcept;
  void takeover(Takeover path) noexcept { takeovers[static_cast<std::size_t>(path)].inc(); }
  /// A relayed message was refused (and dropped) for `reason`.
  void relay_refused(RelayRefusal reason) noexcept { relay_refusals[static_cast<std::size_t>(reason)].inc(); }
  void refused_by(RateLimited limit) noexcept { rate_limited[static_cast<std::size_t>(limit)].inc(); }

  /// Appends every family of the registry (series sorted by their labels).
  void collect(std::vector<prometheus::MetricFamily>& out) const;
};

/// The exposition text (format 0.0.4) of `m`'s families alone, appended to `out`.
void render(const Metrics& m, std::string& out);

}  // namespace frontmcp::metrics
