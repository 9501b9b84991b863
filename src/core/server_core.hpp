#pragma once
// ServerCore: everything a transport needs, in one place, owned by Server::Impl.
// Beast- and Asio-free on purpose: included by many files.
#include "protocol/dispatcher.hpp"
#include "registry/registry.hpp"
#include "session/event_store.hpp"
#include "session/session_manager.hpp"
#include "util/metrics.hpp"

#include <frontmcp/options.hpp>

#include <atomic>
#include <memory>
#include <string>

namespace frontmcp::cluster {
class Cluster;
}

namespace frontmcp::core {

struct Counters {
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_rejected{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> sessions_rejected{0};
};

struct ServerCore {
  ServerCore(ServerOptions opts, std::string node);
  ~ServerCore();

  ServerOptions options;
  std::string node_id;
  /// Before everything that counts into it (cluster, dispatcher).
  metrics::Metrics metrics;
  bool dns_rebinding_protection = true;
  /// DNS-rebinding protection covers the probes and /metrics too: only on a loopback bind
  /// (on a routable one, Kubernetes probes send the pod IP as Host).
  bool probes_host_checked = true;
  registry::Registry registry;
  /// Distributed mode only (nullptr otherwise): Redis sessions, heartbeats, relay.
  std::unique_ptr<cluster::Cluster> cluster;
  std::shared_ptr<session::EventStore> events;
  std::shared_ptr<session::SessionStore> store;
  session::SessionManager sessions;
  std::unique_ptr<session::MessageBus> bus;
  protocol::Dispatcher dispatcher;
  Counters counters;
  /// Threads running the io_context (set by Server before it starts serving).
  unsigned io_threads = 0;
  std::atomic<bool> draining{false};
  /// Set first on a graceful stop: readiness 503 while still serving (shutdown_delay).
  std::atomic<bool> stopping{false};
  std::atomic<bool> ready{false};

  /// GET /readyz: ready, and a JSON body with every probe
  /// ({"status","failing","reason","checks":{probe: "ok" | why}}; see docs/observability.md).
  struct Readiness {
    bool ready = false;
    std::string body;
  };
  Readiness readiness() const;
  /// The Prometheus text of GET /metrics.
  std::string render_metrics() const;
};

/// The /readyz warning of a distributed node whose Pub/Sub relay is not signed.
inline constexpr std::string_view kRelayUnsignedWarning =
    "relay unsigned: set FRONTMCP_RELAY_SECRET (or relaySecret / --relay-secret-file)";
/// Distributed mode without a relay secret: relay messages are neither signed nor checked
/// (warned about at start and in /readyz; docs/security.md).
inline bool relay_unsigned(const ServerOptions& options) noexcept {
  return options.mode == DeploymentMode::distributed && options.ha.relay_secret.empty();
}

/// --node-id > MACHINE_ID > HOSTNAME > random (random always in serverless mode).
std::string resolve_node_id(const ServerOptions& options);
/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

}  // namespace frontmcp::core
