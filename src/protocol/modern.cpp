// MCP 2026-07-28 request checks (modern.hpp). The order is the spec's (and the issue's):
// a request with several faults gets the error of the first rung it fails.
#include "protocol/modern.hpp"

#include <array>
#include <cstring>

namespace frontmcp::protocol::modern {

namespace {

constexpr std::string_view kSentinelPrefix = "=?base64?";
constexpr std::string_view kSentinelSuffix = "?=";

/// Methods the stateless generation has (removed ones, initialize, ping, logging/setLevel,
/// resources/subscribe, ... answer 404 -32601 like unknown ones).
constexpr std::array<std::string_view, 9> kMethods = {"server/discover", "tools/list",     "tools/call",
                                                      "resources/list",  "resources/read", "resources/templates/list",
                                                      "prompts/list",    "prompts/get",    "subscriptions/listen"};
/// The results a client may cache (ttlMs, cacheScope).
constexpr std::array<std::string_view, 6> kCacheable = {
    "server/discover", "tools/list", "prompts/list", "resources/list", "resources/read", "resources/templates/list"};

Refusal refuse(unsigned status, int code, std::string message, const json::value& id, json::value data = {}) {
  return Refusal{status, code, std::move(message), std::move(data), id};
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// A `=?base64?...?=` value (trimmed).
bool is_sentinel(std::string_view v) {
  return v.size() >= kSentinelPrefix.size() + kSentinelSuffix.size() &&
         v.substr(0, kSentinelPrefix.size()) == kSentinelPrefix &&
         v.substr(v.size() - kSentinelSuffix.size()) == kSentinelSuffix;
}

int base64_digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/// Canonical RFC 4648 base64 with padding (the SDK's rule); nullopt otherwise.
std::optional<std::string> decode_base64(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    bool last = i + 4 == in.size();
    int pad = 0;
    if (last && in[i + 3] == '=') pad = in[i + 2] == '=' ? 2 : 1;
    std::uint32_t acc = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      int d = k >= 4 - static_cast<std::size_t>(pad) ? 0 : base64_digit(in[i + k]);
      if (d < 0) return std::nullopt;
      acc = (acc << 6) | static_cast<std::uint32_t>(d);
    }
    out.push_back(static_cast<char>((acc >> 16) & 0xFF));
    if (pad < 2) out.push_back(static_cast<char>((acc >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(acc & 0xFF));
  }
  return out;
}

/// The body value Mcp-Name must equal (nullptr when the method has none).
const json::value* name_in_body(const Message& m) {
  if (!m.params) return nullptr;
  if (m.method == "tools/call" || m.method == "prompts/get") return m.params->if_contains("name");
  if (m.method == "resources/read") return m.params->if_contains("uri");
  return nullptr;
}

/// check_header's general case: absent, padded, base64 or different.
std::optional<Refusal> check_header_value(std::optional<std::string_view> raw, std::string_view name,
                                          std::string_view body, const json::value& id) {
  if (!raw) {
    return refuse(kBadRequest, kHeaderMismatch, "Header mismatch: required header " + std::string(name) + " is missing",
                  id);
  }
  // Optional whitespace around a plain value equal to the body's: no copy.
  if (auto v = trim_ows(*raw); v == body && !is_sentinel(v)) return std::nullopt;
  auto value = header_value(*raw);
  if (!value) {
    return refuse(kBadRequest, kHeaderMismatch,
                  "Header mismatch: " + std::string(name) + " header has an invalid base64 value", id);
  }
  if (*value != body) {
    return refuse(kBadRequest, kHeaderMismatch,
                  "Header mismatch: " + std::string(name) + " header value '" + *value +
                      "' does not match body value '" + std::string(body) + "'",
                  id);
  }
  return std::nullopt;
}

/// What clients send: a header that is the body's value as it is (not a sentinel, which
/// check_header decodes). Inline: the three standard headers pass here on every request.
inline bool header_is_body(const std::optional<std::string_view>& raw, std::string_view body) noexcept {
  return raw && raw->size() == body.size() && std::memcmp(raw->data(), body.data(), body.size()) == 0 &&
         !is_sentinel(body);
}

/// Checks one standard header (`raw`: its value, nullopt when absent) against its body
/// value; a refusal when they differ.
inline std::optional<Refusal> check_header(const std::optional<std::string_view>& raw, std::string_view name,
                                           std::string_view body, const json::value& id) {
  if (header_is_body(raw, body)) [[likely]]
    return std::nullopt;
  return check_header_value(raw, name, body, id);
}

/// The protocol fields of a request's _meta, found in one pass over its members.
struct MetaFields {
  const json::value* version = nullptr;
  const json::value* capabilities = nullptr;
  const json::value* client_info = nullptr;
  const json::value* log_level = nullptr;

  static MetaFields of(const json::object& meta) noexcept {
    MetaFields f;
    for (const auto& kv : meta) {  // (a parsed object holds no duplicate keys)
      // The keys differ in length: a comparison of sizes settles all but one of them.
      std::string_view k = kv.key();
      if (k == kMetaVersion) {
        f.version = &kv.value();
      } else if (k == kMetaCapabilities) {
        f.capabilities = &kv.value();
      } else if (k == kMetaClientInfo) {
        f.client_info = &kv.value();
      } else if (k == kMetaLogLevel) {
        f.log_level = &kv.value();
      }
    }
    return f;
  }
};

const json::object kNoObject;

}  // namespace

const json::object* meta_of(const json::object* params) noexcept {
  if (!params) return nullptr;
  auto m = params->if_contains("_meta");
  return m && m->is_object() ? &m->get_object() : nullptr;
}

const json::object& client_capabilities_of(const json::object* meta) noexcept {
  auto v = meta ? meta->if_contains(kMetaCapabilities) : nullptr;
  return v && v->is_object() ? v->get_object() : kNoObject;
}

const json::object& client_info_of(const json::object* meta) noexcept {
  auto v = meta ? meta->if_contains(kMetaClientInfo) : nullptr;
  return v && v->is_object() ? v->get_object() : kNoObject;
}

json::value error_message(const Refusal& r) {
  return make_error(r.id, Error{r.code, r.message, r.data});
}

bool is_modern_version(std::string_view v) noexcept {
  return v >= kVersion;
}

bool has_claim(const json::object* params) noexcept {
  auto meta = meta_of(params);
  return meta && meta->contains(kMetaVersion);
}

std::variant<Era, Refusal> classify_era(const std::vector<Message>& msgs, bool is_batch,
                                        std::string_view version_header) {
  bool modern_header = !version_header.empty() && is_modern_version(trim_ows(version_header));
  // Under a modern header the claim changes nothing (a batch is refused, a single message
  // is modern whatever its _meta says): it is not looked for.
  bool claim = false;
  if (!modern_header) {
    for (const auto& m : msgs) {
      if ((m.kind == MessageKind::request || m.kind == MessageKind::notification) && has_claim(m.params)) claim = true;
    }
  }
  if (is_batch && (claim || modern_header)) {
    return refuse(kBadRequest, errc::kInvalidRequest,
                  "Invalid Request: JSON-RPC batches are not allowed in protocol version " + std::string(kVersion),
                  json::value());
  }
  if (msgs.size() != 1) return Era::legacy;
  const auto& m = msgs[0];
  if (m.kind != MessageKind::request && m.kind != MessageKind::notification) return Era::legacy;
  return claim || modern_header ? Era::modern : Era::legacy;
}

bool known_method(std::string_view method, bool completions) noexcept {
  if (method == "tools/call") return true;  // most requests: one comparison
  for (auto k : kMethods) {
    if (k == method) return true;
  }
  return completions && method == kCompletionMethod;
}

std::optional<std::string> header_value(std::string_view raw) {
  auto v = trim_ows(raw);
  if (is_sentinel(v)) {
    return decode_base64(v.substr(kSentinelPrefix.size(), v.size() - kSentinelPrefix.size() - kSentinelSuffix.size()));
  }
  return std::string(v);
}

std::variant<Envelope, Refusal> check_request(const Message& m, const RequestHeaders* headers, bool completions) {
  static const json::value kNoId;
  const json::value& id = m.id ? *m.id : kNoId;
  // 1. The required _meta fields (-32602, HTTP 400).
  auto meta = meta_of(m.params);
  auto invalid = [&](std::string why) {
    return refuse(kBadRequest, errc::kInvalidParams, "Invalid params: " + why, id);
  };
  if (!meta) return invalid("params._meta is required (the per-request protocol fields)");
  const auto fields = MetaFields::of(*meta);
  Envelope env;
  env.params = m.params;
  env.meta = meta;
  env.target = name_in_body(m);
  if (!fields.version || !fields.version->is_string()) {
    return invalid("_meta[\"" + std::string(kMetaVersion) + "\"] must be a string");
  }
  env.protocol_version = std::string(fields.version->get_string());
  if (!fields.capabilities || !fields.capabilities->is_object()) {
    return invalid("_meta[\"" + std::string(kMetaCapabilities) + "\"] must be an object");
  }
  if (fields.client_info && !fields.client_info->is_object()) {
    return invalid("_meta[\"" + std::string(kMetaClientInfo) + "\"] must be an object");
  }
  if (auto lv = fields.log_level) {
    auto level = lv->is_string() ? parse_log_level(lv->get_string()) : std::nullopt;
    if (!level) return invalid("_meta[\"" + std::string(kMetaLogLevel) + "\"] is not a logging level");
    env.log_level = level;
  }
  // 2. MCP-Protocol-Version equals _meta (-32020; a missing header too).
  if (headers) {
    if (auto r = check_header(headers->protocol_version, "MCP-Protocol-Version", env.protocol_version, id)) {
      return std::move(*r);
    }
  }
  // 3. A version this server serves (-32022).
  if (env.protocol_version != kVersion) return unsupported_version(env.protocol_version, id);
  // 4. A method of this generation (404 -32601).
  if (!known_method(m.method, completions)) {
    return refuse(kNotFound, errc::kMethodNotFound, "Method not found: " + std::string(m.method), id);
  }
  // 5. Mcp-Method equals the body's method (case-sensitive), Mcp-Name its name or uri.
  if (!headers) return env;
  if (auto r = check_header(headers->method, "Mcp-Method", m.method, id)) return std::move(*r);
  if (auto body = env.target; body && body->is_string()) {
    if (auto r = check_header(headers->name, "Mcp-Name", body->get_string(), id)) return std::move(*r);
  }
  return env;
}

Refusal unsupported_version(std::string requested, const json::value& id) {
  std::string message = "Unsupported protocol version: " + requested + " (supported: " + std::string(kVersion) + ")";
  json::object data{{"supported", json::array{json::string(kVersion)}}, {"requested", std::move(requested)}};
  return refuse(kBadRequest, kUnsupportedProtocolVersion, std::move(message), id, std::move(data));
}

void decorate_result(std::string_view method, json::object& result, const json::object& server_info) {
  result.reserve(result.size() + 4);  // _meta, resultType, ttlMs, cacheScope: one growth at most
  auto& meta = result["_meta"];
  if (!meta.is_object()) meta = json::object(json::object::size_type(1), result.storage());
  meta.get_object()[kMetaServerInfo] = server_info;
  // An interim result of a multi-round-trip request is never cached.
  if (auto t = result.if_contains("resultType"); t && t->is_string() && t->get_string() == "input_required") return;
  result["resultType"] = "complete";
  if (!is_cacheable(method)) return;
  if (!result.contains("ttlMs")) result["ttlMs"] = 0;
  if (!result.contains("cacheScope")) result["cacheScope"] = "public";
}

bool is_cacheable(std::string_view method) noexcept {
  if (method == "tools/call") return false;  // most requests: one comparison
  for (auto c : kCacheable) {
    if (c == method) return true;
  }
  return false;
}

}  // namespace frontmcp::protocol::modern
