#include "schema/json_schema.hpp"

#include <arpa/inet.h>

// Boost.Regex's matcher gives up (std::runtime_error) after max(S^2 * N, min(N^2, this))
// states for a pattern of S states and a subject of N characters. Its default, 1e8, lets
// one hostile string cost seconds with a catastrophic pattern like ^(a+)+$; 2e6 bounds it
// to milliseconds and still leaves ordinary patterns far more than they need. No other
// file of the project includes Boost.Regex, so the definition is the same everywhere.
#define BOOST_REGEX_MAX_STATE_COUNT 2000000

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <boost/regex.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace frontmcp::schema {

namespace {

using Idx = std::uint32_t;
constexpr Idx kNone = std::numeric_limits<Idx>::max();

// Type bits. An instance integer (int64, uint64, or a double with no fraction, as 2020-12
// says) carries both kNumber and kInteger.
enum : std::uint8_t {
  kNull = 1,
  kBoolean = 2,
  kObject = 4,
  kArray = 8,
  kNumber = 16,
  kString = 32,
  kInteger = 64,
};

constexpr std::pair<std::string_view, std::uint8_t> kTypeNames[] = {
    {"null", kNull},     {"boolean", kBoolean}, {"object", kObject},   {"array", kArray},
    {"number", kNumber}, {"string", kString},   {"integer", kInteger},
};

enum class Format : std::uint8_t { kNone, kDateTime, kDate, kTime, kEmail, kUri, kUuid, kIpv4, kIpv6, kHostname };

constexpr std::pair<std::string_view, Format> kFormatNames[] = {
    {"date-time", Format::kDateTime}, {"date", Format::kDate}, {"time", Format::kTime},
    {"email", Format::kEmail},        {"uri", Format::kUri},   {"uuid", Format::kUuid},
    {"ipv4", Format::kIpv4},          {"ipv6", Format::kIpv6}, {"hostname", Format::kHostname},
};

/// Values whose uniqueness is checked pairwise (no allocation) rather than hashed.
constexpr std::size_t kUniquePairwiseMax = 16;
/// Code points of the per-thread buffer a pattern's subject is decoded into that stay
/// allocated between matches.
constexpr std::size_t kSubjectBufferKeep = 4096;
/// Characters of an instance string or a schema value quoted in a message.
constexpr std::size_t kQuoteMax = 40;
/// Characters of an enum list quoted in a message.
constexpr std::size_t kEnumQuoteMax = 120;

/// A numeric bound: the value compared (long double holds int64, uint64 and double
/// exactly on x86-64) and its text for messages.
struct Bound {
  bool set = false;
  long double value = 0;
  std::string text;
};

struct Node {
  std::int8_t boolean = -1;  // -1: an object schema; 0: false; 1: true
  std::uint8_t types = 0;    // 0: any
  Idx ref = kNone;
  // Objects.
  std::vector<std::pair<std::string, Idx>> properties;          // sorted by name
  std::vector<std::pair<std::size_t, Idx>> pattern_properties;  // regex index, schema
  Idx additional_properties = kNone;
  std::vector<std::string> required;
  Idx property_names = kNone;
  std::optional<std::size_t> min_properties, max_properties;
  std::vector<std::pair<std::string, std::vector<std::string>>> dependent_required;
  std::vector<std::pair<std::string, Idx>> dependent_schemas;
  // Arrays.
  std::vector<Idx> prefix_items;
  Idx items = kNone;  // the items after prefix_items
  Idx contains = kNone;
  std::size_t min_contains = 1;
  std::optional<std::size_t> max_contains;
  std::optional<std::size_t> min_items, max_items;
  bool unique_items = false;
  // Numbers.
  Bound minimum, maximum, exclusive_minimum, exclusive_maximum;
  bool has_multiple_of = false;
  double multiple_of = 0;
  std::uint64_t multiple_of_int = 0;  // non-zero when multipleOf is a positive integer
  std::string multiple_of_text;
  // Strings.
  std::optional<std::size_t> min_length, max_length;
  std::size_t pattern = std::numeric_limits<std::size_t>::max();
  Format format = Format::kNone;
  std::string format_name;
  // Any type.
  std::optional<json::array> enum_values;
  std::optional<json::value> const_value;
  std::vector<Idx> all_of, any_of, one_of;
  Idx not_schema = kNone, if_schema = kNone, then_schema = kNone, else_schema = kNone;
  Idx unevaluated_properties = kNone, unevaluated_items = kNone;
};

/// A `pattern`: matched over code points (UTF-32 in a wchar_t, as on Linux), not bytes, so
/// `.`, character ranges and counts see one character where UTF-8 has several bytes.
struct Regex {
  std::string source;
  boost::wregex re;
};

static_assert(sizeof(wchar_t) == 4, "patterns are matched as UTF-32 in wchar_t");

/// UTF-8 to UTF-32; an invalid sequence becomes U+FFFD (it cannot match a pattern literal).
void decode_utf8(std::string_view s, std::wstring& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = 0xFFFD;
    std::size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 1) {
      cp = b;
    } else if (len != 0 && i + len <= s.size()) {
      std::uint32_t v = b & (0x7F >> len);
      bool ok = true;
      for (std::size_t k = 1; k < len && ok; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        ok = (c & 0xC0) == 0x80;
        v = (v << 6) | (c & 0x3F);
      }
      static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      if (ok && v >= kMin[len] && v <= 0x10FFFF && (v < 0xD800 || v > 0xDFFF)) cp = v;
      if (!ok) len = 1;
    } else {
      len = 1;
    }
    out.push_back(static_cast<wchar_t>(cp));
    i += len;
  }
}

// ------------------------------------------------------------------ values and text

std::string format_double(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

std::string number_text(const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64:
      return std::to_string(v.get_int64());
    case json::kind::uint64:
      return std::to_string(v.get_uint64());
    case json::kind::double_:
      return format_double(v.get_double());
    default:
      return {};
  }
}

long double number_value(const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64:
      return static_cast<long double>(v.get_int64());
    case json::kind::uint64:
      return static_cast<long double>(v.get_uint64());
    default:
      return static_cast<long double>(v.get_double());
  }
}

bool is_integral(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  if (!v.is_double()) return false;
  double d = v.get_double();
  return std::isfinite(d) && std::trunc(d) == d;
}

/// A non-negative integer keyword value (2.0 counts as 2, as the spec allows).
std::optional<std::size_t> as_count(const json::value& v) {
  if (v.is_int64()) {
    if (v.get_int64() < 0) return std::nullopt;
    return static_cast<std::size_t>(v.get_int64());
  }
  if (v.is_uint64()) return static_cast<std::size_t>(v.get_uint64());
  if (v.is_double()) {
    double d = v.get_double();
    if (!is_integral(v) || d < 0) return std::nullopt;
    if (d >= 1.8e19) return std::numeric_limits<std::size_t>::max();
    return static_cast<std::size_t>(d);
  }
  return std::nullopt;
}

std::uint8_t type_bits(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return kNull;
    case json::kind::bool_:
      return kBoolean;
    case json::kind::object:
      return kObject;
    case json::kind::array:
      return kArray;
    case json::kind::string:
      return kString;
    case json::kind::int64:
    case json::kind::uint64:
      return kNumber | kInteger;
    case json::kind::double_:
      return is_integral(v) ? kNumber | kInteger : kNumber;
  }
  return 0;
}

std::string_view type_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::object:
      return "object";
    case json::kind::array:
      return "array";
    case json::kind::string:
      return "string";
    case json::kind::int64:
    case json::kind::uint64:
      return "integer";
    case json::kind::double_:
      return "number";
  }
  return "value";
}

/// UTF-8 code points (bytes that are not continuation bytes).
std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

/// `s` as a JSON string literal, cut after kQuoteMax code points.
std::string quote(std::string_view s, std::size_t max = kQuoteMax) {
  std::size_t cut = s.size(), cps = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && cps++ == max) {
      cut = i;
      break;
    }
  }
  std::string out = json::serialize(s.substr(0, cut));
  if (cut < s.size()) out += "...";
  return out;
}

