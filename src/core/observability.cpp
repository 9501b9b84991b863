// GET /readyz and GET /metrics of ServerCore (docs/observability.md).
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cluster/cluster.hpp"
#include "core/server_core.hpp"

namespace frontmcp::core {

namespace {

constexpr std::string_view kOk = "ok";

/// Standard process_* metrics from /proc/self (Linux); nothing elsewhere.
void render_process(std::string& out) {
#if defined(__linux__)
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
  metrics::write_metric(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.",
                        (field(14) + field(15)) / ticks);
  metrics::write_metric(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                        field(24) * page);
  std::ifstream up("/proc/uptime");
  double uptime = 0;
  if (up >> uptime) {
    auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    metrics::write_metric(out, "process_start_time_seconds", "gauge",
                          "Start time of the process since unix epoch in seconds.", now - uptime + field(22) / ticks);
  }
  std::error_code ec;
  std::uint64_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  metrics::write_metric(out, "process_open_fds", "gauge", "Number of open file descriptors.", fds);
#else
  (void)out;
#endif
}

}  // namespace

ServerCore::Readiness ServerCore::readiness() const {
  // In order: the first failing probe is the one named in "failing".
  std::vector<std::pair<std::string_view, std::string>> checks;
  checks.emplace_back("startup", ready.load() ? std::string(kOk) : std::string("starting"));
  checks.emplace_back("shutdown", stopping.load() || draining.load() ? std::string("draining") : std::string(kOk));
  if (cluster) {
    auto p = cluster->probes();
    checks.emplace_back("redis", p.redis.empty() ? std::string(kOk) : p.redis);
    if (!cluster->serverless()) {
      checks.emplace_back("relay", p.relay.empty() ? std::string(kOk) : p.relay);
      checks.emplace_back("heartbeat", p.heartbeat.empty() ? std::string(kOk) : p.heartbeat);
    }
  } else {
    checks.emplace_back("sessionStore", std::string(kOk));  // in memory: answers while the process runs
  }
  json::object c;
  std::string_view failing;
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
  if (relay_unsigned(options)) body["warnings"] = json::array{kRelayUnsignedWarning};
  return {failing.empty(), json::serialize(body)};
}

std::string ServerCore::render_metrics() const {
  std::string out;
  out.reserve(16 * 1024);
  using metrics::write_help;
  using metrics::write_metric;
  using metrics::write_sample;
  write_metric(out, "frontmcp_up", "gauge", "1 while the server process serves.", std::uint64_t{1});
  write_help(out, "frontmcp_build_info", "gauge", "Version, deployment mode and node id of this server.");
  write_sample(out, "frontmcp_build_info",
               "version=\"" + metrics::escape_label(options.info.version) + "\",mode=\"" +
                   std::string(to_string(options.mode)) + "\",node=\"" + metrics::escape_label(node_id) + "\"",
               std::uint64_t{1});
  write_metric(out, "frontmcp_ready", "gauge", "1 when /readyz answers 200.",
               std::uint64_t{readiness().ready ? 1u : 0u});

  std::uint64_t owned = 0, replica = 0;
  std::uint64_t event_bytes = 0;
  for (const auto& s : sessions.all()) {
    (s->owned() ? owned : replica) += 1;
    event_bytes += s->event_bytes();
  }
  write_help(out, "frontmcp_sessions", "gauge",
             "Sessions in this node's memory: owned (streams and subscriptions live here) or replica (served here, "
             "owned by another node).");
  write_sample(out, "frontmcp_sessions", "state=\"owned\"", owned);
  write_sample(out, "frontmcp_sessions", "state=\"replica\"", replica);
  write_metric(out, "frontmcp_event_log_bytes", "gauge",
               "Bytes of SSE event data kept for delivery and resumption, all sessions (bounded per session by "
               "maxEventBytesPerSession).",
               event_bytes);
  write_metric(out, "frontmcp_sessions_rejected_total", "counter",
               "initialize requests refused because maxSessions was reached.", counters.sessions_rejected.load());
  write_metric(out, "frontmcp_connections_open", "gauge", "Open HTTP connections.", counters.connections_open.load());
  write_metric(out, "frontmcp_connections_rejected_total", "counter",
               "Connections refused because maxConnections was reached.", counters.connections_rejected.load());
  if (cluster && !cluster->serverless()) {
    write_metric(out, "frontmcp_heartbeat_age_seconds", "gauge",
                 "Seconds since this node's last successful heartbeat write (-1 before the first).",
                 cluster->heartbeat_age_seconds());
  }
  metrics::render(metrics, out);
  render_process(out);
  return out;
}

}  // namespace frontmcp::core
