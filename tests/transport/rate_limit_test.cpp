// Rate limits (docs/configuration.md "Rate limits"), with tiny configured limits and no
// sleeps: nothing refills between the requests of a test (rate 1/s, burst 2: the third
// request in a row is over the limit, and the test takes milliseconds).
//  - tools/call per principal and tool: a tool result with isError, the tool not run;
//  - HTTP requests per principal (or client address): 429 + Retry-After before the body
//    is parsed.
// Both counted in frontmcp_rate_limited_total{limit}.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <regex>
#include <string>

#include "harness.hpp"

namespace {

using namespace frontmcp;
using namespace frontmcp::test;
using bhttp::verb;

/// The series line's value in the exposition text of `m` ("" if absent).
std::string sample(const metrics::Metrics& m, const std::string& series) {
  std::string text = "\n";
  metrics::render(m, text);
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return {};
  auto start = at + 1 + series.size() + 1;
  return text.substr(start, text.find('\n', start) - start);
}

const std::string kToolSeries = R"(frontmcp_rate_limited_total{limit="tool"})";
const std::string kRequestSeries = R"(frontmcp_rate_limited_total{limit="request"})";

/// The first text of a tools/call response and its isError ("<...>" when not a result).
std::pair<std::string, bool> tool_result(const json::value& msg) {
  auto* r = msg.as_object().if_contains("result");
  if (!r) return {"<no result: " + json::serialize(msg) + ">", false};
  auto* is_error = r->as_object().if_contains("isError");
  return {std::string(r->at("content").at(0).at("text").as_string()), is_error && is_error->as_bool()};
}

/// The principal is the X-User header (none: the anonymous principal "").
ServerSetup limited(RateLimit tools, RateLimit requests) {
  ServerSetup s;
  s.options.tool_rate = tools;
  s.options.http.request_rate = requests;
  s.options.http.authorize = [](const AuthRequest& r) { return AuthDecision::allow(std::string(r.header("X-User"))); };
  return s;
}

/// A refusal's text for `tool` under `limit` ("at most 1 calls per second (burst 2)"): the
/// wait is 1 s less the time since the last call (microseconds here), so "1.0" or a bit less.
bool is_refusal(const std::string& text, const std::string& tool, const std::string& limit) {
  static const std::regex kWait(R"(; retry after (1\.0|0\.[1-9]) s$)");
  std::string head = "rate limit exceeded for tool \"" + tool + "\": " + limit;
  return text.starts_with(head) && std::regex_match(text.substr(head.size()), kWait);
}

const RateLimit kOff{0, 0};
const RateLimit kOnePerSecondBurstTwo{1, 2};

TEST(ToolRateLimit, TheThirdCallInARowIsAToolErrorTheModelCanActOn) {
  InProcessServer server{limited(kOnePerSecondBurstTwo, kOff)};
  auto init = initialize(server.port());
  ASSERT_EQ(init.status, 200) << init.body;
  auto sid = init.header("Mcp-Session-Id");
  for (int id = 2; id <= 3; ++id) {
    auto r = post_mcp(server.port(), sid, call(id, kEcho, json::object{{"text", "hi"}}));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(tool_result(r.as_json()), std::make_pair(std::string("hi"), false));
  }
  auto r = post_mcp(server.port(), sid, call(4, kEcho, json::object{{"text", "hi"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  auto msg = r.as_json();
  EXPECT_FALSE(msg.as_object().contains("error")) << "a tool result, not a JSON-RPC error: " << r.body;
  auto [text, is_error] = tool_result(msg);
  EXPECT_TRUE(is_error);
  EXPECT_TRUE(is_refusal(text, "echo", "at most 1 calls per second (burst 2)")) << text;
  EXPECT_EQ(server.runs(kEcho), 2) << "the refused call did not run";
  EXPECT_EQ(sample(server.metrics, kToolSeries), "1");
  EXPECT_EQ(sample(server.metrics, kRequestSeries), "0");
}

TEST(ToolRateLimit, EachPrincipalAndToolHasItsOwnBucket) {
  InProcessServer server{limited(RateLimit{1, 1}, kOff)};
  const Fields alice{{"X-User", "alice"}}, bob{{"X-User", "bob"}};
  auto a = initialize(server.port(), alice).header("Mcp-Session-Id");
  auto b = initialize(server.port(), bob).header("Mcp-Session-Id");
  auto text_of = [&](const std::string& sid, std::int64_t id, const char* tool, const Fields& who) {
    auto r = post_mcp(server.port(), sid, call(id, tool), who);
    auto msgs = r.header("Content-Type") == "text/event-stream" ? r.sse_messages() : std::vector{r.as_json()};
    return msgs.empty() ? std::make_pair(std::string("<none>"), false) : tool_result(msgs.back());
  };
  EXPECT_FALSE(text_of(a, 2, kEcho, alice).second);
  EXPECT_TRUE(text_of(a, 3, kEcho, alice).second) << "alice's echo bucket is empty";
  EXPECT_FALSE(text_of(b, 4, kEcho, bob).second) << "bob has his own";
  EXPECT_FALSE(text_of(a, 5, kLogThenAnswer, alice).second) << "another tool, another bucket";
  // A second session of alice's shares her bucket: the key is the principal, not the session.
  auto a2 = initialize(server.port(), alice).header("Mcp-Session-Id");
  EXPECT_TRUE(text_of(a2, 6, kEcho, alice).second);
  EXPECT_EQ(sample(server.metrics, kToolSeries), "2");
}

// Without a principal each session has its own budget: anonymous clients of a server
// without authorization do not share one (a stateless anonymous request is keyed by its
// client's address: the next test).
TEST(ToolRateLimit, AnonymousSessionsHaveABucketEach) {
  InProcessServer server{limited(RateLimit{1, 1}, kOff)};
  auto first = initialize(server.port()).header("Mcp-Session-Id");
  auto second = initialize(server.port()).header("Mcp-Session-Id");
  auto refused = [&](const std::string& sid, std::int64_t id) {
    auto r = post_mcp(server.port(), sid, call(id, kEcho, json::object{{"text", "hi"}}));
    return tool_result(r.as_json()).second;
  };
  EXPECT_FALSE(refused(first, 2));
  EXPECT_TRUE(refused(first, 3)) << "the first session's bucket is empty";
  EXPECT_FALSE(refused(second, 4)) << "the second session has its own";
  EXPECT_EQ(server.runs(kEcho), 2);
}

// Anonymous stateless (MCP 2026-07-28) calls have no session: each client address has its own
// budget (behind a trusted proxy, from X-Forwarded-For), as for the request limit; one
// anonymous client cannot use up a tool for the others. A principal's calls share its budget
// wherever they come from.
TEST(ToolRateLimit, AnonymousStatelessCallsHaveABucketPerClientAddress) {
  auto setup = limited(RateLimit{1, 1}, kOff);
  setup.options.http.trusted_proxies = {"127.0.0.1"};
  InProcessServer server{std::move(setup)};
  auto refused = [&](std::int64_t id, Fields who) {
    json::object params{{"name", kEcho}, {"arguments", json::object{{"text", "hi"}}}, {"_meta", modern_meta()}};
    auto r = request(server.port(), verb::post, "/mcp", rpc(id, "tools/call", std::move(params)),
                     modern_fields("tools/call", kEcho, std::move(who)));
    EXPECT_EQ(r.status, 200) << r.body;
    return tool_result(r.as_json()).second;
  };
  auto from = [](const char* address) { return Fields{{"X-Forwarded-For", address}}; };
  EXPECT_FALSE(refused(1, from("198.51.100.1")));
  EXPECT_TRUE(refused(2, from("198.51.100.1"))) << "this client's echo bucket is empty";
  EXPECT_FALSE(refused(3, from("198.51.100.2"))) << "another client has its own";
  EXPECT_FALSE(refused(4, from("2001:db8:0:1::1")));
  EXPECT_TRUE(refused(5, from("2001:db8:0:1::2"))) << "an IPv6 client is its /64";
  EXPECT_FALSE(refused(6, {})) << "the proxy's own address is a client too";
  EXPECT_FALSE(refused(7, Fields{{"X-User", "carol"}, {"X-Forwarded-For", "198.51.100.1"}}));
  EXPECT_TRUE(refused(8, Fields{{"X-User", "carol"}, {"X-Forwarded-For", "198.51.100.2"}}))
      << "a principal's budget is the principal's, whatever the address";
  EXPECT_EQ(server.runs(kEcho), 5);
  EXPECT_EQ(sample(server.metrics, kToolSeries), "3");
}

TEST(ToolRateLimit, APerToolOverrideReplacesTheDefault) {
  auto setup = limited(kOff, kOff);  // no limit but for the override
  setup.options.tool_rates.emplace(kEcho, RateLimit{1, 1});
  InProcessServer server{std::move(setup)};
  auto sid = initialize(server.port()).header("Mcp-Session-Id");
  EXPECT_FALSE(tool_result(post_mcp(server.port(), sid, call(2, kEcho)).as_json()).second);
  auto refused = tool_result(post_mcp(server.port(), sid, call(3, kEcho)).as_json());
  EXPECT_TRUE(refused.second);
  EXPECT_TRUE(is_refusal(refused.first, "echo", "at most 1 calls per second (burst 1)")) << refused.first;
  for (int id = 4; id < 10; ++id) {
    auto r = post_mcp(server.port(), sid, call(id, kLogThenAnswer));
    auto msgs = r.sse_messages();
    ASSERT_FALSE(msgs.empty()) << r.body;
    EXPECT_FALSE(tool_result(msgs.back()).second) << "log_then_answer has no limit";
  }
}

TEST(RequestRateLimit, TheThirdRequestInARowIs429WithRetryAfterBeforeTheBodyIsRead) {
  InProcessServer server{limited(kOff, kOnePerSecondBurstTwo)};
  auto init = initialize(server.port());  // 1
  ASSERT_EQ(init.status, 200) << init.body;
  auto sid = init.header("Mcp-Session-Id");
  // The probes and /metrics are not counted.
  for (int i = 0; i < 5; ++i) ASSERT_EQ(request(server.port(), verb::get, "/healthz").status, 200);
  EXPECT_EQ(post_mcp(server.port(), sid, call(2, kEcho)).status, 200);  // 2
  // Not even JSON: refused before the body is parsed.
  auto r = post_mcp(server.port(), sid, "{not json");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.header("Retry-After"), "1");
  EXPECT_EQ(r.error_code(), -32000) << r.body;
  std::string message(r.as_json().at("error").at("message").as_string());
  EXPECT_TRUE(message.starts_with(
      "Too Many Requests: rate limit exceeded: at most 1 requests per second (burst 2) per client; retry after "))
      << message;
  // The legacy endpoints count too.
  EXPECT_EQ(request(server.port(), verb::get, "/sse", {}, Fields{{"Accept", "text/event-stream"}}).status, 429);
  EXPECT_EQ(server.runs(kEcho), 1);
  EXPECT_EQ(sample(server.metrics, kRequestSeries), "2");
  EXPECT_EQ(sample(server.metrics, kToolSeries), "0");
  EXPECT_EQ(sample(server.metrics, R"(frontmcp_http_responses_total{code="429"})"), "2");
}

TEST(RequestRateLimit, EachPrincipalHasItsOwnBucketAndAnonymousOnesShareTheirAddress) {
  InProcessServer server{limited(kOff, RateLimit{1, 1})};
  const Fields alice{{"X-User", "alice"}}, bob{{"X-User", "bob"}};
  EXPECT_EQ(initialize(server.port(), alice).status, 200);
  EXPECT_EQ(initialize(server.port(), alice).status, 429);
  EXPECT_EQ(initialize(server.port(), bob).status, 200);
  EXPECT_EQ(initialize(server.port()).status, 200) << "anonymous: keyed by 127.0.0.1";
  EXPECT_EQ(initialize(server.port()).status, 429) << "the same address";
  // A principal spelled like the address is not the address.
  EXPECT_EQ(initialize(server.port(), Fields{{"X-User", "127.0.0.1"}}).status, 200);
}

// X-Forwarded-For is read only from a trusted proxy (here the test client's 127.0.0.1), and
// then from the right: each forwarded client has its own bucket; a client that writes the
// header itself, to a server that trusts no proxy, keeps the bucket of its address.
TEST(RequestRateLimit, BehindATrustedProxyEachForwardedClientHasItsOwnBucket) {
  auto setup = limited(kOff, RateLimit{1, 1});
  setup.options.http.trusted_proxies = {"127.0.0.1"};
  InProcessServer proxied{setup};
  auto from = [](const char* forwarded) { return Fields{{"X-Forwarded-For", forwarded}}; };
  EXPECT_EQ(initialize(proxied.port(), from("198.51.100.1")).status, 200);
  EXPECT_EQ(initialize(proxied.port(), from("198.51.100.1")).status, 429);
  EXPECT_EQ(initialize(proxied.port(), from("198.51.100.2")).status, 200) << "another client";
  EXPECT_EQ(initialize(proxied.port(), from("203.0.113.5, 198.51.100.2")).status, 429)
      << "what the client wrote left of the proxy's entry is not read";
  EXPECT_EQ(initialize(proxied.port()).status, 200) << "no header: the proxy's own address";

  InProcessServer direct{limited(kOff, RateLimit{1, 1})};
  EXPECT_EQ(initialize(direct.port(), from("198.51.100.1")).status, 200);
  EXPECT_EQ(initialize(direct.port(), from("198.51.100.2")).status, 429) << "no trusted proxy: the header is ignored";
}

TEST(RequestRateLimit, ZeroTurnsBothLimitsOff) {
  InProcessServer server{limited(kOff, kOff)};
  EXPECT_EQ(server.site.request_limiter, nullptr);
  auto sid = initialize(server.port()).header("Mcp-Session-Id");
  for (int id = 2; id < 30; ++id) {
    auto r = post_mcp(server.port(), sid, call(id, kEcho));
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_FALSE(tool_result(r.as_json()).second) << r.body;
  }
  EXPECT_EQ(sample(server.metrics, kToolSeries), "0");
  EXPECT_EQ(sample(server.metrics, kRequestSeries), "0");
}

TEST(RateLimitDefaults, ANormalClientNeverMeetsThem) {
  ServerOptions o;
  EXPECT_EQ(o.tool_rate.per_second, 50);
  EXPECT_EQ(o.tool_rate.burst, 100u);
  EXPECT_EQ(o.http.request_rate.per_second, 200);
  EXPECT_EQ(o.http.request_rate.burst, 400u);
  InProcessServer server;
  auto sid = initialize(server.port()).header("Mcp-Session-Id");
  for (int id = 2; id < 60; ++id) {
    auto r = post_mcp(server.port(), sid, call(id, kEcho));
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_FALSE(tool_result(r.as_json()).second) << r.body;
  }
}

}  // namespace
