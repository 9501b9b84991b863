#include "protocol/dispatcher.hpp"

#include <atomic>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>
#include <charconv>
#include <exception>

#include "protocol/context_impl.hpp"
#include "protocol/mrtr.hpp"
#include "protocol/versions.hpp"
#include "util/log.hpp"

namespace frontmcp::protocol {

namespace net = boost::asio;
using session::Session;

// ----------------------------------------------------------------- Dispatcher

Dispatcher::Dispatcher(registry::Registry& registry, session::SessionManager& sessions, session::MessageBus& bus,
                       session::SessionDirectory& directory, const ServerOptions& options, std::string node_id,
                       metrics::Metrics& metrics)
    : registry_(registry),
      sessions_(sessions),
      bus_(bus),
      directory_(directory),
      options_(options),
      node_id_(std::move(node_id)),
      metrics_(metrics),
      sealer_(std::make_unique<mrtr::StateSealer>(options.stateless, options.ha.relay_secret)),
      server_info_{{"name", options.info.name}, {"version", options.info.version}} {
  if (!options.info.title.empty()) server_info_["title"] = options.info.title;
  json::object decoration;
  modern::decorate_result("", decoration, server_info_);
  std::string text = json::serialize(decoration);  // {"_meta":{...},"resultType":"complete"}
  decoration_text_ = text.substr(1, text.size() - 2);
  json::object hints;
  modern::decorate_result("tools/list", hints, server_info_);
  hints.erase("_meta");
  hints.erase("resultType");
  text = json::serialize(hints);  // {"ttlMs":0,"cacheScope":"public"}
  cache_hints_text_ = "," + text.substr(1, text.size() - 2);
  if (sealer_->per_process_key() && options.mode != DeploymentMode::standalone) {
    util::log().warn(
        "no requestStateSecret (nor relaySecret) is set: multi-round-trip requests of MCP 2026-07-28 are sealed "
        "with a key of this process only, so a retry that reaches another node is refused; set "
        "FRONTMCP_REQUEST_STATE_SECRET (the same on every node)");
  }
}

Dispatcher::~Dispatcher() = default;

namespace {

/// The round a request carries: the answers of earlier rounds from its verified
/// requestState, and this round's from inputResponses; null when it carries neither (most
/// calls: the handler's first request_input then makes a fresh round, ContextImpl).
/// -32602 for a state that does not verify (never a new round) or malformed fields.
Result<std::unique_ptr<mrtr::Round>> begin_round(const mrtr::StateSealer& sealer, std::string_view method,
                                                 const json::object& params, const modern::Envelope& env,
                                                 const json::object& client_capabilities, std::size_t max_inputs) {
  const json::value* st = nullptr;
  const json::value* ir = nullptr;
  for (const auto& kv : params) {  // one pass: most requests carry neither
    if (kv.key() == "requestState") {
      st = &kv.value();
    } else if (kv.key() == "inputResponses") {
      ir = &kv.value();
    }
  }
  if ((!st || st->is_null()) && (!ir || ir->is_null())) return std::unique_ptr<mrtr::Round>();
  json::object earlier;
  if (st && !st->is_null()) {
    if (!st->is_string()) return Error::invalid_params(std::string(method) + ": requestState must be a string");
    auto opened = sealer.open(st->get_string(), mrtr::binding_of(method, params, env.principal),
                              mrtr::StateSealer::now_seconds());
    if (!opened) return std::move(opened).error();
    earlier = std::move(*opened);
  }
  const json::object* responses = nullptr;
  if (ir && !ir->is_null()) {
    if (!ir->is_object()) return Error::invalid_params(std::string(method) + ": inputResponses must be an object");
    responses = &ir->get_object();
  }
  auto round = std::make_unique<mrtr::Round>(std::move(earlier), responses, client_capabilities, max_inputs);
  round->set_retried();
  return round;
}

/// The handler's outcome, or the round's InputRequiredResult when an input is missing
/// (whatever the handler returned: it may have turned the missing input into an error of
/// its own). A missing client capability the handler reports stays an error (-32021).
/// `round`: the request's (null when it carried none and the handler asked for nothing);
/// the state is bound to `method`, `params` and `principal` (hashed only when sealed).
void end_round(const mrtr::StateSealer& sealer, const mrtr::Round* round, std::string_view method,
               const json::object& params, std::string_view principal, Result<json::value>& r) {
  if (!r && r.error().code == errc::kMissingRequiredClientCapability) return;
  if (!round || !round->input_required()) {
    if (!r && r.error().code == errc::kInputRequired) r = Error::internal("internal error: input required, none asked");
    return;
  }
  if (round->overflowed()) {
    r = Error::internal("the handler asked for more inputs in one round than allowed (max_input_requests)");
    return;
  }
  auto state =
      sealer.seal(mrtr::binding_of(method, params, principal), round->used(), mrtr::StateSealer::now_seconds());
  if (!state) {
    r = std::move(state).error();
    return;
  }
  r = json::value(json::object{
      {"resultType", "input_required"}, {"inputRequests", round->pending()}, {"requestState", std::move(*state)}});
}

}  // namespace

json::object Dispatcher::capabilities() const {
  json::object caps{{"logging", json::object{}},
                    {"tools", json::object{{"listChanged", true}}},
                    {"resources", json::object{{"subscribe", true}, {"listChanged", true}}},
                    {"prompts", json::object{{"listChanged", true}}}};
  if (registry_.has_completion()) caps["completions"] = json::object{};
  return caps;
}

bool Dispatcher::has_completion() const {
  return registry_.has_completion();
}

json::value Dispatcher::discover() const {
  json::object result{{"supportedVersions", json::array{json::string(modern::kVersion)}},
                      {"capabilities", capabilities()}};
  if (!options_.info.instructions.empty()) result["instructions"] = options_.info.instructions;
  return result;
}

void Dispatcher::decorate(std::string_view method, Result<json::value>& r) const {
  if (!r || !r->is_object()) return;
  modern::decorate_result(method, r->get_object(), server_info_);
}

Result<json::object> Dispatcher::initialize(Session& s, const json::object* params) {
  const auto started = std::chrono::steady_clock::now();
  auto r = initialize_session(s, params);
  metrics_.request_done(metrics::Method::initialize, r.has_value(), std::chrono::steady_clock::now() - started);
  return r;
}

Result<json::object> Dispatcher::initialize_session(Session& s, const json::object* params) {
  if (!params) return Error::invalid_params("initialize needs params");
  auto pv = params->if_contains("protocolVersion");
  if (!pv || !pv->is_string()) return Error::invalid_params("initialize: protocolVersion must be a string");
  const json::value* caps = params->if_contains("capabilities");
  if (caps && !caps->is_object()) return Error::invalid_params("initialize: capabilities must be an object");
  const json::value* info = params->if_contains("clientInfo");
  if (info && !info->is_object()) return Error::invalid_params("initialize: clientInfo must be an object");
  // Kept for the session's lifetime (and in its Redis record): bounded.
  std::size_t kept = (caps ? json::serialize(*caps).size() : 0) + (info ? json::serialize(*info).size() : 0);
  if (kept > options_.session.max_client_info_bytes) {
    return Error::invalid_params("initialize: clientInfo and capabilities take " + std::to_string(kept) +
                                 " bytes; the limit is " + std::to_string(options_.session.max_client_info_bytes));
  }
  auto version = negotiate_version(pv->get_string());
  s.update([&](session::SessionState& st) {
    st.protocol_version = std::string(version);
    st.client_capabilities = caps ? caps->get_object() : json::object{};
    st.client_info = info ? info->get_object() : json::object{};
    st.initialized = true;
  });
  const auto& si = options_.info;
  json::object server_info{{"name", si.name}, {"version", si.version}};
  if (!si.title.empty()) server_info["title"] = si.title;
  json::object result{
      {"protocolVersion", version}, {"capabilities", capabilities()}, {"serverInfo", std::move(server_info)}};
  if (!si.instructions.empty()) result["instructions"] = si.instructions;
  return result;
}

// Outside handle_request: its temporaries would otherwise sit in every request's frame.
void Dispatcher::request_served(std::string_view method, const json::value& id, const session::Session* session,
                                const Result<json::value>& r, std::chrono::steady_clock::duration took) {
  metrics_.request_done(metrics::method_of(method), r.has_value(), took);
  if (!util::log().should_log(spdlog::level::debug)) return;
  auto us = std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(took).count());
  auto outcome = r ? std::string("ok") : "error " + std::to_string(r.error().code);
  util::log_event(spdlog::level::debug, "request served",
                  {{"method", method},
                   {"id", json::serialize(id)},
                   {"session", session ? std::string_view(session->id()) : ""},
                   {"outcome", outcome},
                   {"us", us}});
}

