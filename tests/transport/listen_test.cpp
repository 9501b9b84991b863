// MCP 2026-07-28 subscriptions/listen over HTTP, and a modern request cancelled by its
// client closing the response: in-process over loopback (harness.hpp).
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "harness.hpp"
#include "session/listen_registry.hpp"

namespace {

using namespace frontmcp;
using namespace frontmcp::test;
using bhttp::verb;
namespace net = boost::asio;

constexpr const char* kTrigger = "trigger_tools_changed";
constexpr const char* kWaitForCancel = "wait_for_cancel";
constexpr const char* kAck = "notifications/subscriptions/acknowledged";
constexpr const char* kSubscriptionId = "io.modelcontextprotocol/subscriptionId";
/// How long the cancel probe waits for its cancellation before it gives up.
constexpr std::chrono::seconds kProbeLimit{4};
constexpr std::chrono::milliseconds kProbeStep{5};

json::object envelope(json::object more = {}) {
  return modern_meta(std::move(more));
}

std::string listen_body(json::value id, json::object notifications) {
  json::object params{{"_meta", envelope()}, {"notifications", std::move(notifications)}};
  json::object msg{
      {"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", "subscriptions/listen"}, {"params", std::move(params)}};
  return json::serialize(msg);
}

std::vector<json::value> frames(std::string body) {
  Response r;
  r.body = std::move(body);
  return r.sse_messages();
}

/// The end of an SSE event: reading until `n` of them arrived reads `n` whole frames.
constexpr std::string_view kEventEnd = "\n\n";

std::string method_of(const json::value& f) {
  auto* m = f.as_object().if_contains("method");
  return m ? std::string(m->as_string()) : std::string();
}

/// Polls `done` until it holds or kIoLimit passes (what the server does meanwhile runs on
/// its own thread).
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kIoLimit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

/// Waits until the request is cancelled (or kProbeLimit), then tells `seen` whether it was.
Task<Result<ToolResult>> wait_for_cancel(Context& ctx, bool log_first, std::shared_ptr<std::promise<bool>> seen) {
  if (log_first) ctx.log(LogLevel::info, "started");
  net::steady_timer timer(co_await net::this_coro::executor);
  const auto until = std::chrono::steady_clock::now() + kProbeLimit;
  while (!ctx.cancelled() && std::chrono::steady_clock::now() < until) {
    timer.expires_after(kProbeStep);
    co_await timer.async_wait(net::use_awaitable);
  }
  seen->set_value(ctx.cancelled());
  co_return ToolResult::text("done");
}

class Listen : public ::testing::Test {
 protected:
  Listen() {
    Tool trigger;
    trigger.name = kTrigger;
    trigger.handler = [](Context& ctx, const json::object&) -> Result<ToolResult> {
      ctx.notify_list_changed(ListKind::tools);
      return ToolResult::text("Mutation triggered");
    };
    server.registry.add_tool(std::move(trigger));
    Tool probe;
    probe.name = kWaitForCancel;
    probe.handler = [seen = seen](Context& ctx, const json::object& args) {
      return wait_for_cancel(ctx, args.contains("log"), seen);
    };
    server.registry.add_tool(std::move(probe));
    Prompt p;
    p.name = "p";
    p.handler = [](Context&, const PromptArguments&) -> Result<PromptResult> { return PromptResult{}; };
    server.registry.add_prompt(std::move(p));
  }

  /// Opens a listen stream on `c` and reads up to its acknowledgement.
  Response open(Connection& c, json::value id, json::object notifications) {
    EXPECT_TRUE(c.send(verb::post, "/mcp", listen_body(std::move(id), std::move(notifications)),
                       modern_fields("subscriptions/listen")));
    auto head = c.read_head();
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.header("Content-Type"), "text/event-stream");
    EXPECT_NE(c.read_until(kAck), "");
    return head;
  }

  Response call(std::int64_t id, const char* tool, json::object args = {}, json::object meta = envelope()) {
    json::object params{{"name", tool}, {"arguments", std::move(args)}, {"_meta", std::move(meta)}};
    return request(port, verb::post, "/mcp", rpc(id, "tools/call", std::move(params)),
                   modern_fields("tools/call", tool));
  }

