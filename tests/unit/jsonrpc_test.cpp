// JSON-RPC 2.0 framing: parse_body, classify and the reply builders.
#include "protocol/jsonrpc.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <limits>
#include <string>

namespace {

namespace json = boost::json;
using frontmcp::Error;
using namespace frontmcp::protocol;
namespace errc = frontmcp::errc;

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string nested_objects(std::size_t depth) {
  // {"a":{"a":...{}...}} has `depth` levels of objects.
  std::string s;
  for (std::size_t i = 1; i < depth; ++i) s += "{\"a\":";
  s += "{}";
  s += std::string(depth - 1, '}');
  return s;
}

// ------------------------------------------------------------------ parse_body

TEST(JsonRpcParseBody, SingleObjectIsOneMessageAndNotABatch) {
  auto r = parse_body(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->is_batch);
  ASSERT_EQ(r->messages.size(), 1u);
  EXPECT_EQ(r->messages[0], json::parse(R"({"jsonrpc":"2.0","id":1,"method":"ping"})"));
}

TEST(JsonRpcParseBody, BatchKeepsEveryMessageInOrder) {
  auto r = parse_body(R"([{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"},7])");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->is_batch);
  ASSERT_EQ(r->messages.size(), 3u);
  EXPECT_EQ(r->messages[0].at("method"), "a");
  EXPECT_EQ(r->messages[1].at("method"), "b");
  // Elements are not validated here; classify() rejects them one by one.
  EXPECT_EQ(r->messages[2], json::value(7));
}

TEST(JsonRpcParseBody, SingleElementBatchIsStillABatch) {
  auto r = parse_body(R"([{"jsonrpc":"2.0","id":1,"method":"a"}])");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->is_batch);
  EXPECT_EQ(r->messages.size(), 1u);
}

TEST(JsonRpcParseBody, EmptyBatchIsInvalidRequest) {
  auto r = parse_body("[]");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::kInvalidRequest);
  EXPECT_EQ(r.error().code, -32600);
}

TEST(JsonRpcParseBody, NonJsonIsParseError) {
  for (const char* body : {"", "not json", "{", R"({"a":})", R"({"a":1,})", "[1,2", "\x01"}) {
    auto r = parse_body(body);
    ASSERT_FALSE(r) << "accepted: " << body;
    EXPECT_EQ(r.error().code, -32700) << body;
    EXPECT_EQ(r.error().code, errc::kParseError);
  }
}

TEST(JsonRpcParseBody, InvalidUtf8IsParseError) {
  auto r = parse_body("{\"jsonrpc\":\"2.0\",\"method\":\"\xC3\x28\"}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, -32700);
}

TEST(JsonRpcParseBody, ErrorMessageSaysParseError) {
  auto r = parse_body("{");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("Parse error", 0), 0u) << r.error().message;
}

TEST(JsonRpcParseBody, TrailingGarbageIsParseError) {
  auto r = parse_body(R"({"jsonrpc":"2.0"} x)");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, -32700);
}

TEST(JsonRpcParseBody, ScalarIsInvalidRequest) {
  for (const char* body : {"42", "\"text\"", "null", "true", "1.5"}) {
    auto r = parse_body(body);
    ASSERT_FALSE(r) << "accepted: " << body;
    EXPECT_EQ(r.error().code, -32600) << body;
  }
}

TEST(JsonRpcParseBody, NestingUpToMaxDepthIsAccepted) {
  auto arrays = parse_body(nested_arrays(kMaxJsonDepth));
  EXPECT_TRUE(arrays) << arrays.error().message;
  auto objects = parse_body(nested_objects(kMaxJsonDepth));
  EXPECT_TRUE(objects) << objects.error().message;
}

TEST(JsonRpcParseBody, NestingDeeperThanMaxDepthIsParseError) {
  auto arrays = parse_body(nested_arrays(kMaxJsonDepth + 1));
  ASSERT_FALSE(arrays);
  EXPECT_EQ(arrays.error().code, -32700);
  auto objects = parse_body(nested_objects(kMaxJsonDepth + 1));
  ASSERT_FALSE(objects);
  EXPECT_EQ(objects.error().code, -32700);
}

