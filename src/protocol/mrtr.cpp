#include "protocol/mrtr.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <stdexcept>
#include <utility>
#include <vector>

#include "util/crypto.hpp"

namespace frontmcp::protocol::mrtr {

namespace {

/// The wire form: "v1." base64url(payload JSON) "." base64url(HMAC).
constexpr std::string_view kPrefix = "v1.";
/// Domain separation: a MAC made for requestState is never valid for anything else.
constexpr std::string_view kMacContext{"frontmcp mrtr requestState v1\0", 30};
/// The derivation label of the key when it comes from ha.relay_secret.
constexpr std::string_view kDerivationLabel = "frontmcp mrtr requestState key v1";

std::string digest_text(std::string_view data) {
  auto d = util::sha256(data);
  return util::base64url_encode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::string mac_text(const util::HmacSha256& key, std::string_view payload) {
  auto m = key.mac({kMacContext, payload});
  return util::base64url_encode(std::string_view(reinterpret_cast<const char*>(m.data()), m.size()));
}

void write_canonical(const json::value& v, std::string& out) {
  if (v.is_object()) {
    const auto& o = v.get_object();
    std::vector<const json::key_value_pair*> kv;
    kv.reserve(o.size());
    for (const auto& p : o) kv.push_back(&p);
    std::sort(kv.begin(), kv.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
    out += '{';
    bool first = true;
    for (auto* p : kv) {
      if (!first) out += ',';
      first = false;
      out += json::serialize(json::string(p->key()));
      out += ':';
      write_canonical(p->value(), out);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& e : v.get_array()) {
      if (!first) out += ',';
      first = false;
      write_canonical(e, out);
    }
    out += ']';
  } else {
    out += json::serialize(v);
  }
}

Error invalid_state(std::string why) {
  return Error::invalid_params("requestState integrity check failed: " + std::move(why));
}

std::string_view kind_of(std::string_view method) {
  if (method == "elicitation/create") return "elicitation";
  if (method == "sampling/createMessage") return "sampling";
  if (method == "roots/list") return "roots";
  return "input";
}

}  // namespace

bool allows_input(std::string_view method) noexcept {
  return method == "tools/call" || method == "prompts/get" || method == "resources/read";
}

std::string canonical(const json::value& v) {
  std::string out;
  write_canonical(v, out);
  return out;
}

Binding binding_of(std::string_view method, const json::object& params, std::string_view principal) {
  Binding b;
  b.method = std::string(method);
  auto str = [&](std::string_view k) {
    auto v = params.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  b.target = method == "resources/read" ? str("uri") : str("name");
  auto args = params.if_contains("arguments");
  b.digest = digest_text(canonical(args ? *args : json::value()));
  b.principal = digest_text(principal);
  return b;
}

// ---------------------------------------------------------------- StateSealer

StateSealer::StateSealer(const StatelessOptions& o, std::string_view relay_secret)
    : ttl_(o.request_state_ttl), max_bytes_(o.max_request_state_bytes) {
  auto check = [](std::string_view name, const std::string& s) {
    if (!s.empty() && s.size() < kRequestStateSecretMinBytes) {
      throw std::invalid_argument(std::string(name) + " is " + std::to_string(s.size()) +
                                  " bytes long; it needs at least " + std::to_string(kRequestStateSecretMinBytes) +
                                  " (e.g. the output of `openssl rand -hex 32`)");
    }
  };
  check("requestStateSecret", o.request_state_secret);
  check("requestStatePreviousSecret", o.request_state_previous_secret);
  if (o.request_state_secret.empty() && !o.request_state_previous_secret.empty()) {
    throw std::invalid_argument("requestStatePreviousSecret is set without requestStateSecret");
  }
  if (!o.request_state_secret.empty()) {
    key_ = std::make_unique<util::HmacSha256>(o.request_state_secret);
  } else if (!relay_secret.empty()) {
    // One secret to manage for a cluster: the relay's, through a one-way derivation (a
    // requestState MAC never verifies as a relay message, nor the other way round).
    auto derived = util::HmacSha256(relay_secret).mac({kDerivationLabel});
    key_ = std::make_unique<util::HmacSha256>(
        std::string_view(reinterpret_cast<const char*>(derived.data()), derived.size()));
  } else {
    key_ = std::make_unique<util::HmacSha256>(util::random_bytes(kRequestStateSecretMinBytes));
    per_process_ = true;
  }
  if (!o.request_state_previous_secret.empty()) {
    previous_ = std::make_unique<util::HmacSha256>(o.request_state_previous_secret);
  }
}

StateSealer::~StateSealer() = default;

std::int64_t StateSealer::now_seconds() noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Result<std::string> StateSealer::seal(const Binding& b, const json::object& answers, std::int64_t now_s) const {
  json::object payload{{"m", b.method},
                       {"t", b.target},
                       {"d", b.digest},
                       {"p", b.principal},
                       {"e", now_s + static_cast<std::int64_t>(ttl_.count())},
                       {"a", answers}};
  std::string body = util::base64url_encode(json::serialize(payload));
  std::string out;
  out.reserve(kPrefix.size() + body.size() + 1 + 43);
  out += kPrefix;
  out += body;
  out += '.';
  out += mac_text(*key_, body);
  if (out.size() > max_bytes_) {
    return Error::internal("the answers of this request's rounds take " + std::to_string(out.size()) +
                           " bytes of requestState; the limit is " + std::to_string(max_bytes_));
  }
  return out;
}

Result<json::object> StateSealer::open(std::string_view state, const Binding& b, std::int64_t now_s) const {
  if (state.size() > max_bytes_) {
    return invalid_state("it is " + std::to_string(state.size()) + " bytes long; the limit is " +
                         std::to_string(max_bytes_));
  }
  if (state.substr(0, kPrefix.size()) != kPrefix) return invalid_state("not a requestState of this server");
  state.remove_prefix(kPrefix.size());
  auto dot = state.find('.');
  if (dot == std::string_view::npos) return invalid_state("malformed");
  std::string_view body = state.substr(0, dot);
  auto mac = util::base64url_decode(state.substr(dot + 1));
  if (!mac || mac->size() != util::kSha256Bytes) return invalid_state("malformed");
  util::Digest given{};
  std::copy(mac->begin(), mac->end(), given.begin());
  bool match = false;
  for (const auto* key : {key_.get(), previous_.get()}) {
    if (key && util::equal_constant_time(key->mac({kMacContext, body}), given)) match = true;
  }
  if (!match) return invalid_state("it was changed, or sealed by another server or key");
  auto text = util::base64url_decode(body);
  if (!text) return invalid_state("malformed");
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return invalid_state("malformed");
  const auto& o = v.get_object();
  auto str = [&](std::string_view k) {
    auto x = o.if_contains(k);
    return x && x->is_string() ? std::string_view(x->get_string()) : std::string_view();
  };
  if (str("m") != b.method || str("t") != b.target || str("d") != b.digest) {
    return invalid_state("it belongs to another request (method, name or arguments differ)");
  }
  if (str("p") != b.principal) return invalid_state("it belongs to another principal");
  auto exp = o.if_contains("e");
  if (!exp || !exp->is_int64() || exp->get_int64() < now_s) return invalid_state("it has expired; start over");
  auto a = o.if_contains("a");
  if (!a || !a->is_object()) return invalid_state("malformed");
  return a->get_object();
}

// ---------------------------------------------------------------------- Round

Round::Round(json::object earlier, const json::object* responses, const json::object& caps, std::size_t max_inputs)
    : earlier_(std::move(earlier)), responses_(responses), caps_(caps), max_inputs_(max_inputs) {}

Result<json::value> Round::ask(std::string key, std::string_view method, json::object params) {
  ++asked_;
  if (key.empty()) key = std::string(kind_of(method)) + "-" + std::to_string(asked_);
  if (auto need = missing_capability(method, params, caps_); !need.is_null()) {
    std::string names;
    for (const auto& [k, v] : need.get_object()) names += (names.empty() ? "" : ", ") + std::string(k);
    return Error{errc::kMissingRequiredClientCapability,
                 "Missing required client capability: " + names + " (needed for " + std::string(method) + ")",
                 json::object{{"requiredCapabilities", std::move(need)}}};
  }
  // This round's answer first (the client may answer again, e.g. after a decline).
  if (responses_) {
    if (auto a = responses_->if_contains(key); a && plausible_answer(method, *a)) {
      used_[key] = *a;
      return *a;
    }
  }
  if (auto a = earlier_.if_contains(key)) {
    used_[key] = *a;
    return *a;
  }
  if (!pending_.contains(key)) {
    if (pending_.size() >= max_inputs_) {
      overflow_ = true;
      return Error::internal("a round may ask for at most " + std::to_string(max_inputs_) + " inputs");
    }
    pending_[key] = json::object{{"method", method}, {"params", std::move(params)}};
  }
  return Error{errc::kInputRequired, "input '" + key + "' is required from the client (the round ends)", {}};
}

json::value missing_capability(std::string_view method, const json::object& params, const json::object& caps) {
  auto obj = [&](std::string_view k) -> const json::object* {
    auto v = caps.if_contains(k);
    return v && v->is_object() ? &v->get_object() : nullptr;
  };
  auto need = [](std::string_view cap, std::string_view sub = {}) {
    json::object inner;
    if (!sub.empty()) inner[sub] = json::object{};
    return json::value(json::object{{cap, std::move(inner)}});
  };
  if (method == "elicitation/create") {
    auto e = obj("elicitation");
    auto mode = params.if_contains("mode");
    bool url = mode && mode->is_string() && mode->get_string() == "url";
    if (url) return e && e->contains("url") ? json::value() : need("elicitation", "url");
    // {} means form mode only; an object naming modes must name form.
    if (!e) return need("elicitation");
    return e->empty() || e->contains("form") ? json::value() : need("elicitation", "form");
  }
  if (method == "sampling/createMessage") {
    auto s = obj("sampling");
    bool tools = params.contains("tools");
    if (!s) return need("sampling", tools ? "tools" : "");
    return !tools || s->contains("tools") ? json::value() : need("sampling", "tools");
  }
  if (method == "roots/list") return obj("roots") ? json::value() : need("roots");
  return {};
}

bool plausible_answer(std::string_view method, const json::value& answer) noexcept {
  if (!answer.is_object()) return false;
  const auto& o = answer.get_object();
  if (method == "elicitation/create") {
    auto a = o.if_contains("action");
    if (!a || !a->is_string()) return false;
    auto s = a->get_string();
    return s == "accept" || s == "decline" || s == "cancel";
  }
  if (method == "sampling/createMessage") {
    auto c = o.if_contains("content");
    return c && (c->is_object() || c->is_array());
  }
  if (method == "roots/list") {
    auto r = o.if_contains("roots");
    return r && r->is_array();
  }
  return true;
}

}  // namespace frontmcp::protocol::mrtr
