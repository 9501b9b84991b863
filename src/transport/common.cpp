// What the transports share: the one mapping of directory failures to HTTP, the
// principal check, reading a body into classified messages, where unsolicited messages go.
#include "transport/transports.hpp"
#include "util/log.hpp"

namespace frontmcp::transport {

namespace bhttp = http::bhttp;
using bhttp::status;

session::Asker asker_of(const Exchange& ex) {
  return session::Asker{http::header(ex.req, "X-Forwarded-Proto") == "https"};
}

void add_headers(Exchange& ex, const std::vector<session::HeaderField>& headers) {
  for (const auto& h : headers) ex.headers.push_back(h);
}

/// Principal mismatches are logged at warning at most this often (all are counted).
constexpr std::chrono::seconds kMismatchLogInterval{10};

bool foreign_session(Deps& deps, const Exchange& ex, const session::Session& s) {
  if (s.belongs_to(ex.principal)) return false;
  deps.metrics.session_principal_mismatch.inc();
  static util::LogThrottle throttle(kMismatchLogInterval);
  bool loud = throttle.allow();
  std::string method(ex.req.method_string());
  std::string_view target(ex.req.target().data(), ex.req.target().size());
  util::log_event(loud ? spdlog::level::warn : spdlog::level::debug,
                  "request for a session of another principal: answered 404",
                  {{"session", s.id()}, {"principal", ex.principal}, {"method", method}, {"target", target}});
  return true;
}

http::Reply failure_reply(const session::Failure& f) {
  auto e = session::to_error(f);
  if (f.fault == session::Fault::not_found) return http::error_reply(status::not_found, e.code, e.message);
  return http::error_reply(status::service_unavailable, e.code, e.message, http::header_list("Retry-After", "1"));
}

std::shared_ptr<session::Outbound> unsolicited_target(Deps& deps, const std::shared_ptr<session::Session>& s) {
  if (deps.directory.holds_stream(*s)) return s->standalone();
  return std::make_shared<BusOutbound>(deps.bus, s->id());
}

Result<Inbound> read_messages(std::string_view body, std::size_t max_batch) {
  auto parsed = protocol::parse_body(body, max_batch);
  if (!parsed) return std::move(parsed).error();
  Inbound in{std::move(parsed).value(), {}};
  in.msgs.reserve(in.parsed.messages.size());
  for (const auto& v : in.parsed.messages) {
    auto m = protocol::classify(v);
    if (!m) return std::move(m).error();
    in.msgs.push_back(*m);
  }
  return in;
}

net::awaitable<void> wait_for_decision(Deps& deps, Exchange& ex, session::SseStream& stream) {
  auto waker = ex.waker;
  if (!stream.attach([waker] { waker->notify(); })) co_return;
  // Not cut short by a drain: the requests in flight finish and are answered (docs/ha.md).
  while (!stream.finished() && !stream.has_non_response()) {
    co_await waker->wait_for(deps.options.http.sse_keepalive_interval);
  }
  stream.detach();
}

}  // namespace frontmcp::transport
