// Each Lua script of distributed mode, run directly on a real redis-server (one per test):
// success, wrong old owner, live old owner, missing session, epoch increments, fencing.
// The scripts are the embedded sources (cluster::lua_source), i.e. exactly what the
// server runs.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "cluster/scripts.hpp"
#include "support/redis_server.hpp"

namespace {

using frontmcp::cluster::Keys;
using frontmcp::cluster::lua_source;
using frontmcp::test::RedisServer;

/// A reply as plain data (strings for bulk/status/error, numbers as decimal strings,
/// nested arrays flattened one level into `items`).
struct R {
  int type = REDIS_REPLY_NIL;
  std::string str;
  long long integer = 0;
  std::vector<R> items;
  const std::string& s(std::size_t i) const { return items.at(i).str; }
  long long n(std::size_t i) const { return items.at(i).integer; }
};

R convert(const redisReply* r) {
  R out;
  if (!r) return out;
  out.type = r->type;
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR) {
    out.str.assign(r->str, r->len);
  }
  if (r->type == REDIS_REPLY_INTEGER) out.integer = r->integer;
  if (r->type == REDIS_REPLY_ARRAY) {
    for (std::size_t i = 0; i < r->elements; ++i) out.items.push_back(convert(r->element[i]));
  }
  return out;
}

class Redis {
 public:
  explicit Redis(std::uint16_t port) : c_(redisConnect("127.0.0.1", port)) {
    if (!c_ || c_->err) throw std::runtime_error("cannot connect to redis");
    timeval tv{5, 0};
    redisSetTimeout(c_, tv);
  }
  ~Redis() { redisFree(c_); }
  R cmd(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(c_, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (!r) throw std::runtime_error("redis I/O error");
    R out = convert(r);
    freeReplyObject(r);
    return out;
  }
  R eval(std::string_view script, const std::vector<std::string>& keys, const std::vector<std::string>& args) {
    std::vector<std::string> c{"EVAL", std::string(lua_source(script)), std::to_string(keys.size())};
    c.insert(c.end(), keys.begin(), keys.end());
    c.insert(c.end(), args.begin(), args.end());
    return cmd(c);
  }
  redisContext* raw() { return c_; }

 private:
  redisContext* c_;
};

constexpr const char* kTtl = "60000";

class LuaScripts : public ::testing::Test {
 protected:
  RedisServer server;
  Redis redis{server.port()};
  Keys keys{"mcp:ha:"};

