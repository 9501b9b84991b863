// The Context a handler gets (context.hpp): progress, logging, cancellation and
// server->client requests of the request being served.
#include "protocol/context_impl.hpp"

#include <atomic>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <exception>

#include "protocol/dispatcher.hpp"
#include "protocol/versions.hpp"
#include "util/log.hpp"

namespace frontmcp {

Task<Result<json::value>> Context::create_message(json::object params, std::chrono::milliseconds timeout) {
  return request_input({}, "sampling/createMessage", std::move(params), timeout);
}
Task<Result<json::value>> Context::create_message(std::string key, json::object params,
                                                  std::chrono::milliseconds timeout) {
  return request_input(std::move(key), "sampling/createMessage", std::move(params), timeout);
}
Task<Result<json::value>> Context::elicit(json::object params, std::chrono::milliseconds timeout) {
  return request_input({}, "elicitation/create", std::move(params), timeout);
}
Task<Result<json::value>> Context::elicit(std::string key, json::object params, std::chrono::milliseconds timeout) {
  return request_input(std::move(key), "elicitation/create", std::move(params), timeout);
}
Task<Result<json::value>> Context::list_roots(std::chrono::milliseconds timeout) {
  return request_input({}, "roots/list", json::object{}, timeout);
}
Task<Result<json::value>> Context::list_roots(std::string key, std::chrono::milliseconds timeout) {
  return request_input(std::move(key), "roots/list", json::object{}, timeout);
}

}  // namespace frontmcp

