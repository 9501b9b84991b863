#pragma once
// The HTTP transports: Streamable HTTP (/mcp) and the legacy HTTP+SSE pair
// (/sse + /message). Each answers one request of an http::Exchange and returns the reply
// for the connection to write, or says it wrote the response itself (a stream). They are
// registered as the Site's routes by the composition root (routes()).
#include "http/http_io.hpp"
#include "transport/deps.hpp"

namespace frontmcp::transport {

using http::Exchange;
namespace net = boost::asio;

net::awaitable<http::Answer> handle_streamable(Deps& deps, Exchange& ex);
net::awaitable<http::Answer> handle_legacy_stream(Deps& deps, Exchange& ex);
net::awaitable<http::Answer> handle_legacy_message(Deps& deps, Exchange& ex);

/// The three paths of ServerOptions::http and their handlers, for http::Site::routes.
std::vector<std::pair<std::string, http::Site::Handler>> routes(Deps& deps);
/// Mounts the transports on `site`: their routes, and what the session directory decides
/// of every request (its response headers; whether requests are served while draining).
/// The composition root's one place for it (tests/transport build their Site with it too).
void mount(http::Site& site, Deps& deps);

/// Messages for a session's standalone stream, through the bus (its stream is in another
/// process).
class BusOutbound final : public session::Outbound {
 public:
  BusOutbound(session::MessageBus& bus, std::string session_id) : bus_(bus), sid_(std::move(session_id)) {}
  void send(const json::value& msg) override { bus_.to_session(sid_, msg); }
  void send_response(const json::value& msg) override { bus_.to_session(sid_, msg); }

 private:
  session::MessageBus& bus_;
  std::string sid_;
};

/// True if `s` was created by another principal than the request's (Exchange::principal).
/// The caller then answers exactly as for an unknown session (404); this counts it
/// (frontmcp_session_principal_mismatch_total) and logs it at warning, at most once per
/// kMismatchLogInterval (the rest at debug).
bool foreign_session(Deps& deps, const Exchange& ex, const session::Session& s);
/// The one mapping of a session-directory failure to HTTP: 404 for not_found, else 503 +
/// Retry-After (retryable).
http::Reply failure_reply(const session::Failure& f);
/// Who asks, for the directory (TLS behind a proxy: the affinity cookie is Secure).
session::Asker asker_of(const Exchange& ex);
/// Adds headers the directory asked for to the exchange's response.
void add_headers(Exchange& ex, const std::vector<session::HeaderField>& headers);

/// The standalone stream if it is in this process, else a BusOutbound.
std::shared_ptr<session::Outbound> unsolicited_target(Deps& deps, const std::shared_ptr<session::Session>& s);

/// Runs a legacy POST /message body that another process forwarded (SessionBackend::start).
std::function<void(const std::shared_ptr<session::Session>&, std::string)> legacy_relay_handler(
    Deps& deps, net::any_io_executor ex);

/// Parses and classifies a POST body or stdio line: the messages, or the error to answer.
struct Inbound {
  protocol::ParsedBody parsed;
  std::vector<protocol::Message> msgs;  // point into parsed.messages
};
Result<Inbound> read_messages(std::string_view body, std::size_t max_batch);

/// Collects what a synchronous handler sends, so the common case — a plain function
/// answering one request — needs no spawned task, no stream and no event log.
class CollectingOutbound final : public session::Outbound {
 public:
  explicit CollectingOutbound(std::shared_ptr<session::Outbound> json_mode_target)
      : standalone_(std::move(json_mode_target)) {}
  void send(const json::value& msg) override {
    if (standalone_) {
      standalone_->send(msg);  // json mode: everything but the response goes to the GET stream
    } else {
      sent.push_back(msg);
    }
  }
  void send_response(const json::value& msg) override { response = msg; }
  std::vector<json::value> sent;
  std::optional<json::value> response;

 private:
  std::shared_ptr<session::Outbound> standalone_;
};

/// Waits until the requests answered on `stream` either finish or send something other than
/// their responses: a POST is then answered as JSON, or as SSE (automatic response mode,
/// and the stateless generation).
net::awaitable<void> wait_for_decision(Deps& deps, Exchange& ex, session::SseStream& stream);

/// Which generation a POST body is of (protocol::modern::classify_era; no I/O, so the
/// session generation's hot path costs no coroutine for it): `modern` is set for the
/// stateless one (MCP 2026-07-28); a reply when the body is refused (a batch with a modern
/// request in it). `version_header`: the POST's MCP-Protocol-Version ("" when absent), read
/// once by the caller, which checks it again for the session generation.
std::optional<http::Reply> classify_post(const Inbound& in, std::string_view version_header, bool& modern);
/// A POST of the stateless generation, answered without a session (modern_http.cpp).
net::awaitable<http::Answer> handle_modern(Deps& deps, Exchange& ex, Inbound& in);

}  // namespace frontmcp::transport
