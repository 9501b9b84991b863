#include "core/server_core.hpp"

#include "cluster/cluster.hpp"
#include "util/ids.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
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
  // Exact forms only: a prefix test would let "127.0.0.1.evil.example" through.
  constexpr std::string_view kLocalhost = "localhost";
  if (host.size() == kLocalhost.size() &&
      std::equal(host.begin(), host.end(), kLocalhost.begin(),
                 [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; })) {
    return true;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string h(host);
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
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
bool uses_redis(const ServerOptions& o) {
  return o.mode == DeploymentMode::distributed || (o.mode == DeploymentMode::serverless && !o.ha.redis_url.empty());
}
}  // namespace

ServerCore::ServerCore(ServerOptions opts, std::string node)
    : options(effective(std::move(opts))),
      node_id(std::move(node)),
      dns_rebinding_protection(options.http.dns_rebinding_protection.value_or(is_loopback_host(options.http.host))),
      probes_host_checked(dns_rebinding_protection && is_loopback_host(options.http.host)),
      registry(options.session.page_size),
      cluster(uses_redis(options) ? std::make_unique<cluster::Cluster>(options, node_id, metrics) : nullptr),
      events(cluster ? cluster->event_store()
                     : std::make_shared<session::MemoryEventStore>(session::event_limits(options.session))),
      store(std::make_shared<session::MemorySessionStore>()),
      sessions(options.session.max_sessions, events, store, node_id),
      bus(cluster ? cluster->make_bus(sessions) : std::make_unique<session::LocalMessageBus>(sessions)),
      dispatcher(registry, sessions, *bus, options, node_id, metrics) {
  if (cluster) cluster->configure(sessions);
}

ServerCore::~ServerCore() = default;

}  // namespace frontmcp::core
