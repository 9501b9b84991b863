// Streamable HTTP (MCP 2025-03-26 and later) on one path: POST carries client messages,
// GET opens the session's standalone SSE stream (or resumes any stream with
// Last-Event-ID), DELETE ends the session. Status codes follow the TypeScript SDK, which
// is what clients are written against (docs/http.md lists them).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "protocol/versions.hpp"
#include "transport/transports.hpp"
#include "util/async_event.hpp"
#include "util/log.hpp"

namespace frontmcp::transport {

namespace bhttp = http::bhttp;
using bhttp::status;

/// Distributed mode: how long a GET that resumes another node's POST stream follows the
/// shared event log for the rest of it, and how often it looks (back-off between these).
constexpr std::chrono::minutes kSharedLogTailLimit{10};
constexpr std::chrono::milliseconds kSharedLogPollMin{20};
constexpr std::chrono::milliseconds kSharedLogPollMax{500};
using protocol::MessageKind;

namespace {

/// JSON mode: responses to the POST, everything else to the session's GET stream.
class SplitOutbound final : public session::Outbound {
 public:
  SplitOutbound(std::shared_ptr<session::Outbound> standalone, std::shared_ptr<session::SseStream> post)
      : standalone_(std::move(standalone)), post_(std::move(post)) {}
  void send(const json::value& msg) override { standalone_->send(msg); }
  void send_response(const json::value& msg) override { post_->send_response(msg); }

 private:
  std::shared_ptr<session::Outbound> standalone_;
  std::shared_ptr<session::SseStream> post_;
};

bool is_json_content_type(std::string_view ct) {
  constexpr std::string_view kJson = "application/json";
  if (ct.size() < kJson.size()) return false;
  for (std::size_t i = 0; i < kJson.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(ct[i])) != kJson[i]) return false;
  }
  return ct.size() == kJson.size() || ct[kJson.size()] == ';' || ct[kJson.size()] == ' ';
}

bool wants_priming(std::string_view version) {
  return version >= std::string_view("2025-11-25");
}

/// A POST stream of another node followed through the shared event log.
struct SharedLogTail {
  std::shared_ptr<session::SseStream> stream;
  std::atomic<bool> done{false};  // the client is gone
};

/// True if one of `events` is a JSON-RPC response (the end of a POST's stream).
bool ends_request(const std::vector<session::StoredEvent>& events) {
  for (const auto& e : events) {
    boost::system::error_code ec;
    auto v = json::parse(e.data, ec);
    if (ec || !v.is_object()) continue;
    const auto& o = v.get_object();
    if (o.contains("id") && !o.contains("method") && (o.contains("result") || o.contains("error"))) return true;
  }
  return false;
}

/// Polls the shared log of a stream (with back-off) and feeds the local copy until the
/// response arrives, the client leaves, nobody will write to the log any more (its writer
/// process is dead or restarted, or unknown, seen twice in a row: one last read takes what
/// it wrote before it died), the server drains, or kSharedLogTailLimit passes.
net::awaitable<void> follow_shared_log(Deps& deps, std::shared_ptr<SharedLogTail> tail, std::string key,
                                       std::uint64_t after) {
  auto deadline = std::chrono::steady_clock::now() + kSharedLogTailLimit;
  auto delay = kSharedLogPollMin;
  int writer_gone = 0;
  net::steady_timer timer(co_await net::this_coro::executor);
  while (!tail->done.load() && !deps.draining.load() && std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code ec;
    timer.expires_after(delay);
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    auto evs = co_await deps.directory.read_stream(key, after);
    if (!evs || evs->empty()) {
      if (writer_gone >= 2) break;
      auto alive = co_await deps.directory.stream_writer_alive(key);
      writer_gone = alive && *alive != 1 ? writer_gone + 1 : 0;
      if (writer_gone == 0) delay = std::min(delay * 2, kSharedLogPollMax);
      continue;
    }
    bool final = ends_request(*evs);
    after = evs->back().seq;
    tail->stream->preload(std::move(evs).value());
    if (final) break;
    delay = kSharedLogPollMin;
  }
  tail->stream->finish();
}

