// A server that runs as one node of a cluster: sessions in Redis, any node serves any
// session, a node's death moves its sessions to the others (docs/ha.md).
//   cluster_server PORT REDIS_URL [NODE_ID]
// Start two on different ports with the same Redis, initialize on one, call on the other.
#include <frontmcp/cluster.hpp>
#include <frontmcp/server.hpp>
#include <iostream>
#include <string>

using namespace frontmcp;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: cluster_server PORT REDIS_URL [NODE_ID]\n";
    return 2;
  }
  ServerOptions options;
  options.info.name = "cluster-server";
  options.http.port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  options.mode = DeploymentMode::distributed;
  options.ha.redis_url = argv[2];
  if (argc > 3) options.node_id = argv[3];
  options.session_backend = cluster::backend();  // the cluster component: sessions in Redis

  Server server(options);
  Tool whoami;
  whoami.name = "whoami";
  whoami.description = "Names the node that served the call";
  whoami.input_schema = {{"type", "object"}};
  whoami.handler = [](Context& ctx, const json::object&) -> Result<ToolResult> {
    return ToolResult::text("served by " + std::string(ctx.node_id()));
  };
  server.add_tool(std::move(whoami));

  block_stop_signals();
  server.start();
  std::cout << "cluster_server listening on http://127.0.0.1:" << server.port() << "/mcp" << std::endl;
  return server.run();
}
