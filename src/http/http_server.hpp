#pragma once
// HttpServer: accepts connections and runs one coroutine per connection on its own
// strand, answering each request from its Site (http_io.hpp: the routes the transports
// registered, the probes). Knows nothing of MCP. Beast-free header (pimpl).
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string_view>

namespace frontmcp::http {

struct Site;

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

class HttpServer {
 public:
  /// `site` outlives the server and its connections.
  HttpServer(const Site& site, boost::asio::io_context& ioc);
  ~HttpServer();
  /// Binds and listens; throws std::runtime_error naming the address on failure.
  void start();
  /// Stops accepting (open connections finish on their own).
  void stop_accepting();
  std::uint16_t port() const;
  std::uint64_t open_connections() const;
  /// After stop_accepting(): the listener is closed and no connection is open.
  bool drained() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace frontmcp::http