TEST(JsonRpcParseBody, VeryDeepNestingIsRejectedNotACrash) {
  auto r = parse_body(nested_arrays(100'000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, -32700);
}

// -------------------------------------------------------------------- classify

TEST(JsonRpcClassify, RequestWithStringId) {
  json::value v = json::parse(R"({"jsonrpc":"2.0","id":"abc","method":"tools/list","params":{"cursor":"2"}})");
  auto m = classify(v);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->kind, MessageKind::request);
  EXPECT_EQ(m->method, "tools/list");
  ASSERT_NE(m->id, nullptr);
  EXPECT_EQ(*m->id, json::value("abc"));
  ASSERT_NE(m->params, nullptr);
  EXPECT_EQ(m->params->at("cursor"), "2");
  // Points into the value it was made from.
  EXPECT_EQ(m->id, v.as_object().if_contains("id"));
  EXPECT_EQ(m->result, nullptr);
  EXPECT_EQ(m->error, nullptr);
}

TEST(JsonRpcClassify, RequestWithIntegerIdAndNoParams) {
  json::value v = json::parse(R"({"jsonrpc":"2.0","id":42,"method":"ping"})");
  auto m = classify(v);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->kind, MessageKind::request);
  EXPECT_EQ(*m->id, json::value(42));
  EXPECT_EQ(m->params, nullptr);
}

TEST(JsonRpcClassify, RequestWithNegativeAndLargeUnsignedIds) {
  json::value neg = json::parse(R"({"jsonrpc":"2.0","id":-7,"method":"ping"})");
  auto a = classify(neg);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, MessageKind::request);
  json::value big = json::parse(R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"})");
  auto b = classify(big);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->kind, MessageKind::request);
}

TEST(JsonRpcClassify, Notification) {
  json::value v = json::parse(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  auto m = classify(v);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->kind, MessageKind::notification);
  EXPECT_EQ(m->method, "notifications/initialized");
  EXPECT_EQ(m->id, nullptr);
}

TEST(JsonRpcClassify, Response) {
  json::value v = json::parse(R"({"jsonrpc":"2.0","id":"s1","result":{"ok":true}})");
  auto m = classify(v);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->kind, MessageKind::response);
  ASSERT_NE(m->result, nullptr);
  EXPECT_EQ(*m->result, json::parse(R"({"ok":true})"));
  EXPECT_EQ(*m->id, json::value("s1"));
  EXPECT_EQ(m->error, nullptr);
}

TEST(JsonRpcClassify, ResponseWithNullResultIsStillAResponse) {
  json::value v = json::parse(R"({"jsonrpc":"2.0","id":1,"result":null})");
  auto m = classify(v);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->kind, MessageKind::response);
  ASSERT_NE(m->result, nullptr);
  EXPECT_TRUE(m->result->is_null());
}

TEST(JsonRpcClassify, ErrorResponse) {
  json::value v = json::parse(R"({"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"nope"}})");
  auto m = classify(v);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->kind, MessageKind::error_response);
  ASSERT_NE(m->error, nullptr);
  EXPECT_EQ(m->error->at("code"), json::value(-32601));
  EXPECT_EQ(m->result, nullptr);
}

TEST(JsonRpcClassify, ErrorThatIsNotAnObjectIsInvalid) {
  json::value v = json::parse(R"({"jsonrpc":"2.0","id":3,"error":"bad"})");
  auto m = classify(v);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, -32600);
}

TEST(JsonRpcClassify, MissingJsonrpcIsInvalid) {
  json::value v = json::parse(R"({"id":1,"method":"ping"})");
  auto m = classify(v);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, -32600);
}

TEST(JsonRpcClassify, WrongVersionIsInvalid) {
  for (const char* s : {R"({"jsonrpc":"1.0","id":1,"method":"ping"})", R"({"jsonrpc":"2.1","id":1,"method":"ping"})",
                        R"({"jsonrpc":2.0,"id":1,"method":"ping"})", R"({"jsonrpc":null,"id":1,"method":"ping"})"}) {
    json::value v = json::parse(s);
    auto m = classify(v);
    ASSERT_FALSE(m) << s;
    EXPECT_EQ(m.error().code, -32600) << s;
  }
}

