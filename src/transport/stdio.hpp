#pragma once
// stdio transport: newline-delimited JSON-RPC on stdin/stdout, one implicit session (or,
// once a modern request pinned the process to MCP 2026-07-28, no session at all).
// stdout carries protocol messages only; logs go to stderr.
#include <boost/asio/io_context.hpp>
#include <istream>
#include <ostream>

#include "transport/deps.hpp"

namespace frontmcp::transport {

/// Serves until `in_fd` reaches EOF or SIGINT/SIGTERM arrives; returns the exit code
/// (0 for both). `ioc` must be running on at least one thread.
int run_stdio(Deps& deps, boost::asio::io_context& ioc, int in_fd, std::ostream& out);

}  // namespace frontmcp::transport
