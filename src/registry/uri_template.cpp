#include "registry/uri_template.hpp"

#include <cctype>

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
    for (char c : name) {
      if (!is_varchar(c)) return Error::invalid_params("URI template: invalid variable name '" + std::string(name) + "' (only level 1 is supported)");
    }
    if (!t.parts_.empty() && t.parts_.back().is_var) {
      return Error::invalid_params("URI template: adjacent variables are ambiguous in " + t.text_);
    }
    t.parts_.push_back({true, std::string(name)});
    i = close + 1;
  }
  return t;
}

std::optional<UriVariables> UriTemplate::match(std::string_view uri) const {
  UriVariables vars;
  std::size_t pos = 0;
  for (std::size_t k = 0; k < parts_.size(); ++k) {
    const Part& p = parts_[k];
    if (!p.is_var) {
      if (uri.substr(pos, p.value.size()) != p.value) return std::nullopt;
      pos += p.value.size();
      continue;
    }
    // A variable runs up to the next literal (or the end), never across '/', '?', '#'.
    std::size_t end;
    if (k + 1 < parts_.size()) {
      end = uri.find(parts_[k + 1].value, pos);
      if (end == std::string_view::npos) return std::nullopt;
    } else {
      end = uri.size();
    }
    std::string_view raw = uri.substr(pos, end - pos);
    if (raw.empty() || raw.find_first_of("/?#") != std::string_view::npos) return std::nullopt;
    auto decoded = pct_decode(raw);
    if (!decoded) return std::nullopt;
    vars.emplace(p.value, std::move(*decoded));
    pos = end;
  }
  if (pos != uri.size()) return std::nullopt;
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
  for (const auto& p : parts_) if (p.is_var) names.push_back(p.value);
  return names;
}

}  // namespace frontmcp::registry
