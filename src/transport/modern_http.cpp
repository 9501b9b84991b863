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
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <cstring>

#include "protocol/modern.hpp"
#include "protocol/param_headers.hpp"
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

/// The HTTP status of a JSON response: 400 for a handler's missing client capability
/// (-32021: the spec makes it an HTTP error while nothing else was sent), else 200.
status status_of(const json::value& response) {
  const auto* o = response.if_object();
  if (!o || o->empty() || (o->end() - 1)->key() == "result") return status::ok;  // make_result's order
  auto* e = o->if_contains("error");
  auto* code = e && e->is_object() ? e->get_object().if_contains("code") : nullptr;
  bool missing = code && code->is_int64() && code->get_int64() == errc::kMissingRequiredClientCapability;
  return missing ? status::bad_request : status::ok;
}

/// The same for a response's text.
status status_of(const std::string& body) {
  constexpr std::string_view kCode = "-32021";  // the cheap test first: most bodies are results
  if (body.find(kCode) == std::string::npos) return status::ok;
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  return ec ? status::ok : status_of(v);
}

/// The modern checks, then the Mcp-Param-* headers of a tools/call (x-mcp-header). The
/// envelope carries the called tool, looked up here once for the whole request.
std::variant<protocol::modern::Envelope, protocol::modern::Refusal> checked_request(
    Deps& deps, const protocol::Message& m, const protocol::modern::RequestHeaders& headers) {
  // (has_completion takes the registry's lock: asked only when it matters)
  const bool completions = m.method == protocol::modern::kCompletionMethod && deps.dispatcher.has_completion();
  auto checked = protocol::modern::check_request(m, &headers, completions);
  if (auto* env = std::get_if<protocol::modern::Envelope>(&checked)) {
    env->tool = protocol::called_tool(deps.dispatcher.registry(), m, env->target);
    if (auto refused = protocol::check_param_headers(env->tool.get(), m, headers.other)) return std::move(*refused);
  }
  return checked;
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
    auto st = status_of(events.front().data);
    co_return co_await http::write_response(ex, st, std::move(events.front().data), "application/json", {});
  }
  auto opts = modern_sse();
  bool ok = co_await http::pump_sse(ex, *stream, 0, std::move(opts), {});
  // The response ended before the request did (the client closed it, or a write failed):
  // this generation has no resumption, so nobody can receive the rest. (A handler's
  // close_sse_stream is a no-op here, for the same reason.)
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

/// A field name (token characters) equal to `lower` ignoring ASCII case, where `lower` is
/// made of lowercase letters, digits and '-'. Setting bit 5 lowercases a letter, keeps a
/// digit or '-', and turns no other token character into one of those, so one OR per byte
/// (eight at a time) is the whole case fold.
bool iequal_lower(std::string_view a, std::string_view lower) noexcept {
  if (a.size() != lower.size()) return false;
  constexpr std::uint64_t kBit5s = 0x2020202020202020ULL;
  std::size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    std::uint64_t x = 0, y = 0;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, lower.data() + i, 8);
    if ((x | kBit5s) != y) return false;
  }
  for (; i < a.size(); ++i) {
    if ((a[i] | 0x20) != lower[i]) return false;
  }
  return true;
}

/// The standard headers of a modern request, found in one pass over the fields (a lookup
/// by name in Beast's field set compares case-insensitively along a tree: a few of them
/// cost more than the rest of the request's checks). Other headers (Mcp-Param-*, rare) are
/// looked up by name.
protocol::modern::RequestHeaders request_headers(const http::Request& req) {
  // Lowercase, for iequal_lower (which compares lengths first: they differ in length).
  constexpr std::string_view kVersion = "mcp-protocol-version", kMethod = "mcp-method", kName = "mcp-name";
  protocol::modern::RequestHeaders h;
  for (const auto& f : req) {
    // None of the three is in Beast's table of known fields, so a known one (Host,
    // Accept, Content-Type ...) is skipped without looking at its name.
    if (f.name() != boost::beast::http::field::unknown) continue;
    auto n = f.name_string();
    const std::string_view name(n.data(), n.size()), value(f.value().data(), f.value().size());
    // The first of a repeated field counts, as for a look-up by name.
    if (iequal_lower(name, kVersion)) {
      if (!h.protocol_version) h.protocol_version = value;
    } else if (iequal_lower(name, kMethod)) {
      if (!h.method) h.method = value;
    } else if (iequal_lower(name, kName)) {
      if (!h.name) h.name = value;
    }
  }
  h.other = [&req](std::string_view name) -> std::optional<std::string_view> {
    auto it = req.find(name);
    if (it == req.end()) return std::nullopt;
    return std::string_view(it->value().data(), it->value().size());
  };
  return h;
}