Task<std::optional<json::value>> Dispatcher::handle_request(std::shared_ptr<Session> session, json::value msg,
                                                            std::shared_ptr<session::Outbound> out,
                                                            const modern::Envelope* modern,
                                                            std::shared_ptr<session::InFlight> inflight,
                                                            bool decorated) {
  auto cm = classify(msg);
  if (!cm || cm->kind != MessageKind::request) {
    co_return make_error(nullptr, cm ? Error{errc::kInvalidRequest, "not a request", {}} : cm.error());
  }
  const Message& m = *cm;
  const auto started = std::chrono::steady_clock::now();
  json::value id = *m.id;
  static const json::object kEmpty;
  const json::object& params = m.params ? *m.params : kEmpty;
  json::value token;
  // A modern request's checks found _meta in this very message (moved, not copied, to here).
  const json::object* meta = modern && modern->params == m.params ? modern->meta : modern::meta_of(&params);
  const json::object* capabilities = nullptr;  // a modern request's
  if (meta) {
    // One pass over _meta for what the dispatcher reads of it.
    for (const auto& kv : *meta) {
      if (kv.key() == "progressToken") {
        token = kv.value();
      } else if (modern && kv.key() == modern::kMetaCapabilities && kv.value().is_object()) {
        capabilities = &kv.value().get_object();
      }
    }
  }
  std::string key;  // a session's name for the request (its in-flight table)
  if (session) {
    key = session::id_key(id);
    session->touch();
    inflight = session->begin_request(key);
  }
  std::unique_ptr<mrtr::Round> round;
  const bool may_ask = modern && mrtr::allows_input(m.method);
  if (may_ask) {
    static const json::object kNoCapabilities;
    auto begun = begin_round(*sealer_, m.method, params, *modern, capabilities ? *capabilities : kNoCapabilities,
                             options_.stateless.max_input_requests);
    if (!begun) co_return make_error(id, begun.error());
    round = std::move(*begun);
  }
  ContextImpl ctx(*this, session, out, id, std::move(token), inflight, modern, std::move(round), may_ask,
                  modern ? meta : nullptr);
  Result<json::value> r = Error::internal("unreachable");
  try {
    r = co_await call(m.method, ctx, params);
  } catch (const std::exception& e) {
    util::log().error("handler for {} threw: {}", m.method, e.what());
    r = Error::internal(std::string("internal error: ") + e.what());
  } catch (...) {
    util::log().error("handler for {} threw a non-exception", m.method);
    r = Error::internal("internal error");
  }
  if (session) session->end_request(key);
  request_served(m.method, id, session.get(), r, std::chrono::steady_clock::now() - started);
  if (ctx.cancelled()) co_return std::nullopt;
  if (may_ask) end_round(*sealer_, ctx.round(), m.method, params, modern->principal, r);
  if (modern && decorated) decorate(m.method, r);
  co_return respond(m.method, id, std::move(r));
}

