#pragma once
// Typed tools and prompts: arguments and structured results as C++ structs described with
// Boost.Describe (BOOST_DESCRIBE_STRUCT / BOOST_DESCRIBE_ENUM). The JSON Schema the client
// sees, the parsing the handler gets and the serialization of its result all come from one
// description, so they cannot disagree. docs/authoring.md has the type mapping.
//
//   struct ForecastArgs { std::string city; std::optional<int> days; };
//   BOOST_DESCRIBE_STRUCT(ForecastArgs, (), (city, days))
//   server.add_tool<ForecastArgs>("forecast", "Weather forecast",
//                                 [](Context& ctx, const ForecastArgs& a) -> ToolResult { ... });
//
// Header-only (templates); Boost.Describe, Mp11 and Boost.JSON only: no Beast, no Asio
// beyond the Task type <frontmcp/context.hpp> already names.
#include <boost/describe/class.hpp>
#include <boost/describe/enum.hpp>
#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <boost/describe/modifiers.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/mp11/algorithm.hpp>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <frontmcp/content.hpp>
#include <frontmcp/context.hpp>
#include <frontmcp/definitions.hpp>
#include <frontmcp/result.hpp>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace frontmcp {

/// The "description" of one member of a described struct (in the JSON Schema of a typed
/// tool, and as PromptArgument::description of a typed prompt).
struct FieldDescription {
  std::string_view name;
  std::string_view description;
};
using FieldDescriptions = std::vector<FieldDescription>;

/// Where the member descriptions of T come from. By default from a static member function
/// of T, `static frontmcp::FieldDescriptions field_descriptions()`, if T has one (none
/// otherwise); specialize this template for a type you cannot change:
///   template <> struct frontmcp::field_descriptions<Point> {
///     static FieldDescriptions get() { return {{"x", "Abscissa"}, {"y", "Ordinate"}}; }
///   };
/// A description naming no member of T is a start-up bug: schema_of throws
/// std::invalid_argument.
template <class T>
struct field_descriptions {
  static FieldDescriptions get() {
    if constexpr (requires {
                    { T::field_descriptions() } -> std::convertible_to<FieldDescriptions>;
                  }) {
      return T::field_descriptions();
    } else {
      return {};
    }
  }
};

namespace typed_detail {

template <class T>
inline constexpr bool dependent_false = false;

template <class T>
struct optional_traits : std::false_type {};
template <class T>
struct optional_traits<std::optional<T>> : std::true_type {
  using inner = T;
};
template <class T>
inline constexpr bool is_optional = optional_traits<T>::value;

template <class T>
struct vector_traits : std::false_type {};
template <class T, class A>
struct vector_traits<std::vector<T, A>> : std::true_type {};
template <class T>
inline constexpr bool is_vector = vector_traits<T>::value;

template <class T>
struct string_map_traits : std::false_type {};
template <class V, class C, class A>
struct string_map_traits<std::map<std::string, V, C, A>> : std::true_type {};
template <class T>
inline constexpr bool is_string_map = string_map_traits<T>::value;

template <class T>
struct result_traits : std::false_type {
  using inner = T;
};
template <class T>
struct result_traits<Result<T>> : std::true_type {
  using inner = T;
};

template <class T>
struct task_traits : std::false_type {
  using inner = T;
};
template <class T, class Executor>
struct task_traits<boost::asio::awaitable<T, Executor>> : std::true_type {
  using inner = T;
};

template <class T>
inline constexpr bool is_char = std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> ||
                                std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;
/// JSON integers: every integral type but bool and the character types (a char is text:
/// use std::string).
template <class T>
inline constexpr bool is_integer = std::is_integral_v<T> && !std::is_same_v<T, bool> && !is_char<T>;

template <class T>
inline constexpr bool is_described_struct = std::is_class_v<T>&& boost::describe::has_describe_members<T>::value;
template <class T>
inline constexpr bool is_described_enum = std::is_enum_v<T>&& boost::describe::has_describe_enumerators<T>::value;

/// The members a typed struct maps: public ones, its described bases' included.
template <class T>
using members = boost::describe::describe_members<T, boost::describe::mod_public | boost::describe::mod_inherited>;

template <class C, class M>
M member_type_of(M C::*);
template <class D>
using member_type = decltype(member_type_of(D::pointer));

inline std::string join(const std::string& path, std::string_view name) {
  std::string out = path;
  if (!out.empty()) out += '.';
  out += name;
  return out;
}

/// Enumerator names, quoted and comma separated (for schemas' error messages).
template <class E>
std::string enum_names() {
  std::string out;
  boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
    if (!out.empty()) out += ", ";
    out += json::serialize(json::string(decltype(d)::name));
  });
  return out;
}

