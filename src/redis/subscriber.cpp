// redis::Subscriber: Pub/Sub on its own connection; see redis.hpp for the contract.
//
// After every (re)connect the subscriber sends one SUBSCRIBE for all channels and counts
// the confirmations; subscribed() and on_state(true) follow the last one. One watchdog
// per connection bounds each phase: the connect, the confirmations, and then liveness
// (an idle connection is PINGed every ping_interval and must answer within
// command_timeout): a subscriber never writes otherwise, so a dead peer would go unseen.
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <mutex>

#include "redis/connection.hpp"
#include "redis/redis.hpp"
#include "util/log.hpp"

namespace frontmcp::redis {

namespace detail {

struct SubscriberState {
  SubscriberState(net::any_io_executor ex, Config c, std::vector<std::string> chans,
                  std::function<void(std::string_view, std::string_view)> on_msg, std::function<void(bool)> on_st)
      : strand(net::make_strand(std::move(ex))),
        cfg(std::move(c)),
        tls_context(make_tls_context(cfg)),
        channels(std::move(chans)),
        retry(strand),
        state_log("redis subscriber", cfg.redacted()),
        on_message(std::move(on_msg)),
        on_state(std::move(on_st)) {}

  // Strand only.
  void handle(Connection& c, const Reply& reply);
  void became_subscribed(Connection& c);
  void shutdown() {
    retry.cancel();
    if (conn) conn->close("subscriber stopped");
  }

  void notify_state(bool up) {
    std::lock_guard lock(callback_mutex);
    if (!callbacks_enabled || !on_state) return;
    try {
      on_state(up);
    } catch (const std::exception& e) {
      util::log().error("redis subscriber: on_state callback threw: {}", e.what());
    }
  }
  void notify_alive(Clock::time_point sent) {
    if (!cfg.on_alive) return;
    std::lock_guard lock(callback_mutex);
    if (!callbacks_enabled) return;
    cfg.on_alive(sent);
  }
  void notify_message(std::string_view channel, std::string_view payload) {
    std::lock_guard lock(callback_mutex);
    if (!callbacks_enabled || !on_message) return;
    try {
      on_message(channel, payload);
    } catch (const std::exception& e) {
      util::log().error("redis subscriber: on_message callback threw: {}", e.what());
    }
  }

  const Strand strand;
  const Config cfg;
  const std::shared_ptr<net::ssl::context> tls_context;
  const std::vector<std::string> channels;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  std::atomic<bool> subscribed{false};

  // Strand only; the per-connection fields are reset by each connect.
  std::shared_ptr<Connection> conn;
  net::steady_timer retry;
  StateLog state_log;
  std::size_t confirmed = 0;
  bool awaiting_pong = false;
  Clock::time_point subscribe_sent{}, ping_sent{};