Task<void> Dispatcher::serve_modern(Dispatcher& d, std::shared_ptr<modern::Envelope> envelope, json::value msg,
                                    std::shared_ptr<session::SseStream> stream,
                                    std::shared_ptr<session::InFlight> inflight) {
  auto response = co_await d.handle_request(nullptr, std::move(msg), stream, envelope.get(), std::move(inflight));
  if (response) stream->send_response(*response);
  stream->finish();
}

/// serialize_modern's stack buffer: a typical response fits (a larger one is serialized
/// into a string first, then spliced).
constexpr std::size_t kSpliceBuffer = 4096;

std::string Dispatcher::serialize_modern(std::string_view method, json::value response) const {
  // Spliced when the result is the response's last member (make_result) and carries none
  // of the decoration: the text then ends with the result's and the response's "}}".
  const auto* o = response.if_object();
  const json::object* result = nullptr;
  if (o && !o->empty() && (o->end() - 1)->key() == "result") result = (o->end() - 1)->value().if_object();
  const bool cacheable = modern::is_cacheable(method);
  // The result's own members, in one pass: any of the decoration's means building it.
  auto decorated = [cacheable](const json::object& r) {
    for (const auto& kv : r) {
      std::string_view k = kv.key();
      if (k == "_meta" || k == "resultType" || (cacheable && (k == "ttlMs" || k == "cacheScope"))) return true;
    }
    return false;
  };
  if (result && !decorated(*result)) {
    // Serialized into a buffer on the stack, then copied once into a string sized for the
    // text and its decoration (json::serialize and an insert would allocate twice).
    json::serializer sr;
    sr.reset(&response);
    char buf[kSpliceBuffer];
    std::string_view head = sr.read(buf, sizeof buf);
    std::string text;
    if (!sr.done()) {
      text.assign(head);
      while (!sr.done()) text.append(sr.read(buf, sizeof buf));
      head = text;
    }
    if (head.size() >= 2 && head.substr(head.size() - 2) == "}}") {
      std::string_view comma = result->empty() ? std::string_view() : std::string_view(",");
      std::string_view hints = cacheable ? std::string_view(cache_hints_text_) : std::string_view();
      std::string spliced;
      spliced.reserve(head.size() + comma.size() + decoration_text_.size() + hints.size());
      spliced.append(head.substr(0, head.size() - 2)).append(comma).append(decoration_text_).append(hints);
      spliced.append("}}");
      return spliced;
    }
  }
  if (auto* obj = response.if_object()) {
    if (auto* res = obj->if_contains("result"); res && res->is_object()) {
      modern::decorate_result(method, res->get_object(), server_info_);
    }
  }
  return json::serialize(response);
}

