#pragma once
// SessionBackend: what a deployment mode plugs in below the protocol side. Standalone
// mode has none (sessions in this process: session::LocalDirectory, LocalMessageBus,
// MemoryEventStore); the cluster component (src/cluster, its own library) provides one for
// distributed mode and for serverless mode with Redis. The core library never names it:
// ServerOptions::session_backend carries the factory in (docs/architecture.md "Seams").
//
// Lifecycle, driven by Server: create (in ServerCore's constructor) → start (before the
// I/O threads) → wait_ready → ... → leave (graceful stop, after the drain) → stop (after
// the sessions are closed) → release_io (after the I/O threads have stopped).
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <frontmcp/options.hpp>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "session/directory.hpp"
#include "session/event_store.hpp"
#include "session/message_bus.hpp"
#include "util/exposition.hpp"
#include "util/metrics.hpp"

namespace frontmcp {

/// Runs a legacy POST /message body that another process forwarded for a session whose
/// /sse stream is here (SessionDirectory::forward_legacy).
using LegacyBodyHandler = std::function<void(const std::shared_ptr<session::Session>&, std::string body)>;

class SessionBackend {
 public:
  virtual ~SessionBackend() = default;

  virtual std::shared_ptr<session::EventStore> event_store() = 0;
  /// Before `sessions` makes its first session (how the backend wants them made: request
  /// id suffixes, stream numbering, its per-session data).
  virtual void prepare(session::SessionManager& sessions) = 0;
  /// Both are used only while the backend lives (ServerCore destroys them first).
  virtual std::unique_ptr<session::MessageBus> make_bus(session::SessionManager& sessions) = 0;
  virtual std::unique_ptr<session::SessionDirectory> make_directory(session::SessionManager& sessions) = 0;

  /// Connects and spawns the background work on `ex` (it runs once the I/O threads do).
  /// Throws HaConfigurationError on a bad configuration found only now (a Redis URL).
  virtual void start(session::SessionManager& sessions, boost::asio::any_io_executor ex, LegacyBodyHandler legacy) = 0;
  /// Waits up to `wait` until the backend is ready (what is not is retried in the
  /// background; readiness says so).
  virtual void wait_ready(std::chrono::milliseconds wait) = 0;
  virtual void leave() = 0;
  virtual void stop() = 0;
  virtual void release_io() = 0;

  /// /readyz probes in order: (name, "" when it passes, else why not).
  virtual std::vector<std::pair<std::string, std::string>> probes() const = 0;
  /// /readyz warnings (never make the node unready).
  virtual std::vector<std::string> warnings() const = 0;
  /// Adds the backend's scrape-time metrics (its counters live in metrics::Metrics).
  virtual void collect(metrics::Families& out) const = 0;
};

class SessionBackendFactory {
 public:
  virtual ~SessionBackendFactory() = default;
  /// Checks the options at Server::start in every mode (e.g. a relay secret that is set but
  /// too short). Throws std::runtime_error("HaConfigurationError: ...").
  virtual void validate(const ServerOptions& options) const = 0;
  /// Whether `options` need this backend (distributed mode, serverless with Redis).
  virtual bool wanted(const ServerOptions& options) const = 0;
  /// Logs what an operator must know at start (an unsigned relay ...).
  virtual void announce(const ServerOptions& options) const = 0;
  /// `metrics` outlives the backend.
  virtual std::unique_ptr<SessionBackend> create(const ServerOptions& options, std::string node_id,
                                                 metrics::Metrics& metrics) const = 0;
};

}  // namespace frontmcp
