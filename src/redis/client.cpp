// redis::Client: one pipelined connection on a strand; see redis.hpp for the contract.
//
// Life of a command: the caller encodes it (on its own thread) and posts a Request to
// the strand; enqueue() appends the bytes to the connection's output and the Request to
// `pending`, in the same order, so the n-th reply read answers the n-th pending Request.
// The writer coroutine sends everything queued in one write; the reader coroutine feeds
// hiredis's reader and completes Requests front to back. Completions are posted to the
// caller's executor. One watchdog per connection waits for the oldest Request's deadline
// (the oldest always expires first) and resets the connection when it passes.
#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <exception>
#include <mutex>

#include "redis/connection.hpp"
#include "redis/redis.hpp"
#include "util/log.hpp"

namespace frontmcp::redis {

namespace detail {

using Replies = Result<std::vector<Reply>>;

/// A move-only, type-erased completion handler that is always invoked on its own
/// associated executor (the caller's), never inline. Work is tracked on that executor
/// until the handler is posted.
class Completion {
 public:
  Completion() = default;
  template <class Handler>
  Completion(Handler handler, const net::any_io_executor& fallback)
      : model_(std::make_unique<Model<Handler>>(std::move(handler), fallback)) {}

  explicit operator bool() const noexcept { return model_ != nullptr; }
  /// At most once.
  void complete(Replies result) {
    auto model = std::move(model_);
    model->post(std::move(result));
  }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void post(Replies result) = 0;
  };
  template <class Handler>
  struct Model final : Base {
    Model(Handler h, const net::any_io_executor& fallback)
        : handler(std::move(h)),
          work(net::prefer(net::any_io_executor(net::get_associated_executor(handler, fallback)),
                           net::execution::outstanding_work.tracked)) {}
    void post(Replies result) override {
      net::any_io_executor ex = std::move(work);
      net::post(ex, [h = std::move(handler), r = std::move(result)]() mutable { std::move(h)(std::move(r)); });
    }
    Handler handler;
    net::any_io_executor work;
  };
  std::unique_ptr<Base> model_;
};

struct Request {
  std::string bytes;  // moved to the connection's output by enqueue()
  std::size_t expected = 1;
  std::vector<Reply> replies;
  Completion done;  // empty for Client::send()
  Clock::time_point deadline;
};

/// Client::Impl's state (a named base so that the free coroutines below can use it).
struct ClientState {
  ClientState(net::any_io_executor ex, Config c)
      : strand(net::make_strand(std::move(ex))),
        cfg(std::move(c)),
        tls_context(make_tls_context(cfg)),
        retry(strand),
        state_log("redis", cfg.redacted()) {}

  // Strand only.
  void enqueue(Request req);
  bool deliver(Reply reply);
  void finish(Request req);
  void observe(const Request& req, Config::Outcome outcome) const;
  void fail_pending(const std::string& reason);
  void shutdown();

  // Any thread.
  void notify_state(bool up);
  /// Why a command cannot be sent now.
  const char* unavailable() const { return stopped.load() ? "client stopped" : "not connected"; }
  void set_last_error(const std::string& reason) {
    std::lock_guard lock(error_mutex);
    last_error = reason;
  }

  const Strand strand;
  const Config cfg;
  const std::shared_ptr<net::ssl::context> tls_context;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  std::atomic<bool> connected{false};

  // Strand only.
  std::shared_ptr<Connection> conn;
  std::deque<Request> pending;
  net::steady_timer retry;
  StateLog state_log;

  // on_state runs under callback_mutex, so that once stop() has returned it neither runs
  // nor will run. Recursive: a callback may call stop() (or destroy the Client).
  std::recursive_mutex callback_mutex;
  bool callbacks_enabled = true;
  std::function<void(bool)> on_state;

  mutable std::mutex error_mutex;
  std::string last_error;
};

void ClientState::enqueue(Request req) {
  if (stopped.load() || !conn || !conn->ready || conn->closed) {
    observe(req, Config::Outcome::failed);
    // stop() may have come between Submit's check and this (then "stopped", as there).
    if (req.done) req.done.complete(redis_error(unavailable()));
    return;
  }
  Connection& c = *conn;
  if (pending.empty()) c.watch.cancel();  // the watchdog re-arms for this deadline
  const bool writer_idle = c.out.empty();
  c.out += req.bytes;
  req.bytes = std::string();
  pending.push_back(std::move(req));
  if (writer_idle) c.wake.cancel();
}

bool ClientState::deliver(Reply reply) {
  if (pending.empty()) return false;
  Request& front = pending.front();
  front.replies.push_back(std::move(reply));
  if (front.replies.size() < front.expected) return true;
  Request req = std::move(front);
  pending.pop_front();
  finish(std::move(req));
  return true;
}

void ClientState::observe(const Request& req, Config::Outcome outcome) const {
  if (!cfg.on_command) return;
  // Submitted at deadline - command_timeout (the deadline is set when a request is made).
  auto elapsed = Clock::now() - (req.deadline - cfg.command_timeout);
  cfg.on_command(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed), outcome);
}

