#pragma once
// The cluster component (find_package(frontmcp COMPONENTS cluster), target
// frontmcp::cluster): sessions in Redis for distributed mode (several nodes, automatic
// session failover; docs/ha.md) and for serverless mode with a Redis URL.
//
//   frontmcp::ServerOptions o;
//   o.mode = frontmcp::DeploymentMode::distributed;
//   o.ha.redis_url = "redis://127.0.0.1:6379";
//   o.session_backend = frontmcp::cluster::backend();
//   frontmcp::Server server(o);
#include <frontmcp/options.hpp>
#include <memory>

namespace frontmcp::cluster {

/// The Redis session backend. Harmless in standalone mode (not used there), so a program
/// may always set it and choose the mode by configuration.
std::shared_ptr<const SessionBackendFactory> backend();

}  // namespace frontmcp::cluster
