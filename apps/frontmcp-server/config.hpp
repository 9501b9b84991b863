#pragma once
// Configuration of the reference server: flag > environment > config file (TOML) >
// default. Errors (unknown keys, bad values) throw ConfigError naming the field.
#include <frontmcp/logging.hpp>
#include <frontmcp/options.hpp>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "auth_tokens.hpp"

namespace frontmcp_server {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct AppConfig {
  frontmcp::ServerOptions server;
  bool stdio = false;
  std::string log_level = "info";
  frontmcp::LogFormat log_format = frontmcp::LogFormat::text;
  /// Bearer tokens of which every MCP request must carry one, each with its principal
  /// (authTokenFile / --auth-token-file / FRONTMCP_AUTH_TOKEN); empty = no check.
  /// Installed as ServerOptions::http.authorize by main() (bearer_check).
  std::vector<AuthToken> auth_tokens;
};

/// Parses argv (and the environment, and --config FILE). Returns nullopt-like exit code
/// via `exit_code` when the program should exit right away (--help, --version).
AppConfig load_config(int argc, char** argv, int& exit_code);

}  // namespace frontmcp_server