template <class T>
std::string member_names() {
  std::string out;
  boost::mp11::mp_for_each<members<T>>([&](auto d) {
    if (!out.empty()) out += ", ";
    out += decltype(d)::name;
  });
  return out;
}

template <class T>
bool has_member(std::string_view name) {
  bool found = false;
  boost::mp11::mp_for_each<members<T>>([&](auto d) { found = found || name == decltype(d)::name; });
  return found;
}

/// What a JSON value is, for error messages: `string "3"`, `number 2.5`, `null` ...
/// Long strings are cut (at a UTF-8 boundary) so a message stays short.
inline std::string got(const json::value& v) {
  constexpr std::size_t kMaxQuoted = 40;
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return v.get_bool() ? "boolean true" : "boolean false";
    case json::kind::int64:
    case json::kind::uint64:
      return "number " + json::serialize(v);
    case json::kind::double_: {
      char digits[32];  // shortest round-trip form: "2.5", "1e+300" (json::serialize says "2.5E0")
      auto r = std::to_chars(digits, digits + sizeof digits, v.get_double());
      return "number " + std::string(digits, r.ptr);
    }
    case json::kind::string: {
      std::string_view s = v.get_string();
      if (s.size() <= kMaxQuoted) return "string " + json::serialize(v);
      std::size_t n = kMaxQuoted;
      while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // not inside a code point
      return "string " + json::serialize(json::string(s.substr(0, n))) + "...";
    }
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "unknown";
}

/// The errors of one from_json, each "path: message". All are collected (a model fixes
/// them in one retry), the first kMaxReported of them are reported.
class Errors {
 public:
  static constexpr std::size_t kMaxReported = 8;

  void add(const std::string& path, std::string message) {
    ++total_;
    if (list_.size() < kMaxReported) list_.push_back(path.empty() ? std::move(message) : path + ": " + message);
  }
  bool empty() const noexcept { return total_ == 0; }
  std::string message() const {
    std::string out;
    for (const auto& e : list_) {
      if (!out.empty()) out += "; ";
      out += e;
    }
    if (total_ > list_.size()) out += "; and " + std::to_string(total_ - list_.size()) + " more";
    return out;
  }

 private:
  std::vector<std::string> list_;
  std::size_t total_ = 0;
};

// ------------------------------------------------------------------ schema

template <class T>
json::object schema_for();

