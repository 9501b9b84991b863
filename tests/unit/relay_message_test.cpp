// The relay's messages (cluster/relay_message.hpp): the exact bytes each type is encoded
// as (the wire format nodes of different versions share), what decode() makes of each,
// and what it refuses.
#include "cluster/relay_message.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
namespace relay = frontmcp::cluster::relay;
using frontmcp::Error;
using frontmcp::metrics::RelayRefusal;
using relay::Type;

json::value body() {
  return json::parse(R"({"jsonrpc":"2.0","method":"notifications/message","params":{"a":[1,2]}})");
}
const std::string kBody = R"({"jsonrpc":"2.0","method":"notifications/message","params":{"a":[1,2]}})";

struct Case {
  relay::Message message;
  std::string wire;
};

// Each wire string is what the code before the typed messages built with json::object
// literals (same keys, same order): nodes of both versions understand each other.
std::vector<Case> cases() {
  return {
      {relay::Msg{"sid-1", body()}, R"({"t":"msg","s":"sid-1","m":)" + kBody + "}"},
      {relay::Sub{"file:///a", body(), "node-a"}, R"({"t":"sub","u":"file:///a","m":)" + kBody + R"(,"o":"node-a"})"},
      {relay::All{body(), "node-a"}, R"({"t":"all","m":)" + kBody + R"(,"o":"node-a"})"},
      {relay::Resp{"sid-1", "r1@node-b", json::value(true)}, R"({"t":"resp","s":"sid-1","r":"r1@node-b","ok":true})"},
      {relay::Resp{"sid-1", "r1@node-b", json::parse(R"({"roots":[]})")},
       R"({"t":"resp","s":"sid-1","r":"r1@node-b","ok":{"roots":[]}})"},
      {relay::Resp{"sid-1", "r1@node-b", Error{-32601, "no", json::value("d")}},
       R"({"t":"resp","s":"sid-1","r":"r1@node-b","err":{"code":-32601,"message":"no","data":"d"}})"},
      {relay::State{"sid-1", 7, 12, json::parse(R"({"logLevel":"debug"})").as_object(), "r2@node-b"},
       R"({"t":"state","s":"sid-1","e":7,"v":12,"st":{"logLevel":"debug"},"r":"r2@node-b"})"},
      {relay::Lost{"sid-1", "node-c"}, R"({"t":"lost","s":"sid-1","by":"node-c"})"},
      {relay::Drop{"sid-1", "r3@node-b"}, R"({"t":"drop","s":"sid-1","r":"r3@node-b"})"},
      {relay::Handoff{"sid-1", "node-b"}, R"({"t":"handoff","s":"sid-1","to":"node-b"})"},
      {relay::Owned{"sid-1", "node-a"}, R"({"t":"owned","s":"sid-1","from":"node-a"})"},
      {relay::Left{"node-a"}, R"({"t":"left","n":"node-a"})"},
      {relay::Legacy{"sid-1", R"({"jsonrpc":"2.0","id":1,"method":"ping"})"},
       R"({"t":"legacy","s":"sid-1","b":"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}"})"},
  };
}

TEST(RelayMessage, EncodesEachTypeAsTheWireFormat) {
  for (auto& c : cases()) EXPECT_EQ(relay::serialize(c.message), c.wire);
}

TEST(RelayMessage, TheOldObjectLiteralsSerialiseTheSame) {
  // Two of the former call sites, verbatim, against the typed encoders.
  std::uint64_t epoch = 7, rev = 12;
  json::object old_state{
      {"t", "state"}, {"s", "sid-1"}, {"e", epoch}, {"v", rev}, {"st", json::object{{"logLevel", "debug"}}}};
  old_state["r"] = "r2@node-b";
  EXPECT_EQ(json::serialize(old_state),
            relay::serialize(relay::State{"sid-1", epoch, rev, json::object{{"logLevel", "debug"}}, "r2@node-b"}));
  json::object old_resp{{"t", "resp"}, {"s", "sid-1"}, {"r", "x@n"}};
  old_resp["err"] = json::object{{"code", -32603}, {"message", "m"}, {"data", nullptr}};
  EXPECT_EQ(json::serialize(old_resp), relay::serialize(relay::Resp{"sid-1", "x@n", Error{-32603, "m", {}}}));
}

TEST(RelayMessage, DecodesWhatItEncodes) {
  for (auto& c : cases()) {
    auto d = relay::decode(c.wire);
    ASSERT_TRUE(d) << c.wire;
    EXPECT_EQ(relay::type_of(*d.message), relay::type_of(c.message)) << c.wire;
    EXPECT_EQ(relay::serialize(std::move(*d.message)), c.wire);
  }
}

