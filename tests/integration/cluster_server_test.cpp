// The library side of distributed mode, in process against a real redis-server: start-up
// validation (HaConfigurationError) and the orphan scanner's per-claim callback.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <frontmcp/cluster.hpp>
#include <frontmcp/server.hpp>
#include <mutex>
#include <string>
#include <vector>

#include "support/redis_server.hpp"

namespace {

using namespace std::chrono_literals;
using frontmcp::test::RedisServer;

frontmcp::ServerOptions distributed(const std::string& url) {
  frontmcp::ServerOptions o;
  o.mode = frontmcp::DeploymentMode::distributed;
  o.http.port = 0;
  o.threads = 1;
  o.node_id = "claimer";
  o.ha.redis_url = url;
  o.ha.heartbeat_interval = 50ms;
  o.ha.heartbeat_ttl = 200ms;
  o.ha.takeover_grace_period = 100ms;
  o.session_backend = frontmcp::cluster::backend();
  return o;
}

void redis_cmd(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  ASSERT_NE(r, nullptr);
  ASSERT_NE(r->type, REDIS_REPLY_ERROR) << r->str;
  freeReplyObject(r);
}

TEST(ClusterServer, DistributedModeWithoutRedisIsAConfigurationError) {
  auto o = distributed("");
  frontmcp::Server server(o);
  try {
    server.start();
    FAIL() << "start() accepted distributed mode without Redis";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("HaConfigurationError"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("redis_url"), std::string::npos) << e.what();
  }
}

TEST(ClusterServer, TtlNotAboveTheIntervalIsAConfigurationError) {
  auto o = distributed("redis://127.0.0.1:1");
  o.ha.heartbeat_ttl = o.ha.heartbeat_interval;
  frontmcp::Server server(o);
  EXPECT_THROW(server.start(), std::runtime_error);
}

TEST(ClusterServer, ScannerClaimsOrphansAndCallsTheCallbackOncePerSession) {
  RedisServer redis;
  // Two sessions of a node that died long ago (no heartbeat, dead in the node index).
  redisContext* c = redisConnect("127.0.0.1", redis.port());
  ASSERT_TRUE(c && !c->err);
  for (std::string sid : {"orphan-1", "orphan-2"}) {
    redis_cmd(
        c,
        {"HSET", "mcp:ha:session:" + sid, "nodeId", "ghost", "epoch", "0", "state",
         R"({"id":")" + sid +
             R"(","transport":"streamable_http","initialized":true,"protocolVersion":"2025-06-18",)"
             R"("clientInfo":{},"clientCapabilities":{},"subscriptions":[],"nodeId":"ghost","epoch":0,"createdAt":0})"});
    redis_cmd(c, {"SADD", "mcp:ha:node:ghost:sessions", sid});
  }
  redis_cmd(c, {"ZADD", "mcp:ha:nodes", "0", "ghost"});

  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::string>> claims;
  auto o = distributed(redis.url());
  o.ha.on_session_claimed = [&](const std::string& sid, const std::string& from) {
    std::lock_guard lock(mu);
    claims.emplace_back(sid, from);
    cv.notify_all();
  };
  frontmcp::Server server(o);
  server.start();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return claims.size() >= 2; })) << "claims: " << claims.size();
  }
  std::sort(claims.begin(), claims.end());
  EXPECT_EQ(claims, (std::vector<std::pair<std::string, std::string>>{{"orphan-1", "ghost"}, {"orphan-2", "ghost"}}));
  auto* r = static_cast<redisReply*>(redisCommand(c, "HGET mcp:ha:session:orphan-1 nodeId"));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(std::string(r->str, r->len), "claimer");
  freeReplyObject(r);
  // The ghost node, now without sessions, leaves the index on a later scan; no claim twice.
  server.stop(0ms);
  EXPECT_EQ(claims.size(), 2u);
  redisFree(c);
}

}  // namespace
