#pragma once
// ServerCore: the composition root's state, owned by Server::Impl: it builds the parts in
// dependency order and wires them (the directory and bus of a SessionBackend, or the
// in-process ones). Parts receive what they use (transport::Deps, http::Site), never the
// ServerCore. Beast- and Asio-free.
#include <atomic>
#include <frontmcp/options.hpp>
#include <memory>
#include <string>

#include "core/backend.hpp"
#include "http/counters.hpp"
#include "protocol/dispatcher.hpp"
#include "registry/registry.hpp"
#include "session/directory.hpp"
#include "session/event_store.hpp"
#include "session/session_manager.hpp"
#include "transport/deps.hpp"
#include "util/metrics.hpp"

namespace frontmcp::core {

struct ServerCore {
  /// Throws HaConfigurationError when the mode needs a SessionBackend that
  /// ServerOptions::session_backend does not provide.
  ServerCore(ServerOptions opts, std::string node);
  ~ServerCore();

  ServerOptions options;
  std::string node_id;
  /// Before everything that counts into it (backend, dispatcher).
  metrics::Metrics metrics;
  bool dns_rebinding_protection = true;
  /// DNS-rebinding protection covers the probes and /metrics too: only on a loopback bind.
  bool probes_host_checked = true;
  registry::Registry registry;
  /// Distributed mode, serverless with Redis (nullptr otherwise).
  std::unique_ptr<SessionBackend> backend;
  std::shared_ptr<session::EventStore> events;
  session::SessionManager sessions;
  std::unique_ptr<session::MessageBus> bus;
  std::unique_ptr<session::SessionDirectory> directory;
  protocol::Dispatcher dispatcher;
  http::Counters http_counters;
  std::atomic<std::uint64_t> sessions_rejected{0};
  std::atomic<bool> draining{false};
  /// Set first on a graceful stop: readiness 503 while still serving (shutdown_delay).
  std::atomic<bool> stopping{false};
  std::atomic<bool> ready{false};
  /// What the transports use.
  transport::Deps deps;

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

/// --node-id > MACHINE_ID > HOSTNAME > random (random always in serverless mode).
std::string resolve_node_id(const ServerOptions& options);

}  // namespace frontmcp::core
