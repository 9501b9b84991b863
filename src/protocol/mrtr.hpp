#pragma once
// Multi-round-trip requests (MCP 2026-07-28, SEP-2322; spec basic/patterns/mrtr.mdx): how a
// handler's requests to the client (sampling, elicitation, roots) work without a session.
//
// A stateless request cannot wait for the client: a handler's Context::request_input is
// answered from what the client already sent (the retry's inputResponses, or answers of
// earlier rounds carried in requestState), or it fails at once and the round ends with
// {"resultType":"input_required","inputRequests":{key:{method,params}},"requestState":...}.
// The client asks its user or model and sends the same request again with the answers; the
// handler runs again from the start. Nothing waits in memory between rounds.
//
// requestState is the client's to carry and an attacker's to change: it is sealed with
// HMAC-SHA256 under a key every node of a cluster shares (StatelessOptions), bound to the
// request (method, tool/prompt/resource, a digest of its arguments, the principal) and
// to an expiry. Anything else is refused with -32602 (never a new round: a client that
// tampers does not get to start over silently). Answers the client sends in
// inputResponses are its own claims, like any argument; only earlier rounds' answers
// come from the sealed state.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <frontmcp/options.hpp>
#include <frontmcp/result.hpp>
#include <memory>
#include <string>
#include <string_view>

namespace frontmcp::util {
class HmacSha256;
}

namespace frontmcp::protocol::mrtr {

/// The only methods that may answer "input_required" (the spec forbids it elsewhere).
bool allows_input(std::string_view method) noexcept;

/// What a requestState is bound to: its retry must be the same request again.
struct Binding {
  std::string method;
  std::string target;     ///< the tool or prompt name, or the resource URI
  std::string digest;     ///< base64url SHA-256 of the canonical arguments
  std::string principal;  ///< base64url SHA-256 of the principal (AuthDecision::principal)
};
Binding binding_of(std::string_view method, const json::object& params, std::string_view principal);

/// JSON with object keys sorted (recursively): the same value always gives the same text.
std::string canonical(const json::value& v);

/// Seals and opens requestState.
class StateSealer {
 public:
  /// Keys from `o` (or derived from `relay_secret`, or random: StatelessOptions). Throws
  /// std::invalid_argument for a secret shorter than kRequestStateSecretMinBytes.
  StateSealer(const StatelessOptions& o, std::string_view relay_secret);
  ~StateSealer();

  /// A requestState carrying `answers` (the inputs answered so far), valid until now + ttl;
  /// -32603 when it would be larger than max_request_state_bytes.
  Result<std::string> seal(const Binding& b, const json::object& answers, std::int64_t now_s) const;
  /// The answers a requestState carries; -32602 unless this server sealed it, unchanged,
  /// for the same request, and it has not expired.
  Result<json::object> open(std::string_view state, const Binding& b, std::int64_t now_s) const;

  /// True when the key is this process's own (no secret configured): see StatelessOptions.
  bool per_process_key() const noexcept { return per_process_; }

  static std::int64_t now_seconds() noexcept;

 private:
  std::unique_ptr<util::HmacSha256> key_;
  std::unique_ptr<util::HmacSha256> previous_;
  std::chrono::seconds ttl_;
  std::size_t max_bytes_;
  bool per_process_ = false;
};

/// The inputs of one round of a stateless request (one per request, on its coroutine).
class Round {
 public:
  /// `earlier`: answers from the verified requestState; `responses`: the request's
  /// inputResponses (null when absent); `caps`: the request's client capabilities.
  Round(json::object earlier, const json::object* responses, const json::object& caps, std::size_t max_inputs);

  /// Context::request_input: the answer for `key` (empty: "<kind>-<n>" by call order), or
  /// errc::kInputRequired (recorded for the round's InputRequiredResult), or
  /// errc::kMissingRequiredClientCapability.
  Result<json::value> ask(std::string key, std::string_view method, json::object params);

  bool input_required() const noexcept { return !pending_.empty() || overflow_; }
  /// The round asked for more than max_inputs inputs.
  bool overflowed() const noexcept { return overflow_; }
  /// key -> {method, params}: what the client must answer.
  const json::object& pending() const noexcept { return pending_; }
  /// The answers this round used: sealed into the next round's requestState.
  const json::object& used() const noexcept { return used_; }
  /// True when the request carried answers or state (a retry: its result is not cached).
  bool retried() const noexcept { return retried_; }
  void set_retried() noexcept { retried_ = true; }

 private:
  json::object earlier_;
  const json::object* responses_;
  const json::object& caps_;
  std::size_t max_inputs_;
  json::object pending_;
  json::object used_;
  std::size_t asked_ = 0;
  bool overflow_ = false;
  bool retried_ = false;
};

/// The client capability `method` with `params` needs, as a ClientCapabilities object
/// (e.g. {"sampling":{"tools":{}}}), when `caps` lacks it; null when `caps` has it.
json::value missing_capability(std::string_view method, const json::object& params, const json::object& caps);

/// True when `answer` has the shape of a result of `method` (ElicitResult,
/// CreateMessageResult, ListRootsResult); anything else counts as unanswered.
bool plausible_answer(std::string_view method, const json::value& answer) noexcept;

}  // namespace frontmcp::protocol::mrtr
