#pragma once
// Dispatcher: MCP methods on top of JSON-RPC. Transports hand it parsed messages with
// the session (if any) and an Outbound for what handlers send while they run; it never
// sees HTTP. Thread-safety: all members, any thread; handle_request must run on a strand
// (handlers rely on it for their waits).
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <frontmcp/options.hpp>
#include <memory>
#include <optional>

#include "protocol/jsonrpc.hpp"
#include "protocol/modern.hpp"
#include "registry/registry.hpp"
#include "session/directory.hpp"
#include "session/message_bus.hpp"
#include "session/session_manager.hpp"
#include "util/metrics.hpp"
#include "util/rate_limit.hpp"

namespace frontmcp::protocol {

class ContextImpl;
namespace mrtr {
class StateSealer;
}

/// The requests of one POST: its stream finishes once the last of them is answered.
struct RequestGroup {
  RequestGroup(std::size_t n, std::shared_ptr<session::SseStream> s) : remaining(n), stream(std::move(s)) {}
  std::atomic<std::size_t> remaining;
  std::shared_ptr<session::SseStream> stream;
  /// One request of the group is answered (or will never be).
  void one_done();
};

/// A request served (Dispatcher::serve): its response (none when the client cancelled it),
/// or why what it changed in its session could not be stored (the response must then not
/// go out: the client would believe in a change that is lost).
struct Served {
  std::optional<json::value> response;
  std::optional<session::Failure> failure;
};

class Dispatcher {
 public:
  Dispatcher(registry::Registry& registry, session::SessionManager& sessions, session::MessageBus& bus,
             session::SessionDirectory& directory, const ServerOptions& options, std::string node_id,
             metrics::Metrics& metrics);
  ~Dispatcher();

  // ---- The entry of every transport (inbound.cpp) ------------------------------------
  // Transports keep the framing (HTTP, SSE, stdio lines), parse and classify, and choose
  // the Outbound; everything a message then does happens here.

  /// One classified client message of `session`: initialize (answered on `out`; the
  /// transports that create the session on initialize, Streamable HTTP, call initialize()
  /// themselves), a request (run as its own task on `ex`, answered on `out`, counted in
  /// `group`), a notification or a response. `msg` owns what `m` points into.
  void accept(const std::shared_ptr<session::Session>& session, const Message& m, json::value msg,
              std::shared_ptr<session::Outbound> out, const boost::asio::any_io_executor& ex,
              std::shared_ptr<RequestGroup> group = nullptr);
  /// Serves one request and stores what it changed in the session (SessionDirectory::commit)
  /// before the response is returned. Must run on a strand (handlers wait on it).
  Task<Served> serve(std::shared_ptr<session::Session> session, json::value msg,
                     std::shared_ptr<session::Outbound> out);

  /// Serves one request (a classified Message of kind request, owned by `msg`).
  /// Returns its response, or nullopt when the client cancelled it (no response is sent).
  /// `modern`: a request of the stateless generation (MCP 2026-07-28, no session), which
  /// passed modern::check_request; it must outlive the call. Its result is decorated
  /// (modern::decorate_result), server/discover is served, a missing resource is -32602,
  /// and a tools/call, prompts/get or resources/read whose handler lacks input from the
  /// client ends its round with resultType "input_required" (mrtr.hpp). `inflight`: how a
  /// request without a session is cancelled (a modern one whose client closed its response
  /// stream); a session's requests get theirs from the session.
  /// `decorated` false: a modern result is left undecorated; the caller serializes it with
  /// serialize_modern (the decoration is then spliced into the text, not built as JSON).
  Task<std::optional<json::value>> handle_request(std::shared_ptr<session::Session> session, json::value msg,
                                                  std::shared_ptr<session::Outbound> out,
                                                  const modern::Envelope* modern = nullptr,
                                                  std::shared_ptr<session::InFlight> inflight = nullptr,
                                                  bool decorated = true);
  /// The text of a modern response that handle_request left undecorated (`method` is its
  /// request's): the decoration (resultType, serverInfo, cache hints) is spliced into the
  /// serialized text when the result lacks all of it, else built as JSON as usual.
  std::string serialize_modern(std::string_view method, json::value response) const;
  /// A modern request run as its own task (co_spawn): its response goes to `stream`, which
  /// then finishes. `inflight` (may be null) cancels it (stdio: notifications/cancelled).
  static Task<void> serve_modern(Dispatcher& d, std::shared_ptr<modern::Envelope> envelope, json::value msg,
                                 std::shared_ptr<session::SseStream> stream,
                                 std::shared_ptr<session::InFlight> inflight = nullptr);

