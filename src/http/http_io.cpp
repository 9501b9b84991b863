#include "http/http_io.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/url/parse.hpp>
#include <cctype>

#include "http/sse_format.hpp"
#include "protocol/jsonrpc.hpp"
#include "util/async_event.hpp"

namespace frontmcp::http {

namespace {
constexpr std::size_t kMaxEventsPerWrite = 256;

// Room for the status line and the usual fields, so the head is one allocation.
constexpr std::size_t kHeadReserve = 384;

// Fields of every SSE response (outside the coroutine: g++ 12 and braced literals).
const Headers& sse_fields() {
  static const Headers fields{{"Cache-Control", "no-cache, no-transform"},
                              {"X-Accel-Buffering", "no"}};  // NGINX: do not buffer the stream
  return fields;
}

/// The head of a response to `ex`: its HTTP version and keep-alive, `head`'s fields, then
/// every field of `lists`.
std::string response_head(const Exchange& ex, ResponseHead head, std::span<const Headers* const> lists) {
  head.version = ex.req.version();
  head.keep_alive = ex.keep_alive;
  std::string out;
  out.reserve(kHeadReserve);
  append_response_head(out, head, lists);
  return out;
}

bool iequals_prefix(std::string_view hay, std::size_t pos, std::string_view needle) {
  if (pos + needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i < needle.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(hay[pos + i])) != std::tolower(static_cast<unsigned char>(needle[i])))
      return false;
  }
  return true;
}
}  // namespace

Headers header_list(std::string name, std::string value) {
  Headers h;
  h.emplace_back(std::move(name), std::move(value));
  return h;
}

std::string_view header(const Request& req, std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
}

std::string query_param(const Request& req, std::string_view key) {
  auto u = boost::urls::parse_origin_form(std::string_view(req.target().data(), req.target().size()));
  if (!u) return {};
  auto it = u->params().find(key);
  return it == u->params().end() ? std::string() : std::string((*it).value);
}

bool accepts(const Request& req, std::string_view mime) {
  auto a = header(req, "Accept");
  if (a.find(mime) != std::string_view::npos) return true;  // the usual spelling, found fast
  for (std::size_t i = 0; i + mime.size() <= a.size(); ++i) {
    if (iequals_prefix(a, i, mime)) return true;
  }
  return false;
}

Reply error_reply(bhttp::status status, int code, std::string_view message, Headers extra) {
  return Reply{status, protocol::error_body(code, message), "application/json", std::move(extra)};
}

net::awaitable<bool> write_reply(Exchange& ex, Reply reply) {
  const int code = static_cast<int>(reply.status);
  if (status_forbids_body(code)) reply.body.clear();
  ResponseHead head_spec;
  head_spec.status = code;
  if (!reply.body.empty()) head_spec.content_type = reply.content_type;
  head_spec.content_length = reply.body.size();
  const Headers* lists[] = {&ex.headers, &reply.extra};
  std::string head = response_head(ex, head_spec, lists);
  // HEAD: the fields of a GET (Content-Length included), without the body.
  if (ex.req.method() == bhttp::verb::head) reply.body.clear();
  ex.site.metrics.http_response(code);
  ex.deadline.after(ex.site.options.write_timeout);
  std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(reply.body)};
  boost::system::error_code ec;
  co_await net::async_write(ex.stream, buffers, net::redirect_error(net::use_awaitable, ec));
  co_return !ec && ex.keep_alive;
}

net::awaitable<bool> write_response(Exchange& ex, bhttp::status status, std::string body, std::string_view content_type,
                                    Headers extra) {
  return write_reply(ex, Reply{status, std::move(body), content_type, std::move(extra)});
}

net::awaitable<bool> write_error(Exchange& ex, bhttp::status status, int code, std::string_view message,
                                 Headers extra) {
  return write_reply(ex, error_reply(status, code, message, std::move(extra)));
}