/// The request's MCP-Protocol-Version ("" when absent).
std::string_view version_header(const Exchange& ex) {
  return http::header(ex.req, "MCP-Protocol-Version");
}

/// Checks MCP-Protocol-Version (`pv`, version_header); an empty optional means it is fine.
std::optional<std::string> bad_version(std::string_view pv) {
  if (pv.empty() || protocol::is_supported_version(pv)) return std::nullopt;
  std::string supported;
  for (auto v : protocol::kSupportedVersions) supported += (supported.empty() ? "" : ", ") + std::string(v);
  return "Bad Request: Unsupported protocol version: " + std::string(pv) + " (supported versions: " + supported + ")";
}

/// The session of a non-initialize request, or the reply that refuses the request.
struct Required {
  std::shared_ptr<session::Session> session;
  std::optional<http::Reply> reply;
};
/// `pv`: the request's version_header (a POST has read it already, to classify_post).
net::awaitable<Required> require_session(Deps& deps, Exchange& ex, std::string_view pv) {
  Required out;
  auto sid = http::header(ex.req, "Mcp-Session-Id");
  if (sid.empty()) {
    out.reply =
        http::error_reply(status::bad_request, errc::kServerError, "Bad Request: Mcp-Session-Id header is required");
  } else if (auto why = bad_version(pv)) {
    out.reply = http::error_reply(status::bad_request, errc::kServerError, *why);
  } else if (auto now = deps.directory.resolve_now(sid, asker_of(ex))) {
    add_headers(ex, now->headers);
    out.session = std::move(now->session);
  } else if (auto r = co_await deps.directory.resolve(sid, asker_of(ex)); !r) {
    out.reply = failure_reply(r.error());
  } else {
    add_headers(ex, r->headers);
    out.session = std::move(r->session);
  }
  if (out.session && foreign_session(deps, ex, *out.session)) out.session = nullptr;
  if (!out.session && !out.reply) {
    out.reply = http::error_reply(status::not_found, errc::kSessionNotFound, "Session not found");
  }
  co_return out;
}

net::awaitable<bool> write_json_responses(Exchange& ex, session::SseStream& stream, bool batch, http::Headers extra) {
  auto events = stream.read_after(0, stream.last_seq() + 1);
  if (events.empty()) co_return co_await http::write_response(ex, status::accepted, {}, {}, std::move(extra));
  std::string body;
  if (batch) body += '[';
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i) body += ',';
    body += events[i].data;
  }
  if (batch) body += ']';
  co_return co_await http::write_response(ex, status::ok, std::move(body), "application/json", std::move(extra));
}

/// Answers a POST whose requests run on `stream`.
net::awaitable<bool> answer_post(Deps& deps, Exchange& ex, session::Session& session,
                                 const std::shared_ptr<session::SseStream>& stream, bool batch, http::Headers extra) {
  auto mode = deps.options.response_mode;
  if (mode != ResponseMode::sse) co_await wait_for_decision(deps, ex, *stream);
  bool ok;
  if (mode == ResponseMode::json || (mode == ResponseMode::automatic && !stream->has_non_response())) {
    if (!stream->finished()) co_await wait_for_decision(deps, ex, *stream);  // json mode: only the finish matters
    ok = co_await write_json_responses(ex, *stream, batch, std::move(extra));
  } else {
    http::SseOptions opts;
    opts.priming_event = wants_priming(session.protocol_version());
    // The client gets event ids of this stream: another node may have to replay it (a
    // no-op for an event store of this process only).
    stream->announce_writer();
    ok = co_await http::pump_sse(ex, *stream, 0, opts, std::move(extra));
  }
  if (stream->finished()) session.close_stream(stream->index());
  co_return ok;
}

