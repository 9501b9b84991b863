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

/// Which protocol generation a request belongs to.
enum class Generation {
  session,    ///< 2024-11-05 ... 2025-11-25: initialize, Mcp-Session-Id, server->client requests
  stateless,  ///< 2026-07-28: no session; input from the client comes in rounds (MRTR)
};

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
  /// The negotiated protocol version (a stateless request's own: "2026-07-28").
  virtual std::string_view protocol_version() const = 0;
  virtual Generation generation() const = 0;
  /// The JSON-RPC id of the request being served.
  virtual const json::value& request_id() const = 0;
  /// The client's declared capabilities (from initialize; on a stateless request, from
  /// its _meta).
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

  /// Asks the client (sampling/createMessage, elicitation/create, roots/list) and returns
  /// its answer. One handler serves both generations:
  /// - In a session: sends a server->client request on the request's stream and waits.
  ///   Fails if the client lacks the capability, answers with an error, the timeout
  ///   passes (errc::kRequestTimeout, -32003), or the request is cancelled.
  /// - On a stateless request (MCP 2026-07-28, multi-round-trip requests): returns the
  ///   answer the client already sent for `key` (in this request's inputResponses, or in
  ///   an earlier round, carried in the integrity-protected requestState); otherwise fails
  ///   with errc::kInputRequired at once, and the request's round ends with
  ///   resultType "input_required" asking for every input that failed that way, whatever
  ///   the handler then returns. The client retries with the answers, and the handler
  ///   runs again from the start (so what it does before asking happens once per round).
  ///   A capability the client did not declare fails with
  ///   errc::kMissingRequiredClientCapability (-32021): return that error to the client.
  ///   Nothing waits in memory between rounds; any node of a cluster serves the retry.
  /// `key` names the input across rounds; empty: "<kind>-<n>" by call order (stable as
  /// long as the handler asks in the same order each round).
  virtual Task<Result<json::value>> request_input(std::string key, std::string method, json::object params,
                                                  std::chrono::milliseconds timeout) = 0;
  Task<Result<json::value>> request(std::string method, json::object params, std::chrono::milliseconds timeout) {
    return request_input({}, std::move(method), std::move(params), timeout);
  }
  /// True once an input of this (stateless) request is missing: the round ends with
  /// "input_required" whatever the handler returns, so it may return at once.
  virtual bool input_required() const = 0;

  /// sampling/createMessage
  Task<Result<json::value>> create_message(json::object params,
                                           std::chrono::milliseconds timeout = kDefaultClientRequestTimeout);
  Task<Result<json::value>> create_message(std::string key, json::object params,
                                           std::chrono::milliseconds timeout = kDefaultClientRequestTimeout);
  /// elicitation/create
  Task<Result<json::value>> elicit(json::object params,
                                   std::chrono::milliseconds timeout = kDefaultClientRequestTimeout);
  Task<Result<json::value>> elicit(std::string key, json::object params,
                                   std::chrono::milliseconds timeout = kDefaultClientRequestTimeout);
  /// roots/list
  Task<Result<json::value>> list_roots(std::chrono::milliseconds timeout = kDefaultClientRequestTimeout);
  Task<Result<json::value>> list_roots(std::string key,
                                       std::chrono::milliseconds timeout = kDefaultClientRequestTimeout);

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
