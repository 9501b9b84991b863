#pragma once
// MCP 2026-07-28, the stateless generation: which generation a POST belongs to, and the
// checks a modern request passes before it is served (the spec's order: required _meta
// fields, MCP-Protocol-Version equal to _meta, a supported version, a known method,
// Mcp-Method and Mcp-Name). Pure functions, no I/O: HTTP headers come through a lookup.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <frontmcp/log_level.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/jsonrpc.hpp"

namespace frontmcp::registry {
struct ToolEntry;
}

namespace frontmcp::protocol::modern {

/// The modern revisions this server serves (server/discover and -32022 list the same).
inline constexpr std::string_view kVersion = "2026-07-28";

/// The per-request protocol fields of params._meta.
inline constexpr std::string_view kMetaVersion = "io.modelcontextprotocol/protocolVersion";
inline constexpr std::string_view kMetaCapabilities = "io.modelcontextprotocol/clientCapabilities";
inline constexpr std::string_view kMetaClientInfo = "io.modelcontextprotocol/clientInfo";
inline constexpr std::string_view kMetaLogLevel = "io.modelcontextprotocol/logLevel";
/// The per-response field of result._meta.
inline constexpr std::string_view kMetaServerInfo = "io.modelcontextprotocol/serverInfo";

inline constexpr int kHeaderMismatch = -32020;
inline constexpr int kUnsupportedProtocolVersion = -32022;

/// HTTP statuses of the refusals (no Beast here).
inline constexpr unsigned kBadRequest = 400;
inline constexpr unsigned kNotFound = 404;

/// A request refused before it is served: its HTTP status and the JSON-RPC error (which
/// echoes the request's id; null only when no id could be read: a batch).
struct Refusal {
  unsigned status = kBadRequest;
  int code = 0;
  std::string message;
  json::value data;  // null: no data
  json::value id;
};

/// The error response of a refusal.
json::value error_message(const Refusal& r);

/// A revision of the stateless generation (the TS SDK's rule: not before 2026-07-28, as
/// strings; so "v999.0.0" is modern and then unsupported).
bool is_modern_version(std::string_view v) noexcept;

/// True if `params._meta` holds the protocol-version key, whatever its value.
bool has_claim(const json::object* params) noexcept;

enum class Era { legacy, modern };
/// Which generation a POST body belongs to (a refusal for a batch with a modern element:
/// the stateless generation has no batches). `msgs` are the body's classified messages;
/// `version_header` is MCP-Protocol-Version ("" when absent). A single message that claims
/// the modern generation in _meta, or any single message under a modern header, is
/// modern; everything else (initialize without a claim, responses, all-legacy batches) is
/// legacy.
std::variant<Era, Refusal> classify_era(const std::vector<Message>& msgs, bool is_batch,
                                        std::string_view version_header);

/// What a modern request says about its client (params._meta), as far as it is not read
/// from the message itself: the client's capabilities and identity stay in the message
/// (client_capabilities_of, client_info_of), which the dispatcher owns while it serves it.
struct Envelope {
  std::string protocol_version;
  std::optional<LogLevel> log_level;
  /// Who sent it (AuthDecision::principal; set by the transport): a multi-round-trip
  /// request's requestState is bound to it.
  std::string principal;
  /// For the anonymous principal over HTTP, the client's address as a key
  /// (http::client_key): what its tool budget is keyed by, so that anonymous stateless
  /// clients do not share one. Empty with a principal, and on stdio (its one peer).
  std::string client;
  /// A tools/call's tool, looked up once by the transport for its checks (Mcp-Param-*) and
  /// then served from it: null when the request is no tools/call or names no tool.
  std::shared_ptr<const registry::ToolEntry> tool;
  /// Where the checks found things in the request message, so that they are not looked
  /// for again. They stay valid while the message lives and is only moved (a json::value's
  /// move leaves its members where they are): the dispatcher reads `meta` only when its
  /// own message's params are `params` (Dispatcher::handle_request).
  const json::object* params = nullptr;
  const json::object* meta = nullptr;
  /// The body's name or uri (what Mcp-Name carries); null when the method has none.
  const json::value* target = nullptr;
};

/// A request header: its value, nullopt when absent.
using HeaderLookup = std::function<std::optional<std::string_view>(std::string_view name)>;

/// The request headers the checks read: the three standard ones, found by the transport
/// in one pass over the fields, and a lookup for the others (Mcp-Param-*, rare).
struct RequestHeaders {
  std::optional<std::string_view> protocol_version;  // MCP-Protocol-Version
  std::optional<std::string_view> method;            // Mcp-Method
  std::optional<std::string_view> name;              // Mcp-Name
  HeaderLookup other;
};

/// params._meta of a request (null when absent or not an object).
const json::object* meta_of(const json::object* params) noexcept;
/// The client capabilities and client info of a modern request's `_meta` (an empty object
/// when absent: check_request has refused a request whose fields are not objects).
const json::object& client_capabilities_of(const json::object* meta) noexcept;
const json::object& client_info_of(const json::object* meta) noexcept;

/// The methods of the stateless generation this server serves (completion/complete only
/// with a completion handler).
bool known_method(std::string_view method, bool completions) noexcept;
inline constexpr std::string_view kCompletionMethod = "completion/complete";

/// The checks of a modern request, in the spec's order; the envelope when it passes.
/// `headers` null (stdio, which has no headers) skips the header rungs (MCP-Protocol-Version,
/// Mcp-Method, Mcp-Name): the _meta, version and method rungs remain.
/// `completions`: whether completion/complete is served (only read for that method).
std::variant<Envelope, Refusal> check_request(const Message& m, const RequestHeaders* headers, bool completions);

/// -32022 for `requested` (data: the supported versions and the requested one).
Refusal unsupported_version(std::string requested, const json::value& id);

/// A header value as compared with the body: optional whitespace trimmed, and the
/// `=?base64?...?=` form decoded (nullopt when its base64 is not canonical).
std::optional<std::string> header_value(std::string_view raw);

/// The result of a modern request, completed: resultType, the server's identity in _meta,
/// and the cache hints of a cacheable method.
void decorate_result(std::string_view method, json::object& result, const json::object& server_info);
/// True for the methods whose results carry ttlMs and cacheScope.
bool is_cacheable(std::string_view method) noexcept;

}  // namespace frontmcp::protocol::modern
