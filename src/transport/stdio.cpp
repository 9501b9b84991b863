#include "transport/stdio.hpp"

#include "protocol/jsonrpc.hpp"
#include "transport/transports.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <future>
#include <mutex>
#include <string>

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

void handle_line(core::ServerCore& core, const net::any_io_executor& ex, const std::shared_ptr<session::Session>& session,
                 const std::shared_ptr<StdioOutbound>& out, const std::string& line) {
  auto parsed = protocol::parse_body(line);
  if (!parsed) {
    out->send_response(protocol::make_error(nullptr, parsed.error()));
    return;
  }
  for (auto& v : parsed->messages) {
    auto m = protocol::classify(v);
    if (!m) {
      out->send_response(protocol::make_error(nullptr, m.error()));
      continue;
    }
    switch (m->kind) {
      case protocol::MessageKind::request:
        if (m->method == "initialize") {
          auto r = core.dispatcher.initialize(*session, m->params);
          out->send_response(r ? protocol::make_result(*m->id, std::move(r).value()) : protocol::make_error(*m->id, r.error()));
        } else {
          spawn_request(ex, core, session, std::move(v), out, nullptr, nullptr);
        }
        break;
      case protocol::MessageKind::notification: core.dispatcher.handle_notification(session, *m); break;
      default: core.dispatcher.handle_response(session, *m); break;
    }
  }
}

}  // namespace

int run_stdio(core::ServerCore& core, net::io_context& ioc, std::istream& in, std::ostream& out_stream) {
  auto session = core.sessions.create(session::TransportKind::stdio);
  auto out = std::make_shared<StdioOutbound>(out_stream);
  StandaloneForwarder forwarder(session->standalone(), out);
  auto strand = net::make_strand(ioc);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line == "\r") continue;
    // Hand each line to the strand and wait, so lines are handled in order while the
    // handlers they start run concurrently.
    std::promise<void> done;
    net::post(strand, [&] {
      handle_line(core, strand, session, out, line);
      done.set_value();
    });
    done.get_future().wait();
  }
  spdlog::debug("stdin closed; ending the stdio session");
  std::promise<void> closed;
  net::post(strand, [&] {
    core.sessions.remove(session->id());
    closed.set_value();
  });
  closed.get_future().wait();
  return 0;
}

}  // namespace frontmcp::transport
