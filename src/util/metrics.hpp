#pragma once
// The server's Prometheus metrics: plain atomics that the hot path bumps without a lock,
// a lookup or an allocation, and a text renderer (exposition format 0.0.4) used by
// GET /metrics. Hand-written on purpose: prometheus-cpp is not packaged in Debian 12, and
// its registry (label maps, a mutex per family lookup) would cost more per request than
// everything else here; see docs/observability.md.
//
// Label values come from closed sets (the MCP methods we know, the HTTP codes we send),
// so the number of series is fixed at compile time: a client cannot blow up the
// cardinality by inventing method names.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace frontmcp::metrics {

class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

/// Latency histogram with fixed bucket bounds (seconds, Prometheus' `le`).
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                  0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5};
  void observe(std::chrono::nanoseconds d) noexcept;
  /// Appends `name_bucket{labels,le=...}`, `name_sum{labels}` and `name_count{labels}`.
  /// `labels` is "" or `key="value",...` without braces.
  void render(std::string& out, std::string_view name, std::string_view labels) const;
  std::uint64_t count() const noexcept;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};  // last: +Inf
  std::atomic<std::uint64_t> sum_ns_{0};
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

/// Every metric the server exports, except those read at scrape time (sessions, open
/// connections, heartbeat age, readiness: see core/metrics.cpp).
struct Metrics {
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

  void request_done(Method m, bool ok, std::chrono::nanoseconds d) noexcept {
    auto i = static_cast<std::size_t>(m);
    requests[i][ok ? 0 : 1].inc();
    request_duration[i].observe(d);
  }
  void http_response(int code) noexcept;
  void takeover(Takeover path) noexcept { takeovers[static_cast<std::size_t>(path)].inc(); }
  /// A relayed message was refused (and dropped) for `reason`.
  void relay_refused(RelayRefusal reason) noexcept { relay_refusals[static_cast<std::size_t>(reason)].inc(); }
};

/// Exposition-format helpers.
void write_help(std::string& out, std::string_view name, std::string_view type, std::string_view help);
void write_sample(std::string& out, std::string_view name, std::string_view labels, double value);
void write_sample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value);
/// A metric without labels: its HELP and TYPE lines and its one sample.
void write_metric(std::string& out, std::string_view name, std::string_view type, std::string_view help, double value);
void write_metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                  std::uint64_t value);
/// A label value escaped for the exposition format (\\, \" and \n).
std::string escape_label(std::string_view v);

/// Appends every metric of `m` (with HELP and TYPE lines).
void render(const Metrics& m, std::string& out);

}  // namespace frontmcp::metrics