template <class T>
json::object struct_schema() {
  json::object properties;
  json::array required;
  FieldDescriptions descriptions = field_descriptions<T>::get();
  for (const auto& d : descriptions) {
    if (!has_member<T>(d.name)) {
      throw std::invalid_argument("field_descriptions names '" + std::string(d.name) +
                                  "', not a member (members: " + member_names<T>() + ")");
    }
  }
  boost::mp11::mp_for_each<members<T>>([&](auto d) {
    using D = decltype(d);
    using M = member_type<D>;
    json::object s;
    if constexpr (is_optional<M>) {
      s = schema_for<typename optional_traits<M>::inner>();  // absent rather than null
    } else {
      s = schema_for<M>();
      required.emplace_back(D::name);
    }
    for (const auto& desc : descriptions) {
      if (desc.name == D::name) s["description"] = desc.description;
    }
    properties.emplace(D::name, std::move(s));
  });
  json::object out{{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) out.emplace("required", std::move(required));
  out.emplace("additionalProperties", false);
  return out;
}

template <class T>
json::object integer_schema() {
  json::object s{{"type", "integer"}};
  // Types narrower than 32 bits carry their bounds (a model cannot guess them); every
  // unsigned type says it takes no negatives. Wider bounds are checked by from_json.
  if constexpr (sizeof(T) < 4) {
    s.emplace("minimum", static_cast<std::int64_t>(std::numeric_limits<T>::min()));
    s.emplace("maximum", static_cast<std::int64_t>(std::numeric_limits<T>::max()));
  } else if constexpr (std::is_unsigned_v<T>) {
    s.emplace("minimum", 0);
  }
  return s;
}

template <class T>
json::object schema_for() {
  if constexpr (std::is_same_v<T, bool>) {
    return {{"type", "boolean"}};
  } else if constexpr (is_integer<T>) {
    return integer_schema<T>();
  } else if constexpr (std::is_floating_point_v<T>) {
    return {{"type", "number"}};
  } else if constexpr (std::is_same_v<T, std::string>) {
    return {{"type", "string"}};
  } else if constexpr (is_optional<T>) {
    // Not a member (a member is left out instead): null stands for nullopt.
    json::object null_schema{{"type", "null"}};
    return {{"anyOf", json::array{schema_for<typename optional_traits<T>::inner>(), std::move(null_schema)}}};
  } else if constexpr (is_vector<T>) {
    return {{"type", "array"}, {"items", schema_for<typename T::value_type>()}};
  } else if constexpr (is_string_map<T>) {
    return {{"type", "object"}, {"additionalProperties", schema_for<typename T::mapped_type>()}};
  } else if constexpr (std::is_same_v<T, json::value>) {
    return {};
  } else if constexpr (std::is_same_v<T, json::object>) {
    return {{"type", "object"}};
  } else if constexpr (std::is_same_v<T, json::array>) {
    return {{"type", "array"}};
  } else if constexpr (is_described_enum<T>) {
    json::array names;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>(
        [&](auto d) { names.emplace_back(decltype(d)::name); });
    return {{"type", "string"}, {"enum", std::move(names)}};
  } else if constexpr (is_described_struct<T>) {
    return struct_schema<T>();
  } else {
    static_assert(dependent_false<T>,
                  "frontmcp typed: unsupported type (bool, integers, floating point, std::string, std::optional, "
                  "std::vector, std::map<std::string, X>, json::value/object/array, described enums and structs)");
  }
}

// ------------------------------------------------------------------ from_json

template <class T>
void read(const json::value& v, T& out, const std::string& path, Errors& errors);

template <class T>
void read_integer(const json::value& v, T& out, const std::string& path, Errors& errors) {
  // JSON Schema's "integer" is a mathematical integer: 3.0 is one.
  constexpr double kTwo63 = 9223372036854775808.0;
  constexpr double kTwo64 = 18446744073709551616.0;
  bool integral = true;
  bool fits = false;
  if (v.is_int64()) {
    fits = std::in_range<T>(v.get_int64());
    if (fits) out = static_cast<T>(v.get_int64());
  } else if (v.is_uint64()) {
    fits = std::in_range<T>(v.get_uint64());
    if (fits) out = static_cast<T>(v.get_uint64());
  } else if (v.is_double()) {
    double d = v.get_double();
    if (d >= -kTwo63 && d < kTwo63) {
      auto i = static_cast<std::int64_t>(d);
      integral = static_cast<double>(i) == d;
      fits = integral && std::in_range<T>(i);
      if (fits) out = static_cast<T>(i);
    } else if (d >= kTwo63 && d < kTwo64) {
      auto u = static_cast<std::uint64_t>(d);
      integral = static_cast<double>(u) == d;
      fits = integral && std::in_range<T>(u);
      if (fits) out = static_cast<T>(u);
    } else {
      integral = std::isfinite(d);  // beyond 2^64 every double is an integer, out of every range
    }
  } else {
    integral = false;
  }
  if (fits) return;
  if (!integral) return errors.add(path, "expected integer, got " + got(v));
  errors.add(path, "expected integer between " + std::to_string(std::numeric_limits<T>::min()) + " and " +
                       std::to_string(std::numeric_limits<T>::max()) + ", got " + got(v));
}

template <class T>
void read_fields(const json::object& o, T& out, const std::string& path, Errors& errors) {
  boost::mp11::mp_for_each<members<T>>([&](auto d) {
    using D = decltype(d);
    using M = member_type<D>;
    std::string at = join(path, D::name);
    const json::value* f = o.if_contains(D::name);
    if (!f) {
      if constexpr (is_optional<M>) {
        (out.*D::pointer).reset();
      } else {
        errors.add(at, "missing required member");
      }
      return;
    }
    read(*f, out.*D::pointer, at, errors);
  });
  for (const auto& kv : o) {
    if (!has_member<T>(kv.key())) {
      errors.add(join(path, kv.key()), "unknown member (expected one of: " + member_names<T>() + ")");
    }
  }
}

template <class T>
void read(const json::value& v, T& out, const std::string& path, Errors& errors) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_bool()) return errors.add(path, "expected boolean, got " + got(v));
    out = v.get_bool();
  } else if constexpr (is_integer<T>) {
    read_integer(v, out, path, errors);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) return errors.add(path, "expected number, got " + got(v));
    double d = v.is_double()  ? v.get_double()
               : v.is_int64() ? static_cast<double>(v.get_int64())
                              : static_cast<double>(v.get_uint64());
    if constexpr (sizeof(T) < sizeof(double)) {
      if (d > static_cast<double>(std::numeric_limits<T>::max()) ||
          d < static_cast<double>(std::numeric_limits<T>::lowest())) {
        return errors.add(path, "expected number within float's range, got " + got(v));
      }
    }
    out = static_cast<T>(d);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) return errors.add(path, "expected string, got " + got(v));
    out.assign(v.get_string().data(), v.get_string().size());
  } else if constexpr (is_optional<T>) {
    // null reads as nullopt (clients often send null for "not given").
    if (v.is_null()) return out.reset();
    typename optional_traits<T>::inner inner{};
    read(v, inner, path, errors);
    out = std::move(inner);
  } else if constexpr (is_vector<T>) {
    if (!v.is_array()) return errors.add(path, "expected array, got " + got(v));
    const auto& a = v.get_array();
    out.clear();
    out.reserve(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      typename T::value_type item{};
      read(a[i], item, path + "[" + std::to_string(i) + "]", errors);
      out.push_back(std::move(item));
    }
  } else if constexpr (is_string_map<T>) {
    if (!v.is_object()) return errors.add(path, "expected object, got " + got(v));
    out.clear();
    for (const auto& kv : v.get_object()) {
      typename T::mapped_type item{};
      read(kv.value(), item, join(path, kv.key()), errors);
      out.emplace(std::string(kv.key()), std::move(item));
    }
  } else if constexpr (std::is_same_v<T, json::value>) {
    out = v;
  } else if constexpr (std::is_same_v<T, json::object>) {
    if (!v.is_object()) return errors.add(path, "expected object, got " + got(v));
    out = v.get_object();
  } else if constexpr (std::is_same_v<T, json::array>) {
    if (!v.is_array()) return errors.add(path, "expected array, got " + got(v));
    out = v.get_array();
  } else if constexpr (is_described_enum<T>) {
    bool found = false;
    if (v.is_string()) {
      boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>([&](auto d) {
        if (!found && v.get_string() == decltype(d)::name) {
          out = decltype(d)::value;
          found = true;
        }
      });
    }
    if (!found) errors.add(path, "expected one of " + enum_names<T>() + ", got " + got(v));
  } else if constexpr (is_described_struct<T>) {
    if (!v.is_object()) return errors.add(path, "expected object, got " + got(v));
    read_fields(v.get_object(), out, path, errors);
  } else {
    static_assert(dependent_false<T>, "frontmcp typed: unsupported type (see schema_of)");
  }
}

}  // namespace typed_detail

