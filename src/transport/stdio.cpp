// stdio: newline-delimited JSON-RPC on stdin/stdout. The process serves one client, in the
// generation its opening exchange pins (protocol/era_pin.hpp): the session generation
// through the process's one session, or the stateless one (MCP 2026-07-28) through
// Dispatcher::serve_modern without a session.
#include "transport/stdio.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <frontmcp/server.hpp>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "protocol/era_pin.hpp"
#include "protocol/jsonrpc.hpp"
#include "protocol/modern.hpp"
#include "session/event_store.hpp"
#include "session/listen_registry.hpp"
#include "transport/transports.hpp"
#include "util/log.hpp"

namespace frontmcp::transport {

using protocol::MessageKind;

namespace {

/// Writes whole lines under a mutex, so concurrent handlers never interleave bytes.
class StdioOutbound final : public session::Outbound {
 public:
  explicit StdioOutbound(std::ostream& out) : out_(out) {}
  void send(const json::value& msg) override { write(json::serialize(msg)); }
  void send_response(const json::value& msg) override { write(json::serialize(msg)); }
  void write(const std::string& line) {
    std::lock_guard lock(mu_);
    out_ << line << '\n';
    out_.flush();
  }

 private:
  std::mutex mu_;
  std::ostream& out_;
};

/// Reads the session's standalone stream (notifications not tied to a request) and
/// forwards it to stdout.
class StandaloneForwarder {
 public:
  StandaloneForwarder(std::shared_ptr<session::SseStream> s, std::shared_ptr<StdioOutbound> out)
      : stream_(std::move(s)), out_(std::move(out)) {
    stream_->attach([this] { forward(); });
  }
  ~StandaloneForwarder() { stream_->detach(); }
  void forward() {
    std::lock_guard lock(mu_);
    for (auto& e : stream_->read_after(cursor_, SIZE_MAX)) {
      out_->write(e.data);
      cursor_ = e.seq;
    }
  }

 private:
  std::shared_ptr<session::SseStream> stream_;
  std::shared_ptr<StdioOutbound> out_;
  std::mutex mu_;
  std::uint64_t cursor_ = 0;
};

/// A modern request's stream is its own (as on HTTP): not a session's, read only here.
constexpr std::uint64_t kModernStreamIndex = 1;

/// The stateless generation's requests in flight (MCP 2026-07-28 on stdio). Each runs
/// through Dispatcher::serve_modern onto a stream of its own, whose messages (its
/// notifications, then its response) are copied to stdout as they come;
/// notifications/cancelled cancels one (its InFlight: ctx.cancelled(), and nothing more of
/// it reaches stdout).
class ModernCalls final : public std::enable_shared_from_this<ModernCalls> {
 public:
  explicit ModernCalls(std::shared_ptr<StdioOutbound> out) : out_(std::move(out)) {}

  /// Runs `msg`, a request that passed the checks, as its own task on `ex`.
  void start(Deps& deps, const net::any_io_executor& ex, protocol::modern::Envelope envelope, json::value msg,
             const json::value& id) {
    auto call = std::make_shared<Call>();
    call->key = session::id_key(id);
    auto store = std::make_shared<session::MemoryEventStore>(session::event_limits(deps.options.session));
    call->stream = std::make_shared<session::SseStream>(std::string(), kModernStreamIndex, std::move(store));
    {
      std::lock_guard lock(mu_);
      calls_[call->key] = call;  // a reused id: the newest request is the one a cancel names
    }
    // The stream holds its forwarder (and so the call) until it finishes (forward()).
    call->stream->attach([self = shared_from_this(), call] { self->forward(call); });
    net::co_spawn(ex,
                  protocol::Dispatcher::serve_modern(deps.dispatcher,
                                                     std::make_shared<protocol::modern::Envelope>(std::move(envelope)),
                                                     std::move(msg), call->stream, call->inflight),
                  util::LogEscaped{"modern stdio request task"});
  }