/// The frames of a finished request as an SSE body without event ids (what a handler sent,
/// then its response).
net::awaitable<bool> answer_as_stream(Deps& deps, Exchange& ex, const CollectingOutbound& out) {
  auto store = std::make_shared<session::MemoryEventStore>(session::event_limits(deps.options.session));
  session::SseStream stream(std::string(), kModernStreamIndex, std::move(store));
  for (const auto& m : out.sent) stream.send(m);
  if (out.response) stream.send_response(*out.response);
  stream.finish();
  co_return co_await http::pump_sse(ex, stream, 0, modern_sse(), {});
}

/// A request whose handler cannot suspend (Dispatcher::runs_synchronously), served on the
/// connection's coroutine: no spawned task, no stream, no event store. The same answers
/// as the general path: JSON, or SSE when the handler sent notifications first.
net::awaitable<http::Answer> answer_modern_inline(Deps& deps, Exchange& ex, const protocol::modern::Envelope& envelope,
                                                  std::string method, json::value msg) {
  auto out = std::make_shared<CollectingOutbound>(nullptr);
  // Undecorated: the JSON answer gets its decoration spliced into the text
  // (Dispatcher::serialize_modern), which costs a fraction of building it as JSON.
  auto response = co_await deps.dispatcher.handle_request(nullptr, std::move(msg), out, &envelope, nullptr, false);
  if (!response) co_return http::Answer::of(http::Reply{status::accepted, {}, {}, {}});
  if (!out->sent.empty()) {
    out->response = json::parse(deps.dispatcher.serialize_modern(method, std::move(*response)));
    co_return http::Answer::written(co_await answer_as_stream(deps, ex, *out));
  }
  auto st = status_of(*response);
  std::string body = deps.dispatcher.serialize_modern(method, std::move(*response));
  co_return http::Answer::of(http::Reply{st, std::move(body), "application/json", {}});
}

net::awaitable<http::Answer> handle_modern_post(Deps& deps, Exchange& ex, Inbound& in) {
  const auto& m = in.msgs.front();
  // The stateless generation has no client-to-server notifications on HTTP: accepted,
  // nothing to do.
  if (m.kind == MessageKind::notification) co_return http::Answer::of(http::Reply{status::accepted, {}, {}, {}});
  auto checked = checked_request(deps, m, request_headers(ex.req));
  if (auto* refused = std::get_if<protocol::modern::Refusal>(&checked)) {
    co_return http::Answer::of(refusal_reply(*refused));
  }
  if (m.method == "subscriptions/listen") co_return co_await handle_listen(deps, ex, m);
  auto& envelope = std::get<protocol::modern::Envelope>(checked);
  envelope.principal = ex.principal;
  // An anonymous call's tool budget is its address's (Dispatcher::tool_rate_refusal).
  const bool tools_limited = deps.options.tool_rate.enabled() || !deps.options.tool_rates.empty();
  if (ex.principal.empty() && tools_limited && m.method == "tools/call") envelope.client = http::client_key(ex);
  if (deps.dispatcher.runs_synchronously(m, envelope.tool.get())) {
    co_return co_await answer_modern_inline(deps, ex, envelope, std::string(m.method),
                                            std::move(in.parsed.messages.front()));
  }
  auto shared_envelope = std::make_shared<protocol::modern::Envelope>(std::move(envelope));
  auto store = std::make_shared<session::MemoryEventStore>(session::event_limits(deps.options.session));
  auto stream = std::make_shared<session::SseStream>(std::string(), kModernStreamIndex, std::move(store));
  auto inflight = std::make_shared<session::InFlight>();
  auto exec = co_await net::this_coro::executor;
  net::co_spawn(exec,
                protocol::Dispatcher::serve_modern(deps.dispatcher, std::move(shared_envelope),
                                                   std::move(in.parsed.messages.front()), stream, inflight),
                util::LogEscaped{"modern request task"});
  co_return http::Answer::written(co_await answer_modern(deps, ex, std::move(stream), std::move(inflight)));
}

}  // namespace

std::optional<http::Reply> classify_post(const Inbound& in, std::string_view version_header, bool& modern) {
  auto era = protocol::modern::classify_era(in.msgs, in.parsed.is_batch, version_header);
  if (auto* refused = std::get_if<protocol::modern::Refusal>(&era)) return refusal_reply(*refused);
  modern = std::get<protocol::modern::Era>(era) == protocol::modern::Era::modern;
  return std::nullopt;
}

net::awaitable<http::Answer> handle_modern(Deps& deps, Exchange& ex, Inbound& in) {
  return handle_modern_post(deps, ex, in);
}

}  // namespace frontmcp::transport