/// The JSON Schema of T, a described struct (or any supported type): every member not
/// std::optional is required; objects take no other members. No "$schema": 2020-12 is
/// MCP's default dialect, and the schema only uses what every draft since 7 reads alike.
template <class T>
json::object schema_of() {
  return typed_detail::schema_for<T>();
}

/// Reads a T from JSON. On failure the Error (invalid params) lists every problem as
/// "path: what", e.g. `days: expected integer, got string "3"`.
template <class T>
Result<T> from_json(const json::value& v) {
  static_assert(std::is_default_constructible_v<T>, "from_json<T> needs a default-constructible T");
  T out{};
  typed_detail::Errors errors;
  typed_detail::read(v, out, {}, errors);
  if (!errors.empty()) return Error::invalid_params(errors.message());
  return out;
}

/// The same, from an object (a tool's arguments), without copying it into a json::value.
template <class T>
requires typed_detail::is_described_struct<T> Result<T> from_json(const json::object& o) {
  static_assert(std::is_default_constructible_v<T>, "from_json<T> needs a default-constructible T");
  T out{};
  typed_detail::Errors errors;
  typed_detail::read_fields(o, out, {}, errors);
  if (!errors.empty()) return Error::invalid_params(errors.message());
  return out;
}

/// T as JSON: a std::optional member that holds nothing is left out; an enumerator
/// without a name is written as its number; a floating-point value that is an integer
/// (up to 2^53) is written as one. NaN and infinities have no JSON spelling: a result
/// holding one is answered with an internal error, as for any handler.
template <class T>
json::value to_json(const T& x) {
  using namespace typed_detail;
  if constexpr (std::is_same_v<T, bool>) {
    return json::value(x);
  } else if constexpr (is_integer<T>) {
    if constexpr (std::is_signed_v<T>) {
      return json::value(static_cast<std::int64_t>(x));
    } else {
      return json::value(static_cast<std::uint64_t>(x));
    }
  } else if constexpr (std::is_floating_point_v<T>) {
    // An integral value is written as an integer ("6", not "6E0", as progress values are):
    // the same number, read alike by every client, and shorter for a model to read.
    constexpr double kTwo53 = 9007199254740992.0;  // doubles are exact integers up to here
    auto d = static_cast<double>(x);
    if (d >= -kTwo53 && d <= kTwo53 && static_cast<double>(static_cast<std::int64_t>(d)) == d) {
      return json::value(static_cast<std::int64_t>(d));
    }
    return json::value(d);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return json::value(x);
  } else if constexpr (is_optional<T>) {
    return x ? to_json(*x) : json::value(nullptr);
  } else if constexpr (is_vector<T>) {
    json::array a;
    a.reserve(x.size());
    for (const typename T::value_type& e : x) a.push_back(to_json(e));
    return a;
  } else if constexpr (is_string_map<T>) {
    json::object o;
    for (const auto& [k, e] : x) o.emplace(k, to_json(e));
    return o;
  } else if constexpr (std::is_same_v<T, json::value> || std::is_same_v<T, json::object> ||
                       std::is_same_v<T, json::array>) {
    return json::value(x);
  } else if constexpr (is_described_enum<T>) {
    std::optional<json::value> name;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>([&](auto d) {
      if (!name && decltype(d)::value == x) name.emplace(decltype(d)::name);
    });
    return name ? std::move(*name) : to_json(static_cast<std::underlying_type_t<T>>(x));
  } else if constexpr (is_described_struct<T>) {
    json::object o;
    boost::mp11::mp_for_each<members<T>>([&](auto d) {
      using D = decltype(d);
      const auto& m = x.*D::pointer;
      if constexpr (is_optional<member_type<D>>) {
        if (m) o.emplace(D::name, to_json(*m));
      } else {
        o.emplace(D::name, to_json(m));
      }
    });
    return o;
  } else {
    static_assert(dependent_false<T>, "frontmcp typed: unsupported type (see schema_of)");
  }
}