/// A short rendering of an instance value: `string "3"`, `integer 5`, `object`.
std::string describe_value(const json::value& v) {
  std::string out(type_name(v));
  switch (v.kind()) {
    case json::kind::string:
      out += ' ';
      out += quote(v.get_string());
      break;
    case json::kind::bool_:
      out += v.get_bool() ? " true" : " false";
      break;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      out += ' ';
      out += number_text(v);
      break;
    default:
      break;
  }
  return out;
}

/// A schema value quoted in a message, cut to `max` characters.
std::string short_json(const json::value& v, std::size_t max) {
  std::string s = json::serialize(v);
  if (s.size() > max) {
    s.resize(max);
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0xC0) s.pop_back();
    s += "...";
  }
  return s;
}

/// "; known: \"city\", \"days\"" for a message about an unknown property, so that a model
/// that misspelt a name sees the right one; "" when the object declares no properties.
std::string known_properties(const Node& n) {
  constexpr std::size_t kListed = 12;
  std::string out;
  for (std::size_t i = 0; i < n.properties.size() && i < kListed; ++i) {
    out += i == 0 ? "; known: " : ", ";
    out += quote(n.properties[i].first);
  }
  if (n.properties.size() > kListed) out += ", ...";
  return out;
}

std::string types_text(std::uint8_t types) {
  std::string out;
  for (auto [name, bit] : kTypeNames) {
    if (!(types & bit) || (bit == kInteger && (types & kNumber))) continue;
    if (!out.empty()) out += " or ";
    out += name;
  }
  return out;
}

// ------------------------------------------------------------------ formats

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool valid_date(std::string_view s) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, m) || !digits(s, 8, 2, d)) return false;
  if (m < 1 || m > 12 || d < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

bool valid_time(std::string_view s) {
  int h = 0, mi = 0, se = 0;
  if (s.size() < 9 || s[2] != ':' || s[5] != ':') return false;
  if (!digits(s, 0, 2, h) || !digits(s, 3, 2, mi) || !digits(s, 6, 2, se)) return false;
  if (h > 23 || mi > 59 || se > 60) return false;
  std::size_t i = 8;
  if (i < s.size() && s[i] == '.') {
    std::size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i == s.size()) return false;  // the offset is required
  if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  int oh = 0, om = 0;
  if (s.size() != i + 6 || s[i + 3] != ':' || !digits(s, i + 1, 2, oh) || !digits(s, i + 4, 2, om)) return false;
  return oh <= 23 && om <= 59;
}

bool valid_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (label == 0 || label > 63 || s[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (label == 0 && c == '-')) return false;
    ++label;
  }
  return true;
}

bool valid_email(std::string_view s) {
  auto at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == s.size()) return false;
  std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return false;
  if (local.find('@') != std::string_view::npos && local.front() != '"') return false;
  if (domain.front() == '[' && domain.back() == ']') return true;  // address literal
  return valid_hostname(domain);
}

bool valid_uri(std::string_view s) {
  // An absolute URI: a scheme (ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")), ':', and no
  // character that may never appear in a URI.
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) return false;
  }
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 0x7f || std::strchr("<>\"{}|\\^`", c) != nullptr) return false;
  }
  return true;
}

bool valid_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

bool valid_ip(std::string_view s, int family) {
  char buf[64];  // inet_pton wants a NUL-terminated string; the longest address is 45
  unsigned char addr[16];
  if (s.empty() || s.size() >= sizeof buf || s.find('\0') != std::string_view::npos) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  return inet_pton(family, buf, addr) == 1;
}

bool check_format(Format f, std::string_view s) {
  switch (f) {
    case Format::kNone:
      return true;
    case Format::kDateTime: {
      if (s.size() < 11 || (s[10] != 'T' && s[10] != 't')) return false;
      return valid_date(s.substr(0, 10)) && valid_time(s.substr(11));
    }
    case Format::kDate:
      return valid_date(s);
    case Format::kTime:
      return valid_time(s);
    case Format::kEmail:
      return valid_email(s);
    case Format::kUri:
      return valid_uri(s);
    case Format::kUuid:
      return valid_uuid(s);
    case Format::kIpv4:
      return valid_ip(s, AF_INET);
    case Format::kIpv6:
      return valid_ip(s, AF_INET6);
    case Format::kHostname:
      return valid_hostname(s);
  }
  return true;
}

}  // namespace

// ------------------------------------------------------------------ the compiled schema

struct Validator::Impl {
  Limits limits;
  std::vector<Node> nodes;
  std::vector<Regex> regexes;
  Idx root = 0;
};

namespace {

using Impl = Validator::Impl;

// ------------------------------------------------------------------ compile

class Compiler {
 public:
  Compiler(Impl& impl, const json::value& root, std::string_view root_name)
      : impl_(impl), root_(&root), root_name_(root_name) {}

  Result<Idx> run() {
    Idx root = 0;
    if (!compile(*root_, 0, root_, root)) return error();
    // $ref targets, compiled (if not yet) once the anchors and ids of the document are known.
    while (!pending_.empty()) {
      PendingRef p = std::move(pending_.back());
      pending_.pop_back();
      loc_ = p.loc;
      const json::value* base = p.base;
      const json::value* target = resolve(p.ref, base);
      if (!target) return error();
      Idx idx = 0;
      loc_ = pointer_segments_of(p.ref);
      if (!compile(*target, 0, base, idx)) return error();
      impl_.nodes[p.node].ref = idx;
    }
    if (!check_cycles()) return error();
    return root;
  }

 private:
  struct PendingRef {
    Idx node;
    std::string ref;
    const json::value* base;
    std::vector<std::string> loc;
  };

  Error error() const { return Error::invalid_params(message_); }

  bool fail(std::string what) {
    message_ = location() + ": " + std::move(what);
    return false;
  }

  std::string location() const {
    std::string out(root_name_);
    for (const auto& seg : loc_) {
      out += '/';
      for (char c : seg) {
        if (c == '~') {
          out += "~0";
        } else if (c == '/') {
          out += "~1";
        } else {
          out += c;
        }
      }
    }
    return out;
  }

  /// RAII push of a location segment.
  struct At {
    At(Compiler& c, std::string seg) : c_(c) { c_.loc_.push_back(std::move(seg)); }
    ~At() { c_.loc_.pop_back(); }
    At(const At&) = delete;
    At& operator=(const At&) = delete;
    Compiler& c_;
  };

  static std::vector<std::string> pointer_segments_of(const std::string& ref) {
    std::vector<std::string> out;
    out.push_back(ref.empty() ? std::string("#") : ref);
    return out;
  }

  bool compile_count(const json::object& o, std::string_view key, std::optional<std::size_t>& out) {
    auto* v = o.if_contains(key);
    if (!v) return true;
    At at(*this, std::string(key));
    out = as_count(*v);
    return out ? true : fail(short_json(*v, kQuoteMax) + " is not a non-negative integer");
  }

  bool compile_bound(const json::object& o, std::string_view key, Bound& out) {
    auto* v = o.if_contains(key);
    if (!v) return true;
    At at(*this, std::string(key));
    if (!v->is_number()) return fail(short_json(*v, kQuoteMax) + " is not a number");
    if (v->is_double() && !std::isfinite(v->get_double())) return fail("not a finite number");
    out.set = true;
    out.value = number_value(*v);
    out.text = number_text(*v);
    return true;
  }

  bool compile_sub(const json::object& o, std::string_view key, std::size_t depth, const json::value* base, Idx& out) {
    auto* v = o.if_contains(key);
    if (!v) return true;
    At at(*this, std::string(key));
    return compile(*v, depth + 1, base, out);
  }

  bool compile_list(const json::object& o, std::string_view key, std::size_t depth, const json::value* base,
                    std::vector<Idx>& out, bool allow_empty = false) {
    auto* v = o.if_contains(key);
    if (!v) return true;
    At at(*this, std::string(key));
    if (!v->is_array() || (!allow_empty && v->get_array().empty())) return fail("must be a non-empty array of schemas");
    std::size_t i = 0;
    for (const auto& sub : v->get_array()) {
      At at_i(*this, std::to_string(i++));
      Idx idx = 0;
      if (!compile(sub, depth + 1, base, idx)) return false;
      out.push_back(idx);
    }
    return true;
  }

