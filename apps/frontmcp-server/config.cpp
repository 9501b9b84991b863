#include "config.hpp"

#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>

namespace frontmcp_server {

namespace {

using frontmcp::DeploymentMode;
using frontmcp::ResponseMode;

DeploymentMode parse_mode(const std::string& s, const std::string& field) {
  if (s == "standalone") return DeploymentMode::standalone;
  if (s == "distributed") return DeploymentMode::distributed;
  if (s == "serverless") return DeploymentMode::serverless;
  throw ConfigError(field + ": '" + s + "' is not one of standalone, distributed, serverless");
}

ResponseMode parse_response_mode(const std::string& s, const std::string& field) {
  if (s == "auto") return ResponseMode::automatic;
  if (s == "sse") return ResponseMode::sse;
  if (s == "json") return ResponseMode::json;
  throw ConfigError(field + ": '" + s + "' is not one of auto, sse, json");
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

std::int64_t positive(std::int64_t v, const std::string& field) {
  if (v <= 0) throw ConfigError(field + ": must be a positive integer, got " + std::to_string(v));
  return v;
}

/// A rate limit's per_second: a finite number >= 0 (0 turns the limit off).
double rate(double v, const std::string& field) {
  if (!std::isfinite(v) || v < 0) {
    throw ConfigError(field + ": must be a number >= 0 (0 = no limit), got " + std::to_string(v));
  }
  return v;
}
/// A rate limit's burst: an integer >= 0 (0 = the rate, rounded up, at least 1).
std::uint32_t burst(std::int64_t v, const std::string& field) {
  constexpr std::int64_t kMaxBurst = 1'000'000'000;
  if (v < 0 || v > kMaxBurst) {
    throw ConfigError(field + ": must be an integer from 0 to " + std::to_string(kMaxBurst) + ", got " +
                      std::to_string(v));
  }
  return static_cast<std::uint32_t>(v);
}

/// An endpoint path: starts with '/', no query, no spaces.
std::string http_path(const std::string& v, const std::string& field) {
  if (v.empty() || v.front() != '/' || v.find_first_of("?# \t") != std::string::npos) {
    throw ConfigError(field + ": '" + v + "' is not a path (it must start with / and have no query or spaces)");
  }
  return v;
}
/// Like http_path, or "" (the endpoint is off).
std::string metrics_path(const std::string& v, const std::string& field) {
  return v.empty() ? v : http_path(v, field);
}

frontmcp::LogFormat parse_log_format(const std::string& s, const std::string& field) {
  if (s == "text") return frontmcp::LogFormat::text;
  if (s == "json") return frontmcp::LogFormat::json;
  throw ConfigError(field + ": '" + s + "' is not one of text, json");
}

bool parse_bool(const std::string& s, const std::string& field) {
  if (s == "true" || s == "on" || s == "1") return true;
  if (s == "false" || s == "off" || s == "0") return false;
  throw ConfigError(field + ": '" + s + "' is not one of true, false");
}

/// A token file (auth_tokens.hpp: `TOKEN [PRINCIPAL]` per line). Tokens are not put on the
/// command line, where every user of the machine can read them in ps.
std::vector<AuthToken> read_token_file(const std::string& path, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(field + ": cannot read a token from '" + path + "'");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    return parse_token_file(content);
  } catch (const TokenFileError& e) {
    throw ConfigError(field + ": '" + path + "' " + e.what());
  }
}

/// A relay secret from a file: the whole content, trailing line breaks trimmed (secrets are
/// bytes, so inner and leading characters are kept). The secret is never put in a message.
std::string read_secret_file(const std::string& path, const std::string& field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(field + ": cannot read '" + path + "'");
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw ConfigError(field + ": cannot read '" + path + "'");
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) throw ConfigError(field + ": '" + path + "' is empty");
  return secret;
}

/// The per-session limits (SessionOptions; docs/operations.md "Memory per session"): the
/// same positive integer as a config key and a flag.
struct SessionLimit {
  const char* key;
  const char* flag;
  std::size_t frontmcp::SessionOptions::*member;
  const char* help;
};
constexpr SessionLimit kSessionLimits[] = {
    {"maxEventsPerStream", "--max-events-per-stream", &frontmcp::SessionOptions::max_events_per_stream,
     "Events kept per stream for resumption (default 1000)"},
    {"maxEventBytesPerStream", "--max-event-bytes-per-stream", &frontmcp::SessionOptions::max_event_bytes_per_stream,
     "Event bytes kept per stream (default 1048576)"},
    {"maxEventBytesPerSession", "--max-event-bytes-per-session", &frontmcp::SessionOptions::max_event_bytes_per_session,
     "Event bytes kept per session, all streams (default 4194304)"},
    {"maxStreamsPerSession", "--max-streams-per-session", &frontmcp::SessionOptions::max_streams_per_session,
     "POST streams per session, in use or resumable (default 64)"},
    {"maxSubscriptionsPerSession", "--max-subscriptions-per-session",
     &frontmcp::SessionOptions::max_subscriptions_per_session, "resources/subscribe per session (default 100)"},
    {"maxUriBytes", "--max-uri-bytes", &frontmcp::SessionOptions::max_uri_bytes,
     "Longest subscribed URI (default 4096)"},
    {"maxClientInfoBytes", "--max-client-info-bytes", &frontmcp::SessionOptions::max_client_info_bytes,
     "initialize: clientInfo + capabilities as JSON (default 65536)"},
    {"maxPendingClientRequests", "--max-pending-client-requests",
     &frontmcp::SessionOptions::max_pending_client_requests,
     "Server->client requests waiting, per session (default 32)"},
    {"maxBatchSize", "--max-batch-size", &frontmcp::SessionOptions::max_batch_size,
     "Messages per JSON-RPC batch (default 100)"},
    {"maxListenStreams", "--max-listen-streams", &frontmcp::SessionOptions::max_listen_streams,
     "subscriptions/listen streams open at once (default 1024)"},
};
constexpr std::size_t kSessionLimitCount = std::size(kSessionLimits);

/// Flags as given on the command line (unset = not given).
struct Flags {
  std::optional<std::string> host, mode, redis, node_id, redis_key_prefix, config, log_level, response_mode;
  std::optional<std::string> log_format, healthz_path, readyz_path, metrics_path, auth_token_file, dns_rebinding;
  std::optional<std::string> relay_secret_file, relay_previous_secret_file;
  std::optional<std::int64_t> max_header_bytes, drain_timeout_ms, shutdown_delay_ms;
  std::optional<int> port;
  std::optional<std::int64_t> heartbeat_interval_ms, heartbeat_ttl_ms, takeover_grace_ms, max_body_bytes;
  std::optional<std::int64_t> max_sessions, max_connections, session_idle_ttl_ms, idle_timeout_ms;
  std::optional<std::int64_t> read_timeout_ms, write_timeout_ms;
  std::optional<unsigned> threads;
  std::optional<double> tool_calls_per_second, requests_per_second;
  std::optional<std::int64_t> tool_call_burst, request_burst;
  std::vector<std::string> allowed_hosts, allowed_origins, cors_origins, trusted_proxies;
  bool stdio = false;
  std::array<std::optional<std::int64_t>, kSessionLimitCount> session_limits;
};

void apply_file(const std::string& path, AppConfig& cfg) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw ConfigError("config file " + path + ": " + std::string(e.description()) + " at line " +
                      std::to_string(e.source().begin.line));
  }
  auto& o = cfg.server;
  auto str = [&](const std::string& key, const toml::node& n) {
    auto v = n.value<std::string>();
    if (!v) throw ConfigError("config " + key + ": expected a string");
    return *v;
  };
  auto num = [&](const std::string& key, const toml::node& n) {
    auto v = n.value<std::int64_t>();
    if (!v) throw ConfigError("config " + key + ": expected an integer");
    return positive(*v, "config " + key);
  };
  auto list = [&](const std::string& key, const toml::node& n) {
    std::vector<std::string> out;
    auto arr = n.as_array();
    if (!arr) throw ConfigError("config " + key + ": expected an array of strings");
    for (const auto& e : *arr) out.push_back(str(key, e));
    return out;
  };
  auto non_negative = [&](const std::string& key, const toml::node& n) {
    auto v = n.value<std::int64_t>();
    if (!v) throw ConfigError("config " + key + ": expected an integer");
    if (*v < 0) throw ConfigError("config " + key + ": must not be negative, got " + std::to_string(*v));
    return *v;
  };
  auto boolean = [&](const std::string& key, const toml::node& n) {
    auto v = n.value<bool>();
    if (!v || !n.is_boolean()) throw ConfigError("config " + key + ": expected true or false");
    return *v;
  };
  auto path_value = [&](const std::string& key, const toml::node& n) {
    return http_path(str(key, n), "config " + key);
  };
  auto per_second = [&](const std::string& key, const toml::node& n) {
    auto v = n.value<double>();  // an integer too
    if (!v || !(n.is_floating_point() || n.is_integer())) throw ConfigError("config " + key + ": expected a number");
    return rate(*v, "config " + key);
  };
  auto burst_value = [&](const std::string& key, const toml::node& n) {
    auto v = n.value<std::int64_t>();
    if (!v || !n.is_integer()) throw ConfigError("config " + key + ": expected an integer");
    return burst(*v, "config " + key);
  };
  // [toolRateLimits] NAME = { perSecond = R, burst = B }: per-tool replacements of the
  // tools/call limit (burst optional).
  auto tool_rates = [&](const std::string& key, const toml::node& n) {
    std::map<std::string, frontmcp::RateLimit, std::less<>> out;
    auto table = n.as_table();
    if (!table) throw ConfigError("config " + key + ": expected a table of tool name = { perSecond, burst }");
    for (const auto& [tool, v] : *table) {
      std::string field = key + "." + std::string(tool.str());
      auto entry = v.as_table();
      if (!entry) throw ConfigError("config " + field + ": expected { perSecond = N, burst = N }");
      frontmcp::RateLimit limit;
      bool has_rate = false;
      for (const auto& [k2, v2] : *entry) {
        std::string sub(k2.str());
        if (sub == "perSecond") {
          limit.per_second = per_second(field + ".perSecond", v2);
          has_rate = true;
        } else if (sub == "burst") {
          limit.burst = burst_value(field + ".burst", v2);
        } else {
          throw ConfigError("config " + field + ": unknown key '" + sub + "' (perSecond, burst)");
        }
      }
      if (!has_rate) throw ConfigError("config " + field + ": perSecond is missing");
      out.emplace(std::string(tool.str()), limit);
    }
    return out;
  };
  for (const auto& [k, n] : t) {
    std::string key(k.str());
    if (key == "host")
      o.http.host = str(key, n);
    else if (key == "port")
      o.http.port = static_cast<std::uint16_t>(num(key, n));
    else if (key == "mode")
      o.mode = parse_mode(str(key, n), "config mode");
    else if (key == "redisUrl")
      o.ha.redis_url = str(key, n);
    else if (key == "nodeId")
      o.node_id = str(key, n);
    else if (key == "heartbeatIntervalMs")
      o.ha.heartbeat_interval = std::chrono::milliseconds(num(key, n));
    else if (key == "heartbeatTtlMs")
      o.ha.heartbeat_ttl = std::chrono::milliseconds(num(key, n));
    else if (key == "takeoverGracePeriodMs")
      o.ha.takeover_grace_period = std::chrono::milliseconds(num(key, n));
    else if (key == "redisKeyPrefix")
      o.ha.redis_key_prefix = str(key, n);
    else if (key == "relaySecret")
      o.ha.relay_secret = str(key, n);
    else if (key == "relayPreviousSecret")
      o.ha.relay_previous_secret = str(key, n);
    else if (key == "requestStateSecret")
      o.stateless.request_state_secret = str(key, n);
    else if (key == "requestStatePreviousSecret")
      o.stateless.request_state_previous_secret = str(key, n);
    else if (key == "logLevel")
      cfg.log_level = str(key, n);
    else if (key == "responseMode")
      o.response_mode = parse_response_mode(str(key, n), "config responseMode");
    else if (key == "maxBodyBytes")
      o.http.max_body_bytes = static_cast<std::size_t>(num(key, n));
    else if (key == "maxSessions")
      o.session.max_sessions = static_cast<std::size_t>(num(key, n));
    else if (key == "maxConnections")
      o.http.max_connections = static_cast<std::size_t>(num(key, n));
    else if (key == "sessionIdleTtlMs")
      o.session.idle_ttl = std::chrono::milliseconds(num(key, n));
    else if (key == "idleTimeoutMs")
      o.http.idle_timeout = std::chrono::milliseconds(num(key, n));
    else if (key == "readTimeoutMs")
      o.http.read_timeout = std::chrono::milliseconds(num(key, n));
    else if (key == "writeTimeoutMs")
      o.http.write_timeout = std::chrono::milliseconds(num(key, n));
    else if (key == "threads")
      o.threads = static_cast<unsigned>(num(key, n));
    else if (key == "allowedHosts")
      o.http.allowed_hosts = list(key, n);
    else if (key == "allowedOrigins")
      o.http.allowed_origins = list(key, n);
    else if (key == "corsOrigins")
      o.http.cors_allowed_origins = list(key, n);
    else if (key == "trustedProxies")
      o.http.trusted_proxies = list(key, n);
    else if (key == "healthzPath")
      o.http.healthz_path = path_value(key, n);
    else if (key == "readyzPath")
      o.http.readyz_path = path_value(key, n);
    else if (key == "metricsPath")
      o.http.metrics_path = metrics_path(str(key, n), "config " + key);
    else if (key == "maxHeaderBytes")
      o.http.max_header_bytes = static_cast<std::size_t>(num(key, n));
    else if (key == "dnsRebindingProtection")
      o.http.dns_rebinding_protection = boolean(key, n);
    else if (key == "drainTimeoutMs")
      o.drain_timeout = std::chrono::milliseconds(num(key, n));
    else if (key == "shutdownDelayMs")
      o.shutdown_delay = std::chrono::milliseconds(non_negative(key, n));
    else if (key == "logFormat")
      cfg.log_format = parse_log_format(str(key, n), "config logFormat");
    else if (key == "toolCallsPerSecond")
      o.tool_rate.per_second = per_second(key, n);
    else if (key == "toolCallBurst")
      o.tool_rate.burst = burst_value(key, n);
    else if (key == "toolRateLimits")
      o.tool_rates = tool_rates(key, n);
    else if (key == "requestsPerSecond")
      o.http.request_rate.per_second = per_second(key, n);
    else if (key == "requestBurst")
      o.http.request_rate.burst = burst_value(key, n);
    else if (key == "authTokenFile")
      cfg.auth_tokens = read_token_file(str(key, n), "config authTokenFile");
    else if (auto* l = std::find_if(std::begin(kSessionLimits), std::end(kSessionLimits),
                                    [&](const SessionLimit& x) { return key == x.key; });
             l != std::end(kSessionLimits))
      o.session.*(l->member) = static_cast<std::size_t>(num(key, n));
    else
      throw ConfigError("config file " + path + ": unknown key '" + key + "'");
  }
}

}  // namespace

