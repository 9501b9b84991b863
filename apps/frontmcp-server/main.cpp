// frontmcp-server: the reference MCP server (conformance fixtures + demo tools).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <csignal>
#include <frontmcp/cluster.hpp>
#include <frontmcp/logging.hpp>
#include <frontmcp/server.hpp>
#include <iostream>

#include "config.hpp"
#include "fixtures.hpp"

int main(int argc, char** argv) {
  // Logs go to stderr: stdout belongs to the protocol (stdio) or to the one
  // "listening on" line that scripts wait for.
  spdlog::set_default_logger(spdlog::stderr_color_mt("frontmcp"));
  // A peer that vanishes mid-write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  // Every connection takes a descriptor: use all the hard limit allows (the soft one is
  // often 1024). HttpServer keeps its connection limit below what is left.
  if (rlimit rl{}; getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  // SIGINT/SIGTERM wait until the server's handlers are in place (run() / run_stdio()),
  // so a signal right after the "listening" line still shuts down cleanly.
  frontmcp::block_stop_signals();
  try {
    int exit_code = -1;
    auto cfg = frontmcp_server::load_config(argc, argv, exit_code);
    if (exit_code >= 0) return exit_code;
    frontmcp::configure_logging(cfg.log_format, cfg.log_level);
    if (!cfg.auth_tokens.empty()) cfg.server.http.authorize = frontmcp_server::bearer_check(cfg.auth_tokens);
    // Every mode from the same binary: the cluster component serves distributed mode and
    // serverless mode with Redis (unused in standalone mode).
    cfg.server.session_backend = frontmcp::cluster::backend();
    frontmcp::Server server(cfg.server);
    frontmcp_server::register_fixtures(server);
    if (cfg.stdio) return server.run_stdio();
    server.start();
    std::cout << "frontmcp-server listening on http://" << cfg.server.http.host << ":" << server.port()
              << cfg.server.http.mcp_path << std::endl;
    return server.run();
  } catch (const frontmcp_server::ConfigError& e) {
    std::cerr << "frontmcp-server: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "frontmcp-server: " << e.what() << "\n";
    return 1;
  }
}
