#include "core/server_core.hpp"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "http/http_server.hpp"
#include "util/ids.hpp"

namespace frontmcp::core {

std::string resolve_node_id(const ServerOptions& options) {
  if (options.mode == DeploymentMode::serverless) return "node-" + util::random_hex_id().substr(0, 12);
  if (!options.node_id.empty()) return options.node_id;
  for (const char* var : {"MACHINE_ID", "HOSTNAME"}) {
    if (const char* v = std::getenv(var); v && *v) return v;
  }
  return "node-" + util::random_hex_id().substr(0, 12);
}

namespace {
/// Serverless mode: no long-lived streams, so every POST is answered with JSON and there
/// is no event log to resume (docs/operations.md §1 "Deployment modes").
ServerOptions effective(ServerOptions o) {
  if (o.mode == DeploymentMode::serverless) {
    o.response_mode = ResponseMode::json;
    o.session.resumability = false;
  }
  return o;
}
/// The backend the mode needs (nullptr: standalone, in this process).
std::unique_ptr<SessionBackend> make_backend(const ServerOptions& o, const std::string& node, metrics::Metrics& m) {
  if (o.session_backend) {
    if (o.session_backend->wanted(o)) return o.session_backend->create(o, node, m);
    return nullptr;
  }
  if (o.mode == DeploymentMode::distributed || (o.mode == DeploymentMode::serverless && !o.ha.redis_url.empty())) {
    throw std::runtime_error(
        "HaConfigurationError: " + std::string(to_string(o.mode)) +
        " mode keeps sessions in Redis, which the core library does not include: link frontmcp::cluster "
        "(find_package(frontmcp COMPONENTS cluster)) and set ServerOptions::session_backend = "
        "frontmcp::cluster::backend()");
  }
  return nullptr;
}

/// The bounds of every tool's argument validation. The step budget grows with what a body
/// may hold (one step per two bytes: an array of small numbers near the body limit still
/// validates against a plain `items` schema), about 20 ms of CPU at the 4 MiB default;
/// never below the validator's own default. docs/json-schema.md.
schema::Limits tool_schema_limits(std::size_t max_body_bytes) {
  schema::Limits limits;
  limits.max_steps = std::max(limits.max_steps, max_body_bytes / 2);
  return limits;
}
}  // namespace

ServerCore::ServerCore(ServerOptions opts, std::string node)
    : options(effective(std::move(opts))),
      node_id(std::move(node)),
      dns_rebinding_protection(
          options.http.dns_rebinding_protection.value_or(http::is_loopback_host(options.http.host))),
      probes_host_checked(dns_rebinding_protection && http::is_loopback_host(options.http.host)),
      registry(options.session.page_size, tool_schema_limits(options.http.max_body_bytes)),
      backend(make_backend(options, node_id, metrics)),
      events(backend ? backend->event_store()
                     : std::make_shared<session::MemoryEventStore>(session::event_limits(options.session))),
      sessions(options.session.max_sessions, events, node_id, options.session.max_listen_streams),
      bus(backend ? backend->make_bus(sessions) : std::make_unique<session::LocalMessageBus>(sessions)),
      directory(backend ? backend->make_directory(sessions) : std::make_unique<session::LocalDirectory>(sessions)),
      dispatcher(registry, sessions, *bus, *directory, options, node_id, metrics),
      deps{options, sessions, *directory, *bus, events, dispatcher, metrics, sessions_rejected, draining} {
  if (backend) backend->prepare(sessions);
}

ServerCore::~ServerCore() = default;

}  // namespace frontmcp::core