namespace frontmcp::protocol {

namespace net = boost::asio;
using session::Session;

// ---------------------------------------------------------------- ContextImpl

ContextImpl::ContextImpl(Dispatcher& d, std::shared_ptr<Session> s, std::shared_ptr<session::Outbound> out,
                         json::value request_id, json::value progress_token,
                         std::shared_ptr<session::InFlight> inflight, const modern::Envelope* modern,
                         std::unique_ptr<mrtr::Round> round, bool may_ask, const json::object* modern_meta)
    : dispatcher_(d),
      session_(std::move(s)),
      out_(std::move(out)),
      request_id_(std::move(request_id)),
      progress_token_(std::move(progress_token)),
      inflight_(std::move(inflight)),
      modern_(modern),
      modern_meta_(modern_meta),
      round_(std::move(round)),
      may_ask_(may_ask),
      protocol_version_(session_  ? session_->protocol_version()
                        : modern_ ? modern_->protocol_version
                                  : std::string(kLatestVersion)) {}

const session::SessionState& ContextImpl::snapshot() const {
  if (!state_ && modern_) {
    // What the modern request's _meta says of its client, in place of a session's state.
    state_ = std::make_unique<session::SessionState>();
    state_->client_capabilities = modern::client_capabilities_of(modern_meta_);
    state_->client_info = modern::client_info_of(modern_meta_);
  }
  if (!state_) state_ = std::make_unique<session::SessionState>(session_ ? session_->state() : session::SessionState{});
  return *state_;
}

std::string_view ContextImpl::session_id() const {
  return session_ ? std::string_view(session_->id()) : std::string_view();
}
std::string_view ContextImpl::node_id() const {
  return dispatcher_.node_id();
}
bool ContextImpl::cancelled() const {
  return inflight_ && inflight_->cancelled.load(std::memory_order_acquire);
}

namespace {
/// Whole numbers as JSON integers ("50", not "5E1"), others as doubles.
json::value number(double v) {
  constexpr double kMaxExact = 9007199254740992.0;  // 2^53
  if (v >= -kMaxExact && v <= kMaxExact && v == static_cast<double>(static_cast<std::int64_t>(v))) {
    return static_cast<std::int64_t>(v);
  }
  return v;
}

}  // namespace

/// Handler bugs that produce NaN or infinity are logged at most this often.
constexpr std::chrono::seconds kNonFiniteLogInterval{10};

void non_finite_refused(std::string_view what) {
  static util::LogThrottle throttle(kNonFiniteLogInterval);
  if (!throttle.allow()) return;
  util::log().error(
      "{}: a NaN or infinity cannot be sent as JSON; refused (a bug in the handler; logged at most "
      "every {} s)",
      what, kNonFiniteLogInterval.count());
}

void ContextImpl::send_checked(json::value msg, std::string_view what) {
  if (has_non_finite(msg)) {
    non_finite_refused(what);
    return;
  }
  out_->send(msg);
}

void ContextImpl::progress(double progress, std::optional<double> total, std::string_view message) {
  if (progress_token_.is_null() || cancelled()) return;
  json::object p{{"progressToken", progress_token_}, {"progress", number(progress)}};
  if (total) p["total"] = number(*total);
  if (!message.empty()) p["message"] = message;
  send_checked(make_notification("notifications/progress", std::move(p)), "notifications/progress");
}

void ContextImpl::log(LogLevel level, json::value data, std::string_view logger) {
  if (session_) {
    auto min = session_->log_level();
    if (min && level < *min) return;
  } else if (modern_) {
    // MCP 2026-07-28: notifications/message only for a request whose _meta asks for a
    // level, at or above it.
    if (!modern_->log_level || level < *modern_->log_level) return;
  }
  json::object p{{"level", to_string(level)}, {"data", std::move(data)}};
  if (!logger.empty()) p["logger"] = logger;
  send_checked(make_notification("notifications/message", std::move(p)), "notifications/message");
}

namespace {
/// The client capability a server->client method needs.
std::string_view required_capability(std::string_view method) {
  if (method == "sampling/createMessage") return "sampling";
  if (method == "elicitation/create") return "elicitation";
  if (method == "roots/list") return "roots";
  return {};
}
}  // namespace

Task<Result<json::value>> ContextImpl::request_input(std::string key, std::string method, json::object params,
                                                     std::chrono::milliseconds timeout) {
  if (modern_) {
    // Multi-round-trip requests (protocol/mrtr.hpp): answered from what the client sent,
    // or the round ends; never a wait.
    if (!may_ask_) {
      co_return Error{errc::kServerError,
                      method +
                          ": input from the client can be asked for on tools/call, prompts/get and "
                          "resources/read only",
                      {}};
    }
    if (!round_) {
      // The request carried no round: this is its first (its capabilities are in its _meta,
      // which outlives this context).
      round_ = std::make_unique<mrtr::Round>(json::object(), nullptr, modern::client_capabilities_of(modern_meta_),
                                             dispatcher_.options().stateless.max_input_requests);
    }
    if (has_non_finite(params)) {
      non_finite_refused(method);
      co_return Error::invalid_params(method + ": params hold a NaN or infinity, which JSON cannot represent");
    }
    co_return round_->ask(std::move(key), method, std::move(params));
  }
  if (!session_) co_return Error{errc::kServerError, "server->client requests need a session", {}};
  if (dispatcher_.serverless()) {
    // The answer would have to reach this instance on a stream it does not keep.
    co_return Error{errc::kServerError, method + " is not available in serverless mode (no stream to the client)", {}};
  }
  auto cap = required_capability(method);
  if (!cap.empty() && !client_capabilities().contains(cap)) {
    co_return Error{errc::kInvalidRequest, "client does not support " + std::string(cap), {}};
  }
  if (has_non_finite(params)) {
    non_finite_refused(method);
    co_return Error::invalid_params(method + ": params hold a NaN or infinity, which JSON cannot represent");
  }
  auto ex = co_await net::this_coro::executor;
  auto waker = std::make_shared<util::Waker>(ex);
  auto call = std::make_shared<session::PendingCall>(waker);
  std::string id = session_->next_request_id();
  if (auto max = dispatcher_.options().session.max_pending_client_requests; !session_->add_pending(id, call, max)) {
    co_return Error{
        errc::kServerError,
        method + ": " + std::to_string(max) + " requests to the client already wait for answers (the limit)",
        {}};
  }
  if (inflight_) {
    std::lock_guard lock(inflight_->mu);
    inflight_->waiting_on = call;
  }
  if (cancelled()) call->complete(Error{errc::kServerError, "request cancelled", {}});
  out_->send(make_request(json::string(id), method, std::move(params)));

  std::optional<Result<json::value>> result = co_await call->wait_until(util::Waker::Clock::now() + timeout);
  session_->remove_pending(id);
  if (inflight_) {
    std::lock_guard lock(inflight_->mu);
    inflight_->waiting_on.reset();
  }
  if (!result) {
    // Tell the client to stop working on it (spec: cancellation on timeout).
    out_->send(make_notification("notifications/cancelled", json::object{{"requestId", id}, {"reason", "timeout"}}));
    co_return Error{errc::kRequestTimeout, method + " timed out", {}};
  }
  co_return std::move(*result);
}

void ContextImpl::notify_resource_updated(std::string_view uri) {
  dispatcher_.resource_updated(uri);
}

void ContextImpl::notify_list_changed(ListKind kind) {
  dispatcher_.list_changed(registry::list_kind(kind));
}

}  // namespace frontmcp::protocol