  /// A session record owned by `node` with the given epoch, as save.lua creates it.
  void make_session(const std::string& sid, const std::string& node, int epoch = 0) {
    auto r = redis.eval("save", {keys.session(sid)},
                        {keys.prefix, sid, std::to_string(epoch), R"({"protocolVersion":"2025-06-18"})", kTtl, node});
    ASSERT_EQ(r.s(0), "OK");
  }
  void beat(const std::string& node, int ttl_ms = 60000) {
    auto r = redis.eval("heartbeat", {keys.heartbeat(node), keys.nodes()},
                        {node, std::to_string(ttl_ms), "1000", "3", R"({"version":"t","boot":"b1"})"});
    ASSERT_EQ(r.type, REDIS_REPLY_ARRAY) << r.str;
    last_beat_existed = r.n(1);
  }
  long long last_beat_existed = -1;
  R liveness(const std::string& confirm_ms) {
    return redis.eval("liveness", {keys.nodes(), keys.suspects()}, {keys.prefix, confirm_ms, "64"});
  }
  R takeover(const std::string& sid, const std::string& old, const std::string& to) {
    return redis.eval("takeover", {keys.session(sid)}, {keys.prefix, sid, old, to, kTtl});
  }
  std::string field(const std::string& sid, const std::string& f) {
    return redis.cmd({"HGET", keys.session(sid), f}).str;
  }
  bool member(const std::string& node, const std::string& sid) {
    return redis.cmd({"SISMEMBER", keys.node_sessions(node), sid}).integer == 1;
  }
  long long redis_time_ms() {
    auto t = redis.cmd({"TIME"});
    return std::stoll(t.s(0)) * 1000 + std::stoll(t.s(1)) / 1000;
  }
};

TEST_F(LuaScripts, EveryScriptIsEmbedded) {
  for (auto name :
       {"takeover", "handoff", "lookup", "save", "heartbeat", "leave", "orphans", "remove", "liveness", "writer"}) {
    EXPECT_NE(lua_source(name).find("KEYS[1]"), std::string_view::npos) << name;
  }
  EXPECT_TRUE(lua_source("nope").empty());
}

TEST_F(LuaScripts, TakeoverFromDeadOwnerMovesSessionAndBumpsEpoch) {
  make_session("s1", "a");
  long long before = redis_time_ms();
  // A subscriber on a's channel sees the "lost" message (fencing of a stalled owner).
  Redis sub(server.port());
  auto subr = sub.cmd({"SUBSCRIBE", keys.notify("a")});
  ASSERT_EQ(subr.type, REDIS_REPLY_ARRAY);

  auto r = takeover("s1", "a", "b");
  ASSERT_EQ(r.s(0), "OK");
  EXPECT_EQ(r.n(1), 1);
  EXPECT_NE(r.s(2).find("protocolVersion"), std::string::npos);
  EXPECT_EQ(field("s1", "nodeId"), "b");
  EXPECT_EQ(field("s1", "epoch"), "1");
  EXPECT_EQ(field("s1", "reassignedFrom"), "a");
  long long at = std::stoll(field("s1", "reassignedAt"));
  EXPECT_GE(at, before);
  EXPECT_LE(at, redis_time_ms());
  EXPECT_FALSE(member("a", "s1"));
  EXPECT_TRUE(member("b", "s1"));

  redisReply* msg = nullptr;
  ASSERT_EQ(redisGetReply(sub.raw(), reinterpret_cast<void**>(&msg)), REDIS_OK);
  R m = convert(msg);
  freeReplyObject(msg);
  ASSERT_EQ(m.items.size(), 3u);
  EXPECT_EQ(m.s(0), "message");
  EXPECT_NE(m.s(2).find(R"("t":"lost")"), std::string::npos);
  EXPECT_NE(m.s(2).find(R"("by":"b")"), std::string::npos);
}

TEST_F(LuaScripts, TakeoverWithWrongOldOwnerIsAConflictAndChangesNothing) {
  make_session("s1", "a");
  auto r = takeover("s1", "x", "b");
  ASSERT_EQ(r.s(0), "CONFLICT");
  EXPECT_EQ(r.s(1), "a");
  EXPECT_EQ(r.n(2), 0);
  EXPECT_EQ(field("s1", "nodeId"), "a");
  EXPECT_EQ(field("s1", "epoch"), "0");
}

TEST_F(LuaScripts, TakeoverNeverRobsALiveOwner) {
  make_session("s1", "a");
  beat("a");
  auto r = takeover("s1", "a", "b");
  ASSERT_EQ(r.s(0), "ALIVE");
  EXPECT_EQ(field("s1", "nodeId"), "a");
  EXPECT_EQ(field("s1", "epoch"), "0");
  EXPECT_TRUE(member("a", "s1"));
  // Once the heartbeat is gone, the same call succeeds.
  redis.cmd({"DEL", keys.heartbeat("a")});
  EXPECT_EQ(takeover("s1", "a", "b").s(0), "OK");
}

TEST_F(LuaScripts, TakeoverOfMissingSessionCleansTheOwnerIndex) {
  redis.cmd({"SADD", keys.node_sessions("a"), "gone"});
  auto r = takeover("gone", "a", "b");
  EXPECT_EQ(r.s(0), "MISSING");
  EXPECT_FALSE(member("a", "gone"));
  EXPECT_EQ(redis.cmd({"EXISTS", keys.session("gone")}).integer, 0);
}

TEST_F(LuaScripts, EpochIncrementsOnEveryOwnerChange) {
  make_session("s1", "a");
  EXPECT_EQ(takeover("s1", "a", "b").n(1), 1);
  EXPECT_EQ(takeover("s1", "b", "c").n(1), 2);
  auto h = redis.eval("handoff", {keys.session("s1")}, {keys.prefix, "s1", "c", "d", kTtl});
  ASSERT_EQ(h.s(0), "OK");
  EXPECT_EQ(h.n(1), 3);
  EXPECT_EQ(field("s1", "nodeId"), "d");
  EXPECT_EQ(field("s1", "reassignedFrom"), "c");
}

TEST_F(LuaScripts, RacingTakeoversHaveExactlyOneWinner) {
  // Two nodes that both saw "a" dead send their takeover at the same time, pipelined on
  // two connections; over many sessions exactly one wins each, and the epoch is 1.
  constexpr int kSessions = 200;
  for (int i = 0; i < kSessions; ++i) make_session("r" + std::to_string(i), "a");
  Redis other(server.port());
  auto pipe = [&](Redis& c, const std::string& me) {
    for (int i = 0; i < kSessions; ++i) {
      std::string sid = "r" + std::to_string(i);
      std::string src(lua_source("takeover"));
      std::vector<std::string> args{"EVAL", src, "1", keys.session(sid), keys.prefix, sid, "a", me, kTtl};
      std::vector<const char*> argv;
      std::vector<size_t> lens;
      for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      ASSERT_EQ(redisAppendCommandArgv(c.raw(), static_cast<int>(argv.size()), argv.data(), lens.data()), REDIS_OK);
    }
  };
  pipe(redis, "b");
  pipe(other, "c");
  int wins_b = 0, wins_c = 0;
  for (int i = 0; i < kSessions; ++i) {
    for (auto* c : {&redis, &other}) {
      redisReply* rep = nullptr;
      ASSERT_EQ(redisGetReply(c->raw(), reinterpret_cast<void**>(&rep)), REDIS_OK);
      R r = convert(rep);
      freeReplyObject(rep);
      if (r.s(0) == "OK")
        (c == &redis ? wins_b : wins_c)++;
      else
        EXPECT_EQ(r.s(0), "CONFLICT");
    }
  }
  EXPECT_EQ(wins_b + wins_c, kSessions);
  for (int i = 0; i < kSessions; ++i) {
    std::string sid = "r" + std::to_string(i);
    EXPECT_EQ(field(sid, "epoch"), "1") << sid;
    auto owner = field(sid, "nodeId");
    EXPECT_TRUE(owner == "b" || owner == "c");
    EXPECT_TRUE(member(owner, sid));
    EXPECT_FALSE(member(owner == "b" ? "c" : "b", sid));
  }
}

TEST_F(LuaScripts, SaveIsFencedByTheEpoch) {
  make_session("s1", "a");
  auto ok = redis.eval("save", {keys.session("s1")}, {keys.prefix, "s1", "0", R"({"v":2})", kTtl, ""});
  EXPECT_EQ(ok.s(0), "OK");
  EXPECT_EQ(field("s1", "state"), R"({"v":2})");
  ASSERT_EQ(takeover("s1", "a", "b").s(0), "OK");
  // "a" still believes it holds epoch 0: its write is rejected, the state is untouched.
  auto stale = redis.eval("save", {keys.session("s1")}, {keys.prefix, "s1", "0", R"({"v":3})", kTtl, ""});
  ASSERT_EQ(stale.s(0), "STALE");
  EXPECT_EQ(stale.s(1), "b");
  EXPECT_EQ(stale.n(2), 1);
  EXPECT_EQ(field("s1", "state"), R"({"v":2})");
  // A write that must not create refuses a missing record.
  auto missing = redis.eval("save", {keys.session("nope")}, {keys.prefix, "nope", "0", "{}", kTtl, ""});
  EXPECT_EQ(missing.s(0), "MISSING");
  EXPECT_EQ(redis.cmd({"EXISTS", keys.session("nope")}).integer, 0);
}

TEST_F(LuaScripts, SaveSetsTheSlidingTtl) {
  make_session("s1", "a");
  auto pttl = redis.cmd({"PTTL", keys.session("s1")}).integer;
  EXPECT_GT(pttl, 50000);
  EXPECT_LE(pttl, 60000);
}

TEST_F(LuaScripts, LookupReportsOwnerLiveness) {
  EXPECT_EQ(redis.eval("lookup", {keys.session("none")}, {keys.prefix, "b", kTtl}).s(0), "MISSING");
  make_session("s1", "a");
  auto dead = redis.eval("lookup", {keys.session("s1")}, {keys.prefix, "b", kTtl});
  ASSERT_EQ(dead.s(0), "FOUND");
  EXPECT_EQ(dead.s(1), "a");
  EXPECT_EQ(dead.n(2), 0);
  EXPECT_NE(dead.s(3).find("protocolVersion"), std::string::npos);
  EXPECT_EQ(dead.n(4), 0);
  // The caller itself always counts as alive; so does a node with a heartbeat.
  EXPECT_EQ(redis.eval("lookup", {keys.session("s1")}, {keys.prefix, "a", kTtl}).n(4), 1);
  beat("a");
  EXPECT_EQ(redis.eval("lookup", {keys.session("s1")}, {keys.prefix, "b", kTtl}).n(4), 1);
  // Sliding TTL: a lookup refreshes it.
  redis.cmd({"PEXPIRE", keys.session("s1"), "1000"});
  redis.eval("lookup", {keys.session("s1")}, {keys.prefix, "b", kTtl});
  EXPECT_GT(redis.cmd({"PTTL", keys.session("s1")}).integer, 50000);
}

TEST_F(LuaScripts, HeartbeatWritesJsonWithTtlAndIndexesTheNode) {
  long long before = redis_time_ms();
  beat("a", 3000);
  auto v = redis.cmd({"GET", keys.heartbeat("a")}).str;
  EXPECT_NE(v.find(R"("nodeId":"a")"), std::string::npos) << v;
  EXPECT_NE(v.find(R"("startedAt":1000)"), std::string::npos) << v;
  EXPECT_NE(v.find(R"("sessionCount":3)"), std::string::npos) << v;
  EXPECT_NE(v.find(R"("lastBeat":)"), std::string::npos) << v;
  EXPECT_NE(v.find(R"("version":"t")"), std::string::npos) << v;
  auto pttl = redis.cmd({"PTTL", keys.heartbeat("a")}).integer;
  EXPECT_GT(pttl, 2000);
  EXPECT_LE(pttl, 3000);
  long long score = std::stoll(redis.cmd({"ZSCORE", keys.nodes(), "a"}).str);
  EXPECT_GE(score, before + 3000);
  EXPECT_LE(score, redis_time_ms() + 3000);
}

TEST_F(LuaScripts, HeartbeatTellsWhetherTheKeyWasThere) {
  beat("a");
  EXPECT_EQ(last_beat_existed, 0) << "first beat";
  beat("a");
  EXPECT_EQ(last_beat_existed, 1);
  redis.cmd({"DEL", keys.heartbeat("a")});  // declared dead by liveness.lua, or expired
  beat("a");
  EXPECT_EQ(last_beat_existed, 0) << "the node must re-read its sessions before it trusts its lease";
}

// Issue 10 (5): a node whose process died (its relay subscription is gone) is declared dead
// without waiting for its heartbeat TTL; one that only stalls (subscription kept) is not.
TEST_F(LuaScripts, LivenessDeclaresDeadANodeWhoseSubscriptionIsGone) {
  beat("dead");
  beat("stalled");
  make_session("s1", "dead");
  Redis sub(server.port());  // "stalled" keeps its subscription (connection open)
  ASSERT_EQ(sub.cmd({"SUBSCRIBE", keys.notify("stalled")}).type, REDIS_REPLY_ARRAY);
  long long before = redis_time_ms();
  EXPECT_TRUE(liveness("0").items.empty()) << "first miss: only suspected";
  EXPECT_EQ(redis.cmd({"EXISTS", keys.heartbeat("dead")}).integer, 1);
  auto r = liveness("0");
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.s(0), "dead");
  EXPECT_EQ(redis.cmd({"EXISTS", keys.heartbeat("dead")}).integer, 0);
  EXPECT_EQ(redis.cmd({"EXISTS", keys.heartbeat("stalled")}).integer, 1);
  long long since = std::stoll(redis.cmd({"ZSCORE", keys.nodes(), "dead"}).str);
  EXPECT_GE(since, before) << "dead since the first probe that missed it";
  EXPECT_LE(since, redis_time_ms());
  // Its sessions are now claimable: by the request path at once (heartbeat absent) ...
  EXPECT_EQ(takeover("s1", "dead", "b").s(0), "OK");
  // ... and no suspicion is left behind.
  EXPECT_EQ(redis.cmd({"HLEN", keys.suspects()}).integer, 0);
}

