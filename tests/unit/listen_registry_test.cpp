// ListenRegistry: the subscriptions/listen streams of a process (MCP 2026-07-28): the
// acknowledgement first, only the kinds asked for, the subscription id on every message,
// the cap, a graceful end, and the message bus feeding it.
#include "session/listen_registry.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <memory>
#include <string>
#include <vector>

#include "session/message_bus.hpp"
#include "session/session_manager.hpp"

namespace {

namespace json = boost::json;
using namespace frontmcp::session;

json::value notification(std::string_view method, json::object params = {}) {
  json::object m{{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.empty()) m["params"] = std::move(params);
  return m;
}

const json::value kTools = notification("notifications/tools/list_changed");
const json::value kPrompts = notification("notifications/prompts/list_changed");
const json::value kResources = notification("notifications/resources/list_changed");

/// Everything the listener's stream holds, in order, as JSON.
std::vector<json::value> frames(const ListenRegistry::Listener& l) {
  std::vector<json::value> out;
  for (const auto& e : l.stream->read_after(0, 1000)) out.push_back(json::parse(e.data));
  return out;
}

std::vector<std::string> methods(const std::vector<json::value>& fs) {
  std::vector<std::string> out;
  for (const auto& f : fs) {
    auto* m = f.as_object().if_contains("method");
    out.emplace_back(m ? std::string(m->as_string()) : std::string("<response>"));
  }
  return out;
}

const json::value& subscription_of(const json::value& msg) {
  return msg.at("params").at("_meta").at(kMetaSubscriptionId);
}

ListenFilter only_prompts() {
  ListenFilter f;
  f.prompts = true;
  return f;
}

TEST(ListenRegistry, AcknowledgementComesFirstWithTheHonoredSubset) {
  ListenRegistry reg(4);
  ListenFilter f;
  f.tools = true;
  f.resource_subscriptions = true;
  f.uris = {"test://a"};
  auto l = reg.open(json::value("sub-1"), f);
  ASSERT_TRUE(l);
  auto fs = frames(*l);
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].at("method"), json::value(kListenAcknowledged));
  EXPECT_FALSE(fs[0].as_object().contains("id")) << "a notification";
  EXPECT_EQ(subscription_of(fs[0]), json::value("sub-1"));
  EXPECT_EQ(json::serialize(fs[0].at("params").at("notifications")),
            R"({"toolsListChanged":true,"resourceSubscriptions":["test://a"]})");
}

TEST(ListenRegistry, OnlyRequestedKindsEachStampedWithItsId) {
  ListenRegistry reg(4);
  auto prompts = reg.open(json::value(7), only_prompts());
  ListenFilter tf;
  tf.tools = true;
  tf.resources = true;
  auto tools = reg.open(json::value("t"), tf);
  reg.to_all(kTools);
  reg.to_all(kPrompts);
  reg.to_all(kResources);
  reg.to_all(notification("notifications/message", json::object{{"level", "info"}, {"data", "x"}}));
  reg.to_all(notification("notifications/progress", json::object{{"progressToken", 1}, {"progress", 1}}));

  auto pf = frames(*prompts);
  EXPECT_EQ(methods(pf),
            (std::vector<std::string>{std::string(kListenAcknowledged), "notifications/prompts/list_changed"}));
  EXPECT_EQ(subscription_of(pf[1]), json::value(7));
  auto tfs = frames(*tools);
  EXPECT_EQ(methods(tfs),
            (std::vector<std::string>{std::string(kListenAcknowledged), "notifications/tools/list_changed",
                                      "notifications/resources/list_changed"}));
  for (const auto& f : tfs) EXPECT_EQ(subscription_of(f), json::value("t"));
}

TEST(ListenRegistry, ResourceUpdatesOnlyForSubscribedUris) {
  ListenRegistry reg(4);
  ListenFilter f;
  f.resource_subscriptions = true;
  f.uris = {"test://a"};
  auto l = reg.open(json::value(1), f);
  json::object meta{{"other", 1}};
  reg.to_subscribers(
      "test://a", notification("notifications/resources/updated", json::object{{"uri", "test://a"}, {"_meta", meta}}));
  reg.to_subscribers("test://b", notification("notifications/resources/updated", json::object{{"uri", "test://b"}}));
  reg.to_all(kResources);  // not asked for
  auto fs = frames(*l);
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(fs[1].at("params").at("uri"), json::value("test://a"));
  EXPECT_EQ(subscription_of(fs[1]), json::value(1));
  EXPECT_EQ(fs[1].at("params").at("_meta").at("other"), json::value(1)) << "other _meta fields are kept";
}

TEST(ListenRegistry, CapRefusesAndClosingMakesRoom) {
  ListenRegistry reg(2);
  auto a = reg.open(json::value(1), only_prompts());
  auto b = reg.open(json::value(2), only_prompts());
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(reg.open(json::value(3), only_prompts()));
  EXPECT_EQ(reg.size(), 2u);
  reg.close(a);
  EXPECT_TRUE(a->stream->finished());
  reg.close(a);  // idempotent
  EXPECT_EQ(reg.size(), 1u);
  EXPECT_TRUE(reg.open(json::value(3), only_prompts()));
  reg.to_all(kPrompts);
  EXPECT_EQ(frames(*a).size(), 1u) << "a closed listener gets nothing more";
}

TEST(ListenRegistry, CompleteEndsWithTheResultThenFinishes) {
  ListenRegistry reg(4);
  auto a = reg.open(json::value("x"), only_prompts());
  auto b = reg.open(json::value(2), only_prompts());
  json::object meta{{"io.modelcontextprotocol/serverInfo", json::object{{"name", "s"}, {"version", "1"}}}};
  reg.complete_all(meta);
  EXPECT_EQ(reg.size(), 0u);
  for (const auto& l : {a, b}) {
    EXPECT_TRUE(l->stream->finished());
    auto fs = frames(*l);
    ASSERT_EQ(fs.size(), 2u);
    const auto& last = fs[1];
    EXPECT_EQ(last.at("id"), l->id);
    EXPECT_EQ(last.at("result").at("resultType"), json::value("complete"));
    EXPECT_EQ(last.at("result").at("_meta").at(kMetaSubscriptionId), l->id);
    EXPECT_EQ(last.at("result").at("_meta").at("io.modelcontextprotocol/serverInfo").at("name"), json::value("s"));
  }
  reg.complete(a, meta);  // already ended: nothing more
  EXPECT_EQ(frames(*a).size(), 2u);
  reg.to_all(kPrompts);
  EXPECT_EQ(frames(*b).size(), 2u);
}

TEST(ListenRegistry, EmptyFilterAndItsAcknowledgement) {
  ListenFilter f;
  EXPECT_TRUE(f.empty());
  EXPECT_EQ(json::serialize(f.to_json()), "{}");
  f.resource_subscriptions = true;
  EXPECT_TRUE(f.empty()) << "no URI: nothing to deliver";
  EXPECT_EQ(json::serialize(f.to_json()), R"({"resourceSubscriptions":[]})");
}

TEST(ListenRegistry, LocalBusFeedsListenersBesideSessions) {
  auto store = std::make_shared<MemoryEventStore>(100);
  SessionManager sessions(10, store, "n", 8);
  LocalMessageBus bus(sessions);
  ListenFilter f = only_prompts();
  f.resource_subscriptions = true;
  f.uris = {"test://r"};
  auto l = sessions.listeners().open(json::value(5), f);
  ASSERT_TRUE(l);
  bus.to_all(kTools);
  bus.to_all(kPrompts);
  bus.to_subscribers("test://r", notification("notifications/resources/updated", json::object{{"uri", "test://r"}}));
  EXPECT_EQ(methods(frames(*l)),
            (std::vector<std::string>{std::string(kListenAcknowledged), "notifications/prompts/list_changed",
                                      "notifications/resources/updated"}));
  EXPECT_EQ(sessions.size(), 0u) << "a listener is not a session";
}

}  // namespace
