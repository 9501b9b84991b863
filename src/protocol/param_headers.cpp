// Mcp-Param-{Name} header checks (param_headers.hpp).
#include "protocol/param_headers.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>

namespace frontmcp::protocol {

namespace {

using registry::ParamHeader;

/// The argument at `path` (nullptr when absent).
const json::value* value_at(const json::object* arguments, const std::vector<std::string>& path) {
  const json::object* node = arguments;
  const json::value* v = nullptr;
  for (const auto& key : path) {
    if (!node) return nullptr;
    v = node->if_contains(key);
    if (!v) return nullptr;
    node = v->if_object();
  }
  return v;
}

/// What a header value may hold as it is (RFC 9110 field value: visible ASCII, space,
/// tab); anything else has to come base64-encoded.
bool plain_field_value(std::string_view s) noexcept {
  for (unsigned char c : s) {
    if (c != '\t' && (c < 0x20 || c > 0x7E)) return false;
  }
  return true;
}

/// A plain decimal ("-42", "42.0"); never "0x1a", "1e3" or " 42".
bool canonical_decimal(std::string_view s) noexcept {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  auto digits = [](std::string_view d) {
    return !d.empty() && d.find_first_not_of("0123456789") == std::string_view::npos;
  };
  auto dot = s.find('.');
  if (dot == std::string_view::npos) return digits(s);
  return digits(s.substr(0, dot)) && digits(s.substr(dot + 1));
}

/// `text` (a canonical decimal) equals the JSON number `v`: integers exactly, whatever
/// zeros follow the point ("42.0" is 42), doubles as doubles.
bool same_number(std::string_view text, const json::value& v) {
  auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  bool integral =
      dot == std::string_view::npos || text.substr(dot + 1).find_first_not_of('0') == std::string_view::npos;
  auto parse = [&](auto& out) {
    auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), out);
    return ec == std::errc{} && p == whole.data() + whole.size();
  };
  if (v.is_int64()) {
    std::int64_t n = 0;
    return integral && parse(n) && n == v.get_int64();
  }
  if (v.is_uint64()) {
    std::uint64_t n = 0;
    return integral && parse(n) && n == v.get_uint64();
  }
  double d = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  return ec == std::errc{} && p == text.data() + text.size() && d == v.get_double();
}

modern::Refusal mismatch(std::string message, const json::value& id) {
  return modern::Refusal{
      modern::kBadRequest, modern::kHeaderMismatch, "Header mismatch: " + std::move(message), {}, id};
}

}  // namespace

std::optional<modern::Refusal> check_param_headers(const std::vector<ParamHeader>& declarations,
                                                   const json::object* arguments, const modern::HeaderLookup& header,
                                                   const json::value& id) {
  for (const auto& decl : declarations) {
    const json::value* body = value_at(arguments, decl.path);
    // Absent or null: the client omits the header, and the server must not expect it.
    if (!body || body->is_null()) continue;
    if (!body->is_string() && !body->is_number() && !body->is_bool()) continue;
    const std::string name = std::string(kParamHeaderPrefix) + decl.name;
    auto raw = header(name);
    if (!raw) {
      return mismatch("required header " + name + " is missing (the body carries its argument)", id);
    }
    if (!plain_field_value(*raw)) {
      return mismatch(name + " header holds characters a header value may not (they must be base64-encoded)", id);
    }
    auto value = modern::header_value(*raw);
    if (!value) return mismatch(name + " header has an invalid base64 value", id);
    bool equal = false;
    if (body->is_string()) {
      equal = *value == body->get_string();
    } else if (body->is_bool()) {
      equal = *value == (body->get_bool() ? "true" : "false");
    } else {
      equal = canonical_decimal(*value) && same_number(*value, *body);
    }
    if (!equal) {
      return mismatch(name + " header value '" + *value + "' does not match body value " + json::serialize(*body), id);
    }
  }
  return std::nullopt;
}

std::shared_ptr<const registry::ToolEntry> called_tool(const registry::Registry& registry, const Message& m,
                                                       const json::value* name) {
  if (m.method != "tools/call" || !name || !name->is_string()) return nullptr;
  return registry.tool_entry(name->get_string());
}

std::optional<modern::Refusal> check_param_headers(const registry::ToolEntry* tool, const Message& m,
                                                   const modern::HeaderLookup& header) {
  if (!tool || tool->param_headers.empty() || !m.params) return std::nullopt;
  auto args = m.params->if_contains("arguments");
  return check_param_headers(tool->param_headers, args ? args->if_object() : nullptr, header,
                             m.id ? *m.id : json::value());
}

}  // namespace frontmcp::protocol
