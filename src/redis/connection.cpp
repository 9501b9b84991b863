#include "redis/connection.hpp"

#include <openssl/ssl.h>
#include <spdlog/logger.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <stdexcept>

#include "util/log.hpp"

namespace frontmcp::redis::detail {

std::string format_ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

namespace {
bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}
}  // namespace

Error redis_error(std::string_view reason) {
  return Error{errc::kServerError, "redis: " + std::string(reason), {}};
}

Error failure(std::string reason) {
  return Error{errc::kServerError, std::move(reason), {}};
}

std::shared_ptr<net::ssl::context> make_tls_context(const Config& cfg) {
  if (!cfg.tls) return nullptr;
  auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_client);
  ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 | net::ssl::context::no_sslv3 |
                   net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
  if (cfg.tls_verify) {
    boost::system::error_code ec;
    ctx->set_default_verify_paths(ec);  // no system CAs is not fatal when a CA file is given
    if (!cfg.tls_ca_file.empty()) {
      ctx->load_verify_file(cfg.tls_ca_file, ec);
      if (ec)
        throw std::invalid_argument("redis: cannot load the CA file (ca=) '" + cfg.tls_ca_file + "': " + ec.message());
    }
    ctx->set_verify_mode(net::ssl::verify_peer);
  } else {
    ctx->set_verify_mode(net::ssl::verify_none);
  }
  return ctx;
}

Connection::Connection(const Strand& strand, net::ssl::context* tls_context)
    : resolver(strand), plain(strand), wake(strand), watch(strand) {
  if (tls_context != nullptr) tls = std::make_unique<net::ssl::stream<tcp::socket>>(strand, *tls_context);
}

void Connection::close(std::string reason) {
  if (closed) return;
  closed = true;
  close_reason = std::move(reason);
  boost::system::error_code ec;
  resolver.cancel();
  socket().shutdown(tcp::socket::shutdown_both, ec);
  socket().close(ec);
  wake.cancel();
  watch.cancel();
}

net::awaitable<std::size_t> Connection::read_some(net::mutable_buffer buf, boost::system::error_code& ec) {
  if (tls) co_return co_await tls->async_read_some(buf, net::redirect_error(net::use_awaitable, ec));
  co_return co_await plain.async_read_some(buf, net::redirect_error(net::use_awaitable, ec));
}

net::awaitable<void> Connection::write(net::const_buffer buf, boost::system::error_code& ec) {
  if (tls) {
    co_await net::async_write(*tls, buf, net::redirect_error(net::use_awaitable, ec));
  } else {
    co_await net::async_write(plain, buf, net::redirect_error(net::use_awaitable, ec));
  }
}

net::awaitable<Result<Reply>> Connection::read_reply() {
  std::array<char, 4096> buf;
  for (;;) {
    auto next = reader.next();
    if (!next) co_return std::move(next).error();
    if (*next) co_return std::move(**next);
    boost::system::error_code ec;
    std::size_t n = co_await read_some(net::buffer(buf), ec);
    if (closed) co_return failure(close_reason);
    if (ec) co_return failure("read: " + ec.message());
    if (auto fed = reader.feed(buf.data(), n); !fed) co_return std::move(fed).error();
  }
}

