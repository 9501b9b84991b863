// x-mcp-header declarations of a tool's inputSchema (x_mcp_header.hpp).
#include "registry/x_mcp_header.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

namespace frontmcp::registry {

namespace {

/// Keywords whose subschemas are not reachable through `properties` keys alone: an
/// x-mcp-header under any of them makes the tool invalid (searched, so it is reported
/// rather than silently ignored). `$ref` is not followed; what it points to lives under
/// `$defs` / `definitions`, which are searched.
constexpr std::array<std::string_view, 21> kUnreachable = {"items",
                                                           "prefixItems",
                                                           "additionalItems",
                                                           "contains",
                                                           "additionalProperties",
                                                           "unevaluatedProperties",
                                                           "unevaluatedItems",
                                                           "propertyNames",
                                                           "patternProperties",
                                                           "dependentSchemas",
                                                           "dependencies",
                                                           "oneOf",
                                                           "anyOf",
                                                           "allOf",
                                                           "not",
                                                           "if",
                                                           "then",
                                                           "else",
                                                           "$defs",
                                                           "definitions",
                                                           "contentSchema"};

/// Of those, the ones whose value maps names to subschemas.
constexpr std::array<std::string_view, 5> kNamedSubschemas = {"patternProperties", "dependentSchemas", "dependencies",
                                                              "$defs", "definitions"};

bool is_tchar(char c) noexcept {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return kSpecials.find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string path_name(const std::vector<std::string>& path) {
  if (path.empty()) return "<root>";
  std::string out;
  for (const auto& p : path) {
    if (!out.empty()) out += '.';
    out += p;
  }
  return out;
}

std::optional<ParamHeader::Type> header_type(const json::object& schema) {
  auto t = schema.if_contains("type");
  if (!t || !t->is_string()) return std::nullopt;
  auto s = t->get_string();
  if (s == "string") return ParamHeader::Type::string;
  if (s == "integer") return ParamHeader::Type::integer;
  if (s == "boolean") return ParamHeader::Type::boolean;
  return std::nullopt;  // number (explicitly forbidden), object, array, null
}

class Scan {
 public:
  /// The first violated constraint, if any.
  std::optional<std::string> visit(const json::value& node, std::vector<std::string>& path, bool reachable) {
    if (!node.is_object()) return std::nullopt;
    return visit_schema(node.get_object(), path, reachable);
  }
  std::optional<std::string> visit_schema(const json::object& schema, std::vector<std::string>& path, bool reachable) {
    if (auto decl = schema.if_contains(kXMcpHeader)) {
      if (auto fault = declare(schema, *decl, path, reachable)) return fault;
    }
    if (auto props = schema.if_contains("properties"); props && props->is_object()) {
      for (const auto& [key, child] : props->get_object()) {
        path.emplace_back(key);
        auto fault = visit(child, path, reachable);
        path.pop_back();
        if (fault) return fault;
      }
    }
    for (auto k : kUnreachable) {
      auto sub = schema.if_contains(k);
      if (!sub) continue;
      path.push_back("<" + std::string(k) + ">");
      std::optional<std::string> fault;
      if (sub->is_array()) {
        for (const auto& branch : sub->get_array()) {
          if ((fault = visit(branch, path, false))) break;
        }
      } else if (sub->is_object() &&
                 std::find(kNamedSubschemas.begin(), kNamedSubschemas.end(), k) != kNamedSubschemas.end()) {
        for (const auto& [name, branch] : sub->get_object()) {
          if ((fault = visit(branch, path, false))) break;
        }
      } else {
        fault = visit(*sub, path, false);
      }
      path.pop_back();
      if (fault) return fault;
    }
    return std::nullopt;
  }

  std::vector<ParamHeader> found;

 private:
  std::optional<std::string> declare(const json::object& schema, const json::value& decl,
                                     const std::vector<std::string>& path, bool reachable) {
    const std::string where = path_name(path);
    if (!reachable || path.empty()) {
      return where +
             ": x-mcp-header is only allowed on a property reachable from the schema's root through 'properties' "
             "keys (not under items, additionalProperties, oneOf/anyOf/allOf/not, if/then/else, $defs or $ref)";
    }
    if (!decl.is_string() || decl.get_string().empty()) return where + ": x-mcp-header must be a non-empty string";
    std::string_view name = decl.get_string();
    if (!is_http_token(name)) {
      return where + ": x-mcp-header '" + std::string(name) +
             "' is not an HTTP field-name token (RFC 9110: letters, digits and !#$%&'*+-.^_`|~ only)";
    }
    auto type = header_type(schema);
    if (!type) {
      return where + ": x-mcp-header is only allowed on a property of type string, integer or boolean (not number)";
    }
    auto key = lower(name);
    for (const auto& d : found) {
      if (lower(d.name) == key) {
        return where + ": x-mcp-header '" + std::string(name) + "' is declared twice (also as '" + d.name + "' at " +
               path_name(d.path) + "; names compare case-insensitively)";
      }
    }
    found.push_back(ParamHeader{path, std::string(name), *type});
    return std::nullopt;
  }
};

}  // namespace

bool is_http_token(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

Result<std::vector<ParamHeader>> scan_param_headers(const json::object& input_schema) {
  Scan scan;
  std::vector<std::string> path;
  if (auto fault = scan.visit_schema(input_schema, path, true)) return Error::invalid_params(*fault);
  return std::move(scan.found);
}

}  // namespace frontmcp::registry
