#include "registry/uri_template.hpp"

#include <cctype>
#include <cstdint>
#include <unordered_set>

namespace frontmcp::registry {

namespace {
bool is_varchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}
bool is_unreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~';
}
int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
std::optional<std::string> pct_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
      if (h < 0 || l < 0) return std::nullopt;
      out.push_back(static_cast<char>(h * 16 + l));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}
}  // namespace

Result<UriTemplate> UriTemplate::parse(std::string_view text) {
  UriTemplate t;
  t.text_ = std::string(text);
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '}') return Error::invalid_params("URI template: unbalanced '}' in " + t.text_);
    if (text[i] != '{') {
      std::size_t j = text.find_first_of("{}", i);
      if (j == std::string_view::npos) j = text.size();
      t.parts_.push_back({false, std::string(text.substr(i, j - i))});
      i = j;
      continue;
    }
    std::size_t close = text.find('}', i);
    if (close == std::string_view::npos) return Error::invalid_params("URI template: unclosed '{' in " + t.text_);
    std::string_view name = text.substr(i + 1, close - i - 1);
    if (name.empty()) return Error::invalid_params("URI template: empty variable in " + t.text_);
    // RFC 6570: varname = varchar *( ["."] varchar ); operators (+, #, ., / ...) are
    // level 2 and up, which this implementation does not support.
    bool valid = name.front() != '.' && name.back() != '.' && name.find("..") == std::string_view::npos;
    for (char c : name) valid = valid && is_varchar(c);
    if (!valid) {
      return Error::invalid_params("URI template: invalid variable name '" + std::string(name) +
                                   "' (only level 1 is supported)");
    }
    if (!t.parts_.empty() && t.parts_.back().is_var) {
      return Error::invalid_params("URI template: adjacent variables are ambiguous in " + t.text_);
    }
    t.parts_.push_back({true, std::string(name)});
    i = close + 1;
  }
  return t;
}

namespace {

/// Backtracking matcher with memoised failures, so a hostile URI cannot make it
/// exponential: at most parts x (uri size + 1) states are ever explored.
/// Parts: UriTemplate's parse result (each with `is_var` and `value`), used in place.
template <class Parts>
struct Matcher {
  const Parts& parts;
  std::string_view uri;
  UriVariables& vars;
  std::unordered_set<std::uint64_t> failed;

  bool run(std::size_t k, std::size_t pos) {
    std::uint64_t key = (static_cast<std::uint64_t>(k) << 40) | pos;
    if (failed.count(key)) return false;
    bool ok = step(k, pos);
    if (!ok) failed.insert(key);
    return ok;
  }

  bool step(std::size_t k, std::size_t pos) {
    if (k == parts.size()) return pos == uri.size();
    const bool is_var = parts[k].is_var;
    const std::string& text = parts[k].value;
    if (!is_var) return uri.substr(pos, text.size()) == text && run(k + 1, pos + text.size());
    // A variable is one or more characters, never '/', '?' or '#'.
    std::size_t limit = uri.find_first_of("/?#", pos);
    if (limit == std::string_view::npos) limit = uri.size();
    if (k + 1 == parts.size()) return limit == uri.size() && limit > pos && bind(text, pos, limit) && run(k + 1, limit);
    const std::string& next = parts[k + 1].value;  // adjacent variables are rejected at parse
    for (auto end = uri.find(next, pos + 1); end != std::string_view::npos && end <= limit;
         end = uri.find(next, end + 1)) {
      if (bind(text, pos, end) && run(k + 1, end)) return true;
    }
    vars.erase(text);
    return false;
  }

  bool bind(const std::string& name, std::size_t from, std::size_t to) {
    auto decoded = pct_decode(uri.substr(from, to - from));
    if (!decoded) return false;
    vars[name] = std::move(*decoded);
    return true;
  }
};

}  // namespace

std::optional<UriVariables> UriTemplate::match(std::string_view uri) const {
  UriVariables vars;
  Matcher<decltype(parts_)> m{parts_, uri, vars, {}};
  if (!m.run(0, 0)) return std::nullopt;
  return vars;
}

std::string UriTemplate::expand(const UriVariables& vars) const {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const auto& p : parts_) {
    if (!p.is_var) {
      out += p.value;
      continue;
    }
    auto it = vars.find(p.value);
    if (it == vars.end()) continue;  // RFC 6570: undefined variables expand to nothing
    for (char c : it->second) {
      if (is_unreserved(c)) {
        out.push_back(c);
      } else {
        auto u = static_cast<unsigned char>(c);
        out.push_back('%');
        out.push_back(kHex[u >> 4]);
        out.push_back(kHex[u & 15]);
      }
    }
  }
  return out;
}

std::vector<std::string> UriTemplate::variable_names() const {
  std::vector<std::string> names;
  for (const auto& p : parts_)
    if (p.is_var) names.push_back(p.value);
  return names;
}

}  // namespace frontmcp::registry
