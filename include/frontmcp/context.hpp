#pragma once
// The context a handler receives: who is asking, and what it may do while it runs.
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <frontmcp/list_kind.hpp>
#include <frontmcp/log_level.hpp>
#include <frontmcp/result.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace frontmcp {

/// Handlers may be coroutines; they run on the executor of the connection that carried
/// the request.
template <class T>
using Task = boost::asio::awaitable<T>;

/// Default wait for a server->client request (sampling, elicitation, roots/list).
inline constexpr std::chrono::milliseconds kDefaultClientRequestTimeout{60'000};

/// Per-request context. Valid for the whole run of the handler; not to be kept after it.
/// Thread-safety: call it only from the handler's own coroutine.
class Context {
 public:
  virtual ~Context() = default;

  /// Mcp-Session-Id, or empty for a session-less request (stdio and the stateless
  /// protocol generation have none).
  virtual std::string_view session_id() const = 0;
  /// The node (process) that runs this handler.
  virtual std::string_view node_id() const = 0;
  /// The negotiated protocol version.
  virtual std::string_view protocol_version() const = 0;
  /// The JSON-RPC id of the request being served.
  virtual const json::value& request_id() const = 0;
  /// The client's declared capabilities (from initialize).
  virtual const json::object& client_capabilities() const = 0;
  virtual const json::object& client_info() const = 0;

  /// True once the client sent notifications/cancelled for this request, or its session
  /// ended. (A dropped connection alone does not cancel: the client may resume the
  /// stream with Last-Event-ID.) A stateless (MCP 2026-07-28) request has no resumption:
  /// its client closing the response cancels it. Handlers should check it in loops.
  virtual bool cancelled() const = 0;

  /// Sends notifications/progress when the request carried a progressToken (otherwise a
  /// no-op). Never blocks: the message is queued for the request's stream.
  virtual void progress(double progress, std::optional<double> total = std::nullopt, std::string_view message = {}) = 0;

  /// Sends notifications/message if `level` is at or above the session's log level.
  virtual void log(LogLevel level, json::value data, std::string_view logger = {}) = 0;

  /// Sends a server->client request on the request's stream and waits for the answer.
  /// Fails with an Error if the client lacks the capability, answers with an error,
  /// the timeout passes (errc::kRequestTimeout, -32003), or the request is cancelled.
  virtual Task<Result<json::value>> request(std::string method, json::object params,
                                            std::chrono::milliseconds timeout) = 0;

  /// sampling/createMessage
  Task<Result<json::value>> create_message(json::object params,
                                           std::chrono::milliseconds timeout = kDefaultClientRequestTimeout);
  /// elicitation/create
  Task<Result<json::value>> elicit(json::object params,
                                   std::chrono::milliseconds timeout = kDefaultClientRequestTimeout);
  /// roots/list
  Task<Result<json::value>> list_roots(std::chrono::milliseconds timeout = kDefaultClientRequestTimeout);

  /// Ends the HTTP response that carries this request's SSE stream, without ending the
  /// request: the client reconnects (GET with Last-Event-ID) and receives the rest,
  /// including the result. Lets long calls release connections (SEP-1699 polling).
  virtual void close_sse_stream() = 0;

  /// notifications/resources/updated to every session subscribed to `uri`, on any node.
  virtual void notify_resource_updated(std::string_view uri) = 0;

  /// notifications/<kind>/list_changed to every session and every listen stream that asked
  /// for it, on any node (the registry itself is unchanged: for lists the application
  /// computes, e.g. per user).
  virtual void notify_list_changed(ListKind kind) = 0;
};

}  // namespace frontmcp
