// Multi-round-trip requests (protocol/mrtr.hpp) and their crypto (util/crypto.hpp): the
// sealed requestState, the rounds of a handler, and the dispatcher's stateless flow
// driven without sockets (the suite's input-required scenarios, 0.2.0-alpha.12).
#include "protocol/mrtr.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <frontmcp/definitions.hpp>

#include "dispatcher_rig.hpp"
#include "protocol/dispatcher.hpp"
#include "session/event_store.hpp"
#include "test_util.hpp"
#include "util/crypto.hpp"

namespace {

namespace json = boost::json;
namespace net = boost::asio;
using namespace frontmcp;
using namespace frontmcp::protocol;

// ------------------------------------------------------------------ crypto

TEST(Crypto, HmacSha256MatchesRfc4231Case2) {
  util::HmacSha256 key("Jefe");
  auto mac = key.mac({"what do ya want ", "for nothing?"});
  std::string hex;
  for (unsigned char b : mac) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  EXPECT_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, Base64UrlRoundTripsEveryLengthAndRefusesOthers) {
  std::string data;
  for (int n = 0; n < 40; ++n) {
    auto enc = util::base64url_encode(data);
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos) << enc;
    auto dec = util::base64url_decode(enc);
    ASSERT_TRUE(dec.has_value()) << enc;
    EXPECT_EQ(*dec, data);
    data += static_cast<char>(n * 37 + 200);
  }
  EXPECT_EQ(util::base64url_encode("Hello"), "SGVsbG8");
  EXPECT_FALSE(util::base64url_decode("SGVsbG8=").has_value()) << "padding is not base64url without padding";
  EXPECT_FALSE(util::base64url_decode("SGVs+G8").has_value()) << "the standard alphabet is not base64url";
  EXPECT_FALSE(util::base64url_decode("SGVsbG9").has_value()) << "non-zero trailing bits are not canonical";
  EXPECT_FALSE(util::base64url_decode("S").has_value());
}

// ------------------------------------------------------------------ sealing

StatelessOptions keyed(std::string secret = std::string(32, 'k')) {
  StatelessOptions o;
  o.request_state_secret = std::move(secret);
  return o;
}

json::object tool_params(std::string name, json::object args = {}) {
  return {{"name", std::move(name)}, {"arguments", std::move(args)}};
}

constexpr std::int64_t kNow = 1'800'000'000;

TEST(RequestState, OpensWhatItSealedWithTheAnswers) {
  mrtr::StateSealer s(keyed(), {});
  auto b = mrtr::binding_of("tools/call", tool_params("t", {{"x", 1}}), "alice");
  json::object answers{{"step1", json::object{{"action", "accept"}}}};
  auto state = s.seal(b, answers, kNow);
  ASSERT_TRUE(state) << state.error().message;
  auto opened = s.open(*state, b, kNow + 1);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(*opened, answers);
}

TEST(RequestState, RefusesATamperedStateWithInvalidParams) {
  mrtr::StateSealer s(keyed(), {});
  auto b = mrtr::binding_of("tools/call", tool_params("t"), "");
  auto state = *s.seal(b, {}, kNow);
  for (std::string bad : {state + "-TAMPERED", state.substr(0, state.size() - 1), std::string("v1.e30.") + "x",
                          std::string("garbage"), std::string()}) {
    auto r = s.open(bad, b, kNow);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, errc::kInvalidParams);
  }
  // A changed payload under the old MAC.
  auto dot = state.rfind('.');
  std::string payload = *util::base64url_decode(state.substr(3, dot - 3));
  payload.replace(payload.find("\"a\":{}"), 6, R"("a":{"k":1})");
  EXPECT_FALSE(s.open("v1." + util::base64url_encode(payload) + state.substr(dot), b, kNow));
}

