#pragma once
// Signing of the Pub/Sub relay (distributed mode; docs/security.md "The relay and Redis
// access"). Every message a node publishes on `{prefix}notify:{node}` or
// `{prefix}broadcast` is sealed with HMAC-SHA256 under the cluster's relay secret; a
// receiving node opens it and drops (and counts) what is unsigned, forged, stale or
// malformed.
//
// Wire format (version 1), one line of ASCII header, one space, then the JSON unchanged:
//
//     v1.<ts>.<mac> <json>
//
//   ts   the sender's wall clock, milliseconds since the Unix epoch, decimal, no sign,
//        no leading zeros (canonical, so one message has one encoding);
//   mac  64 lowercase hex digits: HMAC-SHA256(secret, M) where
//        M = "frontmcp-relay-v1" 0x00 | u64be(len(channel)) | channel | i64be(ts) | json.
//
// The channel is inside the MAC, so a message signed for node A's channel (or for the
// broadcast channel) is refused on any other channel; the timestamp is inside it, so it
// cannot be moved, and a message is accepted only while |now - ts| <= kRelayMaxSkew (both
// directions: clocks of the nodes differ). Within that window a captured message can be
// re-published on the same channel (no nonce cache; see docs/security.md).
//
// Plain JSON (today's unsigned format) starts with '{' and never with 'v', so the two
// forms cannot be confused.
//
// Secrets (rotation): messages are sealed with the primary secret; opening accepts the
// primary or the previous secret. Without any secret, seal() returns the JSON as it is and
// open() accepts plain JSON and also a well-formed signed message, whose header it strips
// without verifying: such a node already accepts unsigned messages from anyone, so
// verifying would add no protection, while stripping lets a cluster turn signing on node by
// node without the nodes that still lack the secret refusing what the others send.
//
// Thread safety: immutable after construction; seal() and open() may run concurrently on
// any number of threads. Cheap to copy (the keys are shared).
#include <chrono>
#include <cstdint>
#include <frontmcp/options.hpp>  // kRelaySecretMinBytes
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/metrics.hpp"

namespace frontmcp::cluster {

/// A signed message is accepted while its timestamp is within this of the receiver's
/// clock, in either direction (the replay window; also the clock skew tolerated).
inline constexpr std::chrono::milliseconds kRelayMaxSkew{60'000};
/// The first bytes of every signed message.
inline constexpr std::string_view kRelayWirePrefix = "v1.";
/// The domain-separation tag at the start of the MAC input.
inline constexpr std::string_view kRelayMacTag = "frontmcp-relay-v1";

class RelayAuth {
 public:
  /// What open() makes of a message: the JSON payload, or why it was refused.
  struct Opened {
    /// The JSON text (a view into the `wire` passed to open()); empty when refused.
    std::string_view payload;
    /// Set when the message is refused (never unknown_type: that is the caller's call).
    std::optional<metrics::RelayRefusal> refusal;
    explicit operator bool() const noexcept { return !refusal.has_value(); }
  };

  /// No secret: messages are sent unsigned and unsigned ones accepted (see above).
  RelayAuth() = default;
  /// `secret` signs and verifies; `previous_secret` ("" = none) only verifies. Throws
  /// std::invalid_argument("HaConfigurationError: ...") when check_secrets() objects.
  RelayAuth(std::string_view secret, std::string_view previous_secret);

  /// "" when the pair is usable, else what is wrong with it (never the secrets themselves):
  /// a secret set but shorter than kRelaySecretMinBytes, or a previous secret without a
  /// primary one. Both empty is fine (unsigned relay).
  static std::string check_secrets(std::string_view secret, std::string_view previous_secret);

  /// A secret is configured: messages are signed and unsigned ones refused.
  bool enabled() const noexcept { return primary_ != nullptr; }

  /// The string to PUBLISH on `channel`: `v1.<now_ms>.<mac> <json_payload>`, or the JSON
  /// unchanged when no secret is configured. A negative `now_ms` is sealed as 0.
  std::string seal(std::string_view channel, std::string_view json_payload, std::int64_t now_ms) const;

  /// The payload of a message received on `channel` at `now_ms`, or the reason to refuse it:
  /// unsigned_message (plain JSON while a secret is configured), malformed (a header that is
  /// not `v1.<ts>.<64 hex> `), forged (the MAC matches neither secret: tampered, signed with
  /// another secret, or signed for another channel), stale (valid MAC, |now_ms - ts| >
  /// kRelayMaxSkew). Never throws; any input is safe. The JSON itself is not parsed.
  Opened open(std::string_view channel, std::string_view wire, std::int64_t now_ms) const noexcept;

  /// The wall clock in milliseconds since the Unix epoch (what seal/open compare; the
  /// nodes' clocks must agree within kRelayMaxSkew, e.g. NTP).
  static std::int64_t wall_clock_ms() noexcept;

 private:
  struct Key;
  std::shared_ptr<const Key> primary_, previous_;
};

}  // namespace frontmcp::cluster
