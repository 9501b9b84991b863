// Session, SessionManager and SessionState.
#include "session/session.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "session/message_bus.hpp"
#include "session/session_manager.hpp"
#include "session/session_state.hpp"
#include "test_util.hpp"
#include "util/async_event.hpp"

namespace {

namespace json = boost::json;
namespace net = boost::asio;
using namespace frontmcp;
using namespace frontmcp::session;
using namespace std::chrono_literals;

using frontmcp::test::run_task;

/// Session ids, for readable comparisons of session lists.
std::vector<std::string> ids(const std::vector<std::shared_ptr<Session>>& list) {
  std::vector<std::string> out;
  for (const auto& s : list) out.push_back(s->id());
  return out;
}

class SessionManagerTest : public ::testing::Test {
 protected:
  std::shared_ptr<MemoryEventStore> events = std::make_shared<MemoryEventStore>(100);
  SessionManager mgr{3, events, "node-a"};
};

// ----------------------------------------------------------------- SessionManager

TEST_F(SessionManagerTest, CreateGivesFreshUninitialisedSessions) {
  auto s = mgr.create(TransportKind::streamable_http);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->id().size(), 32u);
  EXPECT_EQ(s->id().find_first_not_of("0123456789abcdef"), std::string::npos) << s->id();
  EXPECT_FALSE(s->initialized());
  EXPECT_FALSE(s->closed());
  EXPECT_EQ(s->transport(), TransportKind::streamable_http);
  auto st = s->state();
  EXPECT_EQ(st.id, s->id());
  EXPECT_EQ(st.node_id, "node-a");
  EXPECT_GT(st.created_at_ms, 0);
  EXPECT_FALSE(st.log_level.has_value());
  auto legacy = mgr.create(TransportKind::legacy_sse);
  ASSERT_NE(legacy, nullptr);
  EXPECT_EQ(legacy->transport(), TransportKind::legacy_sse);
  EXPECT_NE(legacy->id(), s->id());
}

TEST_F(SessionManagerTest, CreateRespectsMaxSessions) {
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto s = mgr.create(TransportKind::streamable_http);
    ASSERT_NE(s, nullptr) << i;
    ids.insert(s->id());
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(mgr.size(), 3u);
  EXPECT_EQ(mgr.create(TransportKind::streamable_http), nullptr);
  EXPECT_EQ(mgr.size(), 3u);
  // Room again after a removal.
  ASSERT_TRUE(mgr.remove(*ids.begin()));
  EXPECT_NE(mgr.create(TransportKind::stdio), nullptr);
}

TEST_F(SessionManagerTest, FindAndRemove) {
  auto s = mgr.create(TransportKind::streamable_http);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(mgr.find(s->id()).get(), s.get());
  EXPECT_EQ(mgr.find("unknown"), nullptr);
  EXPECT_EQ(mgr.find(""), nullptr);
  EXPECT_EQ(mgr.all().size(), 1u);
  EXPECT_TRUE(mgr.remove(s->id()));
  EXPECT_EQ(mgr.find(s->id()), nullptr);
  EXPECT_FALSE(mgr.remove(s->id()));
  EXPECT_EQ(mgr.size(), 0u);
  EXPECT_TRUE(mgr.all().empty());
  // Removing closes the session.
  EXPECT_TRUE(s->closed());
  EXPECT_TRUE(s->standalone()->finished());
}

TEST_F(SessionManagerTest, SubscribeIndexesSessionsByUri) {
  auto a = mgr.create(TransportKind::streamable_http);
  auto b = mgr.create(TransportKind::streamable_http);
  mgr.subscribe(a, "file:///x");
  mgr.subscribe(b, "file:///x");
  mgr.subscribe(b, "file:///y");
  auto subs = mgr.subscribers("file:///x");
  EXPECT_EQ(subs.size(), 2u);
  EXPECT_EQ(ids(mgr.subscribers("file:///y")), std::vector<std::string>{b->id()});
  EXPECT_TRUE(mgr.subscribers("file:///z").empty());
  EXPECT_EQ(b->state().subscriptions, (std::set<std::string, std::less<>>{"file:///x", "file:///y"}));

  mgr.unsubscribe(a, "file:///x");
  EXPECT_EQ(ids(mgr.subscribers("file:///x")), std::vector<std::string>{b->id()});
  EXPECT_TRUE(a->state().subscriptions.empty());
  // Unsubscribing twice, or from something never subscribed, is harmless.
  mgr.unsubscribe(a, "file:///x");
  mgr.unsubscribe(a, "file:///never");
  EXPECT_EQ(mgr.subscribers("file:///x").size(), 1u);
}