// Outside handle_request, like request_served.
json::value Dispatcher::respond(std::string_view method, const json::value& id, Result<json::value> r) {
  json::value response = r ? make_result(id, std::move(r).value()) : make_error(id, r.error());
  // A handler's NaN or infinity has no JSON spelling: the client gets an internal error
  // instead of a body it cannot parse (jsonrpc.hpp, has_non_finite).
  if (!has_non_finite(response)) return response;
  non_finite_refused(method);
  return make_error(id, Error::internal("Internal error: the handler's answer holds a number JSON cannot represent "
                                        "(NaN or infinity)"));
}

bool Dispatcher::runs_synchronously(const Message& m, const registry::ToolEntry* tool) const {
  static const json::object kEmpty;
  const json::object& p = m.params ? *m.params : kEmpty;
  auto str = [&](std::string_view key) -> std::string_view {
    auto v = p.if_contains(key);
    return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
  };
  if (m.method == "tools/call") {
    if (tool) return !tool->def.handler.is_async();
    auto t = registry_.tool(str("name"));
    return !t || !t->handler.is_async();
  }
  if (m.method == "resources/read") {
    std::string uri(str("uri"));
    if (auto r = registry_.resource(uri)) return !r->reader.is_async();
    UriVariables vars;
    auto t = registry_.match_template(uri, vars);
    return !t || !t->def.reader.is_async();
  }
  if (m.method == "prompts/get") {
    auto pr = registry_.prompt(str("name"));
    return !pr || !pr->handler.is_async();
  }
  if (m.method == "completion/complete") return !registry_.completion().is_async();
  return true;  // built-in methods never suspend
}

