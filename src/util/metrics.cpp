#include "util/metrics.hpp"

#include "util/decimal.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

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

void append_number(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_number(std::string& out, std::uint64_t v) { util::append_decimal(out, v); }

void open_labels(std::string& out, std::string_view name, std::string_view labels) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
}

}  // namespace

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

void Histogram::observe(std::chrono::nanoseconds d) noexcept {
  const double s = std::chrono::duration<double>(d).count();
  auto it = std::lower_bound(kBounds.begin(), kBounds.end(), s);  // first bound >= s: `le` semantics
  buckets_[static_cast<std::size_t>(it - kBounds.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(d.count(), 0)), std::memory_order_relaxed);
}

std::uint64_t Histogram::count() const noexcept {
  std::uint64_t n = 0;
  for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
  return n;
}

void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  // Bucket counts are read once each; the cumulative sums and _count are derived from the
  // same reads, so a scrape is self-consistent even while requests are being counted.
  std::uint64_t cumulative = 0;
  std::string bucket_name = std::string(name) + "_bucket";
  std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
  for (std::size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::string le = prefix + "le=\"";
    if (i < kBounds.size()) {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, kBounds[i], std::chars_format::general);  // 0.0001, not 1e-04
      le.append(buf, r.ptr);
    } else {
      le += "+Inf";
    }
    le += '"';
    write_sample(out, bucket_name, le, cumulative);
  }
  write_sample(out, std::string(name) + "_sum", labels,
               static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  write_sample(out, std::string(name) + "_count", labels, cumulative);
}

void Metrics::http_response(int code) noexcept {
  auto it = std::find(kHttpCodes.begin(), kHttpCodes.end(), code);
  http_responses[static_cast<std::size_t>(it - kHttpCodes.begin())].inc();
}

void write_help(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void write_sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  open_labels(out, name, labels);
  append_number(out, value);
  out += '\n';
}

void write_sample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  open_labels(out, name, labels);
  append_number(out, value);
  out += '\n';
}

void write_metric(std::string& out, std::string_view name, std::string_view type, std::string_view help, double value) {
  write_help(out, name, type, help);
  write_sample(out, name, "", value);
}

void write_metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                  std::uint64_t value) {
  write_help(out, name, type, help);
  write_sample(out, name, "", value);
}

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void render(const Metrics& m, std::string& out) {
  write_help(out, "frontmcp_requests_total", "counter",
             "JSON-RPC requests answered, by method and outcome (error: a JSON-RPC error response).");
  for (std::size_t i = 0; i < kMethods; ++i) {
    for (int e = 0; e < 2; ++e) {
      std::string labels = "method=\"" + std::string(kMethodNames[i]) + "\",status=\"" + (e ? "error" : "ok") + "\"";
      write_sample(out, "frontmcp_requests_total", labels, m.requests[i][e].value());
    }
  }
  write_help(out, "frontmcp_request_duration_seconds", "histogram",
             "Time from a request's dispatch to its response (handler time, including waits for the client).");
  for (std::size_t i = 0; i < kMethods; ++i) {
    m.request_duration[i].render(out, "frontmcp_request_duration_seconds",
                                 "method=\"" + std::string(kMethodNames[i]) + "\"");
  }
  write_help(out, "frontmcp_http_responses_total", "counter", "HTTP responses sent, by status code.");
  for (std::size_t i = 0; i <= kHttpCodes.size(); ++i) {
    std::string labels = "code=\"";
    if (i < kHttpCodes.size()) {
      append_number(labels, static_cast<std::uint64_t>(kHttpCodes[i]));
    } else {
      labels += "other";
    }
    labels += '"';
    write_sample(out, "frontmcp_http_responses_total", labels, m.http_responses[i].value());
  }
  write_help(out, "frontmcp_takeovers_total", "counter",
             "Sessions this node took over from a dead node (takeover.lua won), by the path that did it.");
  write_sample(out, "frontmcp_takeovers_total", "path=\"request\"", m.takeovers[0].value());
  write_sample(out, "frontmcp_takeovers_total", "path=\"scanner\"", m.takeovers[1].value());
  write_metric(out, "frontmcp_orphans_claimed_total", "counter", "Orphaned sessions claimed by this node's scanner.",
               m.orphans_claimed.value());
  write_metric(out, "frontmcp_relay_published_total", "counter",
               "Messages this node published to other nodes (Pub/Sub relay).", m.relay_published.value());
  write_metric(out, "frontmcp_relay_delivered_total", "counter",
               "Relayed messages delivered here to a stream or a waiting request.", m.relay_delivered.value());
  write_metric(out, "frontmcp_relay_dropped_total", "counter",
               "Relayed messages that found no session, stream or waiting request here, or had no known target.",
               m.relay_dropped.value());
  write_help(out, "frontmcp_relay_refused_total", "counter",
             "Relayed messages refused and dropped, by reason: unsigned (no signature while a relay secret is set), "
             "forged (bad signature, or signed for another channel), stale (timestamp outside the replay window), "
             "malformed, unknown_type.");
  for (std::size_t i = 0; i < kRelayRefusals; ++i) {
    write_sample(out, "frontmcp_relay_refused_total", "reason=\"" + std::string(kRelayRefusalNames[i]) + "\"",
                 m.relay_refusals[i].value());
  }
  write_metric(out, "frontmcp_redis_errors_total", "counter",
               "Redis commands that failed (connection lost, timeout, not connected) or got an error reply.",
               m.redis_errors.value());
  write_metric(out, "frontmcp_session_records_corrupt_total", "counter",
               "Session records in Redis that did not parse: removed, and the request answered 404 (the client "
               "initializes again).",
               m.session_records_corrupt.value());
  write_metric(out, "frontmcp_session_principal_mismatch_total", "counter",
               "Requests that named a session created by another principal (answered 404 like an unknown session).",
               m.session_principal_mismatch.value());
  write_help(out, "frontmcp_redis_command_duration_seconds", "histogram",
             "Round trip of Redis commands and pipelines that got replies.");
  m.redis_command_duration.render(out, "frontmcp_redis_command_duration_seconds", "");
}

}  // namespace frontmcp::metrics