TEST(RequestState, IsBoundToTheRequestThePrincipalAndTime) {
  mrtr::StateSealer s(keyed(), {});
  auto b = mrtr::binding_of("tools/call", tool_params("t", {{"x", 1}}), "alice");
  auto state = *s.seal(b, {}, kNow);
  EXPECT_FALSE(s.open(state, mrtr::binding_of("tools/call", tool_params("u", {{"x", 1}}), "alice"), kNow));
  EXPECT_FALSE(s.open(state, mrtr::binding_of("tools/call", tool_params("t", {{"x", 2}}), "alice"), kNow));
  EXPECT_FALSE(s.open(state, mrtr::binding_of("prompts/get", tool_params("t", {{"x", 1}}), "alice"), kNow));
  EXPECT_FALSE(s.open(state, mrtr::binding_of("tools/call", tool_params("t", {{"x", 1}}), "mallory"), kNow));
  auto expired = s.open(state, b, kNow + StatelessOptions{}.request_state_ttl.count() + 1);
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
  // The arguments' key order is not part of the binding.
  auto reordered = json::parse(R"({"name":"t","arguments":{"b":2,"a":1}})").as_object();
  auto ordered = json::parse(R"({"name":"t","arguments":{"a":1,"b":2}})").as_object();
  auto st2 = *s.seal(mrtr::binding_of("tools/call", ordered, ""), {}, kNow);
  EXPECT_TRUE(s.open(st2, mrtr::binding_of("tools/call", reordered, ""), kNow));
}

TEST(RequestState, EveryNodeWithTheSecretVerifiesAndRotationKeepsThePrevious) {
  mrtr::StateSealer a(keyed(), {}), b(keyed(), {});
  auto bind = mrtr::binding_of("tools/call", tool_params("t"), "");
  auto state = *a.seal(bind, {}, kNow);
  EXPECT_TRUE(b.open(state, bind, kNow)) << "another process with the same secret";
  StatelessOptions rotated = keyed(std::string(32, 'n'));
  rotated.request_state_previous_secret = std::string(32, 'k');
  EXPECT_TRUE(mrtr::StateSealer(rotated, {}).open(state, bind, kNow));
  EXPECT_FALSE(mrtr::StateSealer(keyed(std::string(32, 'n')), {}).open(state, bind, kNow));
  // Derived from the relay secret: the same on every node, not the relay secret itself.
  mrtr::StateSealer r1(StatelessOptions{}, "relay-secret-of-16+"), r2(StatelessOptions{}, "relay-secret-of-16+");
  EXPECT_FALSE(r1.per_process_key());
  EXPECT_TRUE(r2.open(*r1.seal(bind, {}, kNow), bind, kNow));
  EXPECT_FALSE(
      mrtr::StateSealer(keyed("relay-secret-of-16+relay-secret-of"), {}).open(*r1.seal(bind, {}, kNow), bind, kNow));
  // Without any secret: a key of this process only.
  mrtr::StateSealer p1(StatelessOptions{}, {}), p2(StatelessOptions{}, {});
  EXPECT_TRUE(p1.per_process_key());
  EXPECT_FALSE(p2.open(*p1.seal(bind, {}, kNow), bind, kNow));
}

TEST(RequestState, RefusesShortSecretsAndOversizedState) {
  EXPECT_THROW(mrtr::StateSealer(keyed("short"), {}), std::invalid_argument);
  StatelessOptions o = keyed();
  o.max_request_state_bytes = 200;
  mrtr::StateSealer s(o, {});
  auto b = mrtr::binding_of("tools/call", tool_params("t"), "");
  auto big = s.seal(b, json::object{{"k", std::string(300, 'x')}}, kNow);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, errc::kInternalError);
  EXPECT_EQ(s.open(std::string(201, 'v'), b, kNow).error().code, errc::kInvalidParams);
}

// ------------------------------------------------------------------ rounds

TEST(Round, AsksOnceAnswersFromResponsesAndFromEarlierRounds) {
  json::object caps{{"elicitation", json::object{}}, {"sampling", json::object{}}};
  json::object responses{{"a", json::object{{"action", "accept"}}}, {"junk", 1}};
  mrtr::Round r(json::object{{"b", json::object{{"content", json::object{}}}}}, &responses, caps, 8);
  EXPECT_TRUE(r.ask("a", "elicitation/create", {}));
  EXPECT_TRUE(r.ask("b", "sampling/createMessage", {}));
  auto c = r.ask("c", "elicitation/create", {{"message", "?"}});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, errc::kInputRequired);
  EXPECT_TRUE(r.input_required());
  EXPECT_EQ(json::serialize(r.pending()), R"({"c":{"method":"elicitation/create","params":{"message":"?"}}})");
  EXPECT_EQ(r.used().size(), 2u) << "a and b go into the next state; the unknown key does not";
}