TEST_F(LuaScripts, LivenessWaitsForTheConfirmationTime) {
  beat("a");
  EXPECT_TRUE(liveness("60000").items.empty());
  EXPECT_TRUE(liveness("60000").items.empty());
  EXPECT_EQ(redis.cmd({"EXISTS", keys.heartbeat("a")}).integer, 1);
  EXPECT_EQ(redis.cmd({"HEXISTS", keys.suspects(), "a"}).integer, 1);
}

TEST_F(LuaScripts, LivenessForgivesANodeThatBeatOrResubscribedBetweenProbes) {
  beat("a");
  EXPECT_TRUE(liveness("0").items.empty());
  beat("a");  // the heartbeat changed: the node runs (and re-arms its relay lease only now)
  EXPECT_TRUE(liveness("0").items.empty()) << "suspected again from scratch, not killed";
  Redis sub(server.port());
  ASSERT_EQ(sub.cmd({"SUBSCRIBE", keys.notify("a")}).type, REDIS_REPLY_ARRAY);
  EXPECT_TRUE(liveness("0").items.empty());
  EXPECT_EQ(redis.cmd({"HEXISTS", keys.suspects(), "a"}).integer, 0) << "subscribed: no longer suspected";
  EXPECT_EQ(redis.cmd({"EXISTS", keys.heartbeat("a")}).integer, 1);
}