  std::shared_ptr<std::promise<bool>> seen = std::make_shared<std::promise<bool>>();
  InProcessServer server;
  std::uint16_t port = server.port();
};

TEST_F(Listen, AcknowledgementFirstThenStampedChanges) {
  Connection c(port);
  auto head = open(c, json::value("sub-a"), json::object{{"toolsListChanged", true}, {"promptsListChanged", true}});
  EXPECT_FALSE(head.has_header("Mcp-Session-Id"));
  auto r = call(2, kTrigger);  // a modern tools/call on another connection
  ASSERT_EQ(r.status, 200) << r.body;
  server.dispatcher.list_changed(registry::ListKind::prompts);  // Server::notify_list_changed's path
  auto body = c.read_until(kEventEnd, 3);
  auto fs = frames(body);
  ASSERT_EQ(fs.size(), 3u) << body;
  EXPECT_EQ(method_of(fs[0]), kAck);
  EXPECT_EQ(json::serialize(fs[0].at("params").at("notifications")),
            R"({"toolsListChanged":true,"promptsListChanged":true})");
  EXPECT_EQ(method_of(fs[1]), "notifications/tools/list_changed");
  EXPECT_EQ(method_of(fs[2]), "notifications/prompts/list_changed");
  for (const auto& f : fs) EXPECT_EQ(f.at("params").at("_meta").at(kSubscriptionId), json::value("sub-a")) << f;
  EXPECT_EQ(body.find("id:"), std::string::npos) << "no event ids in this generation";
  EXPECT_EQ(server.sessions.size(), 0u) << "a listener is not a session";
}

TEST_F(Listen, OnlyWhatWasAskedFor) {
  Connection c(port);
  open(c, json::value(9), json::object{{"promptsListChanged", true}});
  ASSERT_EQ(call(2, kTrigger).status, 200);
  server.dispatcher.list_changed(registry::ListKind::prompts);
  auto fs = frames(c.read_until(kEventEnd, 2));
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(method_of(fs[1]), "notifications/prompts/list_changed") << "no tools change before it";
}

TEST_F(Listen, UnsupportedKindsAreNotAcknowledged) {
  // No resources in this server: resourcesListChanged is not honored.
  Connection c(port);
  open(c, json::value(3), json::object{{"resourcesListChanged", true}, {"toolsListChanged", true}});
  server.dispatcher.list_changed(registry::ListKind::tools);
  auto fs = frames(c.read_until(kEventEnd, 2));
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(method_of(fs[1]), "notifications/tools/list_changed");
  EXPECT_EQ(json::serialize(fs[0].at("params").at("notifications")), R"({"toolsListChanged":true})");
}