TEST(Round, AnImplausibleAnswerIsAskedAgain) {
  json::object caps{{"elicitation", json::object{}}};
  json::object responses{{"user_name", 12345}};
  mrtr::Round r({}, &responses, caps, 8);
  EXPECT_EQ(r.ask("user_name", "elicitation/create", {}).error().code, errc::kInputRequired);
  json::object no_action{{"user_name", json::object{{"content", json::object{}}}}};
  mrtr::Round r2({}, &no_action, caps, 8);
  EXPECT_EQ(r2.ask("user_name", "elicitation/create", {}).error().code, errc::kInputRequired);
}

TEST(Round, AnUndeclaredCapabilityIsMissingRequiredClientCapability) {
  json::object caps{{"elicitation", json::object{}}};
  mrtr::Round r({}, nullptr, caps, 8);
  auto s = r.ask("", "sampling/createMessage", {});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, errc::kMissingRequiredClientCapability);
  EXPECT_EQ(json::serialize(s.error().data), R"({"requiredCapabilities":{"sampling":{}}})");
  EXPECT_FALSE(r.input_required()) << "never asks for what the client cannot answer";
  EXPECT_EQ(json::serialize(mrtr::missing_capability("elicitation/create", {{"mode", "url"}}, caps)),
            R"({"elicitation":{"url":{}}})");
  json::object with_tools{{"tools", json::array{}}};
  EXPECT_EQ(
      json::serialize(mrtr::missing_capability("sampling/createMessage", with_tools, {{"sampling", json::object{}}})),
      R"({"sampling":{"tools":{}}})");
  EXPECT_TRUE(mrtr::missing_capability("roots/list", {}, {{"roots", json::object{}}}).is_null());
}

TEST(Round, KeysDefaultToKindAndOrderAndTheRoundIsBounded) {
  json::object caps{{"roots", json::object{}}, {"elicitation", json::object{}}};
  mrtr::Round r({}, nullptr, caps, 2);
  (void)r.ask("", "roots/list", {});
  (void)r.ask("", "elicitation/create", {});
  EXPECT_TRUE(r.pending().contains("roots-1"));
  EXPECT_TRUE(r.pending().contains("elicitation-2"));
  EXPECT_FALSE(r.overflowed());
  EXPECT_EQ(r.ask("", "roots/list", {}).error().code, errc::kInternalError);
  EXPECT_TRUE(r.overflowed());
}

// ------------------------------------------------------------------ the dispatcher's flow

/// Records what a request sends while it runs.
class NullOutbound final : public session::Outbound {
 public:
  int sent = 0;
  void send(const json::value&) override { ++sent; }
  void send_response(const json::value&) override {}
  void disconnect() override {}
};

Task<Result<ToolResult>> two_questions(Context& ctx, const json::object&) {
  json::object ask_name{{"message", "name?"}}, ask_color{{"message", "color?"}};
  auto name = co_await ctx.elicit("step1", std::move(ask_name));
  if (!name) co_return ToolResult::error(name.error().message);  // the usual idiom
  auto color = co_await ctx.elicit("step2", std::move(ask_color));
  if (!color) co_return ToolResult::error(color.error().message);
  co_return ToolResult::text(json::serialize(name->at("content")) + json::serialize(color->at("content")));
}

Task<Result<ToolResult>> needs_sampling(Context& ctx, const json::object&) {
  json::object params{{"messages", json::array{}}};
  auto r = co_await ctx.create_message(std::move(params));
  if (!r) co_return std::move(r).error();
  co_return ToolResult::text("sampled");
}

ServerOptions mrtr_options() {
  ServerOptions o;
  o.stateless.request_state_secret = std::string(32, 's');
  return o;
}

class MrtrDispatch : public ::testing::Test, protected test::DispatcherRig {
 protected:
  MrtrDispatch() : DispatcherRig(mrtr_options()) {}
  modern::Envelope envelope = [] {
    modern::Envelope e;
    e.protocol_version = "2026-07-28";
    return e;
  }();
  /// What every call's _meta declares of its client (the dispatcher reads it there).
  json::object client_capabilities{{"elicitation", json::object{}}};