TEST_F(SessionManagerTest, SubscribingTwiceCountsOnce) {
  auto a = mgr.create(TransportKind::streamable_http);
  mgr.subscribe(a, "file:///x");
  mgr.subscribe(a, "file:///x");
  EXPECT_EQ(mgr.subscribers("file:///x").size(), 1u);
  mgr.unsubscribe(a, "file:///x");
  EXPECT_TRUE(mgr.subscribers("file:///x").empty());
}

TEST_F(SessionManagerTest, RemovingASessionDropsItsSubscriptions) {
  auto a = mgr.create(TransportKind::streamable_http);
  auto b = mgr.create(TransportKind::streamable_http);
  mgr.subscribe(a, "file:///x");
  mgr.subscribe(b, "file:///x");
  ASSERT_TRUE(mgr.remove(a->id()));
  EXPECT_EQ(ids(mgr.subscribers("file:///x")), std::vector<std::string>{b->id()});
  ASSERT_TRUE(mgr.remove(b->id()));
  EXPECT_TRUE(mgr.subscribers("file:///x").empty());
}

TEST_F(SessionManagerTest, SweepIdleRemovesIdleSessions) {
  auto a = mgr.create(TransportKind::streamable_http);
  auto b = mgr.create(TransportKind::streamable_http);
  EXPECT_EQ(mgr.sweep_idle(std::chrono::hours(1)), 0u);
  EXPECT_EQ(mgr.size(), 2u);
  EXPECT_EQ(mgr.sweep_idle(0ms), 2u);
  EXPECT_EQ(mgr.size(), 0u);
  EXPECT_TRUE(a->closed());
  EXPECT_TRUE(b->closed());
}