// Issue 10 (soak, seed 105): a node re-creating its records after a Redis restart wrote its
// stale copy over a record that had survived with a replica's subscription in it.
TEST_F(LuaScripts, SaveInCreateModeNeverOverwritesAnExistingRecord) {
  make_session("s1", "a");
  redis.cmd({"HSET", keys.session("s1"), "state", R"({"subscriptions":["x"]})"});
  auto r = redis.eval("save", {keys.session("s1")},
                      {keys.prefix, "s1", "0", R"({"subscriptions":[]})", kTtl, "a", "1", "create"});
  EXPECT_EQ(r.s(0), "EXISTS");
  EXPECT_EQ(r.s(1), "a");
  EXPECT_EQ(field("s1", "state"), R"({"subscriptions":["x"]})");
  auto c = redis.eval("save", {keys.session("s2")}, {keys.prefix, "s2", "3", R"({"p":1})", kTtl, "a", "1", "create"});
  EXPECT_EQ(c.s(0), "OK") << "a missing record is created";
  EXPECT_EQ(field("s2", "epoch"), "3");
  EXPECT_TRUE(member("a", "s2"));
}

// A full-state write based on an older revision is refused: it would drop the change that
// another node wrote meanwhile (a replica's subscribe that the owner has not heard of).
TEST_F(LuaScripts, SaveRefusesAWriteBasedOnAnOlderRevision) {
  make_session("s1", "a");  // rev 1
  auto save = [&](const std::string& state, const std::string& rev) {
    return redis.eval("save", {keys.session("s1")}, {keys.prefix, "s1", "0", state, kTtl, "", "1", "", rev});
  };
  auto replica = save(R"({"subscriptions":["x"]})", "1");
  ASSERT_EQ(replica.s(0), "OK");
  EXPECT_EQ(replica.n(2), 2) << "the revision grows with every write";
  auto owner = save(R"({"logLevel":"debug"})", "1");  // the owner's state lacks "x"
  ASSERT_EQ(owner.s(0), "CHANGED");
  EXPECT_EQ(owner.s(1), "a");
  EXPECT_EQ(owner.s(3), R"({"subscriptions":["x"]})") << "the state to merge into";
  EXPECT_EQ(owner.n(4), 2);
  EXPECT_EQ(field("s1", "state"), R"({"subscriptions":["x"]})") << "nothing overwritten";
  EXPECT_EQ(save(R"({"logLevel":"debug","subscriptions":["x"]})", "2").s(0), "OK");
  EXPECT_EQ(field("s1", "rev"), "3");
  auto look = redis.eval("lookup", {keys.session("s1")}, {keys.prefix, "b", kTtl});
  EXPECT_EQ(look.n(5), 3) << "lookup reports the revision";
}