AppConfig load_config(int argc, char** argv, int& exit_code) {
  exit_code = -1;
  Flags f;
  CLI::App app{"frontmcp-server: the reference MCP server of frontmcp-cpp"};
  app.set_version_flag("--version", "frontmcp-server 0.1.0");
  app.add_option("--host", f.host, "Bind address (default 127.0.0.1)");
  app.add_option("--port", f.port, "TCP port, 0 for any free port (default 3000)")->check(CLI::Range(0, 65535));
  app.add_option("--mode", f.mode, "standalone | distributed | serverless (env FRONTMCP_DEPLOYMENT_MODE)");
  app.add_option("--redis", f.redis, "Redis URL (env FRONTMCP_REDIS_URL, then REDIS_URL)");
  app.add_option("--node-id", f.node_id, "Node id (env MACHINE_ID, then HOSTNAME)");
  app.add_option("--heartbeat-interval-ms", f.heartbeat_interval_ms, "heartbeatIntervalMs (default 10000)");
  app.add_option("--heartbeat-ttl-ms", f.heartbeat_ttl_ms, "heartbeatTtlMs (default 30000)");
  app.add_option("--takeover-grace-period-ms", f.takeover_grace_ms, "takeoverGracePeriodMs (default 5000)");
  app.add_option("--redis-key-prefix", f.redis_key_prefix, "redisKeyPrefix (default mcp:ha:)");
  app.add_option("--config", f.config, "TOML config file (env FRONTMCP_CONFIG)");
  app.add_flag("--stdio", f.stdio, "Serve one client over stdin/stdout instead of HTTP");
  app.add_option("--log-level", f.log_level, "trace | debug | info | warn | error (default info)");
  app.add_option("--response-mode", f.response_mode, "auto | sse | json (default auto)");
  app.add_option("--max-body-bytes", f.max_body_bytes, "Largest request body (default 4194304)");
  app.add_option("--max-sessions", f.max_sessions, "Most sessions at once (default 10000)");
  app.add_option("--max-connections", f.max_connections, "Most open connections (default 10000)");
  app.add_option("--session-idle-ttl-ms", f.session_idle_ttl_ms, "Idle session lifetime (default 1800000)");
  app.add_option("--idle-timeout-ms", f.idle_timeout_ms, "Close keep-alive connections idle this long (default 60000)");
  for (std::size_t i = 0; i < kSessionLimitCount; ++i) {
    app.add_option(kSessionLimits[i].flag, f.session_limits[i], kSessionLimits[i].help);
  }
  app.add_option("--read-timeout-ms", f.read_timeout_ms,
                 "Reading a request's body must finish within this (default 30000)");
  app.add_option("--write-timeout-ms", f.write_timeout_ms,
                 "Each write to a client must finish within this, or the connection is closed (default 30000)");
  app.add_option("--threads", f.threads, "I/O threads (default: one per core)");
  app.add_option("--tool-calls-per-second", f.tool_calls_per_second,
                 "tools/call per principal and tool, per second; 0 = no limit (default 50)");
  app.add_option("--tool-call-burst", f.tool_call_burst,
                 "tools/call at once per principal and tool (default 100; 0 = the rate)");
  app.add_option("--requests-per-second", f.requests_per_second,
                 "HTTP requests per principal (or client address), per second; 0 = no limit (default 200)");
  app.add_option("--request-burst", f.request_burst,
                 "HTTP requests at once per principal or client address (default 400; 0 = the rate)");
  app.add_option("--allowed-host", f.allowed_hosts, "Extra Host accepted by DNS-rebinding protection (repeatable)");
  app.add_option("--allowed-origin", f.allowed_origins,
                 "Extra Origin accepted by DNS-rebinding protection (repeatable)");
  app.add_option("--cors-origin", f.cors_origins, "Origin allowed by CORS, or * (repeatable)");
  app.add_option("--trusted-proxy", f.trusted_proxies,
                 "Proxy (address or network a/len) whose X-Forwarded-For gives the client's address (repeatable)");
  app.add_option("--dns-rebinding-protection", f.dns_rebinding, "true | false (default: true when bound to loopback)");
  app.add_option("--max-header-bytes", f.max_header_bytes, "Largest request header block (default 16384)");
  app.add_option("--drain-timeout-ms", f.drain_timeout_ms,
                 "On SIGTERM, how long requests in flight may take (default 5000)");
  app.add_option("--shutdown-delay-ms", f.shutdown_delay_ms,
                 "On SIGTERM, serve this long with /readyz 503 before draining (default 0)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--healthz-path", f.healthz_path, "Liveness endpoint (default /healthz)");
  app.add_option("--readyz-path", f.readyz_path, "Readiness endpoint (default /readyz)");
  app.add_option("--metrics-path", f.metrics_path, "Prometheus endpoint, \"\" to turn it off (default /metrics)");
  app.add_option("--log-format", f.log_format, "text | json (JSON lines) (default text)");
  app.add_option(
      "--auth-token-file", f.auth_token_file,
      "File of bearer tokens, one `TOKEN [PRINCIPAL]` per line; every MCP request must carry one, and a session "
      "serves only its creator's principal (env FRONTMCP_AUTH_TOKEN: one token)");
  app.add_option("--relay-secret-file", f.relay_secret_file,
                 "File holding the relay secret that signs messages between nodes, >= 16 bytes "
                 "(env FRONTMCP_RELAY_SECRET)");
  app.add_option("--relay-previous-secret-file", f.relay_previous_secret_file,
                 "File holding the previous relay secret, still accepted while rotating "
                 "(env FRONTMCP_RELAY_SECRET_PREVIOUS)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return {};
  }

  AppConfig cfg;
  auto& o = cfg.server;
  // 1. config file
  std::optional<std::string> file = f.config;
  if (!file && env("FRONTMCP_CONFIG")) file = env("FRONTMCP_CONFIG");
  if (file) apply_file(*file, cfg);
  // 2. environment
  if (auto v = env("FRONTMCP_DEPLOYMENT_MODE")) o.mode = parse_mode(v, "FRONTMCP_DEPLOYMENT_MODE");
  if (auto v = env("FRONTMCP_REDIS_URL"))
    o.ha.redis_url = v;
  else if (auto r = env("REDIS_URL"))
    o.ha.redis_url = r;
  if (auto v = env("FRONTMCP_AUTH_TOKEN")) cfg.auth_tokens = {AuthToken{v, {}}};
  if (auto v = env("FRONTMCP_RELAY_SECRET")) o.ha.relay_secret = v;
  if (auto v = env("FRONTMCP_RELAY_SECRET_PREVIOUS")) o.ha.relay_previous_secret = v;
  if (auto v = env("FRONTMCP_REQUEST_STATE_SECRET")) o.stateless.request_state_secret = v;
  if (auto v = env("FRONTMCP_REQUEST_STATE_SECRET_PREVIOUS")) o.stateless.request_state_previous_secret = v;
  if (auto v = env("MACHINE_ID")) o.node_id = v;  // beats the file; HOSTNAME only fills a gap
  if (o.node_id.empty()) {
    if (auto v = env("HOSTNAME")) o.node_id = v;
  }
  // 3. flags
  if (f.host) o.http.host = *f.host;
  if (f.port) o.http.port = static_cast<std::uint16_t>(*f.port);
  if (f.mode) o.mode = parse_mode(*f.mode, "--mode");
  if (f.redis) o.ha.redis_url = *f.redis;
  if (f.node_id) o.node_id = *f.node_id;
  if (f.heartbeat_interval_ms)
    o.ha.heartbeat_interval = std::chrono::milliseconds(positive(*f.heartbeat_interval_ms, "--heartbeat-interval-ms"));
  if (f.heartbeat_ttl_ms)
    o.ha.heartbeat_ttl = std::chrono::milliseconds(positive(*f.heartbeat_ttl_ms, "--heartbeat-ttl-ms"));
  if (f.takeover_grace_ms)
    o.ha.takeover_grace_period =
        std::chrono::milliseconds(positive(*f.takeover_grace_ms, "--takeover-grace-period-ms"));
  if (f.redis_key_prefix) o.ha.redis_key_prefix = *f.redis_key_prefix;
  if (f.log_level) cfg.log_level = *f.log_level;
  if (f.response_mode) o.response_mode = parse_response_mode(*f.response_mode, "--response-mode");
  if (f.max_body_bytes)
    o.http.max_body_bytes = static_cast<std::size_t>(positive(*f.max_body_bytes, "--max-body-bytes"));
  if (f.max_sessions) o.session.max_sessions = static_cast<std::size_t>(positive(*f.max_sessions, "--max-sessions"));
  if (f.max_connections)
    o.http.max_connections = static_cast<std::size_t>(positive(*f.max_connections, "--max-connections"));
  if (f.session_idle_ttl_ms)
    o.session.idle_ttl = std::chrono::milliseconds(positive(*f.session_idle_ttl_ms, "--session-idle-ttl-ms"));
  if (f.idle_timeout_ms)
    o.http.idle_timeout = std::chrono::milliseconds(positive(*f.idle_timeout_ms, "--idle-timeout-ms"));
  if (f.read_timeout_ms)
    o.http.read_timeout = std::chrono::milliseconds(positive(*f.read_timeout_ms, "--read-timeout-ms"));
  if (f.write_timeout_ms)
    o.http.write_timeout = std::chrono::milliseconds(positive(*f.write_timeout_ms, "--write-timeout-ms"));
  if (f.threads) o.threads = *f.threads;
  if (f.tool_calls_per_second) o.tool_rate.per_second = rate(*f.tool_calls_per_second, "--tool-calls-per-second");
  if (f.tool_call_burst) o.tool_rate.burst = burst(*f.tool_call_burst, "--tool-call-burst");
  if (f.requests_per_second) o.http.request_rate.per_second = rate(*f.requests_per_second, "--requests-per-second");
  if (f.request_burst) o.http.request_rate.burst = burst(*f.request_burst, "--request-burst");
  for (std::size_t i = 0; i < kSessionLimitCount; ++i) {
    if (auto v = f.session_limits[i])
      o.session.*(kSessionLimits[i].member) = static_cast<std::size_t>(positive(*v, kSessionLimits[i].flag));
  }
  for (auto& h : f.allowed_hosts) o.http.allowed_hosts.push_back(h);
  for (auto& h : f.allowed_origins) o.http.allowed_origins.push_back(h);
  for (auto& h : f.cors_origins) o.http.cors_allowed_origins.push_back(h);
  for (auto& h : f.trusted_proxies) o.http.trusted_proxies.push_back(h);
  if (f.dns_rebinding) o.http.dns_rebinding_protection = parse_bool(*f.dns_rebinding, "--dns-rebinding-protection");
  if (f.max_header_bytes)
    o.http.max_header_bytes = static_cast<std::size_t>(positive(*f.max_header_bytes, "--max-header-bytes"));
  if (f.shutdown_delay_ms) o.shutdown_delay = std::chrono::milliseconds(*f.shutdown_delay_ms);
  if (f.drain_timeout_ms)
    o.drain_timeout = std::chrono::milliseconds(positive(*f.drain_timeout_ms, "--drain-timeout-ms"));
  if (f.healthz_path) o.http.healthz_path = http_path(*f.healthz_path, "--healthz-path");
  if (f.readyz_path) o.http.readyz_path = http_path(*f.readyz_path, "--readyz-path");
  if (f.metrics_path) o.http.metrics_path = metrics_path(*f.metrics_path, "--metrics-path");
  if (f.log_format) cfg.log_format = parse_log_format(*f.log_format, "--log-format");
  if (f.auth_token_file) cfg.auth_tokens = read_token_file(*f.auth_token_file, "--auth-token-file");
  if (f.relay_secret_file) o.ha.relay_secret = read_secret_file(*f.relay_secret_file, "--relay-secret-file");
  if (f.relay_previous_secret_file) {
    o.ha.relay_previous_secret = read_secret_file(*f.relay_previous_secret_file, "--relay-previous-secret-file");
  }
  cfg.stdio = f.stdio;

  // Validation that needs the whole picture.
  if (o.mode == DeploymentMode::distributed) {
    if (o.ha.redis_url.empty()) {
      throw ConfigError(
          "HaConfigurationError: distributed mode needs Redis: add --redis redis://HOST:PORT "
          "(or set FRONTMCP_REDIS_URL / REDIS_URL, or redisUrl in the config file)");
    }
    if (o.ha.heartbeat_ttl <= o.ha.heartbeat_interval) {
      throw ConfigError("HaConfigurationError: heartbeatTtlMs (" + std::to_string(o.ha.heartbeat_ttl.count()) +
                        ") must be greater than heartbeatIntervalMs (" +
                        std::to_string(o.ha.heartbeat_interval.count()) + ")");
    }
  }
  // Relay secrets: checked in every mode (a secret that is set is meant to be used).
  auto too_short = [](const std::string& secret) {
    return !secret.empty() && secret.size() < frontmcp::kRelaySecretMinBytes;
  };
  auto min_bytes = std::to_string(frontmcp::kRelaySecretMinBytes);
  if (too_short(o.ha.relay_secret)) {
    throw ConfigError(
        "HaConfigurationError: the relay secret (relaySecret / FRONTMCP_RELAY_SECRET / "
        "--relay-secret-file) is " +
        std::to_string(o.ha.relay_secret.size()) + " bytes long; it needs at least " + min_bytes +
        " (e.g. `openssl rand -hex 32`)");
  }
  if (too_short(o.ha.relay_previous_secret)) {
    throw ConfigError(
        "HaConfigurationError: the previous relay secret (relayPreviousSecret / "
        "FRONTMCP_RELAY_SECRET_PREVIOUS / --relay-previous-secret-file) is " +
        std::to_string(o.ha.relay_previous_secret.size()) + " bytes long; it needs at least " + min_bytes);
  }
  if (o.ha.relay_secret.empty() && !o.ha.relay_previous_secret.empty()) {
    throw ConfigError(
        "HaConfigurationError: a previous relay secret is set without a current one "
        "(relaySecret / FRONTMCP_RELAY_SECRET / --relay-secret-file): the previous one only verifies");
  }
  // requestState secrets (multi-round-trip requests of MCP 2026-07-28; docs/protocol.md).
  for (const auto* secret : {&o.stateless.request_state_secret, &o.stateless.request_state_previous_secret}) {
    if (!secret->empty() && secret->size() < frontmcp::kRequestStateSecretMinBytes) {
      throw ConfigError(
          "a requestState secret (requestStateSecret / FRONTMCP_REQUEST_STATE_SECRET, or the previous "
          "one) is " +
          std::to_string(secret->size()) + " bytes long; it needs at least " +
          std::to_string(frontmcp::kRequestStateSecretMinBytes) + " (e.g. `openssl rand -hex 32`)");
    }
  }
  if (o.stateless.request_state_secret.empty() && !o.stateless.request_state_previous_secret.empty()) {
    throw ConfigError(
        "a previous requestState secret is set without a current one (requestStateSecret / "
        "FRONTMCP_REQUEST_STATE_SECRET): the previous one only verifies");
  }
  static const std::vector<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::find(kLevels.begin(), kLevels.end(), cfg.log_level) == kLevels.end()) {
    throw ConfigError("log level: '" + cfg.log_level +
                      "' is not one of trace, debug, info, warn, error, critical, off");
  }
  return cfg;
}

}  // namespace frontmcp_server