  // ---- subscriptions/listen (MCP 2026-07-28; listen.cpp) ------------------------------
  /// What of a listen request's `params.notifications` this server honors: the list kinds
  /// it has entries of, resource subscriptions (it advertises resources.subscribe). -32602
  /// for a malformed filter.
  Result<session::ListenFilter> listen_filter(const json::object* params) const;
  /// The _meta of the result that ends a listen stream (besides the subscription id).
  json::object listen_result_meta() const;
  /// True when a completion handler is registered (completion/complete exists).
  bool has_completion() const;
  /// True when serving `m` cannot suspend: the method is built in, or its user handler is
  /// a plain function. Such a request can run inline on the connection (no spawn), since
  /// it can neither wait for the client nor need its stream pumped while it runs.
  /// `tool`: a tools/call's tool when the caller has looked it up (called_tool), else null.
  bool runs_synchronously(const Message& m, const registry::ToolEntry* tool = nullptr) const;

  /// Notifications and responses from the client. Never fails (bad ones are logged).
  void handle_notification(const std::shared_ptr<session::Session>& session, const Message& m);
  void handle_response(const std::shared_ptr<session::Session>& session, const Message& m);

  /// initialize: negotiates the version and fills the session. Error -32602 on bad params.
  Result<json::object> initialize(session::Session& session, const json::object* params);

  /// notifications/resources/updated to every subscriber of `uri`, through the bus.
  void resource_updated(std::string_view uri);
  /// notifications/<kind>/list_changed to every initialized session, through the bus.
  void list_changed(registry::ListKind kind);

  const std::string& node_id() const noexcept { return node_id_; }
  bool serverless() const noexcept { return options_.mode == DeploymentMode::serverless; }
  const ServerOptions& options() const noexcept { return options_; }
  const registry::Registry& registry() const noexcept { return registry_; }

 private:
  json::object capabilities() const;
  /// server/discover (MCP 2026-07-28): the modern versions, the capabilities, instructions.
  json::value discover() const;
  /// The modern result of a request (resultType, serverInfo, cache hints).
  void decorate(std::string_view method, Result<json::value>& r) const;
  void request_served(std::string_view method, const json::value& id, const session::Session* session,
                      const Result<json::value>& r, std::chrono::steady_clock::duration took);
  /// The response message for a handler's outcome (an internal error if it holds a NaN or
  /// an infinity).
  static json::value respond(std::string_view method, const json::value& id, Result<json::value> r);
  Result<json::object> initialize_session(session::Session& session, const json::object* params);
  Task<Result<json::value>> call(std::string_view method, ContextImpl& ctx, const json::object& params);
  Task<Result<json::value>> tools_call(ContextImpl& ctx, const json::object& params);
  /// ServerOptions::tool_rate (or its tool_rates entry) for the request's principal and
  /// `tool`: nullopt when the call may run, else the isError tool result that refuses it.
  std::optional<json::value> tool_rate_refusal(const ContextImpl& ctx, const std::string& tool);
  Task<Result<json::value>> resources_read(ContextImpl& ctx, const json::object& params);
  Task<Result<json::value>> prompts_get(ContextImpl& ctx, const json::object& params);
  Task<Result<json::value>> complete(ContextImpl& ctx, const json::object& params);
  Result<json::value> set_level(ContextImpl& ctx, const json::object& params);
  Result<json::value> subscribe(ContextImpl& ctx, const json::object& params, bool on);

  static Task<void> serve_spawned(Dispatcher& d, std::shared_ptr<session::Session> session, json::value msg,
                                  std::shared_ptr<session::Outbound> out, std::shared_ptr<RequestGroup> group);

  registry::Registry& registry_;
  session::SessionManager& sessions_;
  session::MessageBus& bus_;
  session::SessionDirectory& directory_;
  const ServerOptions& options_;
  std::string node_id_;
  metrics::Metrics& metrics_;
  /// Seals and opens the requestState of multi-round-trip requests (mrtr.hpp).
  std::unique_ptr<mrtr::StateSealer> sealer_;
  /// tools/call buckets, one per tool and principal (tool_rate_refusal).
  util::KeyedRateLimiter tool_limiter_{kRateLimitMaxKeys};
  /// _meta["io.modelcontextprotocol/serverInfo"] of every stateless result (built once).
  json::object server_info_;
  /// The same decoration as text: `"_meta":{...},"resultType":"complete"`, and the cache
  /// hints `,"ttlMs":0,"cacheScope":"public"` (serialize_modern).
  std::string decoration_text_;
  std::string cache_hints_text_;
};

}  // namespace frontmcp::protocol