/// What a synchronous handler sent besides its response, as an SSE stream (with the
/// response last).
net::awaitable<bool> answer_collected_as_stream(Deps& deps, Exchange& ex,
                                                const std::shared_ptr<session::Session>& session,
                                                std::shared_ptr<CollectingOutbound> out) {
  auto stream = session->open_stream();
  if (!stream) {
    // Every stream of the session is in use (SessionOptions::max_streams_per_session): the
    // response still goes out, as JSON, without what the handler sent besides it.
    util::log_event(spdlog::level::warn, "stream limit reached: notifications of a request dropped",
                    {{"session", session->id()}, {"dropped", std::to_string(out->sent.size())}});
    if (!out->response) co_return co_await http::write_response(ex, status::accepted, {}, {}, {});
    co_return co_await http::write_response(ex, status::ok, json::serialize(*out->response), "application/json", {});
  }
  for (const auto& m : out->sent) stream->send(m);
  if (out->response) stream->send_response(*out->response);
  stream->finish();
  co_return co_await answer_post(deps, ex, *session, stream, false, {});
}

/// One request whose handler cannot suspend (Dispatcher::runs_synchronously), served on
/// the connection's own coroutine. Same answers as the general path: JSON when the
/// handler only produced its result, else an SSE stream with everything it sent.
net::awaitable<http::Answer> answer_inline(Deps& deps, Exchange& ex, const std::shared_ptr<session::Session>& session,
                                           json::value msg) {
  bool json_mode = deps.options.response_mode == ResponseMode::json;
  auto out = std::make_shared<CollectingOutbound>(json_mode ? unsolicited_target(deps, session) : nullptr);
  auto served = co_await deps.dispatcher.serve(session, std::move(msg), out);
  // The change was not stored: no status is sent yet, so the failure is answered as HTTP
  // (503 + Retry-After: the client repeats the request) like every other failure of the
  // directory. A request answered on a stream gets it as its JSON-RPC error instead.
  if (served.failure) co_return http::Answer::of(failure_reply(*served.failure));
  if (served.response) out->response = std::move(*served.response);  // moved: the DOM is written once
  if (!out->sent.empty()) {
    co_return http::Answer::written(co_await answer_collected_as_stream(deps, ex, session, std::move(out)));
  }
  if (!out->response) co_return http::Answer::of(http::Reply{status::accepted, {}, {}, {}});
  co_return http::Answer::of(http::Reply{status::ok, json::serialize(*out->response), "application/json", {}});
}

/// 429: every POST stream the session may keep is in use (its requests still run).
http::Reply too_many_streams(const Deps& deps) {
  return http::error_reply(status::too_many_requests, errc::kServerError,
                           "Too Many Requests: " + std::to_string(deps.options.session.max_streams_per_session) +
                               " requests of this session are in flight (the limit); retry when one has finished",
                           http::header_list("Retry-After", "1"));
}

/// A POST body, read and checked without I/O.
struct PostBody {
  Inbound in;
  bool has_init = false;
  std::size_t requests = 0;
};

/// Checks the POST's headers and parses its body; a reply when the POST is refused.
std::optional<http::Reply> read_post(const Deps& deps, const Exchange& ex, PostBody& post) {
  if (!http::accepts(ex.req, "application/json") || !http::accepts(ex.req, "text/event-stream")) {
    return http::error_reply(status::not_acceptable, errc::kServerError,
                             "Not Acceptable: Client must accept both application/json and text/event-stream");
  }
  if (!is_json_content_type(http::header(ex.req, "Content-Type"))) {
    return http::error_reply(status::unsupported_media_type, errc::kServerError,
                             "Unsupported Media Type: Content-Type must be application/json");
  }
  auto in = read_messages(ex.req.body(), deps.options.session.max_batch_size);
  if (!in) return http::error_reply(status::bad_request, in.error().code, in.error().message);
  post.in = std::move(in).value();
  for (const auto& m : post.in.msgs) {
    if (m.kind != MessageKind::request) continue;
    ++post.requests;
    if (m.method == "initialize") post.has_init = true;
  }
  // Even a batch of one: initialize MUST NOT be part of a JSON-RPC batch.
  if (post.has_init && (post.in.parsed.is_batch || post.in.msgs.size() > 1)) {
    return http::error_reply(status::bad_request, errc::kInvalidRequest,
                             "Invalid Request: initialize must not be part of a batch");
  }
  return std::nullopt;
}