TEST_F(LuaScripts, WriterTellsWhetherTheWritingProcessLives) {
  auto writer = [&](const std::string& key) { return redis.eval("writer", {keys.writer(key)}, {keys.prefix}).integer; };
  EXPECT_EQ(writer("s/5"), -1) << "no record";
  redis.cmd({"SET", keys.writer("s/5"), "a b1"});
  EXPECT_EQ(writer("s/5"), 0) << "no heartbeat";
  beat("a");  // boot b1
  EXPECT_EQ(writer("s/5"), 1);
  redis.cmd({"SET", keys.writer("s/5"), "a b0"});
  EXPECT_EQ(writer("s/5"), 0) << "the node restarted: another process";
}

TEST_F(LuaScripts, LeaveDeletesTheHeartbeatAndMakesSessionsClaimableAtOnce) {
  beat("a");
  make_session("s1", "a");
  make_session("s2", "a");
  auto r = redis.eval("leave", {keys.heartbeat("a"), keys.nodes()}, {"a", "5000", keys.broadcast(), keys.prefix});
  EXPECT_EQ(r.integer, 2);
  EXPECT_EQ(redis.cmd({"EXISTS", keys.heartbeat("a")}).integer, 0);
  // The orphan scan sees "a" at once although the grace period is 5 s.
  auto o = redis.eval("orphans", {keys.nodes()}, {keys.prefix, "5000", "16", "128"});
  ASSERT_EQ(o.items.size(), 2u);
  EXPECT_EQ(o.s(0), "a");
  EXPECT_EQ(o.items[1].items.size(), 2u);
}