Task<Result<json::value>> Dispatcher::call(std::string_view method, ContextImpl& ctx, const json::object& params) {
  using registry::ListKind;
  if (method == "tools/call") co_return co_await tools_call(ctx, params);
  if (method == "ping") co_return json::value(json::object{});
  // The modern methods reach here only from a modern request (modern::check_request).
  if (method == "server/discover" && ctx.modern()) co_return discover();
  if (method == "tools/list") co_return registry_.list(ListKind::tools, params.if_contains("cursor"));
  if (method == "resources/list") co_return registry_.list(ListKind::resources, params.if_contains("cursor"));
  if (method == "resources/templates/list") {
    co_return registry_.list(ListKind::resource_templates, params.if_contains("cursor"));
  }
  if (method == "resources/read") co_return co_await resources_read(ctx, params);
  if (method == "resources/subscribe") co_return subscribe(ctx, params, true);
  if (method == "resources/unsubscribe") co_return subscribe(ctx, params, false);
  if (method == "prompts/list") co_return registry_.list(ListKind::prompts, params.if_contains("cursor"));
  if (method == "prompts/get") co_return co_await prompts_get(ctx, params);
  if (method == "completion/complete") co_return co_await complete(ctx, params);
  if (method == "logging/setLevel") co_return set_level(ctx, params);
  if (method == "initialize")
    co_return Error{errc::kInvalidRequest, "Invalid Request: the session is already initialized", {}};
  co_return Error::method_not_found("Method not found: " + std::string(method));
}

namespace {
template <class R, class... A>
Task<Result<R>> invoke(const Handler<R, A...>& h, A... args) {
  if (h.is_async()) co_return co_await h.async()(args...);
  co_return h.sync()(args...);
}
}  // namespace

namespace {
/// At most one info/warn line a second about what a client or a handler does on every call.
constexpr std::chrono::seconds kPerCallLogInterval{1};

/// What a model reads when its arguments do not fit the tool's inputSchema: every problem
/// (up to schema::Limits::max_violations) with its place, in one line.
/// Logged once (at info, or at debug beyond one a second: a client decides how often).
json::value invalid_arguments(const Tool& tool, const std::vector<schema::Violation>& violations) {
  std::string why = schema::Validator::describe(violations);
  static util::LogThrottle throttle(kPerCallLogInterval);
  util::log_event(throttle.allow() ? spdlog::level::info : spdlog::level::debug,
                  "tools/call with arguments that do not match the inputSchema: answered isError",
                  {{"tool", tool.name}, {"why", why}});
  return json::value(ToolResult::error("Invalid arguments for tool " + tool.name + ": " + why).to_json());
}

/// A result whose structuredContent does not fit the tool's outputSchema is the handler's
/// bug: the client gets a tool error saying so, never a result its SDK would reject.
std::optional<ToolResult> check_output(const registry::ToolEntry& entry, const ToolResult& r) {
  if (!entry.output || r.is_error) return std::nullopt;
  std::string why;
  if (!r.structured_content) {
    why = "no structuredContent, which its outputSchema requires";
  } else if (std::vector<schema::Violation> v; !entry.output->validate(*r.structured_content, v)) {
    why = "structuredContent that does not match its outputSchema: " + schema::Validator::describe(v);
  } else {
    return std::nullopt;
  }
  // A broken handler fails every call: logged at warn once a second at most, like the rest.
  static util::LogThrottle throttle(kPerCallLogInterval);
  util::log_event(throttle.allow() ? spdlog::level::warn : spdlog::level::debug,
                  "tool result does not match its outputSchema: answered isError",
                  {{"tool", entry.def.name}, {"why", why}});
  return ToolResult::error("Tool " + entry.def.name + " returned " + why);
}

/// Bytes of a tool-limit key composed on the stack (a longer one goes to the heap).
constexpr std::size_t kInlineRateKey = 128;
}  // namespace