  /// subscriptions/listen: the listener's stream (its acknowledgement first) copied to
  /// stdout until notifications/cancelled names the listen request (the listener is then
  /// closed and nothing more of it is written) or the server completes it at shutdown.
  void listen(Deps& deps, std::shared_ptr<session::ListenRegistry::Listener> listener) {
    auto call = std::make_shared<Call>();
    call->key = session::id_key(listener->id);
    call->stream = listener->stream;
    call->on_cancel = [&registry = deps.sessions.listeners(), listener] { registry.close(listener); };
    {
      std::lock_guard lock(mu_);
      calls_[call->key] = call;
    }
    call->stream->attach([self = shared_from_this(), call] { self->forward(call); });
    forward(call);  // the acknowledgement is in the stream already
  }

  /// notifications/cancelled for `id` (an unknown or finished request: nothing to do).
  void cancel(const json::value& id, std::string reason) {
    std::shared_ptr<Call> call;
    {
      std::lock_guard lock(mu_);
      auto it = calls_.find(session::id_key(id));
      if (it == calls_.end()) return;
      call = it->second;
    }
    call->inflight->cancel(std::move(reason));
    if (call->on_cancel) call->on_cancel();
  }

 private:
  struct Call {
    std::string key;
    std::shared_ptr<session::SseStream> stream;
    std::shared_ptr<session::InFlight> inflight = std::make_shared<session::InFlight>();
    std::function<void()> on_cancel;  // a listen request's: close its listener
    std::mutex mu;                    // one forwarder at a time, so lines keep the stream's order
    std::uint64_t cursor = 0;
  };

  void forward(const std::shared_ptr<Call>& call) {
    std::lock_guard lock(call->mu);
    bool done = call->stream->finished();  // before reading: then everything is read
    for (auto& e : call->stream->read_after(call->cursor, SIZE_MAX)) {
      if (!call->inflight->cancelled.load(std::memory_order_acquire)) out_->write(e.data);
      call->cursor = e.seq;
    }
    if (!done) return;
    call->stream->detach();
    std::lock_guard map_lock(mu_);
    if (auto it = calls_.find(call->key); it != calls_.end() && it->second == call) calls_.erase(it);
  }