void ClientState::finish(Request req) {
  // NOSCRIPT is not a failure: the script cache is empty (a new or restarted Redis) and
  // the caller sends the script itself next (cluster/scripts.cpp).
  bool error_reply = std::any_of(req.replies.begin(), req.replies.end(),
                                 [](const Reply& r) { return r.is_error() && !r.is_noscript(); });
  observe(req, error_reply ? Config::Outcome::error_reply : Config::Outcome::ok);
  if (req.done) {
    req.done.complete(std::move(req.replies));
    return;
  }
  for (const Reply& r : req.replies) {
    if (r.is_error()) util::log().debug("redis: send(): {}", r.str);
  }
}

void ClientState::fail_pending(const std::string& reason) {
  std::deque<Request> failed;
  failed.swap(pending);
  for (Request& req : failed) {
    observe(req, Config::Outcome::failed);
    if (req.done) {
      req.done.complete(redis_error(reason));
    } else {
      util::log().debug("redis: send() failed: {}", reason);
    }
  }
}

void ClientState::shutdown() {
  retry.cancel();
  if (conn) conn->close("client stopped");
}

void ClientState::notify_state(bool up) {
  std::lock_guard lock(callback_mutex);
  if (!callbacks_enabled || !on_state) return;
  try {
    on_state(up);
  } catch (const std::exception& e) {
    util::log().error("redis: on_state callback threw: {}", e.what());
  }
}