std::optional<json::value> Dispatcher::tool_rate_refusal(const ContextImpl& ctx, const std::string& tool) {
  auto o = options_.tool_rates.find(tool);
  const RateLimit& limit = o != options_.tool_rates.end() ? o->second : options_.tool_rate;
  if (!limit.enabled()) return std::nullopt;
  // The key: the tool's name, length first (so no principal can pass for another tool's),
  // then who calls: "p" and the principal (a session's, or a stateless request's); for the
  // anonymous principal, so that anonymous clients do not share one budget, "s" and the
  // session's id (a client that opens sessions to start afresh meets the request limit, and
  // max_sessions), or "c" and a stateless request's client address (Envelope::client). On
  // stdio a stateless request has its one peer: the principal's. This runs on every
  // tools/call (docs/configuration.md "Rate limits").
  std::string principal;
  std::string_view tag = "p";
  std::string_view who;
  if (const auto& s = ctx.session()) {
    principal = s->principal();
    if (principal.empty()) tag = "s", who = s->id();
  } else if (const auto* env = ctx.modern()) {
    principal = env->principal;
    if (principal.empty() && !env->client.empty()) tag = "c", who = env->client;
  }
  if (tag == "p") who = principal;
  // Composed on the stack when it fits (a tool name and a session id do): no allocation.
  char length[24];
  auto end = std::to_chars(length, length + sizeof length, tool.size()).ptr;
  const std::string_view parts[] = {std::string_view(length, static_cast<std::size_t>(end - length)), ":", tool, tag,
                                    who};
  std::size_t size = 0;
  for (auto part : parts) size += part.size();
  char inline_key[kInlineRateKey];
  std::string heap_key;
  char* const begin = size <= sizeof inline_key ? inline_key : (heap_key.resize(size), heap_key.data());
  char* out = begin;
  for (auto part : parts) out = std::copy(part.begin(), part.end(), out);
  const std::string_view key(begin, size);
  auto d = tool_limiter_.take(key, limit);
  if (d.allowed) return std::nullopt;
  metrics_.refused_by(metrics::RateLimited::tool);
  // Logged once a second at most (a loop is what this answers); the rest at debug.
  static util::LogThrottle throttle(kPerCallLogInterval);
  util::log_event(throttle.allow() ? spdlog::level::warn : spdlog::level::debug,
                  "tool rate limit exceeded: answered isError",
                  {{"tool", tool},
                   tag == "c" ? util::LogField{"remote", util::address_key_text(who)}
                              : util::LogField{tag == "s" ? "session" : "principal", who}});
  // A result the model reads and can act on (wait, or do something else), not a JSON-RPC
  // error: the call was valid, only too frequent.
  return json::value(ToolResult::error("rate limit exceeded for tool \"" + tool +
                                       "\": " + util::describe(limit, "calls") + "; retry after " +
                                       util::seconds_text(d.retry_after) + " s")
                         .to_json());
}

Task<Result<json::value>> Dispatcher::tools_call(ContextImpl& ctx, const json::object& params) {
  // A modern request's transport looked the tool up already (its Mcp-Param-* checks).
  const auto* env = ctx.modern();
  auto entry = env ? env->tool : nullptr;
  if (!entry) {
    auto name = params.if_contains("name");
    if (!name || !name->is_string()) co_return Error::invalid_params("tools/call: name must be a string");
    entry = registry_.tool_entry(name->get_string());
    if (!entry) co_return Error::invalid_params("Unknown tool: " + std::string(name->get_string()));
  }
  const Tool& tool = entry->def;
  if (auto refused = tool_rate_refusal(ctx, tool.name)) co_return std::move(*refused);
  static const json::value kNoArgs(json::object{});
  const json::value* args = &kNoArgs;
  if (auto a = params.if_contains("arguments"); a && !a->is_null()) {
    if (!a->is_object()) co_return Error::invalid_params("tools/call: arguments must be an object");
    args = a;
  }
  // The arguments are checked against the inputSchema before the handler runs, and a
  // mismatch is an input error the model can fix: a result with isError, as the spec asks.
  if (!entry->input.validate(*args)) {
    std::vector<schema::Violation> violations;
    (void)entry->input.validate(*args, violations);
    co_return invalid_arguments(tool, violations);
  }
  try {
    Result<ToolResult> r =
        co_await invoke<ToolResult, Context&, const json::object&>(tool.handler, ctx, args->get_object());
    if (!r) co_return std::move(r).error();
    if (auto bad = check_output(*entry, *r)) co_return json::value(std::move(*bad).to_json());
    co_return json::value(std::move(*r).to_json());
  } catch (const std::exception& e) {
    util::log().warn("tool {} threw: {}", tool.name, e.what());
    co_return json::value(ToolResult::error(e.what()).to_json());
  }
}

