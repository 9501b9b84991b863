#pragma once
// What the transports use of the server, and nothing else: built by the composition root
// (core::ServerCore), which outlives every request. Asio- and Beast-free.
#include <atomic>
#include <cstdint>
#include <frontmcp/options.hpp>
#include <memory>

#include "protocol/dispatcher.hpp"
#include "session/directory.hpp"
#include "session/event_store.hpp"
#include "session/message_bus.hpp"
#include "session/session_manager.hpp"
#include "util/metrics.hpp"

namespace frontmcp::transport {

struct Deps {
  const ServerOptions& options;
  session::SessionManager& sessions;
  /// Where sessions live (this process, or a store shared by several nodes).
  session::SessionDirectory& directory;
  session::MessageBus& bus;
  std::shared_ptr<session::EventStore> events;
  protocol::Dispatcher& dispatcher;
  metrics::Metrics& metrics;
  /// initialize / GET /sse refused because maxSessions was reached (read by /metrics).
  std::atomic<std::uint64_t>& sessions_rejected;
  const std::atomic<bool>& draining;
};

}  // namespace frontmcp::transport