  // Callbacks run under callback_mutex so that none runs once stop() has returned.
  std::recursive_mutex callback_mutex;
  bool callbacks_enabled = true;
  std::function<void(std::string_view, std::string_view)> on_message;
  std::function<void(bool)> on_state;
};

void SubscriberState::became_subscribed(Connection& c) {
  subscribed.store(true);
  state_log.connected();
  c.deadline = Clock::now() + cfg.ping_interval;
  c.watch.cancel();
  notify_state(true);
  notify_alive(subscribe_sent);
}

void SubscriberState::handle(Connection& c, const Reply& reply) {
  const bool pong = (reply.type == Reply::Type::array && !reply.elements.empty() && reply.elements[0].str == "pong") ||
                    (reply.type == Reply::Type::status && reply.str == "PONG");
  if (pong && awaiting_pong) notify_alive(ping_sent);
  // Any reply proves the connection alive: the next PING is due one interval from now.
  // With on_alive, only the PING's own reply does (proofs must keep coming while
  // messages flow).
  if (pong || !cfg.on_alive) {
    awaiting_pong = false;
    if (subscribed.load()) c.deadline = Clock::now() + cfg.ping_interval;
  }

  if (reply.is_error()) {
    c.close("SUBSCRIBE failed: " + reply.str);
    return;
  }
  if (reply.type != Reply::Type::array || reply.elements.empty()) return;  // +PONG without channels
  const std::string& kind = reply.elements[0].str;
  if (kind == "message" && reply.elements.size() == 3) {
    notify_message(reply.elements[1].str, reply.elements[2].str);
  } else if (kind == "subscribe") {
    if (++confirmed == channels.size()) became_subscribed(c);
  }
  // "pong" and anything else: nothing to do.
}

namespace {

/// Bounds the connect and the SUBSCRIBE confirmations; then PINGs an idle connection and
/// closes it when the answer does not come in time.
net::awaitable<void> watch_subscription(std::shared_ptr<SubscriberState> self, std::shared_ptr<Connection> c) {
  while (!c->closed) {
    if (Clock::now() >= c->deadline) {
      if (!c->ready) {
        c->close("connect timeout after " + format_ms(self->cfg.connect_timeout));
        co_return;
      }
      if (!self->subscribed.load()) {
        c->close("no SUBSCRIBE confirmation within " + format_ms(self->cfg.command_timeout));
        co_return;
      }
      if (self->awaiting_pong) {
        c->close("no PING reply within " + format_ms(self->cfg.command_timeout));
        co_return;
      }
      Command ping;
      ping.emplace_back("PING");
      const bool writer_idle = c->out.empty();
      append_command(c->out, ping);
      if (writer_idle) c->wake.cancel();
      self->awaiting_pong = true;
      self->ping_sent = Clock::now();
      c->deadline = self->ping_sent + self->cfg.command_timeout;
    }
    c->watch.expires_at(c->deadline);
    boost::system::error_code ec;
    co_await c->watch.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
}

net::awaitable<void> run_subscriber(std::shared_ptr<SubscriberState> self) {
  Backoff backoff(self->cfg.reconnect_min, self->cfg.reconnect_max);
  while (!self->stopped.load()) {
    auto c = std::make_shared<Connection>(self->strand, self->tls_context.get());
    self->conn = c;
    self->confirmed = 0;
    self->awaiting_pong = false;
    c->deadline = Clock::now() + self->cfg.connect_timeout;
    net::co_spawn(self->strand, watch_subscription(self, c), util::LogEscaped{"redis subscriber: coroutine"});
    Status opened = co_await open(*c, self->cfg);
    bool was_subscribed = false;
    if (opened && !c->closed) {
      c->ready = true;
      backoff.reset();
      if (self->channels.empty()) {
        self->became_subscribed(*c);
      } else {
        Command subscribe;
        subscribe.reserve(self->channels.size() + 1);
        subscribe.emplace_back("SUBSCRIBE");
        subscribe.insert(subscribe.end(), self->channels.begin(), self->channels.end());
        append_command(c->out, subscribe);
        self->subscribe_sent = Clock::now();
        c->deadline = self->subscribe_sent + self->cfg.command_timeout;
        c->watch.cancel();
      }
      net::co_spawn(self->strand, write_loop(c), util::LogEscaped{"redis subscriber: coroutine"});
      Connection* conn = c.get();
      co_await read_loop(c, [&self, conn](Reply reply) { self->handle(*conn, reply); });
      was_subscribed = self->subscribed.exchange(false);
    } else {
      c->close(opened ? std::string("closed") : opened.error().message);
    }
    if (!self->stopped.load()) {
      if (was_subscribed) {
        self->state_log.lost(c->close_reason);
      } else {
        self->state_log.attempt_failed(c->close_reason);
      }
    }
    if (was_subscribed) self->notify_state(false);
    if (self->stopped.load()) break;
    self->retry.expires_after(backoff.next());
    boost::system::error_code ec;
    co_await self->retry.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
  self->subscribed.store(false);
  self->conn.reset();
}

}  // namespace
}  // namespace detail

struct Subscriber::Impl : detail::SubscriberState {
  using SubscriberState::SubscriberState;
};

Subscriber::Subscriber(boost::asio::any_io_executor ex, Config cfg, std::vector<std::string> channels,
                       std::function<void(std::string_view channel, std::string_view payload)> on_message,
                       std::function<void(bool connected)> on_state)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(cfg), std::move(channels), std::move(on_message),
                                   std::move(on_state))) {}

Subscriber::~Subscriber() {
  stop();
}

void Subscriber::start() {
  if (impl_->stopped.load() || impl_->started.exchange(true)) return;
  std::shared_ptr<detail::SubscriberState> self = impl_;
  boost::asio::co_spawn(impl_->strand, detail::run_subscriber(std::move(self)),
                        util::LogEscaped{"redis subscriber: coroutine"});
}

void Subscriber::stop() {
  std::shared_ptr<detail::SubscriberState> self = impl_;
  {
    std::lock_guard lock(self->callback_mutex);
    self->callbacks_enabled = false;
  }
  if (self->stopped.exchange(true)) return;
  self->subscribed.store(false);
  boost::asio::post(self->strand, [self] { self->shutdown(); });
}

bool Subscriber::subscribed() const noexcept {
  return impl_->subscribed.load();
}

}  // namespace frontmcp::redis