Task<Result<json::value>> Dispatcher::resources_read(ContextImpl& ctx, const json::object& params) {
  auto uri_v = params.if_contains("uri");
  if (!uri_v || !uri_v->is_string()) co_return Error::invalid_params("resources/read: uri must be a string");
  std::string uri(uri_v->get_string());
  Result<std::vector<ResourceContents>> r = Error::internal("unreachable");
  if (auto res = registry_.resource(uri)) {
    r = co_await invoke<std::vector<ResourceContents>, Context&, const std::string&>(res->reader, ctx, uri);
  } else {
    UriVariables vars;
    auto tpl = registry_.match_template(uri, vars);
    // MCP 2026-07-28 replaced -32002 (which it forbids) by -32602.
    int code = ctx.modern() ? errc::kInvalidParams : errc::kResourceNotFound;
    if (!tpl) co_return Error{code, "Resource not found", json::object{{"uri", uri}}};
    r = co_await invoke<std::vector<ResourceContents>, Context&, const std::string&, const UriVariables&>(
        tpl->def.reader, ctx, uri, vars);
  }
  if (!r) co_return std::move(r).error();
  json::array contents;
  for (const auto& c : *r) contents.push_back(c.to_json());
  co_return json::value(json::object{{"contents", std::move(contents)}});
}

Task<Result<json::value>> Dispatcher::prompts_get(ContextImpl& ctx, const json::object& params) {
  auto name = params.if_contains("name");
  if (!name || !name->is_string()) co_return Error::invalid_params("prompts/get: name must be a string");
  auto prompt = registry_.prompt(name->get_string());
  if (!prompt) co_return Error::invalid_params("Unknown prompt: " + std::string(name->get_string()));
  PromptArguments args;
  if (auto a = params.if_contains("arguments"); a && !a->is_null()) {
    if (!a->is_object()) co_return Error::invalid_params("prompts/get: arguments must be an object");
    for (const auto& [k, v] : a->get_object()) {
      if (!v.is_string())
        co_return Error::invalid_params("prompts/get: argument '" + std::string(k) + "' must be a string");
      args.emplace(std::string(k), std::string(v.get_string()));
    }
  }
  for (const auto& pa : prompt->arguments) {
    if (pa.required && !args.count(pa.name)) co_return Error::invalid_params("Missing required argument: " + pa.name);
  }
  auto r = co_await invoke<PromptResult, Context&, const PromptArguments&>(prompt->handler, ctx, args);
  if (!r) co_return std::move(r).error();
  co_return json::value(r->to_json());
}

Task<Result<json::value>> Dispatcher::complete(ContextImpl& ctx, const json::object& params) {
  auto handler = registry_.completion();
  if (!handler) co_return Error::method_not_found("Method not found: completion/complete");
  auto ref = params.if_contains("ref");
  auto arg = params.if_contains("argument");
  if (!ref || !ref->is_object() || !arg || !arg->is_object()) {
    co_return Error::invalid_params("completion/complete: ref and argument must be objects");
  }
  CompletionRequest req;
  const auto& ro = ref->get_object();
  auto type = ro.if_contains("type");
  if (!type || !type->is_string()) co_return Error::invalid_params("completion/complete: ref.type must be a string");
  req.ref_type = std::string(type->get_string());
  auto refname = ro.if_contains(req.ref_type == "ref/resource" ? "uri" : "name");
  if (!refname || !refname->is_string())
    co_return Error::invalid_params("completion/complete: ref needs a name or uri");
  req.ref = std::string(refname->get_string());
  const auto& ao = arg->get_object();
  auto an = ao.if_contains("name");
  auto av = ao.if_contains("value");
  if (!an || !an->is_string() || !av || !av->is_string()) {
    co_return Error::invalid_params("completion/complete: argument needs string name and value");
  }
  req.argument_name = std::string(an->get_string());
  req.argument_value = std::string(av->get_string());
  if (auto c = params.if_contains("context"); c && c->is_object()) {
    if (auto ca = c->get_object().if_contains("arguments"); ca && ca->is_object()) {
      for (const auto& [k, v] : ca->get_object()) {
        if (v.is_string()) req.context_arguments.emplace(std::string(k), std::string(v.get_string()));
      }
    }
  }
  auto r = co_await invoke<CompletionResult, Context&, const CompletionRequest&>(handler, ctx, req);
  if (!r) co_return std::move(r).error();
  co_return json::value(r->to_json());
}