/// Session-level checks, and the messages that are not requests (handled here); a reply
/// when that is all the POST needs.
std::optional<http::Reply> take_messages(Deps& deps, const std::shared_ptr<session::Session>& session, PostBody& post) {
  session->touch();
  if (post.in.parsed.is_batch && protocol::forbids_batches(session->protocol_version())) {
    return http::error_reply(
        status::bad_request, errc::kInvalidRequest,
        "Invalid Request: JSON-RPC batches are not allowed in protocol version " + session->protocol_version());
  }
  for (const auto& m : post.in.msgs) {
    if (m.kind != MessageKind::request) deps.dispatcher.accept(session, m, {}, nullptr, {});
  }
  if (post.requests == 0) return http::Reply{status::accepted, {}, {}, {}};
  return std::nullopt;
}

net::awaitable<bool> handle_initialize(Deps& deps, Exchange& ex, PostBody& post) {
  auto sid = http::header(ex.req, "Mcp-Session-Id");
  // Another principal's session id is not ours to talk about: a new session is made.
  if (auto existing = sid.empty() ? nullptr : deps.sessions.find(sid); existing && existing->belongs_to(ex.principal)) {
    co_return co_await http::write_error(ex, status::bad_request, errc::kInvalidRequest,
                                         "Invalid Request: Server already initialized");
  }
  auto session = deps.sessions.create(session::TransportKind::streamable_http, ex.principal);
  if (!session) {
    deps.sessions_rejected.fetch_add(1);
    co_return co_await http::write_error(ex, status::service_unavailable, errc::kServerError,
                                         "Service Unavailable: session limit reached",
                                         http::header_list("Retry-After", "5"));
  }
  const auto& init = post.in.msgs[0];
  auto result = deps.dispatcher.initialize(*session, init.params);
  const json::value& id = *init.id;
  if (!result) {
    deps.sessions.remove(session->id());
    co_return co_await http::write_response(ex, status::ok, json::serialize(protocol::make_error(id, result.error())));
  }
  auto created = co_await deps.directory.create(session, asker_of(ex));
  if (!created) {
    deps.sessions.remove(session->id());
    co_return co_await http::write_reply(ex, failure_reply(created.error()));
  }
  add_headers(ex, *created);
  util::log_event(spdlog::level::debug, "session initialized",
                  {{"session", session->id()}, {"version", session->protocol_version()}});
  auto response = protocol::make_result(id, std::move(result).value());
  if (deps.options.response_mode != ResponseMode::sse) {
    // Only the response, answered as JSON: no stream and no event log (nothing could
    // resume it; in distributed mode that saves a Redis write and ~0.5 KB per session).
    co_return co_await http::write_response(ex, status::ok, json::serialize(response), "application/json",
                                            http::header_list("Mcp-Session-Id", session->id()));
  }
  auto stream = session->open_stream();
  stream->send_response(response);
  stream->finish();
  co_return co_await answer_post(deps, ex, *session, stream, false, http::header_list("Mcp-Session-Id", session->id()));
}

/// Requests that may suspend (or several): each runs as its own task on the session's
/// POST stream, answered as JSON or SSE by answer_post.
net::awaitable<bool> answer_spawned(Deps& deps, Exchange& ex, const std::shared_ptr<session::Session>& session,
                                    PostBody& post) {
  auto stream = session->open_stream();
  if (!stream) co_return co_await http::write_reply(ex, too_many_streams(deps));
  std::shared_ptr<session::Outbound> out = stream;
  if (deps.options.response_mode == ResponseMode::json) {
    out = std::make_shared<SplitOutbound>(unsolicited_target(deps, session), stream);
  }
  auto group = std::make_shared<protocol::RequestGroup>(post.requests, stream);
  auto exec = co_await net::this_coro::executor;
  for (std::size_t i = 0; i < post.in.msgs.size(); ++i) {
    const auto& m = post.in.msgs[i];
    if (m.kind != MessageKind::request) continue;
    deps.dispatcher.accept(session, m, std::move(post.in.parsed.messages[i]), out, exec, group);
  }
  co_return co_await answer_post(deps, ex, *session, stream, post.in.parsed.is_batch, {});
}

