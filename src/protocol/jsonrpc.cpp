#include "protocol/jsonrpc.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>

namespace frontmcp::protocol {

bool has_non_finite(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::double_:
      return !std::isfinite(v.get_double());
    case json::kind::array:
      for (const auto& e : v.get_array()) {
        if (has_non_finite(e)) return true;
      }
      return false;
    case json::kind::object:
      return has_non_finite(v.get_object());
    default:
      return false;
  }
}

bool has_non_finite(const json::object& o) noexcept {
  for (const auto& kv : o) {
    if (has_non_finite(kv.value())) return true;
  }
  return false;
}

Result<ParsedBody> parse_body(std::string_view body, std::size_t max_batch) {
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = kMaxJsonDepth;
  // One arena per body instead of a malloc per node; the messages share it (ref-counted)
  // for as long as any of them lives, e.g. in a handler's coroutine.
  json::storage_ptr arena = json::make_shared_resource<json::monotonic_resource>();
  json::value v = json::parse(body, ec, std::move(arena), opts);
  if (ec) return Error{errc::kParseError, "Parse error: " + ec.message(), {}};
  // Grammatical JSON, but a number out of a double's range became an infinity: refused
  // like any other text we cannot represent (docs/http.md), never echoed as `Infinity`.
  if (has_non_finite(v)) return Error{errc::kParseError, "Parse error: number out of range", {}};
  ParsedBody out;
  if (v.is_array()) {
    out.is_batch = true;
    auto& arr = v.as_array();
    if (arr.empty()) return Error{errc::kInvalidRequest, "Invalid Request: empty batch", {}};
    if (arr.size() > max_batch) {
      return Error{errc::kInvalidRequest,
                   "Invalid Request: a batch of " + std::to_string(arr.size()) + " messages; the limit is " +
                       std::to_string(max_batch) + " (none of it was run)",
                   {}};
    }
    out.messages.reserve(arr.size());
    for (auto& m : arr) out.messages.push_back(std::move(m));
  } else if (v.is_object()) {
    out.messages.push_back(std::move(v));
  } else {
    return Error{errc::kInvalidRequest, "Invalid Request: expected an object or an array", {}};
  }
  return out;
}

namespace {
Error invalid(std::string why) {
  return Error{errc::kInvalidRequest, "Invalid Request: " + why, {}};
}
bool valid_id(const json::value& id) {
  return id.is_string() || id.is_int64() || id.is_uint64();
}
}  // namespace

Result<Message> classify(const json::value& v) {
  if (!v.is_object()) return invalid("message is not an object");
  const auto& o = v.get_object();
  auto jv = o.if_contains("jsonrpc");
  if (!jv || !jv->is_string() || jv->get_string() != "2.0") return invalid("jsonrpc must be \"2.0\"");
  Message m;
  const json::value* id = o.if_contains("id");
  if (auto method = o.if_contains("method")) {
    if (!method->is_string()) return invalid("method must be a string");
    m.method = method->get_string();
    if (auto p = o.if_contains("params")) {
      if (!p->is_object()) return invalid("params must be an object");
      m.params = &p->get_object();
    }
    if (id) {
      if (!valid_id(*id)) return invalid("id must be a string or an integer");
      m.kind = MessageKind::request;
      m.id = id;
    } else {
      m.kind = MessageKind::notification;
    }
    return m;
  }
  if (!id) return invalid("neither a request nor a response");
  m.id = id;
  if (auto r = o.if_contains("result")) {
    if (o.contains("error")) return invalid("both result and error");
    m.kind = MessageKind::response;
    m.result = r;
    return m;
  }
  if (auto e = o.if_contains("error")) {
    if (!e->is_object()) return invalid("error must be an object");
    m.kind = MessageKind::error_response;
    m.error = &e->get_object();
    return m;
  }
  return invalid("response without result or error");
}

json::value make_result(const json::value& id, json::value result) {
  return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json::value make_error(const json::value& id, const Error& error) {
  json::object e{{"code", error.code}, {"message", error.message}};
  if (!error.data.is_null()) e["data"] = error.data;
  return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(e)}};
}

json::value make_notification(std::string_view method, json::object params) {
  json::object o{{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.empty()) o["params"] = std::move(params);
  return o;
}

json::value make_request(const json::value& id, std::string_view method, json::object params) {
  return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

std::string error_body(int code, std::string_view message) {
  return json::serialize(make_error(nullptr, Error{code, std::string(message), {}}));
}

}  // namespace frontmcp::protocol
