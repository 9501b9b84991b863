#pragma once
// Connection and request counts of the HTTP server (read by /metrics). Asio-free.
#include <atomic>
#include <cstdint>

namespace frontmcp::http {

struct Counters {
  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_rejected{0};
  std::atomic<std::uint64_t> requests{0};
};

}  // namespace frontmcp::http