TEST_F(LuaScripts, OrphansListsOnlyNodesDeadForTheGracePeriod) {
  // "live" beats; "fresh" died just now (within grace); "old" died long ago; "empty" is
  // dead without sessions and is dropped from the index.
  beat("live");
  make_session("l1", "live");
  make_session("f1", "fresh");
  make_session("o1", "old");
  make_session("o2", "old");
  long long now = redis_time_ms();
  redis.cmd({"ZADD", keys.nodes(), std::to_string(now), "fresh"});
  redis.cmd({"ZADD", keys.nodes(), std::to_string(now - 60000), "old"});
  redis.cmd({"ZADD", keys.nodes(), std::to_string(now - 60000), "empty"});
  auto o = redis.eval("orphans", {keys.nodes()}, {keys.prefix, "5000", "16", "128"});
  ASSERT_EQ(o.items.size(), 2u);
  EXPECT_EQ(o.s(0), "old");
  std::vector<std::string> ids;
  for (const auto& i : o.items[1].items) ids.push_back(i.str);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"o1", "o2"}));
  EXPECT_EQ(redis.cmd({"ZSCORE", keys.nodes(), "empty"}).type, REDIS_REPLY_NIL);
  EXPECT_NE(redis.cmd({"ZSCORE", keys.nodes(), "fresh"}).type, REDIS_REPLY_NIL);
  // A dead node whose heartbeat came back (restart with the same id) is skipped.
  beat("old");
  redis.cmd({"ZADD", keys.nodes(), std::to_string(now - 60000), "old"});
  EXPECT_TRUE(redis.eval("orphans", {keys.nodes()}, {keys.prefix, "5000", "16", "128"}).items.empty());
}

TEST_F(LuaScripts, HandoffOnlyByTheCurrentOwner) {
  make_session("s1", "a");
  beat("a");
  auto bad = redis.eval("handoff", {keys.session("s1")}, {keys.prefix, "s1", "x", "b", kTtl});
  EXPECT_EQ(bad.s(0), "CONFLICT");
  EXPECT_EQ(field("s1", "nodeId"), "a");
  auto ok = redis.eval("handoff", {keys.session("s1")}, {keys.prefix, "s1", "a", "b", kTtl});
  ASSERT_EQ(ok.s(0), "OK");
  EXPECT_EQ(field("s1", "nodeId"), "b");
  EXPECT_EQ(field("s1", "epoch"), "1");
  EXPECT_TRUE(member("b", "s1"));
  EXPECT_EQ(redis.eval("handoff", {keys.session("zz")}, {keys.prefix, "zz", "a", "b", kTtl}).s(0), "MISSING");
}

TEST_F(LuaScripts, RemoveDeletesRecordLogAndIndex) {
  make_session("s1", "a");
  redis.cmd({"RPUSH", keys.events("s1/0"), "1 {}"});
  auto r = redis.eval("remove", {keys.session("s1"), keys.events("s1/0")}, {keys.prefix, "s1"});
  EXPECT_EQ(r.str, "a") << "the owner, whom the caller tells";
  EXPECT_EQ(redis.cmd({"EXISTS", keys.session("s1"), keys.events("s1/0")}).integer, 0);
  EXPECT_FALSE(member("a", "s1"));
  EXPECT_EQ(redis.eval("remove", {keys.session("s1"), keys.events("s1/0")}, {keys.prefix, "s1"}).integer, 0);
}

}  // namespace
