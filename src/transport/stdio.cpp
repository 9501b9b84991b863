#include "transport/stdio.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

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

#include "protocol/jsonrpc.hpp"
#include "transport/transports.hpp"
#include "util/log.hpp"

namespace frontmcp::transport {

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

void handle_line(Deps& deps, const net::any_io_executor& ex, const std::shared_ptr<session::Session>& session,
                 const std::shared_ptr<StdioOutbound>& out, const std::string& line) {
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
    deps.dispatcher.accept(session, *m, std::move(v), out, ex);  // m points into v's storage, which moves along
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
        handle_line(deps, strand, session, out, line);
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