TEST(JsonRpcClassify, NonObjectIsInvalid) {
  for (const char* s : {"[]", "1", "\"x\"", "null"}) {
    json::value v = json::parse(s);
    auto m = classify(v);
    ASSERT_FALSE(m) << s;
    EXPECT_EQ(m.error().code, -32600) << s;
  }
}

TEST(JsonRpcClassify, NonObjectParamsIsInvalid) {
  for (const char* s : {R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1,2]})",
                        R"({"jsonrpc":"2.0","id":1,"method":"ping","params":"x"})",
                        R"({"jsonrpc":"2.0","id":1,"method":"ping","params":null})",
                        R"({"jsonrpc":"2.0","method":"notify","params":5})"}) {
    json::value v = json::parse(s);
    auto m = classify(v);
    ASSERT_FALSE(m) << s;
    EXPECT_EQ(m.error().code, -32600) << s;
  }
}

TEST(JsonRpcClassify, NonStringMethodIsInvalid) {
  json::value v = json::parse(R"({"jsonrpc":"2.0","id":1,"method":5})");
  auto m = classify(v);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, -32600);
}

TEST(JsonRpcClassify, BadIdTypeIsInvalid) {
  for (const char* s :
       {R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})",
        R"({"jsonrpc":"2.0","id":null,"method":"ping"})", R"({"jsonrpc":"2.0","id":[1],"method":"ping"})",
        R"({"jsonrpc":"2.0","id":true,"method":"ping"})"}) {
    json::value v = json::parse(s);
    auto m = classify(v);
    ASSERT_FALSE(m) << s;
    EXPECT_EQ(m.error().code, -32600) << s;
  }
}

TEST(JsonRpcClassify, BothResultAndErrorIsInvalid) {
  json::value v = json::parse(R"({"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}})");
  auto m = classify(v);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, -32600);
}

TEST(JsonRpcClassify, ResponseWithoutResultOrErrorIsInvalid) {
  json::value v = json::parse(R"({"jsonrpc":"2.0","id":1})");
  auto m = classify(v);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, -32600);
}

TEST(JsonRpcClassify, NeitherRequestNorResponseIsInvalid) {
  json::value v = json::parse(R"({"jsonrpc":"2.0","result":{}})");
  auto m = classify(v);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, -32600);
}

TEST(JsonRpcClassify, ErrorMessagesNameTheRule) {
  json::value v = json::parse(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[]})");
  auto m = classify(v);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("Invalid Request"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("params"), std::string::npos) << m.error().message;
}

// -------------------------------------------------------------------- builders

TEST(JsonRpcBuilders, MakeResult) {
  EXPECT_EQ(make_result(json::value(1), json::object{{"a", 1}}),
            json::parse(R"({"jsonrpc":"2.0","id":1,"result":{"a":1}})"));
  EXPECT_EQ(make_result(json::value("x"), json::object{}), json::parse(R"({"jsonrpc":"2.0","id":"x","result":{}})"));
}

TEST(JsonRpcBuilders, MakeResultSerialisesInSpecOrder) {
  EXPECT_EQ(json::serialize(make_result(json::value(1), json::object{})), R"({"jsonrpc":"2.0","id":1,"result":{}})");
}

TEST(JsonRpcBuilders, MakeErrorWithoutData) {
  EXPECT_EQ(make_error(json::value(7), Error{-32601, "Method not found", {}}),
            json::parse(R"({"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"Method not found"}})"));
}