  bool compile_map(const json::object& o, std::string_view key, std::size_t depth, const json::value* base,
                   std::vector<std::pair<std::string, Idx>>& out) {
    auto* v = o.if_contains(key);
    if (!v) return true;
    At at(*this, std::string(key));
    if (!v->is_object()) return fail("must be an object of schemas");
    for (const auto& [name, sub] : v->get_object()) {
      At at_n(*this, std::string(name));
      Idx idx = 0;
      if (!compile(sub, depth + 1, base, idx)) return false;
      out.emplace_back(std::string(name), idx);
    }
    return true;
  }

  bool compile_regex(const json::value& v, std::size_t& out) {
    if (!v.is_string()) return fail("must be a string (a regular expression)");
    std::string_view src = v.get_string();
    if (src.size() > impl_.limits.max_pattern_length) {
      return fail("pattern longer than " + std::to_string(impl_.limits.max_pattern_length) + " characters");
    }
    try {
      std::wstring wide;
      decode_utf8(src, wide);
      Regex r{std::string(src), boost::wregex(wide.begin(), wide.end(), boost::regex::ECMAScript)};
      impl_.regexes.push_back(std::move(r));
    } catch (const std::exception& e) {
      return fail(quote(src) + " is not a valid regular expression: " + e.what());
    }
    out = impl_.regexes.size() - 1;
    return true;
  }

  bool compile_strings(const json::value& v, std::vector<std::string>& out) {
    if (!v.is_array()) return fail("must be an array of strings");
    for (const auto& s : v.get_array()) {
      if (!s.is_string()) return fail("must be an array of strings");
      out.emplace_back(s.get_string());
    }
    return true;
  }

  /// Compiles the schema `v` (memoized by address, so $ref targets are compiled once and
  /// recursive references become cycles in the node graph).
  bool compile(const json::value& v, std::size_t depth, const json::value* base, Idx& out) {
    if (auto it = memo_.find(&v); it != memo_.end()) {
      out = it->second;
      return true;
    }
    if (depth > impl_.limits.max_schema_depth) {
      return fail("schema nested deeper than " + std::to_string(impl_.limits.max_schema_depth) + " levels");
    }
    if (impl_.nodes.size() >= impl_.limits.max_schema_nodes) {
      return fail("schema has more than " + std::to_string(impl_.limits.max_schema_nodes) + " subschemas");
    }
    out = static_cast<Idx>(impl_.nodes.size());
    impl_.nodes.emplace_back();
    memo_.emplace(&v, out);
    Node n;
    if (v.is_bool()) {
      n.boolean = v.get_bool() ? 1 : 0;
      impl_.nodes[out] = std::move(n);
      return true;
    }
    if (!v.is_object()) return fail(short_json(v, kQuoteMax) + " is not a schema (an object or a boolean)");
    const json::object& o = v.get_object();

    if (auto* id = o.if_contains("$id"); id && id->is_string()) {
      std::string_view s = id->get_string();
      if (s.size() > 1 && s.front() == '#') {  // draft-06/07: a plain-name fragment $id is an anchor
        auto [it, fresh] = anchors_.emplace(std::string(s.substr(1)), &v);
        if (!fresh && it->second != &v) it->second = nullptr;
      } else if (!s.empty() && s.front() != '#') {
        auto [it, fresh] = ids_.emplace(std::string(s.substr(0, s.find('#'))), &v);
        if (!fresh && it->second != &v) it->second = nullptr;  // ambiguous: refs to it are refused
        base = &v;
      }
    }
    // Anchors are looked up by name in the whole document, not per $id resource: a name used
    // twice is ambiguous, and a $ref to it is refused. A $dynamicAnchor is a plain anchor to $ref.
    for (std::string_view kw : {"$anchor", "$dynamicAnchor"}) {
      if (auto* a = o.if_contains(kw); a && a->is_string()) {
        auto [it, fresh] = anchors_.emplace(std::string(a->get_string()), &v);
        if (!fresh && it->second != &v) it->second = nullptr;
      }
    }

    for (std::string_view refused : {"$dynamicRef", "$recursiveRef"}) {
      if (o.contains(refused)) {
        At at(*this, std::string(refused));
        return fail("not supported by this validator (only $ref to local targets)");
      }
    }

    if (auto* t = o.if_contains("type")) {
      At at(*this, "type");
      auto add = [&](const json::value& name) {
        if (!name.is_string()) return fail(short_json(name, kQuoteMax) + " is not a JSON Schema type");
        for (auto [tn, bit] : kTypeNames) {
          if (name.get_string() == tn) {
            n.types |= bit;
            return true;
          }
        }
        return fail(quote(name.get_string()) + " is not a JSON Schema type");
      };
      if (t->is_array()) {
        if (t->get_array().empty()) return fail("must not be empty");
        for (const auto& name : t->get_array()) {
          if (!add(name)) return false;
        }
      } else if (!add(*t)) {
        return false;
      }
      if (n.types & kNumber) n.types |= kInteger;  // every integer is a number
    }

    if (auto* r = o.if_contains("$ref")) {
      At at(*this, "$ref");
      if (!r->is_string()) return fail("must be a string");
      pending_.push_back({out, std::string(r->get_string()), base, loc_});
    }
    for (std::string_view defs : {"$defs", "definitions"}) {
      std::vector<std::pair<std::string, Idx>> ignored;
      if (!compile_map(o, defs, depth, base, ignored)) return false;
    }

    // Objects.
    if (!compile_map(o, "properties", depth, base, n.properties)) return false;
    std::sort(n.properties.begin(), n.properties.end());
    if (auto* pp = o.if_contains("patternProperties")) {
      At at(*this, "patternProperties");
      if (!pp->is_object()) return fail("must be an object of schemas");
      for (const auto& [pat, sub] : pp->get_object()) {
        At at_p(*this, std::string(pat));
        std::size_t re = 0;
        Idx idx = 0;
        if (!compile_regex(json::value(pat), re) || !compile(sub, depth + 1, base, idx)) return false;
        n.pattern_properties.emplace_back(re, idx);
      }
    }
    if (!compile_sub(o, "additionalProperties", depth, base, n.additional_properties)) return false;
    if (auto* req = o.if_contains("required")) {
      At at(*this, "required");
      if (!compile_strings(*req, n.required)) return false;
    }
    if (!compile_sub(o, "propertyNames", depth, base, n.property_names)) return false;
    if (!compile_count(o, "minProperties", n.min_properties)) return false;
    if (!compile_count(o, "maxProperties", n.max_properties)) return false;
    auto dependent_required = [&](std::string_view key, const json::value& names) {
      At at(*this, std::string(key));
      std::vector<std::string> list;
      if (!compile_strings(names, list)) return false;
      n.dependent_required.emplace_back(std::string(key), std::move(list));
      return true;
    };
    if (auto* dr = o.if_contains("dependentRequired")) {
      At at(*this, "dependentRequired");
      if (!dr->is_object()) return fail("must be an object of string arrays");
      for (const auto& [key, names] : dr->get_object()) {
        if (!dependent_required(key, names)) return false;
      }
    }
    if (!compile_map(o, "dependentSchemas", depth, base, n.dependent_schemas)) return false;
    if (auto* deps = o.if_contains("dependencies"); deps && deps->is_object()) {  // draft-07
      At at(*this, "dependencies");
      for (const auto& [key, dep] : deps->get_object()) {
        if (dep.is_array()) {
          if (!dependent_required(key, dep)) return false;
        } else {
          At at_k(*this, std::string(key));
          Idx idx = 0;
          if (!compile(dep, depth + 1, base, idx)) return false;
          n.dependent_schemas.emplace_back(std::string(key), idx);
        }
      }
    }

    // Arrays.
    if (!compile_list(o, "prefixItems", depth, base, n.prefix_items)) return false;
    if (auto* items = o.if_contains("items"); items && items->is_array()) {
      // draft-07 tuple form: items is prefixItems, additionalItems the rest.
      if (!compile_list(o, "items", depth, base, n.prefix_items, true)) return false;
      if (!compile_sub(o, "additionalItems", depth, base, n.items)) return false;
    } else if (!compile_sub(o, "items", depth, base, n.items)) {
      return false;
    }
    if (!compile_sub(o, "contains", depth, base, n.contains)) return false;
    std::optional<std::size_t> min_contains;
    if (!compile_count(o, "minContains", min_contains)) return false;
    if (min_contains) n.min_contains = *min_contains;
    if (!compile_count(o, "maxContains", n.max_contains)) return false;
    if (!compile_count(o, "minItems", n.min_items)) return false;
    if (!compile_count(o, "maxItems", n.max_items)) return false;
    if (auto* u = o.if_contains("uniqueItems")) {
      At at(*this, "uniqueItems");
      if (!u->is_bool()) return fail("must be a boolean");
      n.unique_items = u->get_bool();
    }

    // Numbers. draft-04's boolean exclusiveMinimum/exclusiveMaximum turn minimum/maximum exclusive.
    if (!compile_bound(o, "minimum", n.minimum) || !compile_bound(o, "maximum", n.maximum)) return false;
    for (auto [key, inclusive, exclusive] : {std::tuple{"exclusiveMinimum", &n.minimum, &n.exclusive_minimum},
                                             std::tuple{"exclusiveMaximum", &n.maximum, &n.exclusive_maximum}}) {
      auto* e = o.if_contains(key);
      if (e && e->is_bool()) {
        if (e->get_bool()) std::swap(*inclusive, *exclusive);
      } else if (!compile_bound(o, key, *exclusive)) {
        return false;
      }
    }
    if (auto* m = o.if_contains("multipleOf")) {
      At at(*this, "multipleOf");
      if (!m->is_number() || number_value(*m) <= 0 || (m->is_double() && !std::isfinite(m->get_double()))) {
        return fail(short_json(*m, kQuoteMax) + " is not a number greater than 0");
      }
      n.has_multiple_of = true;
      n.multiple_of = m->to_number<double>();
      n.multiple_of_text = number_text(*m);
      if (m->is_int64() || m->is_uint64()) n.multiple_of_int = m->to_number<std::uint64_t>();
    }

    // Strings.
    if (!compile_count(o, "minLength", n.min_length) || !compile_count(o, "maxLength", n.max_length)) return false;
    if (auto* p = o.if_contains("pattern")) {
      At at(*this, "pattern");
      if (!compile_regex(*p, n.pattern)) return false;
    }
    if (auto* f = o.if_contains("format"); f && f->is_string()) {
      for (auto [name, fmt] : kFormatNames) {
        if (f->get_string() == name) {
          n.format = fmt;
          n.format_name = name;
        }
      }
    }

    // Any type.
    if (auto* e = o.if_contains("enum")) {
      At at(*this, "enum");
      if (!e->is_array()) return fail("must be an array");
      n.enum_values = e->get_array();
    }
    if (auto* c = o.if_contains("const")) n.const_value = *c;
    if (!compile_list(o, "allOf", depth, base, n.all_of)) return false;
    if (!compile_list(o, "anyOf", depth, base, n.any_of)) return false;
    if (!compile_list(o, "oneOf", depth, base, n.one_of)) return false;
    if (!compile_sub(o, "not", depth, base, n.not_schema)) return false;
    if (!compile_sub(o, "if", depth, base, n.if_schema)) return false;
    if (!compile_sub(o, "then", depth, base, n.then_schema)) return false;
    if (!compile_sub(o, "else", depth, base, n.else_schema)) return false;
    if (!compile_sub(o, "unevaluatedProperties", depth, base, n.unevaluated_properties)) return false;
    if (!compile_sub(o, "unevaluatedItems", depth, base, n.unevaluated_items)) return false;
    if (n.if_schema == kNone) n.then_schema = n.else_schema = kNone;  // then/else alone do nothing

    impl_.nodes[out] = std::move(n);
    return true;
  }

