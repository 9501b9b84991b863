#pragma once
// Configuration of the reference server: flag > environment > config file (TOML) >
// default. Errors (unknown keys, bad values) throw ConfigError naming the field.
#include <frontmcp/options.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace frontmcp_server {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct AppConfig {
  frontmcp::ServerOptions server;
  bool stdio = false;
  std::string log_level = "info";
};

/// Parses argv (and the environment, and --config FILE). Returns nullopt-like exit code
/// via `exit_code` when the program should exit right away (--help, --version).
AppConfig load_config(int argc, char** argv, int& exit_code);

}  // namespace frontmcp_server