net::awaitable<Status> open(Connection& c, const Config& cfg) {
  boost::system::error_code ec;
  const std::string where = cfg.host + ":" + std::to_string(cfg.port);
  if (is_ip_address(cfg.host)) {
    tcp::endpoint ep(net::ip::make_address(cfg.host), cfg.port);
    co_await c.socket().async_connect(ep, net::redirect_error(net::use_awaitable, ec));
  } else {
    auto endpoints = co_await c.resolver.async_resolve(cfg.host, std::to_string(cfg.port),
                                                       net::redirect_error(net::use_awaitable, ec));
    if (c.closed) co_return failure(c.close_reason);
    if (ec) co_return failure("cannot resolve " + cfg.host + ": " + ec.message());
    co_await net::async_connect(c.socket(), endpoints, net::redirect_error(net::use_awaitable, ec));
  }
  if (c.closed) co_return failure(c.close_reason);
  if (ec) co_return failure("cannot connect to " + where + ": " + ec.message());
  c.socket().set_option(tcp::no_delay(true), ec);

  if (c.tls) {
    // SNI is for host names only (RFC 6066); the certificate check covers IP addresses too.
    if (!is_ip_address(cfg.host) && SSL_set_tlsext_host_name(c.tls->native_handle(), cfg.host.c_str()) != 1)
      co_return failure("cannot set the TLS server name");
    if (cfg.tls_verify) c.tls->set_verify_callback(net::ssl::host_name_verification(cfg.host));
    co_await c.tls->async_handshake(net::ssl::stream_base::client, net::redirect_error(net::use_awaitable, ec));
    if (c.closed) co_return failure(c.close_reason);
    if (ec) co_return failure("TLS handshake with " + where + " failed: " + ec.message());
  }

  std::string hello;
  int replies = 0;
  if (!cfg.password.empty()) {
    Command auth;
    auth.emplace_back("AUTH");
    if (!cfg.username.empty()) auth.push_back(cfg.username);
    auth.push_back(cfg.password);
    append_command(hello, auth);
    ++replies;
  }
  if (cfg.db != 0) {
    Command select;
    select.emplace_back("SELECT");
    select.push_back(std::to_string(cfg.db));
    append_command(hello, select);
    ++replies;
  }
  if (replies == 0) co_return Ok{};
  co_await c.write(net::buffer(hello), ec);
  if (c.closed) co_return failure(c.close_reason);
  if (ec) co_return failure("write: " + ec.message());
  for (int i = 0; i < replies; ++i) {
    auto reply = co_await c.read_reply();
    if (!reply) co_return std::move(reply).error();
    if (reply->is_error()) {
      const bool auth = i == 0 && !cfg.password.empty();
      co_return failure(std::string(auth ? "AUTH" : "SELECT") + " failed: " + reply->str);
    }
  }
  co_return Ok{};
}

net::awaitable<void> write_loop(std::shared_ptr<Connection> c) {
  std::string writing;
  while (!c->closed) {
    if (c->out.empty()) {
      boost::system::error_code ec;
      c->wake.expires_at(Clock::time_point::max());
      co_await c->wake.async_wait(net::redirect_error(net::use_awaitable, ec));
      continue;
    }
    // Everything queued so far goes out in one write; what is queued meanwhile, in the next.
    writing.clear();
    writing.swap(c->out);
    boost::system::error_code ec;
    co_await c->write(net::buffer(writing), ec);
    if (ec && !c->closed) c->close("write: " + ec.message());
  }
}

net::awaitable<void> read_loop(std::shared_ptr<Connection> c, std::function<void(Reply)> on_reply) {
  std::array<char, 16 * 1024> buf;
  while (!c->closed) {
    boost::system::error_code ec;
    std::size_t n = co_await c->read_some(net::buffer(buf), ec);
    if (c->closed) break;
    if (ec) {
      c->close(ec == net::error::eof ? std::string("connection closed by the server") : "read: " + ec.message());
      break;
    }
    if (auto fed = c->reader.feed(buf.data(), n); !fed) {
      c->close(fed.error().message);
      break;
    }
    while (!c->closed) {
      auto next = c->reader.next();
      if (!next) {
        c->close(next.error().message);
        break;
      }
      if (!*next) break;
      on_reply(std::move(**next));
    }
  }
}

Backoff::Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max)
    : min_(std::max(min, std::chrono::milliseconds(1))),
      max_(std::max(max, min_)),
      current_(min_),
      rng_(std::random_device{}()) {}

std::chrono::milliseconds Backoff::next() {
  // Between half and all of the current step, never below min; the step doubles up to max.
  auto step = current_.count();
  std::uniform_int_distribution<long long> jitter(step / 2, step);
  auto wait = std::chrono::milliseconds(std::max<long long>(jitter(rng_), min_.count()));
  current_ = std::min(current_ * 2, max_);
  return wait;
}

void StateLog::connected() {
  if (ever_connected_ && down_reported_) {
    auto down = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - down_since_);
    util::log().info("{}: connection to {} restored after {} ms", what_, target_, down.count());
  } else if (!ever_connected_) {
    util::log().info("{}: connected to {}", what_, target_);
  }
  ever_connected_ = true;
  down_reported_ = false;
}

void StateLog::lost(const std::string& reason) {
  util::log().warn("{}: connection to {} lost: {}; reconnecting", what_, target_, reason);
  down_reported_ = true;
  down_since_ = Clock::now();
}

void StateLog::attempt_failed(const std::string& reason) {
  if (down_reported_) {
    util::log().debug("{}: reconnect to {} failed: {}", what_, target_, reason);
    return;
  }
  util::log().warn("{}: cannot connect to {}: {}; retrying", what_, target_, reason);
  down_reported_ = true;
  down_since_ = Clock::now();
}

}  // namespace frontmcp::redis::detail
