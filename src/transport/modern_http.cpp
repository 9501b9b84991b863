// Streamable HTTP, the stateless generation (MCP 2026-07-28): a POST that
// modern::classify_era calls modern. No session, no Mcp-Session-Id, no event ids, no
// priming event, no resumability: the request passes the modern checks
// (modern::check_request), runs through the dispatcher without a session, and is answered
// as JSON, or as SSE when its handler sends notifications (progress, log messages) first.
// A client that closes the response cancels the request. subscriptions/listen is a
// long-lived SSE stream fed by session::ListenRegistry (docs/protocol.md "Listen").
// The session generation's POST, GET and DELETE are in streamable_http.cpp, unchanged.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/serialize.hpp>

#include "protocol/modern.hpp"
#include "session/event_store.hpp"
#include "transport/transports.hpp"
#include "util/log.hpp"

namespace frontmcp::transport {

namespace bhttp = http::bhttp;
using bhttp::status;
using protocol::MessageKind;

namespace {

/// A modern request's stream is its own: not a session's, and read by nobody else.
constexpr std::uint64_t kModernStreamIndex = 1;

http::Reply refusal_reply(const protocol::modern::Refusal& r) {
  return http::Reply{
      static_cast<status>(r.status), json::serialize(protocol::modern::error_message(r)), "application/json", {}};
}

/// An error answered as a request's JSON-RPC response (HTTP 200).
http::Reply in_band_error(const json::value& id, const Error& e) {
  return http::Reply{status::ok, json::serialize(protocol::make_error(id, e)), "application/json", {}};
}

http::SseOptions modern_sse() {
  http::SseOptions opts;
  opts.event_ids = false;  // no resumability in this generation
  opts.priming_event = false;
  return opts;
}

/// wait_for_decision, watching the client meanwhile: true when it hung up first (the
/// request is then cancelled: nobody is left to answer).
net::awaitable<bool> client_left_first(Deps& deps, Exchange& ex, session::SseStream& stream) {
  auto waker = ex.waker;
  if (!stream.attach([waker] { waker->notify(); })) co_return false;
  auto exec = co_await net::this_coro::executor;
  auto peer = http::start_peer_watch(ex, exec);
  // Not cut short by a drain: the requests in flight finish and are answered (docs/ha.md).
  while (!stream.finished() && !stream.has_non_response() && !peer->closed) {
    co_await waker->wait_for(deps.options.http.sse_keepalive_interval);
  }
  stream.detach();
  co_await http::end_peer_watch(ex, *peer);
  co_return peer->closed;
}

/// The request, served; answered as JSON when it sent nothing but its response. A client
/// that closes the response (before or during the stream) cancels the request:
/// ctx.cancelled() turns true and nothing more is sent.
net::awaitable<bool> answer_modern(Deps& deps, Exchange& ex, std::shared_ptr<session::SseStream> stream,
                                   std::shared_ptr<session::InFlight> inflight) {
  if (co_await client_left_first(deps, ex, *stream)) {
    inflight->cancel("the client closed the response stream");
    co_return false;
  }
  if (stream->finished() && !stream->has_non_response()) {
    auto events = stream->read_after(0, stream->last_seq() + 1);
    if (events.empty()) co_return co_await http::write_response(ex, status::accepted, {}, {}, {});
    co_return co_await http::write_response(ex, status::ok, std::move(events.front().data), "application/json", {});
  }
  auto opts = modern_sse();
  bool ok = co_await http::pump_sse(ex, *stream, 0, std::move(opts), {});
  // The response ended before the request did (the client closed it, a write failed, or
  // the handler ended it with close_sse_stream): this generation has no resumption, so
  // nobody can receive the rest.
  if (!stream->finished()) inflight->cancel("the response stream ended first");
  co_return ok;
}

/// subscriptions/listen: an SSE stream that starts with the acknowledgement and carries the
/// list changes and resource updates asked for, until the client closes it or the server
/// stops (then the listen request's result ends it: ListenRegistry::complete_all).
net::awaitable<http::Answer> handle_listen(Deps& deps, Exchange& ex, const protocol::Message& m) {
  auto filter = deps.dispatcher.listen_filter(m.params);
  if (!filter) co_return http::Answer::of(in_band_error(*m.id, filter.error()));
  auto& listeners = deps.sessions.listeners();
  auto listener = listeners.open(*m.id, std::move(filter).value());
  if (!listener) {
    // As the TypeScript SDK: in-band, before any acknowledgement.
    co_return http::Answer::of(in_band_error(*m.id, Error::internal("Subscription limit reached")));
  }
  // Nothing to deliver ever, or the server is stopping: acknowledged, then ended.
  if (listener->filter.empty() || deps.draining.load(std::memory_order_acquire)) {
    listeners.complete(listener, deps.dispatcher.listen_result_meta());
  }
  auto opts = modern_sse();
  bool ok = co_await http::pump_sse(ex, *listener->stream, 0, std::move(opts), {});
  listeners.close(listener);  // the client left, or the stream ended: no longer a listener
  co_return http::Answer::written(ok);
}

net::awaitable<http::Answer> handle_modern_post(Deps& deps, Exchange& ex, Inbound& in) {
  const auto& m = in.msgs.front();
  // The stateless generation has no client-to-server notifications on HTTP: accepted,
  // nothing to do.
  if (m.kind == MessageKind::notification) co_return http::Answer::of(http::Reply{status::accepted, {}, {}, {}});
  protocol::modern::HeaderLookup header = [&ex](std::string_view name) -> std::optional<std::string_view> {
    auto it = ex.req.find(name);
    if (it == ex.req.end()) return std::nullopt;
    return std::string_view(it->value().data(), it->value().size());
  };
  auto checked = protocol::modern::check_request(m, header, deps.dispatcher.has_completion());
  if (auto* refused = std::get_if<protocol::modern::Refusal>(&checked)) {
    co_return http::Answer::of(refusal_reply(*refused));
  }
  if (m.method == "subscriptions/listen") co_return co_await handle_listen(deps, ex, m);
  auto envelope =
      std::make_shared<protocol::modern::Envelope>(std::get<protocol::modern::Envelope>(std::move(checked)));
  auto store = std::make_shared<session::MemoryEventStore>(session::event_limits(deps.options.session));
  auto stream = std::make_shared<session::SseStream>(std::string(), kModernStreamIndex, std::move(store));
  auto inflight = std::make_shared<session::InFlight>();
  auto exec = co_await net::this_coro::executor;
  net::co_spawn(exec,
                protocol::Dispatcher::serve_modern(deps.dispatcher, std::move(envelope),
                                                   std::move(in.parsed.messages.front()), stream, inflight),
                util::LogEscaped{"modern request task"});
  co_return http::Answer::written(co_await answer_modern(deps, ex, std::move(stream), std::move(inflight)));
}

}  // namespace

std::optional<http::Reply> classify_post(const Exchange& ex, const Inbound& in, bool& modern) {
  auto era = protocol::modern::classify_era(in.msgs, in.parsed.is_batch, http::header(ex.req, "MCP-Protocol-Version"));
  if (auto* refused = std::get_if<protocol::modern::Refusal>(&era)) return refusal_reply(*refused);
  modern = std::get<protocol::modern::Era>(era) == protocol::modern::Era::modern;
  return std::nullopt;
}

net::awaitable<http::Answer> handle_modern(Deps& deps, Exchange& ex, Inbound& in) {
  return handle_modern_post(deps, ex, in);
}

}  // namespace frontmcp::transport