  static std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
      };
      if (s[i] == '%' && i + 2 < s.size() + 0 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
        out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }

  /// The schema a $ref names: "#", "#/json/pointer", "#anchor", or "<$id of this document>#...".
  const json::value* resolve(const std::string& ref, const json::value* base) {
    auto hash = ref.find('#');
    std::string_view uri = std::string_view(ref).substr(0, hash);
    std::string fragment = hash == std::string::npos ? std::string() : percent_decode(ref.substr(hash + 1));
    if (!uri.empty()) {
      auto it = ids_.find(std::string(uri));
      if (it == ids_.end()) {
        fail("remote $ref " + quote(ref, 200) + " is not supported (only local references such as \"#/$defs/name\")");
        return nullptr;
      }
      if (!it->second) {
        fail("$ref " + quote(ref, 200) + ": more than one subschema has this $id");
        return nullptr;
      }
      base = it->second;
    }
    if (fragment.empty()) return base;
    if (fragment.front() != '/') {
      auto it = anchors_.find(fragment);
      if (it == anchors_.end()) {
        fail("$ref " + quote(ref, 200) + ": no $anchor " + quote(fragment) + " in this schema");
        return nullptr;
      }
      if (!it->second) {
        fail("$ref " + quote(ref, 200) + ": $anchor " + quote(fragment) +
             " is defined more than once in this schema (anchors per $id resource are not supported)");
        return nullptr;
      }
      return it->second;
    }
    const json::value* cur = base;
    std::size_t pos = 1;
    while (true) {
      auto next = fragment.find('/', pos);
      std::string token;
      std::string_view raw = std::string_view(fragment).substr(pos, next == std::string::npos ? next : next - pos);
      for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
          token += raw[i + 1] == '0' ? '~' : '/';
          ++i;
        } else {
          token += raw[i];
        }
      }
      if (cur->is_object()) {
        cur = cur->get_object().if_contains(token);
      } else if (cur->is_array()) {
        std::size_t index = 0;
        auto r = std::from_chars(token.data(), token.data() + token.size(), index);
        bool ok = r.ec == std::errc() && r.ptr == token.data() + token.size() && !token.empty() &&
                  (token == "0" || token[0] != '0') && index < cur->get_array().size();
        cur = ok ? &cur->get_array()[index] : nullptr;
      } else {
        cur = nullptr;
      }
      if (!cur) {
        fail("$ref " + quote(ref, 200) + " does not resolve to anything in this schema");
        return nullptr;
      }
      if (next == std::string::npos) break;
      pos = next + 1;
    }
    return cur;
  }

  /// Refuses cycles of $ref / allOf / anyOf / oneOf / not / if / then / else /
  /// dependentSchemas: they evaluate the same instance again and again and never end.
  bool check_cycles() {
    const auto& nodes = impl_.nodes;
    std::vector<std::uint8_t> color(nodes.size(), 0);  // 0 new, 1 on the stack, 2 done
    std::vector<Idx> edges;
    struct Frame {
      Idx node;
      std::vector<Idx> next;
      std::size_t i = 0;
    };
    auto same_instance = [&](Idx i) {
      const Node& n = nodes[i];
      std::vector<Idx> out;
      for (Idx e : {n.ref, n.not_schema, n.if_schema, n.then_schema, n.else_schema}) {
        if (e != kNone) out.push_back(e);
      }
      for (const auto* list : {&n.all_of, &n.any_of, &n.one_of}) out.insert(out.end(), list->begin(), list->end());
      for (const auto& [name, e] : n.dependent_schemas) out.push_back(e);
      return out;
    };
    for (Idx start = 0; start < nodes.size(); ++start) {
      if (color[start]) continue;
      std::vector<Frame> stack;
      stack.push_back({start, same_instance(start)});
      color[start] = 1;
      while (!stack.empty()) {
        Frame& f = stack.back();
        if (f.i == f.next.size()) {
          color[f.node] = 2;
          stack.pop_back();
          continue;
        }
        Idx to = f.next[f.i++];
        if (color[to] == 1) {
          loc_.clear();
          loc_.push_back("$ref");
          message_ =
              std::string(root_name_) + ": $ref cycle that never descends into the instance (it would recurse forever)";
          return false;
        }
        if (color[to] == 0) {
          color[to] = 1;
          stack.push_back({to, same_instance(to)});
        }
      }
    }
    return true;
  }

  Impl& impl_;
  const json::value* root_;
  std::string_view root_name_;
  std::vector<std::string> loc_;
  std::string message_;
  std::unordered_map<const json::value*, Idx> memo_;
  std::unordered_map<std::string, const json::value*> anchors_;
  std::unordered_map<std::string, const json::value*> ids_;
  std::vector<PendingRef> pending_;
};

