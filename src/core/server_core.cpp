#include "core/server_core.hpp"

#include "util/ids.hpp"

#include <cstdlib>

namespace frontmcp::core {

std::string resolve_node_id(const ServerOptions& options) {
  if (options.mode == DeploymentMode::serverless) return "node-" + util::random_hex_id().substr(0, 12);
  if (!options.node_id.empty()) return options.node_id;
  for (const char* var : {"MACHINE_ID", "HOSTNAME"}) {
    if (const char* v = std::getenv(var); v && *v) return v;
  }
  return "node-" + util::random_hex_id().substr(0, 12);
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  return host.substr(0, 4) == "127.";
}

ServerCore::ServerCore(ServerOptions opts, std::string node)
    : options(std::move(opts)),
      node_id(std::move(node)),
      dns_rebinding_protection(options.http.dns_rebinding_protection.value_or(is_loopback_host(options.http.host))),
      registry(options.session.page_size),
      events(std::make_shared<session::MemoryEventStore>(options.session.max_events_per_stream)),
      store(std::make_shared<session::MemorySessionStore>()),
      sessions(options.session.max_sessions, events, store, node_id),
      dispatcher(registry, sessions, options, node_id) {}

}  // namespace frontmcp::core