/// A tool result carrying `r` as structuredContent, and the same JSON serialized in a text
/// block (the spec: a tool that returns structured content SHOULD also return it as text).
template <class T>
ToolResult structured_result(const T& r) {
  ToolResult out;
  json::value v = to_json(r);
  out.content.push_back(content::text(json::serialize(v)));
  out.structured_content = std::move(v);
  return out;
}

namespace typed_detail {

/// A typed handler is called as f(ctx, args) or f(args).
template <class F, class Args>
inline constexpr bool takes_context = std::is_invocable_v<F&, Context&, const Args&>;
template <class F, class Args>
inline constexpr bool takes_args = std::is_invocable_v<F&, const Args&>;

template <class F, class Args>
decltype(auto) call(F& f, Context& ctx, const Args& args) {
  if constexpr (takes_context<F, Args>) {
    return f(ctx, args);
  } else {
    (void)ctx;
    return f(args);
  }
}

template <class F, class Args>
struct handler_return {
  using type = void;
};
template <class F, class Args>
requires takes_context<F, Args>
struct handler_return<F, Args> {
  using type = std::invoke_result_t<F&, Context&, const Args&>;
};
template <class F, class Args>
requires(!takes_context<F, Args> && takes_args<F, Args>) struct handler_return<F, Args> {
  using type = std::invoke_result_t<F&, const Args&>;
};

/// Ret = [Task<] [Result<] Value [>] [>]
template <class Ret>
using awaited_t = typename task_traits<Ret>::inner;
template <class Ret>
using value_t = typename result_traits<awaited_t<Ret>>::inner;

/// A typed tool's answer as the ToolResult the dispatcher sends.
template <class R>
Result<ToolResult> to_tool_result(R&& r) {
  using V = std::remove_cvref_t<R>;
  if constexpr (result_traits<V>::value) {
    if (!r) return std::forward<R>(r).error();
    return to_tool_result(std::forward<R>(r).value());
  } else if constexpr (std::is_same_v<V, ToolResult>) {
    return std::forward<R>(r);
  } else if constexpr (is_described_struct<V>) {
    return structured_result(r);
  } else {
    static_assert(dependent_false<V>,
                  "a typed tool returns ToolResult, a described struct, Result<either>, or a Task of one of these");
  }
}

template <class R>
Result<PromptResult> to_prompt_result(R&& r) {
  using V = std::remove_cvref_t<R>;
  if constexpr (result_traits<V>::value) {
    static_assert(std::is_same_v<typename result_traits<V>::inner, PromptResult>,
                  "a typed prompt returns PromptResult, Result<PromptResult> or a Task of either");
    return std::forward<R>(r);
  } else {
    static_assert(std::is_same_v<V, PromptResult>,
                  "a typed prompt returns PromptResult, Result<PromptResult> or a Task of either");
    return std::forward<R>(r);
  }
}

inline ToolResult invalid_tool_arguments(const std::string& tool, const Error& e) {
  return ToolResult::error("Invalid arguments for tool " + tool + ": " + e.message);
}
inline Error invalid_prompt_arguments(const std::string& prompt, const Error& e) {
  return Error::invalid_params("Invalid arguments for prompt " + prompt + ": " + e.message);
}

/// The coroutine of an async typed tool. A free function (not a capturing lambda
/// coroutine: g++ 12); the frame owns the handler and the parsed arguments.
template <class F, class Args>
Task<Result<ToolResult>> run_async_tool(std::shared_ptr<F> f, std::string tool, Context& ctx, Result<Args> args) {
  if (!args) co_return invalid_tool_arguments(tool, args.error());
  auto r = co_await call(*f, ctx, *args);
  co_return to_tool_result(std::move(r));
}

template <class F, class Args>
Task<Result<PromptResult>> run_async_prompt(std::shared_ptr<F> f, Context& ctx, Result<Args> args) {
  if (!args) co_return std::move(args).error();
  auto r = co_await call(*f, ctx, *args);
  co_return to_prompt_result(std::move(r));
}

template <class Args>
Result<Args> prompt_args(const std::string& prompt, const PromptArguments& in) {
  json::object o;
  for (const auto& [k, v] : in) o.emplace(k, v);
  auto r = from_json<Args>(o);
  if (!r) return invalid_prompt_arguments(prompt, r.error());
  return r;
}

}  // namespace typed_detail