// ------------------------------------------------------------------ validate

/// A step of the instance path, on the C++ stack: no allocation until a violation is rendered.
struct PathSeg {
  const PathSeg* parent;
  std::string_view key;
  std::size_t index;
  bool is_index;
};

bool identifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
    if (!ok) return false;
  }
  return true;
}

std::string render_path(const PathSeg* p) {
  std::vector<const PathSeg*> segs;
  for (; p; p = p->parent) segs.push_back(p);
  std::string out;
  for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
    const PathSeg& s = **it;
    if (s.is_index) {
      out += '[' + std::to_string(s.index) + ']';
    } else if (identifier(s.key)) {
      if (!out.empty()) out += '.';
      out += s.key;
    } else {
      out += '[' + quote(s.key, 80) + ']';
    }
  }
  return out;
}

struct Ctx {
  Ctx(const Impl& i, std::vector<Violation>* o) : impl(i), out(o) {}

  const Impl& impl;
  std::vector<Violation>* out;  // null: the bool fast path
  std::size_t steps = 0;
  std::size_t eval_depth = 0;
  bool aborted = false;
  std::optional<Violation> abort_reason;

  bool full() const { return out && out->size() >= impl.limits.max_violations; }

  /// Records a violation; true when the caller should stop (the list is full).
  bool report(const PathSeg* path, std::string message) {
    if (out->size() < impl.limits.max_violations) out->push_back({render_path(path), std::move(message)});
    return full();
  }

  /// Ends the whole validation as failed (budget, depth): no `not` or anyOf may turn it
  /// into a success.
  bool abort(const PathSeg* path, std::string message) {
    if (!aborted) {
      aborted = true;
      abort_reason = Violation{render_path(path), std::move(message)};
    }
    return false;
  }
};

bool numbers_equal(const json::value& a, const json::value& b) {
  if (a.kind() == b.kind()) {
    switch (a.kind()) {
      case json::kind::int64:
        return a.get_int64() == b.get_int64();
      case json::kind::uint64:
        return a.get_uint64() == b.get_uint64();
      default:
        return a.get_double() == b.get_double();
    }
  }
  return number_value(a) == number_value(b);
}