TEST(SessionManagerSweep, IntervalIsAQuarterOfTheTtlWithinBounds) {
  using std::chrono::milliseconds;
  // A 3 s TTL is honoured within 3.75 s, not 33 s (issue 11).
  EXPECT_EQ(SessionManager::sweep_interval(milliseconds(3'000)), milliseconds(750));
  EXPECT_EQ(SessionManager::sweep_interval(milliseconds(1)), milliseconds(100));
  EXPECT_EQ(SessionManager::sweep_interval(milliseconds(400)), milliseconds(100));
  EXPECT_EQ(SessionManager::sweep_interval(milliseconds(120'000)), milliseconds(30'000));
  EXPECT_EQ(SessionManager::sweep_interval(milliseconds(30 * 60 * 1000)), milliseconds(30'000));  // the default TTL
}

TEST_F(SessionManagerTest, SweepIdleSparesSessionsWithAnAttachedStream) {
  auto listening = mgr.create(TransportKind::streamable_http);
  auto idle = mgr.create(TransportKind::streamable_http);
  ASSERT_TRUE(listening->standalone()->attach([] {}));
  EXPECT_EQ(mgr.sweep_idle(0ms), 1u);
  EXPECT_EQ(mgr.find(listening->id()).get(), listening.get());
  EXPECT_EQ(mgr.find(idle->id()), nullptr);
  listening->standalone()->detach();
  EXPECT_EQ(mgr.sweep_idle(0ms), 1u);
  EXPECT_EQ(mgr.size(), 0u);
}

TEST_F(SessionManagerTest, SweepIdleSparesSessionsWithAnAttachedPostStream) {
  // "Removes sessions idle for longer than `ttl` with no attached stream": a POST stream
  // whose writer is attached (a long tools/call answered over SSE) counts too.
  auto busy = mgr.create(TransportKind::streamable_http);
  auto post = busy->open_stream();
  ASSERT_TRUE(post->attach([] {}));
  EXPECT_EQ(mgr.sweep_idle(0ms), 0u);
  EXPECT_EQ(mgr.find(busy->id()).get(), busy.get());
  EXPECT_FALSE(busy->closed());
  post->detach();
}

TEST_F(SessionManagerTest, SweepIdleSparesSessionsWithARequestInFlight) {
  // SessionOptions::idle_ttl: "A session with no request and no open stream for this
  // long is removed". A request still being served is not idleness.
  auto busy = mgr.create(TransportKind::streamable_http);
  auto inflight = busy->begin_request("n:1");
  EXPECT_EQ(mgr.sweep_idle(0ms), 0u);
  EXPECT_EQ(mgr.find(busy->id()).get(), busy.get());
  EXPECT_FALSE(inflight->cancelled.load()) << "the running request was cancelled by the sweep";
  busy->end_request("n:1");
}

TEST_F(SessionManagerTest, TouchRefreshesActivity) {
  auto s = mgr.create(TransportKind::streamable_http);
  auto before = s->last_activity();
  s->touch();
  EXPECT_GE(s->last_activity(), before);
  EXPECT_LE(s->last_activity(), std::chrono::steady_clock::now());
}

// ------------------------------------------------------------------------ Session

class SessionTest : public ::testing::Test {
 protected:
  std::shared_ptr<MemoryEventStore> events = std::make_shared<MemoryEventStore>(100);
  std::shared_ptr<Session> make(std::string id = "sess") {
    SessionState st;
    st.id = std::move(id);
    return std::make_shared<Session>(std::move(st), events);
  }
  net::io_context ioc;  // executor for the wakers of pending calls (never run here)
  std::shared_ptr<PendingCall> pending() {
    return std::make_shared<PendingCall>(std::make_shared<util::Waker>(ioc.get_executor()));
  }
};

TEST_F(SessionTest, UpdateAndAccessors) {
  auto s = make();
  EXPECT_EQ(s->id(), "sess");
  s->update([](SessionState& st) {
    st.initialized = true;
    st.protocol_version = "2025-06-18";
    st.log_level = LogLevel::warning;
  });
  EXPECT_TRUE(s->initialized());
  EXPECT_EQ(s->protocol_version(), "2025-06-18");
  EXPECT_EQ(s->log_level(), LogLevel::warning);
  int r = s->update([](SessionState&) { return 42; });
  EXPECT_EQ(r, 42);
}

TEST_F(SessionTest, StreamsAreNumberedFromOne) {
  auto s = make();
  EXPECT_EQ(s->standalone()->index(), 0u);
  EXPECT_EQ(s->standalone()->key(), "sess/0");
  EXPECT_EQ(s->find_stream(0).get(), s->standalone().get());
  auto a = s->open_stream();
  auto b = s->open_stream();
  EXPECT_EQ(a->index(), 1u);
  EXPECT_EQ(b->index(), 2u);
  EXPECT_EQ(s->find_stream(1).get(), a.get());
  EXPECT_EQ(s->find_stream(2).get(), b.get());
  EXPECT_EQ(s->find_stream(3), nullptr);
  s->close_stream(1);
  EXPECT_EQ(s->find_stream(1), nullptr);
  EXPECT_EQ(s->find_stream(2).get(), b.get());
  EXPECT_EQ(s->open_stream()->index(), 3u) << "indices are never reused";
}

TEST_F(SessionTest, UnsolicitedMessagesGoToTheStandaloneStream) {
  auto s = make();
  auto post = s->open_stream();
  s->send_unsolicited(json::object{{"jsonrpc", "2.0"}, {"method", "notifications/tools/list_changed"}});
  EXPECT_EQ(s->standalone()->last_seq(), 1u);
  EXPECT_EQ(post->last_seq(), 0u);
}

TEST_F(SessionTest, ServerRequestIdsAreUniqueStrings) {
  auto s = make();
  EXPECT_EQ(s->next_request_id(), "s1");
  EXPECT_EQ(s->next_request_id(), "s2");
}

TEST_F(SessionTest, ResolvePendingDeliversOnce) {
  auto s = make();
  auto call = pending();
  s->add_pending("s1", call);
  EXPECT_FALSE(s->resolve_pending("s2", json::value(1)));
  EXPECT_TRUE(s->resolve_pending("s1", json::value("answer")));
  EXPECT_FALSE(s->resolve_pending("s1", json::value("again"))) << "the entry is gone after delivery";
  auto r = call->take();
  ASSERT_TRUE(r);
  ASSERT_TRUE(*r);
  EXPECT_EQ(r->value(), json::value("answer"));
  EXPECT_FALSE(call->take()) << "take() empties the slot";
}

TEST_F(SessionTest, RemovePendingForgetsTheCall) {
  auto s = make();
  auto call = pending();
  s->add_pending("s1", call);
  s->remove_pending("s1");
  EXPECT_FALSE(s->resolve_pending("s1", json::value(1)));
  EXPECT_FALSE(call->take());
}

TEST(PendingCall, FirstCompletionWins) {
  net::io_context ioc;
  PendingCall call(std::make_shared<util::Waker>(ioc.get_executor()));
  EXPECT_FALSE(call.take());
  call.complete(json::value(1));
  call.complete(Error{-1, "late", {}});
  auto r = call.take();
  ASSERT_TRUE(r);
  ASSERT_TRUE(*r);
  EXPECT_EQ(r->value(), json::value(1));
}

TEST_F(SessionTest, CancelRequestMarksInFlightAndFailsWhatItWaitsOn) {
  auto s = make();
  auto f = s->begin_request("n:1");
  auto call = pending();
  f->waiting_on = call;
  EXPECT_FALSE(f->cancelled.load());
  s->cancel_request("n:2", "other");
  EXPECT_FALSE(f->cancelled.load());
  s->cancel_request("n:1", "user abort");
  EXPECT_TRUE(f->cancelled.load());
  auto r = call->take();
  ASSERT_TRUE(r);
  ASSERT_FALSE(*r);
  EXPECT_EQ(r->error().code, errc::kServerError);
  EXPECT_NE(r->error().message.find("user abort"), std::string::npos) << r->error().message;
}

TEST_F(SessionTest, CancelAfterEndRequestIsANoOp) {
  auto s = make();
  auto f = s->begin_request("n:1");
  s->end_request("n:1");
  s->cancel_request("n:1", "late");
  EXPECT_FALSE(f->cancelled.load());
}

TEST_F(SessionTest, CloseFailsPendingCallsCancelsInFlightAndFinishesStreams) {
  auto s = make();
  auto call = pending();
  s->add_pending("s1", call);
  auto f = s->begin_request("n:7");
  auto post = s->open_stream();
  s->close();
  EXPECT_TRUE(s->closed());
  auto r = call->take();
  ASSERT_TRUE(r);
  ASSERT_FALSE(*r);
  EXPECT_EQ(r->error().code, errc::kServerError);
  EXPECT_EQ(r->error().message, "session ended");
  EXPECT_TRUE(f->cancelled.load());
  EXPECT_TRUE(s->standalone()->finished());
  EXPECT_TRUE(post->finished());
  EXPECT_EQ(s->find_stream(1), nullptr);
  EXPECT_FALSE(s->resolve_pending("s1", json::value(1)));
  // Idempotent.
  s->close();
  EXPECT_TRUE(s->closed());
}

TEST(SessionIdKey, DistinguishesStringsFromNumbers) {
  EXPECT_EQ(id_key(json::value("abc")), "s:abc");
  EXPECT_EQ(id_key(json::value(1)), "n:1");
  EXPECT_NE(id_key(json::value("1")), id_key(json::value(1)));
  EXPECT_EQ(id_key(json::value(-3)), "n:-3");
}

// ------------------------------------------------------------------- SessionState

SessionState full_state() {
  SessionState st;
  st.id = "abc123";
  st.transport = TransportKind::legacy_sse;
  st.initialized = true;
  st.protocol_version = "2025-06-18";
  st.client_info = json::object{{"name", "client"}, {"version", "1.0"}};
  st.client_capabilities = json::object{{"sampling", json::object{}}, {"roots", json::object{{"listChanged", true}}}};
  st.log_level = LogLevel::critical;
  st.subscriptions = {"file:///a", "file:///b"};
  st.node_id = "node-7";
  st.epoch = 5;
  st.created_at_ms = 1'700'000'000'000;
  return st;
}

void expect_same(const SessionState& a, const SessionState& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.transport, b.transport);
  EXPECT_EQ(a.initialized, b.initialized);
  EXPECT_EQ(a.protocol_version, b.protocol_version);
  EXPECT_EQ(a.client_info, b.client_info);
  EXPECT_EQ(a.client_capabilities, b.client_capabilities);
  EXPECT_EQ(a.log_level, b.log_level);
  EXPECT_EQ(a.subscriptions, b.subscriptions);
  EXPECT_EQ(a.node_id, b.node_id);
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.created_at_ms, b.created_at_ms);
}

TEST(SessionState, ToJsonFields) {
  auto j = full_state().to_json();
  EXPECT_EQ(json::value(j), json::parse(R"({"id":"abc123","transport":"legacy_sse","initialized":true,
    "protocolVersion":"2025-06-18","clientInfo":{"name":"client","version":"1.0"},
    "clientCapabilities":{"sampling":{},"roots":{"listChanged":true}},
    "subscriptions":["file:///a","file:///b"],"nodeId":"node-7","epoch":5,"createdAt":1700000000000,
    "logLevel":"critical"})"));
}

TEST(SessionState, RoundTripThroughJson) {
  auto st = full_state();
  auto back = SessionState::from_json(st.to_json());
  ASSERT_TRUE(back) << back.error().message;
  expect_same(*back, st);
}

TEST(SessionState, RoundTripThroughSerialisedText) {
  auto st = full_state();
  auto text = json::serialize(st.to_json());
  auto back = SessionState::from_json(json::parse(text).as_object());
  ASSERT_TRUE(back) << back.error().message;
  expect_same(*back, st);
}

TEST(SessionState, RoundTripWithoutLogLevelAndEveryTransport) {
  for (auto t : {TransportKind::streamable_http, TransportKind::legacy_sse, TransportKind::stdio}) {
    SessionState st;
    st.id = "x";
    st.transport = t;
    auto j = st.to_json();
    EXPECT_FALSE(j.contains("logLevel"));
    auto back = SessionState::from_json(j);
    ASSERT_TRUE(back) << back.error().message;
    expect_same(*back, st);
  }
}

TEST(SessionState, CorruptInputIsAnError) {
  auto good = full_state().to_json();
  // Each field removed in turn.
  for (const char* key : {"id", "transport", "initialized", "protocolVersion", "clientInfo", "clientCapabilities",
                          "subscriptions", "nodeId", "epoch", "createdAt"}) {
    json::object o = good;
    o.erase(key);
    auto r = SessionState::from_json(o);
    ASSERT_FALSE(r) << "accepted without " << key;
    EXPECT_EQ(r.error().code, errc::kInternalError);
    EXPECT_NE(r.error().message.find("corrupt session record"), std::string::npos) << r.error().message;
  }
  // Wrong types.
  for (auto [key, bad] : std::vector<std::pair<const char*, json::value>>{{"id", json::value(5)},
                                                                          {"initialized", json::value("yes")},
                                                                          {"clientInfo", json::value(json::array{})},
                                                                          {"subscriptions", json::value("file:///a")},
                                                                          {"epoch", json::value("5")},
                                                                          {"epoch", json::value(-1)},
                                                                          {"logLevel", json::value(3)}}) {
    json::object o = good;
    o[key] = bad;
    auto r = SessionState::from_json(o);
    EXPECT_FALSE(r) << "accepted " << key << " = " << bad;
  }
  EXPECT_FALSE(SessionState::from_json(json::object{}));
}

}  // namespace

namespace {

using namespace frontmcp;

// LocalMessageBus: the standalone implementation of the seam distributed mode replaces.
class LocalMessageBusTest : public ::testing::Test {
 protected:
  std::shared_ptr<session::MemoryEventStore> events = std::make_shared<session::MemoryEventStore>(100);
  session::SessionManager sessions{10, events, "node-a"};
  session::LocalMessageBus bus{sessions};

  std::shared_ptr<session::Session> initialized() {
    auto s = sessions.create(session::TransportKind::streamable_http);
    s->update([](session::SessionState& st) { st.initialized = true; });
    return s;
  }
  static std::size_t queued(const std::shared_ptr<session::Session>& s) {
    return s->standalone()->read_after(0, 100).size();
  }
};

TEST_F(LocalMessageBusTest, ToSessionReachesOnlyThatSessionsStandaloneStream) {
  auto a = initialized(), b = initialized();
  EXPECT_TRUE(bus.to_session(a->id(), json::object{{"jsonrpc", "2.0"}, {"method", "x"}}));
  EXPECT_EQ(queued(a), 1u);
  EXPECT_EQ(queued(b), 0u);
  EXPECT_FALSE(bus.to_session("no-such-session", json::object{}));
}

TEST_F(LocalMessageBusTest, ToSubscribersReachesSubscribersOnly) {
  auto a = initialized(), b = initialized();
  sessions.subscribe(a, "test://r");
  bus.to_subscribers("test://r", json::object{{"method", "notifications/resources/updated"}});
  EXPECT_EQ(queued(a), 1u);
  EXPECT_EQ(queued(b), 0u);
}

TEST_F(LocalMessageBusTest, ToAllSkipsSessionsThatAreNotInitialized) {
  auto a = initialized();
  auto fresh = sessions.create(session::TransportKind::streamable_http);
  bus.to_all(json::object{{"method", "notifications/tools/list_changed"}});
  EXPECT_EQ(queued(a), 1u);
  EXPECT_EQ(queued(fresh), 0u);
}

TEST_F(LocalMessageBusTest, ClientResponseResolvesTheWaitingCallOnce) {
  net::io_context ioc;
  auto a = initialized();
  auto call = std::make_shared<session::PendingCall>(std::make_shared<util::Waker>(ioc.get_executor()));
  a->add_pending("s1", call);
  EXPECT_TRUE(bus.client_response(a->id(), "s1", json::value(42)));
  auto r = call->take();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value(), json::value(42));
  EXPECT_FALSE(bus.client_response(a->id(), "s1", json::value(43))) << "answered twice";
  EXPECT_FALSE(bus.client_response("no-such-session", "s1", json::value(1)));
}

}  // namespace

// ------------------------------------------------ hooks, change count, existing sessions

namespace {

SessionState state_of(std::string id, std::set<std::string, std::less<>> subs = {}) {
  SessionState st;
  st.id = std::move(id);
  st.initialized = true;
  st.protocol_version = "2025-06-18";
  st.node_id = "node-b";
  st.epoch = 3;
  st.subscriptions = std::move(subs);
  return st;
}

struct Tag : Session::Attachment {
  explicit Tag(std::string id) : first_id(std::move(id)) {}
  std::string first_id;
};

TEST_F(SessionManagerTest, InsertExistingMakesTheSessionBeyondTheLimitOrReturnsTheOneHere) {
  for (int i = 0; i < 3; ++i) ASSERT_NE(mgr.create(TransportKind::streamable_http), nullptr);
  ASSERT_EQ(mgr.create(TransportKind::streamable_http), nullptr);  // full
  auto x = mgr.insert_existing(state_of("x", {"test://a"}));
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(mgr.find("x"), x);
  EXPECT_EQ(mgr.size(), 4u);
  EXPECT_EQ(x->state().epoch, 3u);
  EXPECT_EQ(x->changes(), 0u);  // a state read from a store is not a change
  EXPECT_EQ(ids(mgr.subscribers("test://a")), std::vector<std::string>{"x"});
  auto again = mgr.insert_existing(state_of("x", {"test://b"}));
  EXPECT_EQ(again, x);  // the one here, unchanged
  EXPECT_EQ(again->state().subscriptions.count("test://b"), 0u);
  EXPECT_TRUE(mgr.subscribers("test://b").empty());
}

TEST_F(SessionManagerTest, ReindexFollowsAStateChangedOutsideSubscribe) {
  auto x = mgr.insert_existing(state_of("x", {"test://a", "test://b"}));
  auto before = x->state().subscriptions;
  x->with_state([](SessionState& st, std::uint64_t) { st.subscriptions = {"test://b", "test://c"}; });
  mgr.reindex(x, before, x->state().subscriptions);
  EXPECT_TRUE(mgr.subscribers("test://a").empty());
  EXPECT_EQ(ids(mgr.subscribers("test://b")), std::vector<std::string>{"x"});
  EXPECT_EQ(ids(mgr.subscribers("test://c")), std::vector<std::string>{"x"});
  EXPECT_TRUE(mgr.remove("x"));
  EXPECT_TRUE(mgr.subscribers("test://b").empty());
  EXPECT_TRUE(mgr.subscribers("test://c").empty());
}

TEST_F(SessionManagerTest, HooksSetRequestIdsStreamNumbersAndAttachments) {
  SessionManager::Hooks hooks;
  hooks.request_id_suffix = "@n";
  hooks.random_first_stream = true;
  hooks.attachment = [](const SessionState& first) { return std::make_shared<Tag>(first.id); };
  mgr.set_hooks(hooks);
  auto a = mgr.create(TransportKind::streamable_http);
  auto b = mgr.create(TransportKind::streamable_http);
  EXPECT_EQ(a->next_request_id(), "s1@n");
  EXPECT_EQ(a->next_request_id(), "s2@n");
  auto sa = a->open_stream();
  auto sb = b->open_stream();
  EXPECT_GT(sa->index(), 1u);
  EXPECT_NE(sa->index(), sb->index());
  EXPECT_EQ(a->open_stream()->index(), sa->index() + 1);
  auto* tag = dynamic_cast<Tag*>(a->attachment());
  ASSERT_NE(tag, nullptr);
  EXPECT_EQ(tag->first_id, a->id());
  auto x = mgr.insert_existing(state_of("x"));
  ASSERT_NE(dynamic_cast<Tag*>(x->attachment()), nullptr);
  EXPECT_EQ(x->next_request_id(), "s1@n");
  EXPECT_TRUE(mgr.remove("x"));  // room for c (the manager holds 3)
  mgr.set_hooks({});
  auto c = mgr.create(TransportKind::streamable_http);
  EXPECT_EQ(c->next_request_id(), "s1");
  EXPECT_EQ(c->open_stream()->index(), 1u);
  EXPECT_EQ(c->attachment(), nullptr);
}

TEST_F(SessionTest, UpdatesCountAsChangesAndWithStateDoesNot) {
  auto s = make();
  EXPECT_EQ(s->changes(), 0u);
  s->update([](SessionState& st) { st.log_level = LogLevel::info; });
  s->update([](SessionState& st) { st.subscriptions.insert("test://a"); });
  EXPECT_EQ(s->changes(), 2u);
  auto seen = s->with_state([](SessionState& st, std::uint64_t changes) {
    st.subscriptions.insert("test://b");
    return changes;
  });
  EXPECT_EQ(seen, 2u);
  EXPECT_EQ(s->changes(), 2u);
  EXPECT_EQ(s->state().subscriptions.size(), 2u);
}

TEST_F(SessionTest, PreloadedEventsAreReplayedAndNewOnesContinueTheSequence) {
  auto s = make();
  auto stream = s->standalone();
  stream->preload({{4, R"({"n":4})"}, {5, R"({"n":5})"}});
  EXPECT_EQ(stream->last_seq(), 5u);
  stream->send(json::parse(R"({"n":6})"));
  auto evs = stream->read_after(3, 10);
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0].seq, 4u);
  EXPECT_EQ(evs[2].seq, 6u);
  EXPECT_EQ(evs[2].data, R"({"n":6})");
  // Older or equal sequence numbers are ignored (they are already here).
  stream->preload({{5, "dup"}});
  EXPECT_EQ(stream->read_after(4, 10).front().data, R"({"n":5})");
}

TEST_F(SessionTest, AFinishedStandaloneStreamCanBeReopened) {
  auto s = make();
  auto stream = s->standalone();
  stream->send(json::parse(R"({"n":1})"));
  stream->finish();
  stream->send(json::parse(R"({"n":2})"));  // dropped: finished
  EXPECT_EQ(stream->last_seq(), 1u);
  stream->reopen();
  EXPECT_FALSE(stream->finished());
  stream->send(json::parse(R"({"n":3})"));
  EXPECT_EQ(stream->last_seq(), 2u);
}

}  // namespace

