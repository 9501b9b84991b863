// ServerCore wiring, node ids and the loopback test behind DNS-rebinding protection.
#include "core/server_core.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "http/http_server.hpp"

namespace {

using namespace frontmcp;
using core::resolve_node_id;
using http::is_loopback_host;

TEST(ServerCore, LoopbackHosts) {
  for (const char* h : {"localhost", "LocalHost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"}) {
    EXPECT_TRUE(is_loopback_host(h)) << h;
  }
  for (const char* h :
       {"0.0.0.0", "example.com", "10.0.0.1", "", "::", "128.0.0.1", "localhost.evil.com", "127.0.0.1.evil.example.com",
        "127.0.0.1evil.example.com", "[::1].evil.example.com", "[::1]evil", "127.evil", "localhostx"}) {
    EXPECT_FALSE(is_loopback_host(h)) << h;
  }
}

// The core library has no Redis code: a mode that keeps sessions in Redis without the
// cluster component is refused at construction, naming what to link.
TEST(ServerCore, ModesThatNeedRedisWithoutTheClusterComponentAreRefused) {
  for (auto mode : {DeploymentMode::distributed, DeploymentMode::serverless}) {
    ServerOptions o;
    o.mode = mode;
    o.ha.redis_url = "redis://127.0.0.1:1";
    try {
      core::ServerCore c(o, "n");
      ADD_FAILURE() << "accepted " << to_string(mode) << " mode without a session backend";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("HaConfigurationError"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("frontmcp::cluster"), std::string::npos) << e.what();
    }
  }
  ServerOptions serverless;  // serverless without Redis: records in memory, no backend needed
  serverless.mode = DeploymentMode::serverless;
  core::ServerCore c(serverless, "n");
  EXPECT_EQ(c.backend, nullptr);
}

TEST(ServerCore, ExplicitNodeIdWins) {
  ServerOptions o;
  o.node_id = "node-explicit";
  EXPECT_EQ(resolve_node_id(o), "node-explicit");
}

TEST(ServerCore, ServerlessNodeIdIsAlwaysRandom) {
  ServerOptions o;
  o.mode = DeploymentMode::serverless;
  o.node_id = "ignored";
  auto a = resolve_node_id(o);
  auto b = resolve_node_id(o);
  EXPECT_EQ(a.rfind("node-", 0), 0u) << a;
  EXPECT_EQ(a.size(), 5u + 12u) << a;
  EXPECT_NE(a, b);
}

TEST(ServerCore, EnvironmentSuppliesTheNodeId) {
  // Each ctest test runs in its own process; the originals are restored anyway.
  struct Restore {
    const char* name;
    std::optional<std::string> value;
    explicit Restore(const char* n) : name(n) {
      if (const char* v = std::getenv(n)) value = v;
    }
    ~Restore() {
      if (value) {
        ::setenv(name, value->c_str(), 1);
      } else {
        ::unsetenv(name);
      }
    }
  } machine_id{"MACHINE_ID"}, hostname{"HOSTNAME"};
  ServerOptions o;
  ::setenv("MACHINE_ID", "machine-7", 1);
  EXPECT_EQ(resolve_node_id(o), "machine-7");
  ::setenv("MACHINE_ID", "", 1);
  ::setenv("HOSTNAME", "host-3", 1);
  EXPECT_EQ(resolve_node_id(o), "host-3");
  ::unsetenv("MACHINE_ID");
  ::unsetenv("HOSTNAME");
  auto random = resolve_node_id(o);
  EXPECT_EQ(random.rfind("node-", 0), 0u) << random;
}

TEST(ServerCore, WiresOptionsIntoItsParts) {
  ServerOptions o;
  o.session.page_size = 1;
  o.session.max_sessions = 1;
  core::ServerCore c(o, "node-x");
  EXPECT_EQ(c.node_id, "node-x");
  EXPECT_EQ(c.dispatcher.node_id(), "node-x");
  EXPECT_EQ(c.sessions.node_id(), "node-x");
  EXPECT_TRUE(c.dns_rebinding_protection) << "default host 127.0.0.1 is loopback";
  ASSERT_NE(c.sessions.create(session::TransportKind::stdio), nullptr);
  EXPECT_EQ(c.sessions.create(session::TransportKind::stdio), nullptr) << "max_sessions = 1";
  Tool t;
  t.handler = [](Context&, const json::object&) { return ToolResult::text("x"); };
  t.name = "a";
  c.registry.add_tool(t);
  t.name = "b";
  c.registry.add_tool(t);
  auto page = c.registry.list(registry::ListKind::tools, nullptr);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->at("tools").as_array().size(), 1u) << "page_size = 1";
}

TEST(ServerCore, DnsRebindingProtectionFollowsTheBindAddress) {
  ServerOptions o;
  o.http.host = "0.0.0.0";
  EXPECT_FALSE(core::ServerCore(o, "n").dns_rebinding_protection);
  o.http.dns_rebinding_protection = true;
  EXPECT_TRUE(core::ServerCore(o, "n").dns_rebinding_protection);
  o.http.host = "localhost";
  o.http.dns_rebinding_protection = false;
  EXPECT_FALSE(core::ServerCore(o, "n").dns_rebinding_protection);
}

}  // namespace