/// JSON equality (numbers by value, objects regardless of order); false with ctx.abort
/// when nested deeper than the instance bound.
bool deep_equal(Ctx& c, const json::value& a, const json::value& b, std::size_t depth) {
  if (a.is_number() && b.is_number()) return numbers_equal(a, b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::null:
      return true;
    case json::kind::bool_:
      return a.get_bool() == b.get_bool();
    case json::kind::string:
      return a.get_string() == b.get_string();
    case json::kind::array: {
      const auto &x = a.get_array(), &y = b.get_array();
      if (x.size() != y.size()) return false;
      if (depth >= c.impl.limits.max_instance_depth) return c.abort(nullptr, "value nested too deeply to compare");
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!deep_equal(c, x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case json::kind::object: {
      const auto &x = a.get_object(), &y = b.get_object();
      if (x.size() != y.size()) return false;
      if (depth >= c.impl.limits.max_instance_depth) return c.abort(nullptr, "value nested too deeply to compare");
      for (const auto& [k, v] : x) {
        auto* w = y.if_contains(k);
        if (!w || !deep_equal(c, v, *w, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

/// A hash consistent with deep_equal (1 and 1.0 hash alike, object members in any order).
std::uint64_t deep_hash(Ctx& c, const json::value& v, std::size_t depth) {
  switch (v.kind()) {
    case json::kind::null:
      return 1;
    case json::kind::bool_:
      return v.get_bool() ? 2 : 3;
    case json::kind::string:
      return std::hash<std::string_view>()(v.get_string());
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: {
      long double x = number_value(v);
      if (x >= -9.2e18L && x <= 9.2e18L && std::trunc(x) == x)
        return mix(static_cast<std::uint64_t>(static_cast<std::int64_t>(x)));
      double d = static_cast<double>(x);
      std::uint64_t bits = 0;
      std::memcpy(&bits, &d, sizeof bits);
      return mix(bits ^ 0x5555);
    }
    case json::kind::array: {
      if (depth >= c.impl.limits.max_instance_depth) return c.abort(nullptr, "value nested too deeply to compare"), 0;
      std::uint64_t h = 7;
      for (const auto& e : v.get_array()) h = mix(h * 31 + deep_hash(c, e, depth + 1));
      return h;
    }
    case json::kind::object: {
      if (depth >= c.impl.limits.max_instance_depth) return c.abort(nullptr, "value nested too deeply to compare"), 0;
      std::uint64_t h = 11;
      for (const auto& [k, e] : v.get_object()) h += mix(std::hash<std::string_view>()(k) ^ deep_hash(c, e, depth + 1));
      return h;
    }
  }
  return 0;
}

/// The members of an object (by position) or the items of an array that keywords have
/// evaluated, for unevaluatedProperties / unevaluatedItems (2020-12 annotations). Only
/// evaluations under a schema that uses those keywords record them.
using Marks = std::vector<bool>;

/// Steps charged per member/item of a Marks record made or merged (the budget must bound
/// the O(size) work of records over big objects too).
constexpr std::size_t kMarksPerStep = 64;

void merge_marks(Marks& into, const Marks& from) {
  for (std::size_t i = 0; i < into.size() && i < from.size(); ++i) {
    if (from[i]) into[i] = true;
  }
}

class Evaluator {
 public:
  explicit Evaluator(Ctx& c) : c_(c), nodes_(c.impl.nodes) {}

  /// `marks`: where to record the members/items of `v` this evaluation evaluates (null: nobody asks).
  bool eval(Idx ni, const json::value& v, const PathSeg* path, std::size_t depth, Marks* marks = nullptr);

 private:
  /// A sub-evaluation on the bool fast path whatever the current mode.
  bool quiet(Idx ni, const json::value& v, const PathSeg* path, std::size_t depth, Marks* marks = nullptr) {
    auto* saved = c_.out;
    c_.out = nullptr;
    bool ok = eval(ni, v, path, depth, marks);
    c_.out = saved;
    return ok;
  }

  bool child(Idx ni, const json::value& v, const PathSeg& seg, std::size_t depth) {
    if (depth + 1 > c_.impl.limits.max_instance_depth) {
      return instance_too_deep(&seg);
    }
    return eval(ni, v, &seg, depth + 1);
  }

  [[gnu::noinline]] bool match(std::size_t regex, std::string_view s, const PathSeg* path) {
    try {
      // One buffer per thread: no allocation once it has grown to the strings seen.
      thread_local std::wstring subject;
      decode_utf8(s, subject);
      bool found = boost::regex_search(subject.cbegin(), subject.cend(), c_.impl.regexes[regex].re);
      if (subject.capacity() > kSubjectBufferKeep) std::wstring().swap(subject);
      return found;
    } catch (const std::exception&) {
      return c_.abort(path, "string too complex to evaluate against pattern " + quote(c_.impl.regexes[regex].source));
    }
  }

  /// The branch of a failed anyOf/oneOf whose violations explain the failure best: one whose
  /// type accepts the instance, then the one with the fewest violations.
  void explain_best(const std::vector<Idx>& branches, const json::value& v, const PathSeg* path, std::size_t depth) {
    std::vector<Violation> best;
    bool best_typed = false, have = false;
    for (Idx b : branches) {
      Idx t = b;
      for (int hop = 0; hop < 8 && nodes_[t].types == 0 && nodes_[t].ref != kNone; ++hop) t = nodes_[t].ref;
      bool typed = nodes_[t].boolean != 0 && (nodes_[t].types == 0 || (nodes_[t].types & type_bits(v)));
      std::vector<Violation> got;
      auto* saved = c_.out;
      c_.out = &got;
      eval(b, v, path, depth);
      c_.out = saved;
      if (c_.aborted) return;
      if (!have || (typed && !best_typed) || (typed == best_typed && got.size() < best.size())) {
        best = std::move(got);
        best_typed = typed;
        have = true;
      }
    }
    for (auto& viol : best) {
      if (c_.full()) break;
      c_.out->push_back(std::move(viol));
    }
  }

  // Out of line, cold: the messages' temporaries stay out of eval()'s frame.
  [[gnu::noinline, gnu::cold]] bool budget_exceeded(const PathSeg* path) {
    return c_.abort(path, "validation budget exceeded (" + std::to_string(c_.impl.limits.max_steps) + " steps)");
  }
  [[gnu::noinline, gnu::cold]] bool instance_too_deep(const PathSeg* path) {
    return c_.abort(path, "nested deeper than " + std::to_string(c_.impl.limits.max_instance_depth) + " levels");
  }
  [[gnu::noinline, gnu::cold]] bool eval_too_deep(const PathSeg* path) {
    return c_.abort(
        path, "schema evaluation nested deeper than " + std::to_string(c_.impl.limits.max_eval_depth) + " levels");
  }
  [[gnu::noinline, gnu::cold]] void report_false_schema(const PathSeg* path, const json::value& v) {
    c_.report(path, "no value allowed here (the schema is false), got " + describe_value(v));
  }
  [[gnu::noinline, gnu::cold]] void report_type(const PathSeg* path, std::uint8_t types, const json::value& v) {
    c_.report(path, "expected " + types_text(types) + ", got " + describe_value(v));
  }

  /// propertyNames on one name. Out of line: its buffer stays out of eval()'s frame, which
  /// is on the stack once per nested evaluation.
  [[gnu::noinline]] bool property_name_ok(Idx ni, std::string_view key, const PathSeg* path, std::size_t depth) {
    // The name as a JSON string, from a stack buffer (no allocation for short names).
    unsigned char buf[256];
    json::monotonic_resource mr(buf, sizeof buf);
    json::value name(json::string_view(key), &mr);
    return quiet(ni, name, path, depth);
  }

  /// `contains` on one item: quiet, after the instance depth check of child().
  bool eval_quiet_child(Idx ni, const json::value& v, const PathSeg& seg, std::size_t depth) {
    auto* saved = c_.out;
    c_.out = nullptr;
    bool ok = child(ni, v, seg, depth);
    c_.out = saved;
    return ok;
  }

  static bool multiple_of(const Node& n, const json::value& v) {
    if (n.multiple_of_int != 0 && (v.is_int64() || v.is_uint64())) {
      std::uint64_t x = v.is_uint64()       ? v.get_uint64()
                        : v.get_int64() < 0 ? 0 - static_cast<std::uint64_t>(v.get_int64())
                                            : static_cast<std::uint64_t>(v.get_int64());
      return x % n.multiple_of_int == 0;
    }
    double q = v.to_number<double>() / n.multiple_of;
    // Decimal multiples are not exact in binary (0.0075 / 0.0001 = 74.99999999999999).
    return std::isfinite(q) && std::fabs(q - std::nearbyint(q)) < 1e-9;
  }

  /// false with the indexes of two equal items; false with c_.aborted when too deep.
  /// Pairwise (no allocation) up to kUniquePairwiseMax items, else by sorted hashes.
  bool find_duplicate(const json::array& a, std::size_t depth, const PathSeg* path, std::size_t& first,
                      std::size_t& second) {
    const Limits& lim = c_.impl.limits;
    auto budget = [&](std::size_t steps) {
      c_.steps += steps;
      if (c_.steps > lim.max_steps) {
        c_.abort(path, "validation budget exceeded (" + std::to_string(lim.max_steps) + " steps)");
        return false;
      }
      return true;
    };
    if (a.size() <= kUniquePairwiseMax) {
      if (!budget(a.size() * a.size() / 2)) return false;
      for (std::size_t i = 0; i < a.size(); ++i) {
        for (std::size_t j = i + 1; j < a.size(); ++j) {
          if (deep_equal(c_, a[i], a[j], depth + 1)) {
            first = i;
            second = j;
            return false;
          }
          if (c_.aborted) return false;
        }
      }
      return true;
    }
    if (!budget(a.size())) return false;
    std::vector<std::pair<std::uint64_t, std::size_t>> hashes;
    hashes.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      hashes.emplace_back(deep_hash(c_, a[i], depth + 1), i);
      if (c_.aborted) return false;
    }
    std::sort(hashes.begin(), hashes.end());
    for (std::size_t i = 0; i < hashes.size();) {
      std::size_t j = i + 1;
      while (j < hashes.size() && hashes[j].first == hashes[i].first) ++j;
      // Items with the same hash: compared pairwise (a run is long only for equal items,
      // which the first comparison finds; the budget bounds a crafted collision).
      if (j - i > 1 && !budget((j - i) * (j - i) / 2)) return false;
      for (std::size_t x = i; x < j; ++x) {
        for (std::size_t y = x + 1; y < j; ++y) {
          if (deep_equal(c_, a[hashes[x].second], a[hashes[y].second], depth + 1)) {
            first = std::min(hashes[x].second, hashes[y].second);
            second = std::max(hashes[x].second, hashes[y].second);
            return false;
          }
          if (c_.aborted) return false;
        }
      }
      i = j;
    }
    return true;
  }

  Ctx& c_;
  const std::vector<Node>& nodes_;
};

// In collecting mode a failed check records a violation and evaluation goes on (all
// violations in one pass); on the fast path it returns false at once.
// The message is built in an out-of-line lambda: its string temporaries stay out of
// eval()'s frame, which is on the stack once per nested evaluation.
#define FRONTMCP_SCHEMA_FAIL(message)                                                                 \
  do {                                                                                                \
    if (!c_.out) return false;                                                                        \
    ok = false;                                                                                       \
    if ([&]() __attribute__((noinline, cold)) { return c_.report(path, (message)); }()) return false; \
  } while (0)

// Sub-evaluation results: an abort (budget, depth) ends everything at once.
#define FRONTMCP_SCHEMA_CHECK_ABORT() \
  do {                                \
    if (c_.aborted) return false;     \
  } while (0)

bool Evaluator::eval(Idx ni, const json::value& v, const PathSeg* path, std::size_t depth, Marks* marks) {
  const Limits& lim = c_.impl.limits;
  if (c_.aborted) return false;
  if (++c_.steps > lim.max_steps) return budget_exceeded(path);
  struct DepthGuard {
    explicit DepthGuard(std::size_t& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    std::size_t& d_;
  } guard(c_.eval_depth);
  if (c_.eval_depth > lim.max_eval_depth) return eval_too_deep(path);

  const Node& n = nodes_[ni];
  if (n.boolean >= 0) {
    if (n.boolean) return true;
    if (!c_.out) return false;
    report_false_schema(path, v);
    return false;
  }
  bool ok = true;
  if (n.types && !(n.types & type_bits(v))) {
    if (!c_.out) return false;
    report_type(path, n.types, v);
    return false;  // the other keywords would only repeat it
  }
  // A schema with unevaluatedProperties/Items records what its keywords evaluate (and passes
  // it on to its caller's record, if any); the others record into their caller's.
  Marks own;
  Marks* outer = marks;
  bool owns = (n.unevaluated_properties != kNone && v.is_object()) || (n.unevaluated_items != kNone && v.is_array());
  if (owns) {
    own.assign(v.is_object() ? v.get_object().size() : v.get_array().size(), false);
    c_.steps += own.size() / kMarksPerStep;
    marks = &own;
  }
  if (n.ref != kNone) {
    if (!eval(n.ref, v, path, depth, marks)) {
      FRONTMCP_SCHEMA_CHECK_ABORT();
      if (!c_.out || c_.full()) return false;
      ok = false;
    }
  }

  switch (v.kind()) {
    case json::kind::object: {
      const json::object& o = v.get_object();
      bool per_member = !n.properties.empty() || !n.pattern_properties.empty() || n.additional_properties != kNone ||
                        n.property_names != kNone;
      if (per_member) {
        std::size_t index = 0;
        for (const json::key_value_pair& kv : o) {
          // Plain variables, not structured bindings: clang 14 cannot capture those in lambdas.
          std::string_view key = kv.key();
          const json::value& member = kv.value();
          std::size_t at = index++;
          if (++c_.steps > lim.max_steps) return budget_exceeded(path);
          PathSeg seg{path, key, 0, false};
          bool matched = false;
          auto it = std::lower_bound(n.properties.begin(), n.properties.end(), std::string_view(key),
                                     [](const auto& p, std::string_view k) { return std::string_view(p.first) < k; });
          if (it != n.properties.end() && it->first == std::string_view(key)) {
            matched = true;
            if (marks) (*marks)[at] = true;
            if (!child(it->second, member, seg, depth)) {
              FRONTMCP_SCHEMA_CHECK_ABORT();
              if (!c_.out || c_.full()) return false;
              ok = false;
            }
          }
          for (const auto& [re, sub] : n.pattern_properties) {
            bool m = match(re, key, path);
            FRONTMCP_SCHEMA_CHECK_ABORT();
            if (!m) continue;
            matched = true;
            if (marks) (*marks)[at] = true;
            if (!child(sub, member, seg, depth)) {
              FRONTMCP_SCHEMA_CHECK_ABORT();
              if (!c_.out || c_.full()) return false;
              ok = false;
            }
          }
          if (!matched && n.additional_properties != kNone) {
            if (marks) (*marks)[at] = true;
            if (nodes_[n.additional_properties].boolean == 0) {
              FRONTMCP_SCHEMA_FAIL("unknown property " + quote(key) + " (additionalProperties is false" +
                                   known_properties(n) + ")");
            } else if (!child(n.additional_properties, member, seg, depth)) {
              FRONTMCP_SCHEMA_CHECK_ABORT();
              if (!c_.out || c_.full()) return false;
              ok = false;
            }
          }
          if (n.property_names != kNone) {
            if (!property_name_ok(n.property_names, key, path, depth)) {
              FRONTMCP_SCHEMA_CHECK_ABORT();
              FRONTMCP_SCHEMA_FAIL("property name " + quote(key) + " is not allowed by propertyNames");
            }
          }
        }
      }
      for (const auto& name : n.required) {
        if (!o.contains(name)) FRONTMCP_SCHEMA_FAIL("missing required property " + quote(name));
      }
      if (n.min_properties && o.size() < *n.min_properties) {
        FRONTMCP_SCHEMA_FAIL("must have at least " + std::to_string(*n.min_properties) + " properties, got " +
                             std::to_string(o.size()));
      }
      if (n.max_properties && o.size() > *n.max_properties) {
        FRONTMCP_SCHEMA_FAIL("must have at most " + std::to_string(*n.max_properties) + " properties, got " +
                             std::to_string(o.size()));
      }
      for (const auto& dep : n.dependent_required) {
        const std::string& key = dep.first;
        const std::vector<std::string>& names = dep.second;
        if (!o.contains(key)) continue;
        for (const auto& name : names) {
          if (!o.contains(name)) {
            FRONTMCP_SCHEMA_FAIL("missing property " + quote(name) + " (required when " + quote(key) + " is present)");
          }
        }
      }
      for (const auto& [key, sub] : n.dependent_schemas) {
        if (o.contains(key) && !eval(sub, v, path, depth, marks)) {
          FRONTMCP_SCHEMA_CHECK_ABORT();
          if (!c_.out || c_.full()) return false;
          ok = false;
        }
      }
      break;
    }
    case json::kind::array: {
      const json::array& a = v.get_array();
      if (n.min_items && a.size() < *n.min_items) {
        FRONTMCP_SCHEMA_FAIL("must have at least " + std::to_string(*n.min_items) + " items, got " +
                             std::to_string(a.size()));
      }
      if (n.max_items && a.size() > *n.max_items) {
        FRONTMCP_SCHEMA_FAIL("must have at most " + std::to_string(*n.max_items) + " items, got " +
                             std::to_string(a.size()));
      }
      for (std::size_t i = 0; i < a.size(); ++i) {
        Idx sub = i < n.prefix_items.size() ? n.prefix_items[i] : n.items;
        if (sub == kNone) {
          if (i >= n.prefix_items.size()) break;
          continue;
        }
        PathSeg seg{path, {}, i, true};
        if (marks) (*marks)[i] = true;
        if (nodes_[sub].boolean == 0) {
          FRONTMCP_SCHEMA_FAIL("unexpected item at index " + std::to_string(i) + " (only " +
                               std::to_string(n.prefix_items.size()) + " allowed)");
          break;
        }
        if (!child(sub, a[i], seg, depth)) {
          FRONTMCP_SCHEMA_CHECK_ABORT();
          if (!c_.out || c_.full()) return false;
          ok = false;
        }
      }
      if (n.contains != kNone) {
        std::size_t count = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
          PathSeg seg{path, {}, i, true};
          if (depth + 1 > lim.max_instance_depth) return child(n.contains, a[i], seg, depth);
          if (eval_quiet_child(n.contains, a[i], seg, depth)) {
            ++count;
            if (marks) (*marks)[i] = true;
          }
          FRONTMCP_SCHEMA_CHECK_ABORT();
        }
        if (count < n.min_contains) {
          FRONTMCP_SCHEMA_FAIL("must contain at least " + std::to_string(n.min_contains) +
                               " item(s) matching \"contains\", got " + std::to_string(count));
        }
        if (n.max_contains && count > *n.max_contains) {
          FRONTMCP_SCHEMA_FAIL("must contain at most " + std::to_string(*n.max_contains) +
                               " item(s) matching \"contains\", got " + std::to_string(count));
        }
      }
      if (n.unique_items && a.size() > 1) {
        std::size_t first = 0, second = 0;
        if (!find_duplicate(a, depth, path, first, second)) {
          FRONTMCP_SCHEMA_CHECK_ABORT();
          FRONTMCP_SCHEMA_FAIL("items must be unique, but items " + std::to_string(first) + " and " +
                               std::to_string(second) + " are equal");
        }
      }
      break;
    }
    case json::kind::string: {
      std::string_view s = v.get_string();
      if (n.min_length || n.max_length) {
        std::size_t len = code_points(s);
        if (n.min_length && len < *n.min_length) {
          FRONTMCP_SCHEMA_FAIL("must be at least " + std::to_string(*n.min_length) + " characters long, got " +
                               std::to_string(len));
        }
        if (n.max_length && len > *n.max_length) {
          FRONTMCP_SCHEMA_FAIL("must be at most " + std::to_string(*n.max_length) + " characters long, got " +
                               std::to_string(len));
        }
      }
      if (n.pattern != std::numeric_limits<std::size_t>::max()) {
        bool m = match(n.pattern, s, path);
        FRONTMCP_SCHEMA_CHECK_ABORT();
        if (!m) {
          FRONTMCP_SCHEMA_FAIL("must match pattern " + quote(c_.impl.regexes[n.pattern].source, 80) + ", got " +
                               describe_value(v));
        }
      }
      if (n.format != Format::kNone && !check_format(n.format, s)) {
        FRONTMCP_SCHEMA_FAIL("must be a valid " + n.format_name + ", got " + describe_value(v));
      }
      break;
    }
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: {
      long double x = number_value(v);
      if (n.minimum.set && !(x >= n.minimum.value)) {
        FRONTMCP_SCHEMA_FAIL("must be >= " + n.minimum.text + ", got " + number_text(v));
      }
      if (n.maximum.set && !(x <= n.maximum.value)) {
        FRONTMCP_SCHEMA_FAIL("must be <= " + n.maximum.text + ", got " + number_text(v));
      }
      if (n.exclusive_minimum.set && !(x > n.exclusive_minimum.value)) {
        FRONTMCP_SCHEMA_FAIL("must be > " + n.exclusive_minimum.text + ", got " + number_text(v));
      }
      if (n.exclusive_maximum.set && !(x < n.exclusive_maximum.value)) {
        FRONTMCP_SCHEMA_FAIL("must be < " + n.exclusive_maximum.text + ", got " + number_text(v));
      }
      if (n.has_multiple_of && !multiple_of(n, v)) {
        FRONTMCP_SCHEMA_FAIL("must be a multiple of " + n.multiple_of_text + ", got " + number_text(v));
      }
      break;
    }
    default:
      break;
  }

  if (n.enum_values) {
    bool found = false;
    for (const auto& e : *n.enum_values) {
      if (deep_equal(c_, e, v, depth)) {
        found = true;
        break;
      }
    }
    FRONTMCP_SCHEMA_CHECK_ABORT();
    if (!found) {
      FRONTMCP_SCHEMA_FAIL("must be one of " + short_json(*n.enum_values, kEnumQuoteMax) + ", got " +
                           describe_value(v));
    }
  }
  if (n.const_value) {
    bool eq = deep_equal(c_, *n.const_value, v, depth);
    FRONTMCP_SCHEMA_CHECK_ABORT();
    if (!eq)
      FRONTMCP_SCHEMA_FAIL("must be " + short_json(*n.const_value, kEnumQuoteMax) + ", got " + describe_value(v));
  }

  for (Idx sub : n.all_of) {
    if (!eval(sub, v, path, depth, marks)) {
      FRONTMCP_SCHEMA_CHECK_ABORT();
      if (!c_.out || c_.full()) return false;
      ok = false;
    }
  }
  if (!n.any_of.empty()) {
    bool any = false;
    for (Idx sub : n.any_of) {
      if (marks) {
        // Annotations of every passing branch count: no short cut.
        Marks branch(marks->size(), false);
        c_.steps += 2 * marks->size() / kMarksPerStep;
        if (quiet(sub, v, path, depth, &branch)) {
          any = true;
          merge_marks(*marks, branch);
        }
      } else if (quiet(sub, v, path, depth)) {
        any = true;
        break;
      }
      FRONTMCP_SCHEMA_CHECK_ABORT();
    }
    if (!any) {
      FRONTMCP_SCHEMA_FAIL("must match at least one of anyOf's " + std::to_string(n.any_of.size()) + " schemas");
      explain_best(n.any_of, v, path, depth);
      FRONTMCP_SCHEMA_CHECK_ABORT();
    }
  }
  if (!n.one_of.empty()) {
    std::size_t matched = 0, first = 0, second = 0;
    Marks branch, matched_marks;
    for (std::size_t i = 0; i < n.one_of.size(); ++i) {
      if (marks) {
        branch.assign(marks->size(), false);
        c_.steps += 2 * marks->size() / kMarksPerStep;
      }
      if (quiet(n.one_of[i], v, path, depth, marks ? &branch : nullptr)) {
        (matched == 0 ? first : second) = i;
        if (marks && matched == 0) matched_marks.swap(branch);
        if (++matched == 2) break;
      }
      FRONTMCP_SCHEMA_CHECK_ABORT();
    }
    if (marks && matched == 1) merge_marks(*marks, matched_marks);
    if (matched == 0) {
      FRONTMCP_SCHEMA_FAIL("must match exactly one of oneOf's " + std::to_string(n.one_of.size()) +
                           " schemas, matched 0");
      explain_best(n.one_of, v, path, depth);
      FRONTMCP_SCHEMA_CHECK_ABORT();
    } else if (matched > 1) {
      FRONTMCP_SCHEMA_FAIL("must match exactly one of oneOf's " + std::to_string(n.one_of.size()) +
                           " schemas, matched more (schemas " + std::to_string(first) + " and " +
                           std::to_string(second) + ")");
    }
  }
  if (n.not_schema != kNone) {
    bool m = quiet(n.not_schema, v, path, depth);
    FRONTMCP_SCHEMA_CHECK_ABORT();
    if (m) FRONTMCP_SCHEMA_FAIL("must not match the \"not\" schema, got " + describe_value(v));
  }
  if (n.if_schema != kNone) {
    Marks cond_marks;
    if (marks) {
      cond_marks.assign(marks->size(), false);
      c_.steps += 2 * marks->size() / kMarksPerStep;
    }
    bool cond = quiet(n.if_schema, v, path, depth, marks ? &cond_marks : nullptr);
    FRONTMCP_SCHEMA_CHECK_ABORT();
    if (cond && marks) merge_marks(*marks, cond_marks);
    Idx branch = cond ? n.then_schema : n.else_schema;
    if (branch != kNone && !eval(branch, v, path, depth, marks)) {
      FRONTMCP_SCHEMA_CHECK_ABORT();
      if (!c_.out || c_.full()) return false;
      ok = false;
    }
  }

  // Last: unevaluatedProperties / unevaluatedItems see what every other keyword (and the
  // passing subschemas of the in-place applicators) evaluated.
  if (owns) {
    if (v.is_object() && n.unevaluated_properties != kNone) {
      std::size_t at = 0;
      for (const json::key_value_pair& kv : v.get_object()) {
        std::string_view key = kv.key();
        const json::value& member = kv.value();
        if (own[at]) {
          ++at;
          continue;
        }
        own[at++] = true;
        PathSeg seg{path, key, 0, false};
        if (nodes_[n.unevaluated_properties].boolean == 0) {
          FRONTMCP_SCHEMA_FAIL("unknown property " + quote(key) + " (unevaluatedProperties is false)");
        } else if (!child(n.unevaluated_properties, member, seg, depth)) {
          FRONTMCP_SCHEMA_CHECK_ABORT();
          if (!c_.out || c_.full()) return false;
          ok = false;
        }
      }
    }
    if (v.is_array() && n.unevaluated_items != kNone) {
      const json::array& a = v.get_array();
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (own[i]) continue;
        own[i] = true;
        PathSeg seg{path, {}, i, true};
        if (nodes_[n.unevaluated_items].boolean == 0) {
          FRONTMCP_SCHEMA_FAIL("unexpected item at index " + std::to_string(i) + " (unevaluatedItems is false)");
        } else if (!child(n.unevaluated_items, a[i], seg, depth)) {
          FRONTMCP_SCHEMA_CHECK_ABORT();
          if (!c_.out || c_.full()) return false;
          ok = false;
        }
      }
    }
    if (outer) merge_marks(*outer, own);
  }
  return ok;
}

#undef FRONTMCP_SCHEMA_FAIL
#undef FRONTMCP_SCHEMA_CHECK_ABORT

}  // namespace

// ------------------------------------------------------------------ Validator

Result<Validator> Validator::compile(const json::value& schema, const Limits& limits, std::string_view root_name) {
  auto impl = std::make_shared<Impl>();
  impl->limits = limits;
  Compiler compiler(*impl, schema, root_name);
  auto root = compiler.run();
  if (!root) return std::move(root).error();
  impl->root = *root;
  return Validator(std::move(impl));
}

bool Validator::validate(const json::value& instance) const {
  Ctx c{*impl_, nullptr};
  Evaluator ev(c);
  return ev.eval(impl_->root, instance, nullptr, 0) && !c.aborted;
}

bool Validator::validate(const json::value& instance, std::vector<Violation>& out) const {
  std::vector<Violation> found;
  Ctx c{*impl_, &found};
  Evaluator ev(c);
  bool ok = ev.eval(impl_->root, instance, nullptr, 0) && !c.aborted;
  if (c.aborted && c.abort_reason) {
    // The reason first: the violations found before it may be incomplete.
    found.insert(found.begin(), std::move(*c.abort_reason));
    if (found.size() > impl_->limits.max_violations)
      found.resize(std::max<std::size_t>(1, impl_->limits.max_violations));
  }
  if (!ok && found.empty()) found.push_back({"", "invalid"});
  out.insert(out.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
  return ok;
}

std::string Validator::describe(const std::vector<Violation>& violations) {
  std::string out;
  for (const auto& v : violations) {
    if (!out.empty()) out += "; ";
    if (!v.path.empty()) {
      out += v.path;
      out += ": ";
    }
    out += v.message;
  }
  return out;
}

}  // namespace frontmcp::schema