namespace {

// ------------------------------------------------------------------ principal

TEST_F(SessionManagerTest, ASessionBelongsToThePrincipalThatCreatedIt) {
  auto a = mgr.create(TransportKind::streamable_http, "alice");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->belongs_to("alice"));
  EXPECT_FALSE(a->belongs_to("bob"));
  EXPECT_FALSE(a->belongs_to(""));
  auto anon = mgr.create(TransportKind::legacy_sse);
  ASSERT_TRUE(anon);
  EXPECT_TRUE(anon->belongs_to(""));
  EXPECT_FALSE(anon->belongs_to("alice"));
}

// The record in Redis carries the principal, so it survives a failover; records without
// one (older nodes, deployments without an authorization hook) read as "".
TEST(SessionStateJson, PrincipalRoundTripsAndIsOptional) {
  SessionState st;
  st.id = "s1";
  st.principal = "alice";
  auto o = st.to_json();
  EXPECT_EQ(o.at("principal"), json::value("alice"));
  auto back = SessionState::from_json(o);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->principal, "alice");

  st.principal.clear();
  o = st.to_json();
  EXPECT_FALSE(o.contains("principal"));
  back = SessionState::from_json(o);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->principal, "");
}
}  // namespace

// ------------------------------------------------------------------ limits (issue 11)