net::awaitable<http::Answer> handle_post(Deps& deps, Exchange& ex) {
  PostBody post;
  std::optional<http::Reply> reply = read_post(deps, ex, post);
  // MCP 2026-07-28 beside the session generation on the same path: a modern POST never
  // touches Mcp-Session-Id or the session directory (modern_http.cpp).
  bool modern = false;
  const std::string_view pv = version_header(ex);
  if (!reply) reply = classify_post(post.in, pv, modern);
  if (modern) co_return co_await handle_modern(deps, ex, post.in);
  if (!reply && post.has_init) co_return http::Answer::written(co_await handle_initialize(deps, ex, post));
  std::shared_ptr<session::Session> session;
  if (!reply) {
    auto req = co_await require_session(deps, ex, pv);
    if (req.reply) co_return http::Answer::of(std::move(*req.reply));
    session = std::move(req.session);
    reply = take_messages(deps, session, post);
  }
  if (reply) co_return http::Answer::of(std::move(*reply));
  if (post.in.msgs.size() == 1 && deps.options.response_mode != ResponseMode::sse &&
      deps.dispatcher.runs_synchronously(post.in.msgs[0])) {
    co_return co_await answer_inline(deps, ex, session, std::move(post.in.parsed.messages[0]));
  }
  co_return http::Answer::written(co_await answer_spawned(deps, ex, session, post));
}

/// GET with Last-Event-ID of a POST stream this process does not hold (another node's, or
/// this node's before a restart): replayed from the shared event log, and followed until
/// its response when the request may still run.
net::awaitable<bool> replay_shared_stream(Deps& deps, Exchange& ex, const session::Session& session,
                                          std::uint64_t index, std::uint64_t seq) {
  std::string key = session.id() + "/" + std::to_string(index);
  auto evs = co_await deps.directory.read_stream(key, seq);
  if (!evs) co_return co_await http::write_reply(ex, failure_reply(evs.error()));
  auto tail = std::make_shared<SharedLogTail>();
  tail->stream = std::make_shared<session::SseStream>(session.id(), index, deps.events);
  bool final = ends_request(*evs);
  tail->stream->preload(std::move(evs).value());
  if (final) {
    tail->stream->finish();
  } else {
    // The request may still run on its node: follow the shared log until its response.
    auto exec = co_await net::this_coro::executor;
    auto from = tail->stream->last_seq() > seq ? tail->stream->last_seq() : seq;
    net::co_spawn(exec, follow_shared_log(deps, tail, std::move(key), from), net::detached);
  }
  http::SseOptions opts;
  opts.ends_at_drain = true;
  bool ok = co_await http::pump_sse(ex, *tail->stream, seq, opts);
  tail->done.store(true);
  co_return ok;
}

net::awaitable<bool> handle_get(Deps& deps, Exchange& ex) {
  if (!http::accepts(ex.req, "text/event-stream")) {
    co_return co_await http::write_error(ex, status::not_acceptable, errc::kServerError,
                                         "Not Acceptable: Client must accept text/event-stream");
  }
  auto req = co_await require_session(deps, ex, version_header(ex));
  if (req.reply) co_return co_await http::write_reply(ex, std::move(*req.reply));
  auto session = std::move(req.session);
  session->touch();
  std::uint64_t index = 0, seq = 0;
  bool resume = false;
  if (auto last = http::header(ex.req, "Last-Event-ID"); !last.empty())
    resume = session::parse_event_id(last, index, seq);
  if (resume && index != 0 && !session->find_stream(index) && deps.directory.shares_streams()) {
    co_return co_await replay_shared_stream(deps, ex, *session, index, seq);
  }
  // The standalone stream may be in another process: the directory brings it here.
  auto moved = co_await deps.directory.acquire_stream(session, asker_of(ex));
  if (!moved) co_return co_await http::write_reply(ex, failure_reply(moved.error()));
  if (!moved->session) {
    co_return co_await http::write_error(ex, status::service_unavailable, errc::kServerError,
                                         "SessionClaimConflictError: the session's stream could not be moved to this "
                                         "node yet; retry",
                                         http::header_list("Retry-After", "1"));
  }
  add_headers(ex, moved->headers);
  session = std::move(moved->session);
  auto target = session->standalone();
  std::uint64_t cursor = target->last_seq();
  if (resume) {
    if (auto s = session->find_stream(index)) {
      target = s;
      cursor = seq;
    }
  }
  http::SseOptions opts;
  opts.priming_event = wants_priming(session->protocol_version());
  bool ok = co_await http::pump_sse(ex, *target, cursor, opts);
  if (ok && target->index() != 0 && target->finished()) session->close_stream(target->index());
  co_return ok;
}

