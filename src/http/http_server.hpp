#pragma once
// HttpServer: accepts connections and runs one coroutine per connection on its own
// strand. Beast-free header (pimpl).
#include "core/server_core.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>

namespace frontmcp::http {

class HttpServer {
 public:
  HttpServer(core::ServerCore& core, boost::asio::io_context& ioc);
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