namespace {

TEST(SessionLimits, OpenStreamMakesRoomFromEndedStreamsAndRefusesWhenAllAreInUse) {
  frontmcp::session::EventLimits limits;
  limits.max_streams = 2;
  auto store = std::make_shared<MemoryEventStore>(limits);
  SessionState st;
  st.id = "sess";
  auto s = std::make_shared<Session>(std::move(st), store);
  auto a = s->open_stream();
  auto b = s->open_stream();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(s->open_stream(), nullptr) << "both in use";
  a->finish();
  auto c = s->open_stream();
  ASSERT_TRUE(c);
  EXPECT_EQ(s->find_stream(a->index()), nullptr) << "the ended stream made room";
  EXPECT_EQ(s->find_stream(b->index()), b);
}

TEST(SessionLimits, EventBytesOfAllStreamsAreBoundedTogether) {
  frontmcp::session::EventLimits limits;
  limits.max_bytes_per_stream = 10'000;
  limits.max_bytes_per_session = 3'000;
  auto store = std::make_shared<MemoryEventStore>(limits);
  SessionState st;
  st.id = "sess";
  auto s = std::make_shared<Session>(std::move(st), store);
  json::value big = json::object{{"x", std::string(900, 'y')}};
  for (int i = 0; i < 20; ++i) s->send_unsolicited(big);
  EXPECT_LE(s->event_bytes(), 3'000u);
  auto post = s->open_stream();
  for (int i = 0; i < 3; ++i) post->send(big);
  post->read_after(0, 100);  // written: droppable
  for (int i = 0; i < 20; ++i) s->send_unsolicited(big);
  EXPECT_LE(s->event_bytes(), 3'000u + 1'000u) << "at most one newest event over";
}

TEST(SessionLimits, PendingCallsAreBounded) {
  net::io_context ioc;  // first: the session's pending calls hold timers of it
  SessionState st;
  st.id = "sess";
  auto s = std::make_shared<Session>(std::move(st), std::make_shared<MemoryEventStore>(10));
  auto call = [&] { return std::make_shared<PendingCall>(std::make_shared<util::Waker>(ioc.get_executor())); };
  EXPECT_TRUE(s->add_pending("a", call(), 2));
  EXPECT_TRUE(s->add_pending("b", call(), 2));
  EXPECT_FALSE(s->add_pending("c", call(), 2));
  s->remove_pending("a");
  EXPECT_TRUE(s->add_pending("c", call(), 2));
}

TEST(SessionLimits, SubscriptionsPerSessionAreBounded) {
  auto events = std::make_shared<MemoryEventStore>(10);
  SessionManager mgr{3, events, "node-a"};
  auto s = mgr.create(frontmcp::session::TransportKind::streamable_http);
  ASSERT_TRUE(s);
  EXPECT_TRUE(mgr.subscribe(s, "a://1", 2));
  EXPECT_TRUE(mgr.subscribe(s, "a://2", 2));
  EXPECT_TRUE(mgr.subscribe(s, "a://2", 2)) << "again: no new subscription";
  EXPECT_FALSE(mgr.subscribe(s, "a://3", 2));
  EXPECT_TRUE(mgr.subscribers("a://3").empty());
  mgr.unsubscribe(s, "a://1");
  EXPECT_TRUE(mgr.subscribe(s, "a://3", 2));
}

}  // namespace
