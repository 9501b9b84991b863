// GET /readyz and GET /metrics of ServerCore (docs/observability.md).
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/server_core.hpp"
#include "util/exposition.hpp"

namespace frontmcp::core {

namespace {

constexpr std::string_view kOk = "ok";

/// Standard process_* metrics from /proc/self (Linux); nothing elsewhere.
void collect_process(metrics::Families& out) {
#if defined(__linux__)
  using prometheus::MetricType;
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (!std::getline(stat, line)) return;
  // Fields after the command name (which is in parentheses and may contain spaces).
  auto close = line.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string tok; rest >> tok;) f.push_back(tok);
  // f[0] is field 3 (state): utime = field 14, stime = 15, starttime = 22, rss = 24 (pages).
  auto field = [&](std::size_t n) -> double { return n - 3 < f.size() ? std::stod(f[n - 3]) : 0; };
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  metrics::metric(out, "process_cpu_seconds_total", "User and system CPU time spent in seconds.", MetricType::Counter,
                  (field(14) + field(15)) / ticks);
  metrics::metric(out, "process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
                  field(24) * page);
  std::ifstream up("/proc/uptime");
  double uptime = 0;
  if (up >> uptime) {
    auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    metrics::metric(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                    MetricType::Gauge, now - uptime + field(22) / ticks);
  }
  std::error_code ec;
  std::uint64_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  metrics::metric(out, "process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                  static_cast<double>(fds));
#else
  (void)out;
#endif
}

}  // namespace

ServerCore::Readiness ServerCore::readiness() const {
  // In order: the first failing probe is the one named in "failing".
  std::vector<std::pair<std::string, std::string>> checks;
  checks.emplace_back("startup", ready.load() ? std::string(kOk) : std::string("starting"));
  checks.emplace_back("shutdown", stopping.load() || draining.load() ? std::string("draining") : std::string(kOk));
  std::vector<std::string> warnings;
  if (backend) {
    for (auto& [name, why] : backend->probes())
      checks.emplace_back(name, why.empty() ? std::string(kOk) : std::move(why));
    warnings = backend->warnings();
  } else {
    checks.emplace_back("sessionStore", std::string(kOk));  // in memory: answers while the process runs
  }
  json::object c;
  std::string failing;
  std::string reason;
  for (auto& [name, state] : checks) {
    if (state != kOk && failing.empty()) {
      failing = name;
      reason = state;
    }
    c[name] = state;
  }
  json::object body{{"status", failing.empty() ? "ready" : "not ready"}};
  if (!failing.empty()) {
    body["failing"] = failing;
    body["reason"] = reason;
  }
  body["node"] = node_id;
  body["checks"] = std::move(c);
  // Warnings never make the node unready (the zero-config quick start keeps working).
  if (!warnings.empty()) {
    json::array w;
    for (auto& text : warnings) w.emplace_back(text);
    body["warnings"] = std::move(w);
  }
  return {failing.empty(), json::serialize(body)};
}

std::string ServerCore::render_metrics() const {
  using metrics::family;
  using metrics::metric;
  using metrics::sample;
  using prometheus::MetricType;
  auto num = [](std::uint64_t v) { return static_cast<double>(v); };
  metrics::Families out;
  out.reserve(40);
  metric(out, "frontmcp_up", "1 while the server process serves.", MetricType::Gauge, 1);
  sample(family(out, "frontmcp_build_info", "Version, deployment mode and node id of this server.", MetricType::Gauge),
         {{"version", options.info.version}, {"mode", std::string(to_string(options.mode))}, {"node", node_id}}, 1);
  metric(out, "frontmcp_ready", "1 when /readyz answers 200.", MetricType::Gauge, readiness().ready ? 1 : 0);

  std::uint64_t owned = 0, replica = 0;
  std::uint64_t event_bytes = 0;
  for (const auto& s : sessions.all()) {
    (directory->holds_stream(*s) ? owned : replica) += 1;
    event_bytes += s->event_bytes();
  }
  auto& sess = family(out, "frontmcp_sessions",
                      "Sessions in this node's memory: owned (streams and subscriptions live here) or replica (served "
                      "here, owned by another node).",
                      MetricType::Gauge);
  sample(sess, {{"state", "owned"}}, num(owned));
  sample(sess, {{"state", "replica"}}, num(replica));
  metric(out, "frontmcp_event_log_bytes",
         "Bytes of SSE event data kept for delivery and resumption, all sessions (bounded per session by "
         "maxEventBytesPerSession).",
         MetricType::Gauge, num(event_bytes));
  metric(out, "frontmcp_sessions_rejected_total", "initialize requests refused because maxSessions was reached.",
         MetricType::Counter, num(sessions_rejected.load()));
  metric(out, "frontmcp_connections_open", "Open HTTP connections.", MetricType::Gauge,
         num(http_counters.connections_open.load()));
  metric(out, "frontmcp_connections_rejected_total", "Connections refused because maxConnections was reached.",
         MetricType::Counter, num(http_counters.connections_rejected.load()));
  if (backend) backend->collect(out);
  metrics.collect(out);
  collect_process(out);
  return metrics::serialize(out);
}

}  // namespace frontmcp::core
