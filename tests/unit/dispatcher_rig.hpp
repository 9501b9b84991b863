#pragma once
// A Dispatcher with the in-process parts it needs (registry, sessions, bus, directory,
// metrics) and an Outbound that records what a request sends: the fixture of the unit
// tests that drive requests through the dispatcher (dispatcher_test, mrtr_test,
// typed_test). No sockets, no threads.
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/dispatcher.hpp"
#include "registry/registry.hpp"
#include "session/directory.hpp"
#include "session/event_store.hpp"
#include "session/message_bus.hpp"
#include "session/session_manager.hpp"
#include "util/metrics.hpp"

namespace frontmcp::test {

/// Records what a request sends while it runs.
class RecordingOutbound final : public session::Outbound {
 public:
  std::vector<json::value> sent;       // notifications and server->client requests
  std::vector<json::value> responses;  // send_response
  int disconnects = 0;
  /// Called after each send() (e.g. to answer a server->client request).
  std::function<void(const json::value&)> on_send;

  void send(const json::value& msg) override {
    sent.push_back(msg);
    if (on_send) on_send(msg);
  }
  void send_response(const json::value& msg) override { responses.push_back(msg); }
  void disconnect() override { ++disconnects; }

  std::vector<json::value> with_method(std::string_view method) const {
    std::vector<json::value> out;
    for (const auto& m : sent) {
      if (auto p = m.as_object().if_contains("method"); p && p->as_string() == method) out.push_back(m);
    }
    return out;
  }
};

/// Members in construction order: each refers only to those above it.
struct DispatcherRig {
  explicit DispatcherRig(ServerOptions o = {}) : options(std::move(o)) {}

  ServerOptions options;
  registry::Registry registry{options.session.page_size};
  std::shared_ptr<session::MemoryEventStore> events = std::make_shared<session::MemoryEventStore>(100);
  session::SessionManager sessions{10, events, "node-test"};
  session::LocalMessageBus bus{sessions};
  session::LocalDirectory directory{sessions};
  metrics::Metrics metrics;
  protocol::Dispatcher dispatcher{registry, sessions, bus, directory, options, "node-test", metrics};
  std::shared_ptr<RecordingOutbound> out = std::make_shared<RecordingOutbound>();
};

}  // namespace frontmcp::test