  void SetUp() override {
    for (auto [name, fn] : {std::pair{"two_questions", &two_questions}, std::pair{"needs_sampling", &needs_sampling}}) {
      Tool t;
      t.name = name;
      t.handler = fn;
      registry.add_tool(std::move(t));
    }
  }

  json::value call(json::object params, std::int64_t id = 1) {
    params["_meta"] =
        json::object{{modern::kMetaVersion, modern::kVersion}, {modern::kMetaCapabilities, client_capabilities}};
    auto msg = make_request(id, "tools/call", std::move(params));
    auto r =
        test::run_task(dispatcher.handle_request(nullptr, std::move(msg), std::make_shared<NullOutbound>(), &envelope));
    EXPECT_TRUE(r.has_value());
    return r ? *r : json::value();
  }
  static json::object accept(std::string field, std::string value) {
    return {{"action", "accept"}, {"content", json::object{{field, value}}}};
  }
};

TEST_F(MrtrDispatch, TwoRoundsThenCompleteWithTheFirstAnswerFromTheState) {
  auto r1 = call({{"name", "two_questions"}});
  const auto& res1 = r1.at("result").as_object();
  EXPECT_EQ(res1.at("resultType"), "input_required");
  EXPECT_TRUE(res1.at("inputRequests").as_object().contains("step1"));
  EXPECT_FALSE(res1.contains("ttlMs")) << "an interim result is never cached";
  auto state1 = res1.at("requestState").as_string();

  auto r2 = call({{"name", "two_questions"},
                  {"inputResponses", json::object{{"step1", accept("name", "Alice")}}},
                  {"requestState", state1}},
                 2);
  const auto& res2 = r2.at("result").as_object();
  EXPECT_EQ(res2.at("resultType"), "input_required");
  EXPECT_TRUE(res2.at("inputRequests").as_object().contains("step2"));
  EXPECT_NE(res2.at("requestState").as_string(), state1);

  // Round 3 carries only step2: step1 comes from the sealed state.
  auto r3 = call({{"name", "two_questions"},
                  {"inputResponses", json::object{{"step2", accept("color", "blue")}}},
                  {"requestState", res2.at("requestState")}},
                 3);
  const auto& res3 = r3.at("result").as_object();
  EXPECT_EQ(res3.at("resultType"), "complete");
  EXPECT_EQ(res3.at("content").as_array()[0].at("text"), R"({"name":"Alice"}{"color":"blue"})");
}

// ServerOptions::tool_rate for stateless calls: keyed by the envelope's principal; each
// round is a call. A refusal is a complete result with isError (never input_required).
TEST_F(MrtrDispatch, TheToolLimitKeysStatelessCallsByTheirPrincipal) {
  options.tool_rate = RateLimit{0.001, 1};  // one call, then nothing for 1000 s
  envelope.principal = "alice";
  EXPECT_EQ(call({{"name", "two_questions"}}).at("result").at("resultType"), "input_required");
  auto refused = call({{"name", "two_questions"}}, 2);
  const auto& res = refused.at("result").as_object();
  EXPECT_EQ(res.at("resultType"), "complete");
  EXPECT_EQ(res.at("isError"), true);
  std::string text(res.at("content").as_array()[0].at("text").as_string());
  EXPECT_TRUE(text.starts_with(R"(rate limit exceeded for tool "two_questions": at most 0.001 calls per second )"
                               R"((burst 1); retry after )"))
      << text;
  envelope.principal = "bob";
  EXPECT_EQ(call({{"name", "two_questions"}}, 3).at("result").at("resultType"), "input_required");
  EXPECT_EQ(metrics.rate_limited[static_cast<std::size_t>(metrics::RateLimited::tool)].value(), 1u);
}

TEST_F(MrtrDispatch, ATamperedStateIsAnErrorNotANewRound) {
  auto r1 = call({{"name", "two_questions"}});
  std::string state(r1.at("result").at("requestState").as_string());
  auto r2 = call({{"name", "two_questions"},
                  {"inputResponses", json::object{{"step1", accept("name", "Alice")}}},
                  {"requestState", state + "-TAMPERED"}},
                 7);
  ASSERT_TRUE(r2.as_object().contains("error")) << r2;
  EXPECT_EQ(r2.at("error").at("code"), errc::kInvalidParams);
  EXPECT_EQ(r2.at("id"), 7);
}

