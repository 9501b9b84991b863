#include "util/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>

#include "util/exposition.hpp"

namespace frontmcp::metrics {

namespace {

constexpr std::array<std::string_view, kMethods> kMethodNames{
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "other",
};

constexpr std::array<std::string_view, kRelayRefusals> kRelayRefusalNames{
    "unsigned", "forged", "stale", "malformed", "unknown_type",
};

prometheus::Family<prometheus::Counter>& counters(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

Counter counter(prometheus::Registry& r, const char* name, const char* help) {
  return Counter(counters(r, name, help).Add({}));
}

prometheus::Family<prometheus::Histogram>& histograms(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

const prometheus::Histogram::BucketBoundaries& bounds() {
  static const prometheus::Histogram::BucketBoundaries b(Histogram::kBounds.begin(), Histogram::kBounds.end());
  return b;
}

}  // namespace

void Counter::inc() noexcept {
  c_->Increment();
}

std::uint64_t Counter::value() const noexcept {
  return static_cast<std::uint64_t>(c_->Value());
}

void Histogram::observe(std::chrono::nanoseconds d) noexcept {
  h_->Observe(std::chrono::duration<double>(std::max(d, std::chrono::nanoseconds::zero())).count());
}

std::uint64_t Histogram::count() const {
  return h_->Collect().histogram.sample_count;
}

Method method_of(std::string_view name) noexcept {
  for (std::size_t i = 0; i + 1 < kMethods; ++i) {
    if (kMethodNames[i] == name) return static_cast<Method>(i);
  }
  return Method::other;
}

std::string_view name_of(Method m) noexcept {
  return kMethodNames[static_cast<std::size_t>(m)];
}

std::string_view name_of(RelayRefusal r) noexcept {
  return kRelayRefusalNames[static_cast<std::size_t>(r)];
}

// Families are registered in the order they are exposed (prometheus-cpp writes counters,
// then gauges, then histograms, each kind in registration order).
Metrics::Metrics() : registry_(std::make_unique<prometheus::Registry>()) {
  auto& r = *registry_;
  auto& req = counters(r, "frontmcp_requests_total",
                       "JSON-RPC requests answered, by method and outcome (error: a JSON-RPC error response).");
  auto& dur =
      histograms(r, "frontmcp_request_duration_seconds",
                 "Time from a request's dispatch to its response (handler time, including waits for the client).");
  for (std::size_t i = 0; i < kMethods; ++i) {
    const std::string method(kMethodNames[i]);
    requests[i][0] = Counter(req.Add({{"method", method}, {"status", "ok"}}));
    requests[i][1] = Counter(req.Add({{"method", method}, {"status", "error"}}));
    request_duration[i] = Histogram(dur.Add({{"method", method}}, bounds()));
  }
  auto& http = counters(r, "frontmcp_http_responses_total", "HTTP responses sent, by status code.");
  for (std::size_t i = 0; i <= kHttpCodes.size(); ++i) {
    http_responses[i] =
        Counter(http.Add({{"code", i < kHttpCodes.size() ? std::to_string(kHttpCodes[i]) : std::string("other")}}));
  }
  auto& take = counters(r, "frontmcp_takeovers_total",
                        "Sessions this node took over from a dead node (takeover.lua won), by the path that did it.");
  takeovers[static_cast<std::size_t>(Takeover::request)] = Counter(take.Add({{"path", "request"}}));
  takeovers[static_cast<std::size_t>(Takeover::scanner)] = Counter(take.Add({{"path", "scanner"}}));
  orphans_claimed = counter(r, "frontmcp_orphans_claimed_total", "Orphaned sessions claimed by this node's scanner.");
  relay_published =
      counter(r, "frontmcp_relay_published_total", "Messages this node published to other nodes (Pub/Sub relay).");
  relay_delivered =
      counter(r, "frontmcp_relay_delivered_total", "Relayed messages delivered here to a stream or a waiting request.");
  relay_dropped =
      counter(r, "frontmcp_relay_dropped_total",
              "Relayed messages that found no session, stream or waiting request here, or had no known target.");
  auto& refused =
      counters(r, "frontmcp_relay_refused_total",
               "Relayed messages refused and dropped, by reason: unsigned (no signature while a relay secret is set), "
               "forged (bad signature, or signed for another channel), stale (timestamp outside the replay window), "
               "malformed, unknown_type.");
  for (std::size_t i = 0; i < kRelayRefusals; ++i) {
    relay_refusals[i] = Counter(refused.Add({{"reason", std::string(kRelayRefusalNames[i])}}));
  }
  redis_errors = counter(r, "frontmcp_redis_errors_total",
                         "Redis commands that failed (connection lost, timeout, not connected) or got an error reply.");
  session_records_corrupt = counter(r, "frontmcp_session_records_corrupt_total",
                                    "Session records in Redis that did not parse: removed, and the request answered "
                                    "404 (the client initializes again).");
  session_principal_mismatch =
      counter(r, "frontmcp_session_principal_mismatch_total",
              "Requests that named a session created by another principal (answered 404 like an unknown session).");
  auto& limited = counters(r, "frontmcp_rate_limited_total",
                           "Refused by a rate limit, by limit: tool (a tools/call answered with isError, per principal "
                           "and tool), request (an HTTP request answered 429, per principal or client address).");
  rate_limited[static_cast<std::size_t>(RateLimited::tool)] = Counter(limited.Add({{"limit", "tool"}}));
  rate_limited[static_cast<std::size_t>(RateLimited::request)] = Counter(limited.Add({{"limit", "request"}}));
  redis_command_duration = Histogram(histograms(r, "frontmcp_redis_command_duration_seconds",
                                                "Round trip of Redis commands and pipelines that got replies.")
                                         .Add({}, bounds()));
}

Metrics::~Metrics() = default;

void Metrics::http_response(int code) noexcept {
  auto it = std::find(kHttpCodes.begin(), kHttpCodes.end(), code);
  http_responses[static_cast<std::size_t>(it - kHttpCodes.begin())].inc();
}

void Metrics::collect(Families& out) const {
  auto families = registry_->Collect();
  for (auto& f : families) {
    // A family keeps its series in a hash map: sort them, so that scrapes read alike.
    std::sort(f.metric.begin(), f.metric.end(),
              [](const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) { return a.label < b.label; });
    out.push_back(std::move(f));
  }
}

void render(const Metrics& m, std::string& out) {
  Families families;
  m.collect(families);
  out += serialize(families);
}

prometheus::MetricFamily& family(Families& out, std::string name, std::string help, prometheus::MetricType type) {
  auto& f = out.emplace_back();
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void sample(prometheus::MetricFamily& f, LabelPairs labels, double value) {
  auto& m = f.metric.emplace_back();
  for (const auto& [name, v] : labels) m.label.push_back({name, v});
  if (f.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
}

void metric(Families& out, std::string name, std::string help, prometheus::MetricType type, double value) {
  sample(family(out, std::move(name), std::move(help), type), {}, value);
}

std::string serialize(const Families& families) {
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace frontmcp::metrics