/// A Tool whose arguments are an Args (a described struct): input_schema is
/// schema_of<Args>(), and the handler receives the parsed Args. Arguments that do not
/// parse give a tool error (isError: true) naming every bad member, e.g.
///   Invalid arguments for tool forecast: days: expected integer, got string "3"
/// `handler` is callable as R(Context&, const Args&) or R(const Args&), R one of ToolResult,
/// a described struct S, Result<ToolResult>, Result<S>, or Task<> of any of these (a
/// coroutine). With S, output_schema is schema_of<S>() and the result is
/// structured_result(s). Fill title, annotations and meta on the returned Tool.
template <class Args, class F>
Tool make_tool(std::string name, std::string description, F handler) {
  using namespace typed_detail;
  static_assert(is_described_struct<Args>, "typed tool arguments: a struct described with BOOST_DESCRIBE_STRUCT");
  static_assert(takes_context<F, Args> || takes_args<F, Args>,
                "a typed tool handler is callable as R(Context&, const Args&) or R(const Args&)");
  using Ret = typename handler_return<F, Args>::type;
  using Value = value_t<Ret>;
  Tool t;
  t.name = std::move(name);
  t.description = std::move(description);
  t.input_schema = schema_of<Args>();
  if constexpr (is_described_struct<Value>) t.output_schema = schema_of<Value>();
  auto f = std::make_shared<F>(std::move(handler));
  if constexpr (task_traits<Ret>::value) {
    t.handler = [f, tool = t.name](Context& ctx, const json::object& args) -> Task<Result<ToolResult>> {
      return run_async_tool<F, Args>(f, tool, ctx, from_json<Args>(args));
    };
  } else {
    t.handler = [f, tool = t.name](Context& ctx, const json::object& args) -> Result<ToolResult> {
      auto a = from_json<Args>(args);
      if (!a) return invalid_tool_arguments(tool, a.error());
      return to_tool_result(call(*f, ctx, *a));
    };
  }
  return t;
}