TEST(RelayMessage, TypeNamesFollowTheVariant) {
  std::vector<std::string> names;
  for (int i = 0; i <= static_cast<int>(Type::legacy); ++i) names.emplace_back(relay::name_of(static_cast<Type>(i)));
  EXPECT_EQ(names, (std::vector<std::string>{"msg", "sub", "all", "resp", "state", "lost", "drop", "handoff", "owned",
                                             "left", "legacy"}));
  EXPECT_EQ(relay::type_of(relay::Message{relay::Legacy{}}), Type::legacy);
  EXPECT_EQ(relay::type_of(relay::Message{relay::Msg{}}), Type::msg);
}

TEST(RelayMessage, FieldsOfTheWrongTypeReadAsAbsent) {
  auto msg = relay::decode(R"({"t":"msg","s":5})");
  ASSERT_TRUE(msg);
  EXPECT_EQ(std::get<relay::Msg>(*msg.message).sid, "");
  EXPECT_FALSE(std::get<relay::Msg>(*msg.message).body);

  auto null_body = relay::decode(R"({"t":"msg","s":"a","m":null})");  // present, even if null
  ASSERT_TRUE(null_body);
  EXPECT_TRUE(std::get<relay::Msg>(*null_body.message).body);

  auto sub = relay::decode(R"({"t":"sub","u":1,"m":{},"o":2})");
  ASSERT_TRUE(sub);
  EXPECT_FALSE(std::get<relay::Sub>(*sub.message).uri);
  EXPECT_EQ(std::get<relay::Sub>(*sub.message).origin, "");

  auto resp = relay::decode(R"({"t":"resp","s":"a","r":7,"err":{"code":"x","message":3}})");
  ASSERT_TRUE(resp);
  const auto& r = std::get<relay::Resp>(*resp.message);
  EXPECT_FALSE(r.request_id);
  ASSERT_FALSE(r.answer);
  EXPECT_EQ(r.answer.error().code, frontmcp::errc::kInternalError);
  EXPECT_EQ(r.answer.error().message, "");
  EXPECT_TRUE(r.answer.error().data.is_null());

  auto not_err = relay::decode(R"({"t":"resp","s":"a","r":"x","err":"no"})");  // "err" not an object: "ok"
  ASSERT_TRUE(not_err);
  const auto& ok = std::get<relay::Resp>(*not_err.message).answer;
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->is_null());

  auto state = relay::decode(R"({"t":"state","s":"a","e":"7","v":3.0,"st":[]})");
  ASSERT_TRUE(state);
  const auto& st = std::get<relay::State>(*state.message);
  EXPECT_EQ(st.epoch, 0u);
  EXPECT_EQ(st.rev, 3u);
  EXPECT_FALSE(st.state);
  EXPECT_EQ(st.reply_id, "");

  auto lost = relay::decode(R"({"t":"lost","s":"a","by":false})");
  ASSERT_TRUE(lost);
  EXPECT_FALSE(std::get<relay::Lost>(*lost.message).by);

  auto handoff = relay::decode(R"({"t":"handoff","s":"a"})");
  ASSERT_TRUE(handoff);
  EXPECT_FALSE(std::get<relay::Handoff>(*handoff.message).to);

  auto legacy = relay::decode(R"({"t":"legacy","s":"a","b":{}})");
  ASSERT_TRUE(legacy);
  EXPECT_FALSE(std::get<relay::Legacy>(*legacy.message).body);
}

TEST(RelayMessage, RefusesWhatIsNoMessage) {
  for (const char* malformed : {"", "{", "null", "[]", "\"msg\"", "7", R"({"t":"msg"} x)", "{\"t\":\"msg\",}"}) {
    auto d = relay::decode(malformed);
    EXPECT_FALSE(d) << malformed;
    EXPECT_EQ(d.refusal, RelayRefusal::malformed) << malformed;
  }
  for (const char* unknown : {"{}", R"({"t":1})", R"({"t":null})", R"({"t":"MSG"})", R"({"t":"nope","s":"a"})",
                              R"({"t":""})", R"({"s":"a","m":{}})"}) {
    auto d = relay::decode(unknown);
    EXPECT_FALSE(d) << unknown;
    EXPECT_EQ(d.refusal, RelayRefusal::unknown_type) << unknown;
  }
  // A state whose epoch or revision is a number but no uint64 (no node sends one).
  for (const char* bad : {R"({"t":"state","s":"a","e":-1})", R"({"t":"state","s":"a","e":1.5})",
                          R"({"t":"state","s":"a","v":-3})", R"({"t":"state","s":"a","e":1e30})"}) {
    auto d = relay::decode(bad);
    EXPECT_FALSE(d) << bad;
    EXPECT_EQ(d.refusal, RelayRefusal::malformed) << bad;
  }
}

}  // namespace