net::awaitable<http::Answer> handle_delete(Deps& deps, Exchange& ex) {
  auto sid = http::header(ex.req, "Mcp-Session-Id");
  if (sid.empty()) {
    co_return http::Answer::of(
        http::error_reply(status::bad_request, errc::kServerError, "Bad Request: Mcp-Session-Id header is required"));
  }
  if (auto why = bad_version(version_header(ex)))
    co_return http::Answer::of(http::error_reply(status::bad_request, errc::kServerError, *why));
  // Read first: only the session's own principal may end it.
  auto found = co_await deps.directory.resolve(sid, asker_of(ex));
  if (!found) co_return http::Answer::of(failure_reply(found.error()));
  if (!found->session || foreign_session(deps, ex, *found->session)) {
    co_return http::Answer::of(http::error_reply(status::not_found, errc::kSessionNotFound, "Session not found"));
  }
  auto removed = co_await deps.directory.remove(std::string(sid));
  if (!removed) co_return http::Answer::of(failure_reply(removed.error()));
  if (!*removed)
    co_return http::Answer::of(http::error_reply(status::not_found, errc::kSessionNotFound, "Session not found"));
  util::log_event(spdlog::level::debug, "session deleted by the client", {{"session", sid}});
  co_return http::Answer::of(http::Reply{status::ok, {}, "application/json", {}});
}

}  // namespace

net::awaitable<http::Answer> handle_streamable(Deps& deps, Exchange& ex) {
  switch (ex.req.method()) {
    case bhttp::verb::post:
      co_return co_await handle_post(deps, ex);
    case bhttp::verb::get:
      // Serverless: an instance may be frozen or gone after the response, so it offers no
      // standalone stream (the spec's answer for that is 405).
      if (deps.options.mode != DeploymentMode::serverless)
        co_return http::Answer::written(co_await handle_get(deps, ex));
      co_return http::Answer::of(http::error_reply(status::method_not_allowed, errc::kServerError,
                                                   "Method Not Allowed: no standalone SSE stream in serverless mode",
                                                   http::header_list("Allow", "POST, DELETE")));
    case bhttp::verb::delete_:
      co_return co_await handle_delete(deps, ex);
    default:
      break;
  }
  co_return http::Answer::of(http::error_reply(status::method_not_allowed, errc::kServerError, "Method not allowed.",
                                               http::header_list("Allow", "GET, POST, DELETE")));
}

std::vector<std::pair<std::string, http::Site::Handler>> routes(Deps& deps) {
  const auto& o = deps.options.http;
  std::vector<std::pair<std::string, http::Site::Handler>> out;
  // Plain lambdas (not coroutines) that call the coroutine functions: nothing captured
  // lives in a coroutine frame.
  out.emplace_back(o.mcp_path, [&deps](Exchange& ex) { return handle_streamable(deps, ex); });
  out.emplace_back(o.sse_path, [&deps](Exchange& ex) { return handle_legacy_stream(deps, ex); });
  out.emplace_back(o.message_path, [&deps](Exchange& ex) { return handle_legacy_message(deps, ex); });
  return out;
}

void mount(http::Site& site, Deps& deps) {
  site.serves_while_draining = deps.directory.serves_while_draining();
  site.response_headers = deps.directory.response_headers();
  site.routes = routes(deps);
}

}  // namespace frontmcp::transport