  std::shared_ptr<StdioOutbound> out_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Call>> calls_;
};

/// What the process serves (protocol/era_pin.hpp) and its modern requests in flight.
struct Generations {
  protocol::modern::EraPin pin;
  std::shared_ptr<ModernCalls> modern;
};

/// A message of the stateless generation. No headers on stdio: the checks are the _meta,
/// version and method rungs (-32602, -32022, -32601), answered as JSON-RPC errors.
void serve_modern_message(Deps& deps, const net::any_io_executor& ex, Generations& gen,
                          const std::shared_ptr<StdioOutbound>& out, const protocol::Message& m, json::value v) {
  namespace modern = protocol::modern;
  if (m.kind == MessageKind::notification) {
    if (m.method == "notifications/cancelled" && m.params) {
      if (auto rid = m.params->if_contains("requestId")) {
        std::string reason;
        if (auto r = m.params->if_contains("reason"); r && r->is_string()) reason = std::string(r->get_string());
        gen.modern->cancel(*rid, std::move(reason));
      }
    }
    return;  // the generation's other client notifications need nothing here
  }
  if (m.kind != MessageKind::request) return;  // no server->client requests, so no answers to them
  const json::value id = *m.id;
  if (m.method == "initialize" && !modern::has_claim(m.params)) {
    // A session handshake once the process serves the stateless generation: the versions
    // it does serve (the client cannot fall back on this process).
    std::string requested;
    if (auto pv = m.params ? m.params->if_contains("protocolVersion") : nullptr; pv && pv->is_string()) {
      requested = std::string(pv->get_string());
    }
    out->send_response(modern::error_message(modern::unsupported_version(std::move(requested), id)));
    return;
  }
  auto checked = modern::check_request(m, nullptr, deps.dispatcher.has_completion());
  if (auto* refused = std::get_if<modern::Refusal>(&checked)) {
    out->send_response(modern::error_message(*refused));
    return;
  }
  gen.pin.settle(m, modern::EraPin::Route::modern, true);
  if (m.method == "subscriptions/listen") {
    auto filter = deps.dispatcher.listen_filter(m.params);
    if (!filter) {
      out->send_response(protocol::make_error(id, filter.error()));
      return;
    }
    auto& listeners = deps.sessions.listeners();
    auto listener = listeners.open(id, std::move(filter).value());
    if (!listener) {
      out->send_response(protocol::make_error(id, Error::internal("Subscription limit reached")));
      return;
    }
    if (listener->filter.empty()) listeners.complete(listener, deps.dispatcher.listen_result_meta());
    gen.modern->listen(deps, std::move(listener));
    return;
  }
  gen.modern->start(deps, ex, std::get<modern::Envelope>(std::move(checked)), std::move(v), id);
}

void handle_line(Deps& deps, const net::any_io_executor& ex, const std::shared_ptr<session::Session>& session,
                 const std::shared_ptr<StdioOutbound>& out, Generations& gen, const std::string& line) {
  using Route = protocol::modern::EraPin::Route;
  auto parsed = protocol::parse_body(line, deps.options.session.max_batch_size);
  if (!parsed) {
    out->send_response(protocol::make_error(nullptr, parsed.error()));
    return;
  }
  // Each message on its own: one that is not JSON-RPC is answered, the others still run.
  for (auto& v : parsed->messages) {
    auto m = protocol::classify(v);
    if (!m) {
      out->send_response(protocol::make_error(nullptr, m.error()));
      continue;
    }
    auto route = gen.pin.route(*m, parsed->is_batch);
    switch (route) {
      case Route::legacy:
        gen.pin.settle(*m, route, true);
        deps.dispatcher.accept(session, *m, std::move(v), out, ex);  // m points into v's storage, which moves along
        break;
      case Route::modern:
        serve_modern_message(deps, ex, gen, out, *m, std::move(v));
        break;
      case Route::batch_refused:
        if (m->kind == MessageKind::request) {
          out->send_response(protocol::make_error(
              *m->id, Error{errc::kInvalidRequest,
                            "Invalid Request: JSON-RPC batches are not allowed in protocol version " +
                                std::string(protocol::modern::kVersion),
                            {}}));
        }
        break;
    }
  }
}

}  // namespace

namespace {
/// Longest line accepted on stdin (the HTTP body limit applies here too).
std::size_t max_line(const Deps& deps) {
  return deps.options.http.max_body_bytes;
}
}  // namespace

int run_stdio(Deps& deps, net::io_context& ioc, int in_fd, std::ostream& out_stream) {
  auto session = deps.sessions.create(session::TransportKind::stdio);
  auto out = std::make_shared<StdioOutbound>(out_stream);
  StandaloneForwarder forwarder(session->standalone(), out);
  auto strand = net::make_strand(ioc);
  Generations gen{{}, std::make_shared<ModernCalls>(out)};

  // SIGINT/SIGTERM wake the reader through an eventfd, so a blocked read never delays
  // shutdown.
  int stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) throw std::runtime_error("eventfd failed");
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  unblock_stop_signals();
  signals.async_wait([stop_fd](boost::system::error_code ec, int) {
    if (ec) return;
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_fd, &one, sizeof one);
  });

  std::string pending;
  char chunk[64 * 1024];
  bool running = true;
  while (running) {
    pollfd fds[2] = {{in_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) {
      util::log().info("signal received: ending the stdio session");
      break;
    }
    ssize_t n = ::read(in_fd, chunk, sizeof chunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;  // EOF or error
    pending.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (auto nl = pending.find('\n', start); nl != std::string::npos; nl = pending.find('\n', start)) {
      std::string line = pending.substr(start, nl - start);
      start = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      // Lines are handled in order on the strand; the handlers they start run
      // concurrently.
      std::promise<void> done;
      net::post(strand, [&] {
        handle_line(deps, strand, session, out, gen, line);
        done.set_value();
      });
      done.get_future().wait();
    }
    pending.erase(0, start);
    if (pending.size() > max_line(deps)) {
      util::log().error("stdin line longer than {} bytes: ending the session", max_line(deps));
      out->send_response(protocol::make_error(nullptr, Error{errc::kInvalidRequest, "message too large", {}}));
      running = false;
    }
  }
  util::log().debug("stdio session ending");
  signals.cancel();
  ::close(stop_fd);
  std::promise<void> closed;
  net::post(strand, [&] {
    deps.sessions.remove(session->id());
    closed.set_value();
  });
  closed.get_future().wait();
  return 0;
}

}  // namespace frontmcp::transport