namespace {

// Small: it is held for every open stream, and nothing is expected on it anyway.
constexpr std::size_t kPeerReadBytes = 512;

net::awaitable<void> watch_peer(beast::tcp_stream& stream, beast::flat_buffer& buffer, std::shared_ptr<PeerWatch> w,
                                std::shared_ptr<util::Waker> waker) {
  boost::system::error_code ec;
  std::size_t n = co_await stream.socket().async_read_some(buffer.prepare(kPeerReadBytes),
                                                           net::redirect_error(net::use_awaitable, ec));
  buffer.commit(n);
  if (ec && ec != net::error::operation_aborted) w->closed = true;
  w->done = true;
  waker->notify();
}

/// `detached` is set once this writer let go of the stream (before the response's last
/// chunk: a client that reconnects as soon as it sees the end must find the stream free).
net::awaitable<bool> pump_events(Exchange& ex, session::SseStream& stream, std::uint64_t cursor, const SseOptions& opts,
                                 const Headers& extra, util::Waker& waker, const PeerWatch& peer, bool& detached) {
  ResponseHead head_spec;
  head_spec.content_type = "text/event-stream";
  head_spec.chunked = true;
  const Headers* lists[] = {&sse_fields(), &ex.headers, &extra};
  std::string head = response_head(ex, head_spec, lists);
  ex.site.metrics.http_response(200);
  const auto& http = ex.site.options;
  boost::system::error_code ec;
  ex.deadline.after(http.write_timeout);
  co_await net::async_write(ex.stream, net::buffer(head), net::redirect_error(net::use_awaitable, ec));
  if (ec) co_return false;

  std::string buf = opts.first_event;
  if (opts.priming_event) {
    // The first event carries an id (so the client can resume from here) and the retry
    // hint, with an explicit empty data line (an event without data is not dispatched).
    sse::append_retry(buf, http.sse_retry.count());
    sse::append_event(buf, stream.event_id(cursor), {}, {});
  } else if (opts.event_ids) {
    sse::append_retry(buf, http.sse_retry.count());
    buf += '\n';
  }

  for (;;) {
    if (peer.closed) co_return false;
    bool fin = stream.finished() || (opts.ends_at_drain && ex.site.draining.load(std::memory_order_acquire));
    auto events = stream.read_after(cursor, kMaxEventsPerWrite);
    for (const auto& e : events) {
      sse::append_event(buf, opts.event_ids ? stream.event_id(e.seq) : std::string(), "message", e.data);
      cursor = e.seq;
    }
    if (!buf.empty()) {
      ex.deadline.after(http.write_timeout);
      co_await net::async_write(ex.stream, bhttp::make_chunk(net::buffer(buf)),
                                net::redirect_error(net::use_awaitable, ec));
      if (ec) co_return false;
      buf.clear();
      // Look again before waiting: an event, finish() or disconnect() that came during the
      // write woke no one (its notify found no wait to cancel), and `fin` and `events`
      // are from before the write.
      continue;
    }
    if (fin || stream.take_disconnect()) break;
    ex.deadline.never();  // waiting for events is not a socket operation
    if (!co_await waker.wait_for(http.sse_keepalive_interval)) sse::append_comment(buf, "keepalive");
  }
  // Nothing more is written from the stream: free it before the end reaches the client.
  stream.detach();
  detached = true;
  ex.deadline.after(http.write_timeout);
  co_await net::async_write(ex.stream, bhttp::make_chunk_last(), net::redirect_error(net::use_awaitable, ec));
  co_return !ec && ex.keep_alive;
}

}  // namespace

std::shared_ptr<PeerWatch> start_peer_watch(Exchange& ex, const net::any_io_executor& exec) {
  auto peer = std::make_shared<PeerWatch>();
  net::co_spawn(exec, watch_peer(ex.stream, ex.buffer, peer, ex.waker), net::detached);
  return peer;
}

net::awaitable<void> end_peer_watch(Exchange& ex, const PeerWatch& peer) {
  if (!peer.done) ex.stream.socket().cancel();
  while (!peer.done) co_await ex.waker->wait_for(ex.site.options.write_timeout);
}

net::awaitable<bool> pump_sse(Exchange& ex, session::SseStream& stream, std::uint64_t cursor, SseOptions opts,
                              Headers extra) {
  auto exec = co_await net::this_coro::executor;
  auto waker = ex.waker;
  if (!stream.attach([waker] { waker->notify(); })) {
    co_return co_await write_error(ex, bhttp::status::conflict, errc::kServerError,
                                   "Conflict: only one SSE stream is allowed per session");
  }
  struct Detach {
    session::SseStream& s;
    bool done = false;  // pump_events let go already (another writer may be attached now)
    ~Detach() {
      if (!done) s.detach();
    }
  } guard{stream};

  auto peer = start_peer_watch(ex, exec);
  bool ok = co_await pump_events(ex, stream, cursor, opts, extra, *waker, *peer, guard.done);
  // The watcher uses the connection's socket and buffer: it must be gone before they
  // are used again (or destroyed).
  co_await end_peer_watch(ex, *peer);
  co_return ok && !peer->closed;
}

}  // namespace frontmcp::http
