#include "cluster/relay_message.hpp"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <type_traits>

namespace frontmcp::cluster::relay {

namespace {

constexpr std::array<std::string_view, 11> kNames{"msg",  "sub",     "all",   "resp", "state", "lost",
                                                  "drop", "handoff", "owned", "left", "legacy"};
static_assert(kNames.size() == std::variant_size_v<Message>);
static_assert(std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(Type::legacy), Message>, Legacy>);
static_assert(std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(Type::state), Message>, State>);

std::optional<Type> type_named(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Type>(i);
  }
  return std::nullopt;
}

std::optional<std::string> string_at(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}
std::string id_at(const json::object& o, std::string_view key) {
  return string_at(o, key).value_or(std::string());
}
std::optional<json::value> value_at(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  return *v;
}
/// "e" and "v": 0 when absent or not a number; false when a number that is no uint64.
bool counter_at(const json::object& o, std::string_view key, std::uint64_t& out) {
  out = 0;
  auto* v = o.if_contains(key);
  if (!v || !v->is_number()) return true;
  boost::system::error_code ec;
  out = v->to_number<std::uint64_t>(ec);
  return !ec;
}

Result<json::value> answer_at(const json::object& o) {
  if (auto* err = o.if_contains("err"); err && err->is_object()) {
    const auto& e = err->get_object();
    auto* code = e.if_contains("code");
    return Error{code && code->is_int64() ? static_cast<int>(code->get_int64()) : errc::kInternalError,
                 id_at(e, "message"), value_at(e, "data").value_or(json::value())};
  }
  return value_at(o, "ok").value_or(json::value());
}

Decoded refused(metrics::RelayRefusal why) {
  return Decoded{std::nullopt, why};
}

}  // namespace

std::string_view name_of(Type t) noexcept {
  return kNames[static_cast<std::size_t>(t)];
}

Decoded decode(std::string_view payload) {
  boost::system::error_code ec;
  auto v = json::parse(payload, ec);
  if (ec || !v.is_object()) return refused(metrics::RelayRefusal::malformed);
  const auto& o = v.get_object();
  auto* t = o.if_contains("t");
  auto type = t && t->is_string() ? type_named(t->get_string()) : std::nullopt;
  if (!type) return refused(metrics::RelayRefusal::unknown_type);
  switch (*type) {
    case Type::msg:
      return {Msg{id_at(o, "s"), value_at(o, "m")}};
    case Type::sub:
      return {Sub{string_at(o, "u"), value_at(o, "m"), id_at(o, "o")}};
    case Type::all:
      return {All{value_at(o, "m"), id_at(o, "o")}};
    case Type::resp:
      return {Resp{id_at(o, "s"), string_at(o, "r"), answer_at(o)}};
    case Type::state: {
      State st{id_at(o, "s"), 0, 0, std::nullopt, id_at(o, "r")};
      if (!counter_at(o, "e", st.epoch) || !counter_at(o, "v", st.rev)) {
        return refused(metrics::RelayRefusal::malformed);
      }
      if (auto* s = o.if_contains("st"); s && s->is_object()) st.state = s->get_object();
      return {std::move(st)};
    }
    case Type::lost:
      return {Lost{id_at(o, "s"), string_at(o, "by")}};
    case Type::drop:
      return {Drop{id_at(o, "s"), id_at(o, "r")}};
    case Type::handoff:
      return {Handoff{id_at(o, "s"), string_at(o, "to")}};
    case Type::owned:
      return {Owned{id_at(o, "s"), id_at(o, "from")}};
    case Type::left:
      return {Left{id_at(o, "n")}};
    case Type::legacy:
      return {Legacy{id_at(o, "s"), string_at(o, "b")}};
  }
  return refused(metrics::RelayRefusal::unknown_type);
}

namespace {

// One encoder per type; each writes the fields in the order of the header comment (and
// moves the JSON bodies out of the message).
void put(json::object& o, Msg& m) {
  o["s"] = m.sid;
  if (m.body) o["m"] = std::move(*m.body);
}
void put(json::object& o, Sub& m) {
  if (m.uri) o["u"] = *m.uri;
  if (m.body) o["m"] = std::move(*m.body);
  o["o"] = m.origin;
}
void put(json::object& o, All& m) {
  if (m.body) o["m"] = std::move(*m.body);
  o["o"] = m.origin;
}
void put(json::object& o, Resp& m) {
  o["s"] = m.sid;
  if (m.request_id) o["r"] = *m.request_id;
  if (m.answer) {
    o["ok"] = std::move(m.answer).value();
  } else {
    const auto& e = m.answer.error();
    o["err"] = json::object{{"code", e.code}, {"message", e.message}, {"data", e.data}};
  }
}
void put(json::object& o, State& m) {
  o["s"] = m.sid;
  o["e"] = m.epoch;
  o["v"] = m.rev;
  if (m.state) o["st"] = std::move(*m.state);
  if (!m.reply_id.empty()) o["r"] = m.reply_id;
}
void put(json::object& o, Lost& m) {
  o["s"] = m.sid;
  if (m.by) o["by"] = *m.by;
}
void put(json::object& o, Drop& m) {
  o["s"] = m.sid;
  if (!m.reply_id.empty()) o["r"] = m.reply_id;
}
void put(json::object& o, Handoff& m) {
  o["s"] = m.sid;
  if (m.to) o["to"] = *m.to;
}
void put(json::object& o, Owned& m) {
  o["s"] = m.sid;
  o["from"] = m.from;
}
void put(json::object& o, Left& m) {
  o["n"] = m.node;
}
void put(json::object& o, Legacy& m) {
  o["s"] = m.sid;
  if (m.body) o["b"] = *m.body;
}

}  // namespace

json::object encode(Message m) {
  json::object o;
  o["t"] = name_of(type_of(m));
  std::visit([&o](auto& x) { put(o, x); }, m);
  return o;
}

std::string serialize(Message m) {
  return json::serialize(encode(std::move(m)));
}

}  // namespace frontmcp::cluster::relay