TEST_F(MrtrDispatch, MissingCapabilityReachesTheClientAsMinus32021) {
  auto r = call({{"name", "needs_sampling"}});
  ASSERT_TRUE(r.as_object().contains("error")) << r;
  EXPECT_EQ(r.at("error").at("code"), errc::kMissingRequiredClientCapability);
  EXPECT_TRUE(r.at("error").at("data").at("requiredCapabilities").at("sampling").is_object());
}

// modern::Envelope points into the message it was checked on (its _meta): the dispatcher
// reads through those pointers only for that very message, which a move leaves in place;
// a copy lives elsewhere and is read afresh.
TEST_F(MrtrDispatch, TheEnvelopesPointersAreReadOnlyForTheMessageItWasCheckedOn) {
  auto checked = make_request(1, "tools/call",
                              json::object{{"name", "needs_sampling"},
                                           {"_meta", json::object{{modern::kMetaVersion, modern::kVersion},
                                                                  {modern::kMetaCapabilities, json::object{}}}}});
  auto cm = classify(checked);
  ASSERT_TRUE(cm);
  modern::Envelope env = envelope;
  env.params = cm->params;
  env.meta = modern::meta_of(cm->params);
  // A copy whose client declares sampling: its own _meta is the one that counts.
  json::value copy = checked;
  copy.at("params").at("_meta").at(modern::kMetaCapabilities) = json::object{{"sampling", json::object{}}};
  auto served_copy =
      test::run_task(dispatcher.handle_request(nullptr, std::move(copy), std::make_shared<NullOutbound>(), &env));
  ASSERT_TRUE(served_copy);
  EXPECT_EQ(served_copy->at("result").at("resultType"), "input_required") << *served_copy;
  // The checked message itself, moved in: read through the envelope (no sampling).
  auto served =
      test::run_task(dispatcher.handle_request(nullptr, std::move(checked), std::make_shared<NullOutbound>(), &env));
  ASSERT_TRUE(served);
  EXPECT_EQ(served->at("error").at("code"), errc::kMissingRequiredClientCapability) << *served;
}

TEST_F(MrtrDispatch, MalformedInputResponsesAreInvalidParams) {
  auto r = call({{"name", "two_questions"}, {"inputResponses", "nope"}});
  EXPECT_EQ(r.at("error").at("code"), errc::kInvalidParams);
  auto nulled = call({{"name", "two_questions"}, {"inputResponses", nullptr}});
  EXPECT_EQ(nulled.at("result").at("resultType"), "input_required") << "null counts as absent";
}

// ------------------------------------------------------------------ decoration as text

TEST_F(MrtrDispatch, SplicedDecorationEqualsTheJsonOne) {
  // serialize_modern splices resultType, serverInfo and cache hints into the text; the
  // result must be what decorating the JSON gives, in every shape it may meet.
  auto decorated_json = [&](std::string_view method, json::value response) {
    auto& res = response.as_object()["result"].as_object();
    modern::decorate_result(method, res, json::object{{"name", "frontmcp-server"}, {"version", "0.1.0"}});
    return response;
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"tools/call", R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"}}"}]}})"},
      {"tools/list", R"({"jsonrpc":"2.0","id":"a","result":{"tools":[]}})"},
      {"server/discover", R"({"jsonrpc":"2.0","id":2,"result":{}})"},
      {"tools/call", R"({"jsonrpc":"2.0","id":3,"result":{"content":[],"_meta":{"x":1}}})"},
      {"resources/read", R"({"jsonrpc":"2.0","id":4,"result":{"contents":[],"ttlMs":5}})"},
      {"tools/call", R"({"jsonrpc":"2.0","id":5,"result":{"resultType":"input_required","requestState":"s"}})"},
  };
  for (const auto& [method, text] : cases) {
    auto spliced = json::parse(dispatcher.serialize_modern(method, json::parse(text)));
    EXPECT_EQ(spliced, decorated_json(method, json::parse(text))) << method << " " << text;
  }
  // An error has nothing to decorate.
  std::string error = R"({"jsonrpc":"2.0","id":6,"error":{"code":-32602,"message":"m"}})";
  EXPECT_EQ(json::parse(dispatcher.serialize_modern("tools/call", json::parse(error))), json::parse(error));
}

}  // namespace
