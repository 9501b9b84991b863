#pragma once
// JSON-RPC 2.0 framing: parse a body once, classify each message, build replies.
// Pure functions, no I/O; safe from any thread.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <frontmcp/result.hpp>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace frontmcp::protocol {

enum class MessageKind { request, notification, response, error_response };

/// A classified message. Points into the json::value it was made from.
struct Message {
  MessageKind kind{};
  const json::value* id = nullptr;       // request / response
  std::string_view method;               // request / notification
  const json::object* params = nullptr;  // may be null
  const json::value* result = nullptr;   // response
  const json::object* error = nullptr;   // error_response
};

/// A parsed HTTP/stdio body: one message or a batch.
struct ParsedBody {
  std::vector<json::value> messages;
  bool is_batch = false;
};

/// Largest JSON nesting accepted (deeper input is rejected, not a stack overflow).
inline constexpr std::size_t kMaxJsonDepth = 64;

/// Parses bytes into messages. Errors: -32700 for bytes that are not JSON (or too deep),
/// or that hold a number no double can represent (`1e400`, 400 digits: the parser would
/// make it an infinity, which has no JSON spelling and would go out again as `Infinity`);
/// -32600 for an empty batch, a batch of more than `max_batch` messages
/// (SessionOptions::max_batch_size: refused before any of it runs) or a value that is
/// neither object nor array.
Result<ParsedBody> parse_body(std::string_view body, std::size_t max_batch = std::numeric_limits<std::size_t>::max());

/// True if `v` holds an infinity or a NaN anywhere. JSON has no spelling for them (the
/// serializer would write `Infinity`/`NaN`, which no client parses), so such a value must
/// never be sent or stored. Recursive: as deep as the value (input is bounded by
/// kMaxJsonDepth).
bool has_non_finite(const json::value& v) noexcept;
bool has_non_finite(const json::object& o) noexcept;

/// Checks one value against JSON-RPC 2.0. Error: -32600 with the reason.
Result<Message> classify(const json::value& v);

json::value make_result(const json::value& id, json::value result);
json::value make_error(const json::value& id, const Error& error);
json::value make_notification(std::string_view method, json::object params);
json::value make_request(const json::value& id, std::string_view method, json::object params);

/// Serialises a JSON-RPC error body (id null) — used by the HTTP layer for transport errors.
std::string error_body(int code, std::string_view message);

}  // namespace frontmcp::protocol