TEST(JsonRpcBuilders, MakeErrorWithData) {
  EXPECT_EQ(
      make_error(json::value("r"), Error{-32002, "Resource not found", json::object{{"uri", "x://y"}}}),
      json::parse(
          R"({"jsonrpc":"2.0","id":"r","error":{"code":-32002,"message":"Resource not found","data":{"uri":"x://y"}}})"));
}

TEST(JsonRpcBuilders, MakeErrorWithNullId) {
  EXPECT_EQ(make_error(nullptr, Error{-32700, "Parse error", {}}),
            json::parse(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})"));
}

TEST(JsonRpcBuilders, MakeNotificationOmitsEmptyParams) {
  EXPECT_EQ(make_notification("notifications/tools/list_changed", {}),
            json::parse(R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})"));
  EXPECT_EQ(make_notification("notifications/progress", json::object{{"progress", 1}}),
            json::parse(R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}})"));
}

TEST(JsonRpcBuilders, MakeRequestAlwaysHasParams) {
  EXPECT_EQ(make_request(json::value("s1"), "roots/list", {}),
            json::parse(R"({"jsonrpc":"2.0","id":"s1","method":"roots/list","params":{}})"));
  EXPECT_EQ(make_request(json::value(2), "sampling/createMessage", json::object{{"maxTokens", 5}}),
            json::parse(R"({"jsonrpc":"2.0","id":2,"method":"sampling/createMessage","params":{"maxTokens":5}})"));
}

TEST(JsonRpcBuilders, ErrorBodyIsSerialisedWithNullId) {
  auto body = error_body(-32000, "Bad Request: no session");
  EXPECT_EQ(json::parse(body),
            json::parse(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: no session"}})"));
}

TEST(JsonRpcBuilders, BuiltMessagesClassifyBack) {
  json::value req = make_request(json::value("s9"), "ping", {});
  auto a = classify(req);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, MessageKind::request);
  json::value res = make_result(json::value(1), json::object{});
  auto b = classify(res);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->kind, MessageKind::response);
  json::value err = make_error(json::value(1), Error{-1, "x", {}});
  auto c = classify(err);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, MessageKind::error_response);
  json::value note = make_notification("n", {});
  auto d = classify(note);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, MessageKind::notification);
}

// ------------------------------------------------------ numbers out of range

// `1e400` is grammatical JSON, but no double holds it: the parser yields an infinity, which
// would go out again as `Infinity` (invalid JSON) and, stored in a Redis record, make the
// record unreadable. Refused as a parse error (docs/http.md).
TEST(JsonRpcParseBody, NumberOutOfRangeIsAParseError) {
  for (const char* body :
       {R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"_meta":{"progressToken":1e400}}})",
        R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"a":[1,{"b":-1e400}]}})",
        R"([{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":2,"method":"x","params":{"c":1E999}}])"}) {
    auto r = parse_body(body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().code, errc::kParseError) << body;
    EXPECT_NE(r.error().message.find("out of range"), std::string::npos) << r.error().message;
  }
  // 400 digits without an exponent overflow too.
  auto r = parse_body(R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"n":)" + std::string(400, '9') + "}}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::kParseError);
}

TEST(JsonRpcParseBody, LargeButFiniteNumbersAreKept) {
  auto r = parse_body(
      R"({"jsonrpc":"2.0","id":1,"method":"x","params":{"a":1e308,"b":-1.7e308,"c":1e-400,"d":18446744073709551616}})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->messages[0].at("params").at("a").as_double(), 1e308);
  EXPECT_EQ(r->messages[0].at("params").at("c").as_double(), 0.0);  // underflow is a finite zero
}

TEST(JsonRpcHasNonFinite, FindsNanAndInfinityAtAnyDepth) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(has_non_finite(json::parse(R"({"a":[1,2.5,{"b":null,"c":"Infinity"}],"d":-0.0})")));
  EXPECT_TRUE(has_non_finite(json::value(kInf)));
  EXPECT_TRUE(has_non_finite(json::value(-kInf)));
  EXPECT_TRUE(has_non_finite(json::value(std::numeric_limits<double>::quiet_NaN())));
  json::value deep = json::parse(R"({"a":[1,{"b":[0]}]})");
  deep.at("a").at(1).at("b").as_array().push_back(kInf);
  EXPECT_TRUE(has_non_finite(deep));
}

}  // namespace

TEST(JsonRpcParseBody, ABatchAboveTheLimitIsRefusedWhole) {
  std::string body = "[";
  for (int i = 0; i < 5; ++i)
    body += std::string(i ? "," : "") + R"({"jsonrpc":"2.0","id":)" + std::to_string(i) + R"(,"method":"ping"})";
  body += "]";
  EXPECT_TRUE(parse_body(body, 5));
  auto r = parse_body(body, 4);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, frontmcp::errc::kInvalidRequest);
  EXPECT_NE(r.error().message.find("the limit is 4"), std::string::npos) << r.error().message;
}
