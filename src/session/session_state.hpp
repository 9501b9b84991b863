#pragma once
// The durable part of a session: everything another node needs to continue it.
// Plain data; serialises to/from JSON for the session store.
#include <boost/json/object.hpp>
#include <boost/json/value_to.hpp>
#include <cstdint>
#include <frontmcp/log_level.hpp>
#include <frontmcp/result.hpp>
#include <optional>
#include <set>
#include <string>

namespace frontmcp::session {

enum class TransportKind { streamable_http, legacy_sse, stdio };

struct SessionState {
  std::string id;
  TransportKind transport = TransportKind::streamable_http;
  bool initialized = false;  // initialize answered
  std::string protocol_version;
  json::object client_info;
  json::object client_capabilities;
  std::optional<LogLevel> log_level;  // none: the client never called logging/setLevel
  std::set<std::string, std::less<>> subscriptions;
  /// Who created the session (AuthDecision::principal; "" without an authorization hook
  /// or when the hook names nobody). Fixed at creation; a request for the session from
  /// another principal is answered as if the session did not exist (docs/security.md).
  std::string principal;
  // Ownership (distributed mode; seed names).
  std::string node_id;
  std::uint64_t epoch = 0;
  /// The record's revision this state was read at or written as (save.lua's `rev`; not
  /// part of the JSON): a write names the revision it is based on.
  std::uint64_t rev = 0;
  std::int64_t created_at_ms = 0;

  json::object to_json() const;
  static Result<SessionState> from_json(const json::object& o);
};

}  // namespace frontmcp::session