Result<json::value> Dispatcher::set_level(ContextImpl& ctx, const json::object& params) {
  auto lv = params.if_contains("level");
  if (!lv || !lv->is_string()) return Error::invalid_params("logging/setLevel: level must be a string");
  auto level = parse_log_level(lv->get_string());
  if (!level) return Error::invalid_params("logging/setLevel: unknown level '" + std::string(lv->get_string()) + "'");
  if (ctx.session()) ctx.session()->update([&](session::SessionState& st) { st.log_level = *level; });
  return json::value(json::object{});
}

Result<json::value> Dispatcher::subscribe(ContextImpl& ctx, const json::object& params, bool on) {
  auto uri = params.if_contains("uri");
  if (!uri || !uri->is_string()) return Error::invalid_params("resources/subscribe: uri must be a string");
  if (!ctx.session()) return Error{errc::kInvalidRequest, "subscriptions need a session", {}};
  const auto& limits = options_.session;
  if (on) {
    if (uri->get_string().size() > limits.max_uri_bytes) {
      return Error::invalid_params("resources/subscribe: uri is " + std::to_string(uri->get_string().size()) +
                                   " bytes long; the limit is " + std::to_string(limits.max_uri_bytes));
    }
    if (!sessions_.subscribe(ctx.session(), uri->get_string(), limits.max_subscriptions_per_session)) {
      return Error{errc::kInvalidRequest,
                   "resources/subscribe: this session already has " +
                       std::to_string(limits.max_subscriptions_per_session) +
                       " subscriptions (the limit); unsubscribe first",
                   {}};
    }
  } else {
    sessions_.unsubscribe(ctx.session(), uri->get_string());
  }
  return json::value(json::object{});
}

void Dispatcher::handle_notification(const std::shared_ptr<Session>& session, const Message& m) {
  if (m.method == "notifications/cancelled") {
    if (!session || !m.params) return;
    auto rid = m.params->if_contains("requestId");
    if (!rid) return;
    std::string reason;
    if (auto r = m.params->if_contains("reason"); r && r->is_string()) reason = std::string(r->get_string());
    session->cancel_request(session::id_key(*rid), reason);
    return;
  }
  // notifications/initialized, roots/list_changed, progress: nothing to do here.
  if (session) session->touch();
}

void Dispatcher::handle_response(const std::shared_ptr<Session>& session, const Message& m) {
  if (!session) return;
  session->touch();
  std::string id = m.id->is_string() ? std::string(m.id->get_string()) : json::serialize(*m.id);
  Result<json::value> r = json::value();
  if (m.kind == MessageKind::response) {
    r = *m.result;
  } else {
    Error e;
    if (auto c = m.error->if_contains("code"); c && c->is_int64()) e.code = static_cast<int>(c->get_int64());
    if (auto msg = m.error->if_contains("message"); msg && msg->is_string()) e.message = std::string(msg->get_string());
    if (auto d = m.error->if_contains("data")) e.data = *d;
    r = std::move(e);
  }
  if (!bus_.client_response(session->id(), id, std::move(r))) {
    util::log().debug("session {}: response to unknown request id {}", session->id(), id);
  }
}

void Dispatcher::resource_updated(std::string_view uri) {
  // Nobody can be subscribed to a longer URI; in distributed mode this saves a broadcast.
  if (uri.size() > options_.session.max_uri_bytes) return;
  bus_.to_subscribers(uri, make_notification("notifications/resources/updated", json::object{{"uri", uri}}));
}

void Dispatcher::list_changed(registry::ListKind kind) {
  std::string_view method;
  switch (kind) {
    case registry::ListKind::tools:
      method = "notifications/tools/list_changed";
      break;
    case registry::ListKind::prompts:
      method = "notifications/prompts/list_changed";
      break;
    case registry::ListKind::resources:
    case registry::ListKind::resource_templates:
      method = "notifications/resources/list_changed";
      break;
  }
  bus_.to_all(make_notification(method, {}));
}

}  // namespace frontmcp::protocol