TEST_F(Listen, ResourceUpdatesOfSubscribedUris) {
  Connection c(port);
  open(c, json::value(8), json::object{{"resourceSubscriptions", json::array{"test://x"}}});
  server.dispatcher.resource_updated("test://y");  // Server::notify_resource_updated's path
  server.dispatcher.resource_updated("test://x");
  auto fs = frames(c.read_until(kEventEnd, 2));
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(json::serialize(fs[0].at("params").at("notifications")), R"({"resourceSubscriptions":["test://x"]})");
  EXPECT_EQ(method_of(fs[1]), "notifications/resources/updated");
  EXPECT_EQ(fs[1].at("params").at("uri"), json::value("test://x"));
  EXPECT_EQ(fs[1].at("params").at("_meta").at(kSubscriptionId), json::value(8));
}

TEST_F(Listen, NothingHonoredIsAcknowledgedThenCompleted) {
  Connection c(port);
  open(c, json::value(4), json::object{{"resourcesListChanged", true}});
  auto fs = frames(c.read_to_end());
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(fs[1].at("id"), json::value(4));
  EXPECT_EQ(fs[1].at("result").at("resultType"), json::value("complete"));
  EXPECT_EQ(server.sessions.listeners().size(), 0u);
}

TEST_F(Listen, ShutdownEndsTheStreamWithTheResult) {
  Connection c(port);
  open(c, json::value("z"), json::object{{"toolsListChanged", true}});
  server.sessions.listeners().complete_all(server.dispatcher.listen_result_meta());  // as Server::stop
  auto fs = frames(c.read_to_end());
  ASSERT_EQ(fs.size(), 2u);
  const auto& result = fs[1].at("result");
  EXPECT_EQ(fs[1].at("id"), json::value("z"));
  EXPECT_EQ(result.at("resultType"), json::value("complete"));
  EXPECT_EQ(result.at("_meta").at(kSubscriptionId), json::value("z"));
  EXPECT_TRUE(result.at("_meta").at("io.modelcontextprotocol/serverInfo").as_object().contains("name"));
}

TEST_F(Listen, ClientCloseRemovesTheListener) {
  Connection c(port);
  open(c, json::value(1), json::object{{"toolsListChanged", true}});
  EXPECT_EQ(server.sessions.listeners().size(), 1u);
  c.close();
  EXPECT_TRUE(eventually([&] { return server.sessions.listeners().size() == 0; }));
}

TEST_F(Listen, MalformedFilterIsInvalidParams) {
  auto r = request(port, verb::post, "/mcp", listen_body(json::value(6), json::object{{"toolsListChanged", "yes"}}),
                   modern_fields("subscriptions/listen"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.error_code(), -32602) << r.body;
  EXPECT_EQ(r.as_json().at("id"), json::value(6));
}

TEST(ListenCap, AboveTheCapIsRefusedInBand) {
  ServerSetup setup;
  setup.options.session.max_listen_streams = 1;
  InProcessServer server(std::move(setup));
  Connection c(server.port());
  ASSERT_TRUE(c.send(verb::post, "/mcp", listen_body(json::value(1), json::object{{"toolsListChanged", true}}),
                     modern_fields("subscriptions/listen")));
  ASSERT_NE(c.read_head().status, 0);
  ASSERT_NE(c.read_until(kAck), "");
  auto r =
      request(server.port(), verb::post, "/mcp", listen_body(json::value(2), json::object{{"toolsListChanged", true}}),
              modern_fields("subscriptions/listen"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.error_code(), -32603);
  EXPECT_NE(r.body.find("Subscription limit reached"), std::string::npos) << r.body;
  EXPECT_EQ(r.as_json().at("id"), json::value(2));
}

// ---- a modern request is cancelled when its client closes the response ----------------

TEST_F(Listen, CloseBeforeTheAnswerCancelsTheRequest) {
  // Nothing sent yet: the server waits to choose JSON or SSE when the client leaves.
  Connection c(port);
  json::object params{{"name", kWaitForCancel}, {"arguments", json::object{}}, {"_meta", envelope()}};
  ASSERT_TRUE(
      c.send(verb::post, "/mcp", rpc(1, "tools/call", std::move(params)), modern_fields("tools/call", kWaitForCancel)));
  auto f = seen->get_future();
  c.close();
  ASSERT_EQ(f.wait_for(kIoLimit), std::future_status::ready);
  EXPECT_TRUE(f.get()) << "ctx.cancelled() turned true";
}

TEST_F(Listen, CloseDuringTheStreamCancelsTheRequest) {
  Connection c(port);
  json::object params{{"name", kWaitForCancel},
                      {"arguments", json::object{{"log", true}}},
                      {"_meta", envelope(json::object{{"io.modelcontextprotocol/logLevel", "info"}})}};
  ASSERT_TRUE(
      c.send(verb::post, "/mcp", rpc(1, "tools/call", std::move(params)), modern_fields("tools/call", kWaitForCancel)));
  auto head = c.read_head();
  ASSERT_EQ(head.header("Content-Type"), "text/event-stream");
  ASSERT_NE(c.read_until("started"), "");
  auto f = seen->get_future();
  c.close();
  ASSERT_EQ(f.wait_for(kIoLimit), std::future_status::ready);
  EXPECT_TRUE(f.get()) << "ctx.cancelled() turned true";
}

}  // namespace