namespace {

/// Closes `c` when the connect deadline (while opening) or the oldest command's deadline
/// passes.
net::awaitable<void> watch_deadlines(std::shared_ptr<ClientState> self, std::shared_ptr<Connection> c) {
  while (!c->closed) {
    Clock::time_point deadline = c->deadline;
    if (c->ready) deadline = self->pending.empty() ? Clock::time_point::max() : self->pending.front().deadline;
    if (Clock::now() >= deadline) {
      c->close(c->ready ? "timeout after " + format_ms(self->cfg.command_timeout) + " (connection reset)"
                        : "connect timeout after " + format_ms(self->cfg.connect_timeout));
      co_return;
    }
    c->watch.expires_at(deadline);
    boost::system::error_code ec;
    co_await c->watch.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
}

/// Connects, serves the connection until it fails, reconnects with back-off; until stop().
net::awaitable<void> run_client(std::shared_ptr<ClientState> self) {
  Backoff backoff(self->cfg.reconnect_min, self->cfg.reconnect_max);
  while (!self->stopped.load()) {
    auto c = std::make_shared<Connection>(self->strand, self->tls_context.get());
    self->conn = c;
    c->deadline = Clock::now() + self->cfg.connect_timeout;
    net::co_spawn(self->strand, watch_deadlines(self, c), util::LogEscaped{"redis: client coroutine"});
    Status opened = co_await open(*c, self->cfg);
    if (opened && !c->closed) {
      c->ready = true;
      c->watch.cancel();  // from the connect deadline to the commands' deadlines
      backoff.reset();
      self->connected.store(true);
      self->state_log.connected();
      self->notify_state(true);
      net::co_spawn(self->strand, write_loop(c), util::LogEscaped{"redis: client coroutine"});
      // Replies go to the pending requests in order; one nobody asked for breaks the pairing.
      Connection* conn = c.get();
      co_await read_loop(c, [&self, conn](Reply reply) {
        if (!self->deliver(std::move(reply))) conn->close("protocol error: a reply nobody asked for");
      });
      self->connected.store(false);
      self->fail_pending(c->close_reason);
      if (!self->stopped.load()) {
        self->state_log.lost(c->close_reason);
        self->set_last_error(c->close_reason);
      }
      self->notify_state(false);
    } else {
      c->close(opened ? std::string("closed") : opened.error().message);
      if (!self->stopped.load()) {
        self->state_log.attempt_failed(c->close_reason);
        self->set_last_error(c->close_reason);
      }
    }
    if (self->stopped.load()) break;
    self->retry.expires_after(backoff.next());
    boost::system::error_code ec;
    co_await self->retry.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
  self->connected.store(false);
  self->conn.reset();
}

/// async_initiate's initiation: hands a Request to the strand (or fails it at once when
/// the client is not connected: no queueing while disconnected).
struct Submit {
  std::shared_ptr<ClientState> self;

  template <class Handler>
  void operator()(Handler&& handler, std::string bytes, std::size_t expected) const {
    Request req;
    req.done = Completion(std::forward<Handler>(handler), self->strand);
    if (expected == 0) {
      req.done.complete(std::vector<Reply>());
      return;
    }
    if (!self->connected.load()) {
      if (self->cfg.on_command) self->cfg.on_command(std::chrono::nanoseconds{0}, Config::Outcome::failed);
      req.done.complete(redis_error(self->unavailable()));
      return;
    }
    req.bytes = std::move(bytes);
    req.expected = expected;
    req.replies.reserve(expected);
    req.deadline = Clock::now() + self->cfg.command_timeout;
    net::post(self->strand, [s = self, r = std::move(req)]() mutable { s->enqueue(std::move(r)); });
  }
};

net::awaitable<Replies> submit(std::shared_ptr<ClientState> self, std::string bytes, std::size_t expected) {
  return net::async_initiate<decltype(net::use_awaitable), void(Replies)>(Submit{std::move(self)}, net::use_awaitable,
                                                                          std::move(bytes), expected);
}

net::awaitable<Result<Reply>> run_command(std::shared_ptr<ClientState> self, std::string bytes) {
  Replies replies = co_await submit(std::move(self), std::move(bytes), 1);
  if (!replies) co_return std::move(replies).error();
  co_return std::move(replies.value().front());
}

}  // namespace
}  // namespace detail

struct Client::Impl : detail::ClientState {
  using ClientState::ClientState;
};

Client::Client(boost::asio::any_io_executor ex, Config cfg)
    : impl_(std::make_shared<Impl>(std::move(ex), std::move(cfg))) {}

Client::~Client() {
  stop();
}

void Client::start(std::function<void(bool connected)> on_state) {
  if (impl_->stopped.load() || impl_->started.exchange(true)) return;
  {
    std::lock_guard lock(impl_->callback_mutex);
    impl_->on_state = std::move(on_state);
  }
  std::shared_ptr<detail::ClientState> self = impl_;
  boost::asio::co_spawn(impl_->strand, detail::run_client(std::move(self)),
                        util::LogEscaped{"redis: client coroutine"});
}

void Client::stop() {
  std::shared_ptr<detail::ClientState> self = impl_;
  {
    std::lock_guard lock(self->callback_mutex);
    self->callbacks_enabled = false;
  }
  if (self->stopped.exchange(true)) return;
  self->connected.store(false);
  boost::asio::post(self->strand, [self] { self->shutdown(); });
}

void Client::abandon() {
  stop();
  // No thread runs the strand now, so its state can be touched from here. The requests
  // are destroyed after the swap: their handlers' coroutines may release the last owner
  // of whoever owns this client.
  std::deque<detail::Request> dropped;
  dropped.swap(impl_->pending);
  impl_->conn.reset();
}

bool Client::connected() const noexcept {
  return impl_->connected.load();
}

std::string Client::last_error() const {
  std::lock_guard lock(impl_->error_mutex);
  return impl_->last_error;
}

boost::asio::awaitable<Result<Reply>> Client::command(Command cmd) {
  std::string bytes;
  append_command(bytes, cmd);
  return detail::run_command(impl_, std::move(bytes));
}

boost::asio::awaitable<Result<std::vector<Reply>>> Client::pipeline(std::vector<Command> cmds) {
  std::string bytes;
  for (const Command& cmd : cmds) append_command(bytes, cmd);
  return detail::submit(impl_, std::move(bytes), cmds.size());
}

void Client::send(Command cmd) {
  std::shared_ptr<detail::ClientState> self = impl_;
  if (!self->connected.load()) {
    if (self->cfg.on_command) self->cfg.on_command(std::chrono::nanoseconds{0}, Config::Outcome::failed);
    util::log().debug("redis: send() dropped: not connected");
    return;
  }
  detail::Request req;
  append_command(req.bytes, cmd);
  req.deadline = detail::Clock::now() + self->cfg.command_timeout;
  boost::asio::post(self->strand, [s = self, r = std::move(req)]() mutable { s->enqueue(std::move(r)); });
}

const Config& Client::config() const noexcept {
  return impl_->cfg;
}

}  // namespace frontmcp::redis
