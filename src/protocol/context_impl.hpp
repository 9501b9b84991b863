#pragma once
// The Context a handler sees, bound to one request of one session (or none).
#include <frontmcp/context.hpp>
#include <memory>

#include "protocol/modern.hpp"
#include "protocol/mrtr.hpp"
#include "session/session.hpp"

namespace frontmcp::protocol {

class Dispatcher;

/// A handler produced a NaN or an infinity: logged at error (at most once per
/// kNonFiniteLogInterval: a handler may do it in a loop), never sent.
void non_finite_refused(std::string_view what);

class ContextImpl final : public Context {
 public:
  ContextImpl(Dispatcher& d, std::shared_ptr<session::Session> s, std::shared_ptr<session::Outbound> out,
              json::value request_id, json::value progress_token, std::shared_ptr<session::InFlight> inflight,
              const modern::Envelope* modern = nullptr, std::unique_ptr<mrtr::Round> round = nullptr,
              bool may_ask = false, const json::object* modern_meta = nullptr);

  std::string_view session_id() const override;
  std::string_view node_id() const override;
  std::string_view protocol_version() const override { return protocol_version_; }
  Generation generation() const override { return modern_ ? Generation::stateless : Generation::session; }
  const json::value& request_id() const override { return request_id_; }
  const json::object& client_capabilities() const override { return snapshot().client_capabilities; }
  const json::object& client_info() const override { return snapshot().client_info; }
  bool cancelled() const override;
  void progress(double progress, std::optional<double> total, std::string_view message) override;
  void log(LogLevel level, json::value data, std::string_view logger) override;
  Task<Result<json::value>> request_input(std::string key, std::string method, json::object params,
                                          std::chrono::milliseconds timeout) override;
  bool input_required() const override { return round_ && round_->input_required(); }
  void notify_resource_updated(std::string_view uri) override;
  void notify_list_changed(ListKind kind) override;
  /// A stateless request's stream is not resumable: it is not ended early.
  void close_sse_stream() override {
    if (!modern_) out_->disconnect();
  }

  const std::shared_ptr<session::Session>& session() const noexcept { return session_; }
  /// The envelope of a modern (MCP 2026-07-28) request; null in a session.
  const modern::Envelope* modern() const noexcept { return modern_; }
  /// The request's round (mrtr.hpp): the one it carried, or the one its handler's first
  /// request_input made; null when neither.
  const mrtr::Round* round() const noexcept { return round_.get(); }

 private:
  /// Sends `msg` unless it holds a NaN or an infinity (then logs, see has_non_finite).
  void send_checked(json::value msg, std::string_view what);

  Dispatcher& dispatcher_;
  std::shared_ptr<session::Session> session_;
  std::shared_ptr<session::Outbound> out_;
  json::value request_id_;
  json::value progress_token_;
  std::shared_ptr<session::InFlight> inflight_;
  const modern::Envelope* modern_;
  /// A modern request's params._meta (its client's capabilities and identity), in the
  /// request message the dispatcher owns while this context lives; else null.
  const json::object* modern_meta_;
  // A stateless tools/call, prompts/get or resources/read may ask the client for input
  // (may_ask_): its round is the one the request carried (requestState, inputResponses),
  // else made on the handler's first request_input (most calls ask nothing: no round).
  std::unique_ptr<mrtr::Round> round_;
  bool may_ask_;
  const session::SessionState& snapshot() const;
  // Copied on first use only; behind a pointer because a ContextImpl lives in the
  // request's coroutine frame, which stays small enough for Asio to recycle.
  mutable std::unique_ptr<session::SessionState> state_;
  std::string protocol_version_;
};

}  // namespace frontmcp::protocol