/// The prompt arguments of Args, a described struct of std::string (required) and
/// std::optional<std::string> members, with their field_descriptions.
template <class Args>
std::vector<PromptArgument> prompt_arguments_of() {
  using namespace typed_detail;
  static_assert(is_described_struct<Args>, "typed prompt arguments: a struct described with BOOST_DESCRIBE_STRUCT");
  FieldDescriptions descriptions = field_descriptions<Args>::get();
  for (const auto& d : descriptions) {
    if (!has_member<Args>(d.name)) {
      throw std::invalid_argument("field_descriptions names '" + std::string(d.name) +
                                  "', not a member (members: " + member_names<Args>() + ")");
    }
  }
  std::vector<PromptArgument> out;
  boost::mp11::mp_for_each<members<Args>>([&](auto d) {
    using D = decltype(d);
    using M = member_type<D>;
    static_assert(std::is_same_v<M, std::string> || std::is_same_v<M, std::optional<std::string>>,
                  "prompt arguments are strings: members are std::string or std::optional<std::string>");
    PromptArgument a;
    a.name = D::name;
    a.required = !is_optional<M>;
    for (const auto& desc : descriptions) {
      if (desc.name == D::name) a.description = desc.description;
    }
    out.push_back(std::move(a));
  });
  return out;
}

/// A Prompt whose arguments are an Args (see prompt_arguments_of). `handler` is callable as
/// R(Context&, const Args&) or R(const Args&), R one of PromptResult, Result<PromptResult>
/// or a Task of either. An unknown argument is an invalid-params error naming it.
template <class Args, class F>
Prompt make_prompt(std::string name, std::string description, F handler) {
  using namespace typed_detail;
  static_assert(takes_context<F, Args> || takes_args<F, Args>,
                "a typed prompt handler is callable as R(Context&, const Args&) or R(const Args&)");
  using Ret = typename handler_return<F, Args>::type;
  Prompt p;
  p.name = std::move(name);
  p.description = std::move(description);
  p.arguments = prompt_arguments_of<Args>();
  auto f = std::make_shared<F>(std::move(handler));
  if constexpr (task_traits<Ret>::value) {
    p.handler = [f, prompt = p.name](Context& ctx, const PromptArguments& in) -> Task<Result<PromptResult>> {
      return run_async_prompt<F, Args>(f, ctx, prompt_args<Args>(prompt, in));
    };
  } else {
    p.handler = [f, prompt = p.name](Context& ctx, const PromptArguments& in) -> Result<PromptResult> {
      auto a = prompt_args<Args>(prompt, in);
      if (!a) return std::move(a).error();
      return to_prompt_result(call(*f, ctx, *a));
    };
  }
  return p;
}

}  // namespace frontmcp
