// MCP 2026-07-28 (the stateless generation) on /mcp beside the session generation:
// served without a session, in-process over loopback (harness.hpp).
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "harness.hpp"

namespace {

using namespace frontmcp;
using namespace frontmcp::test;
using bhttp::verb;

const char* const kServerInfoKey = "io.modelcontextprotocol/serverInfo";

json::object envelope(json::object more = {}) {
  return modern_meta(std::move(more));
}

Response post_modern(std::uint16_t port, std::int64_t id, std::string_view method, json::object params = {},
                     std::string name = {}, json::object meta = envelope()) {
  params["_meta"] = std::move(meta);
  return request(port, verb::post, "/mcp", rpc(id, method, std::move(params)), modern_fields(method, std::move(name)));
}

void expect_complete(const json::value& result) {
  EXPECT_EQ(result.at("resultType"), json::value("complete")) << result;
  EXPECT_TRUE(result.at("_meta").at(kServerInfoKey).as_object().contains("name")) << result;
  EXPECT_TRUE(result.at("_meta").at(kServerInfoKey).as_object().contains("version")) << result;
}

class Modern : public ::testing::Test {
 protected:
  InProcessServer server;
  std::uint16_t port = server.port();
};

TEST_F(Modern, DiscoverAnswersWithoutASession) {
  auto r = post_modern(port, 1, "server/discover");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_FALSE(r.has_header("Mcp-Session-Id"));
  auto msg = r.as_json();
  EXPECT_EQ(msg.at("id"), json::value(1));
  const auto& result = msg.at("result");
  expect_complete(result);
  EXPECT_EQ(json::serialize(result.at("supportedVersions")), R"(["2026-07-28"])");
  EXPECT_TRUE(result.at("capabilities").as_object().contains("tools"));
  EXPECT_EQ(result.at("ttlMs"), json::value(0));
  EXPECT_EQ(result.at("cacheScope"), json::value("public"));
  EXPECT_EQ(server.sessions.size(), 0u) << "a modern request makes no session";
}

TEST_F(Modern, ToolsListAndCallAreDecorated) {
  auto list = post_modern(port, 2, "tools/list");
  ASSERT_EQ(list.status, 200) << list.body;
  auto lmsg = list.as_json();
  const auto& lr = lmsg.at("result");
  expect_complete(lr);
  EXPECT_EQ(lr.at("ttlMs"), json::value(0));
  EXPECT_EQ(lr.at("tools").at(0).at("name"), json::value(kEcho));  // registration order
  json::object params{{"name", kEcho}, {"arguments", json::object{{"text", "hi"}}}};
  auto call = post_modern(port, 3, "tools/call", params, kEcho);
  ASSERT_EQ(call.status, 200) << call.body;
  auto cmsg = call.as_json();
  const auto& cr = cmsg.at("result");
  expect_complete(cr);
  EXPECT_FALSE(cr.as_object().contains("ttlMs"));
  EXPECT_EQ(cr.at("content").at(0).at("text"), json::value("hi"));
  EXPECT_EQ(server.runs(kEcho), 1);
}

TEST_F(Modern, SessionIdHeaderIsIgnored) {
  Fields f = modern_fields("tools/list");
  f.emplace_back("Mcp-Session-Id", "no-such-session");
  json::object params{{"_meta", envelope()}};
  auto r = request(port, verb::post, "/mcp", rpc(4, "tools/list", params), f);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.has_header("Mcp-Session-Id"));
}

// Field names are case-insensitive (RFC 9110): the standard headers are found whatever
// their case, and a header of another name with the same length is not taken for one.
TEST_F(Modern, StandardHeadersAreFoundInAnyCase) {
  json::object params{{"name", kEcho}, {"arguments", json::object{{"text", "hi"}}}, {"_meta", envelope()}};
  Fields f =
      mcp_fields("", {{"mcp-PROTOCOL-version", "2026-07-28"}, {"MCP-METHOD", "tools/call"}, {"mcp-name", kEcho}});
  auto r = request(port, verb::post, "/mcp", rpc(5, "tools/call", params), f);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.as_json().at("result").at("content").at(0).at("text"), json::value("hi"));
  // Same lengths as Mcp-Method and Mcp-Name, other names: the real ones are missing.
  Fields lookalikes =
      mcp_fields("", {{"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Methox", "tools/call"}, {"Mcp-Namf", kEcho}});
  auto refused = request(port, verb::post, "/mcp", rpc(6, "tools/call", params), lookalikes);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(refused.error_code(), -32020) << refused.body;
}

TEST_F(Modern, RefusalsEchoTheIdWithTheirStatus) {
  // No _meta (conformance id 101).
  auto r = request(port, verb::post, "/mcp", rpc(101, "server/discover"), modern_fields("server/discover"));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.error_code(), -32602);
  EXPECT_EQ(r.as_json().at("id"), json::value(101));
  // A removed method (conformance id 500).
  auto ping = post_modern(port, 500, "ping");
  EXPECT_EQ(ping.status, 404) << ping.body;
  EXPECT_EQ(ping.error_code(), -32601);
  EXPECT_EQ(ping.as_json().at("id"), json::value(500));
  // Mcp-Name that does not match.
  json::object params{{"name", kEcho}};
  auto name = post_modern(port, 5, "tools/call", params, "other");
  EXPECT_EQ(name.status, 400) << name.body;
  EXPECT_EQ(name.error_code(), -32020);
  // A modern initialize is not the session handshake.
  auto init = post_modern(port, 6, "initialize");
  EXPECT_EQ(init.status, 404) << init.body;
  EXPECT_EQ(server.sessions.size(), 0u);
}

TEST_F(Modern, BatchWithAModernElementIsRefused) {
  json::object params{{"_meta", envelope()}};
  std::string body = "[" + rpc(1, "tools/list", params) + "," + rpc(2, "tools/list") + "]";
  auto r = request(port, verb::post, "/mcp", body, mcp_fields(""));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.error_code(), -32600);
}

TEST_F(Modern, MissingResourceIsInvalidParamsWithItsUri) {
  json::object params{{"uri", "test://missing"}};
  auto r = post_modern(port, 7, "resources/read", params, "test://missing");
  ASSERT_EQ(r.status, 200) << r.body;
  auto msg = r.as_json();
  EXPECT_EQ(msg.at("error").at("code"), json::value(-32602)) << msg;
  EXPECT_EQ(msg.at("error").at("data").at("uri"), json::value("test://missing"));
}

TEST_F(Modern, NotificationIsAccepted) {
  json::object params{{"_meta", envelope()}};
  auto r = request(port, verb::post, "/mcp", notification("notifications/initialized", params),
                   modern_fields("notifications/initialized"));
  EXPECT_EQ(r.status, 202) << r.body;
}

TEST_F(Modern, LogMessagesOnlyWithALogLevel) {
  json::object params{{"name", kLogThenAnswer}};
  // No logLevel in _meta: no notifications/message, a plain JSON answer.
  auto quiet = post_modern(port, 8, "tools/call", params, kLogThenAnswer);
  ASSERT_EQ(quiet.status, 200) << quiet.body;
  EXPECT_EQ(quiet.header("Content-Type"), "application/json");
  expect_complete(quiet.as_json().at("result"));
  // A level above the message's: still none.
  auto above = post_modern(port, 9, "tools/call", params, kLogThenAnswer,
                           envelope(json::object{{"io.modelcontextprotocol/logLevel", "error"}}));
  EXPECT_EQ(above.header("Content-Type"), "application/json") << above.body;
  // At the message's level: SSE with the notification, then the decorated result; no event
  // ids and no priming event.
  auto loud = post_modern(port, 10, "tools/call", params, kLogThenAnswer,
                          envelope(json::object{{"io.modelcontextprotocol/logLevel", "info"}}));
  ASSERT_EQ(loud.status, 200) << loud.body;
  EXPECT_EQ(loud.header("Content-Type"), "text/event-stream");
  EXPECT_EQ(loud.body.find("id:"), std::string::npos) << loud.body;
  auto msgs = loud.sse_messages();
  ASSERT_EQ(msgs.size(), 2u) << loud.body;
  EXPECT_EQ(msgs[0].at("method"), json::value("notifications/message"));
  EXPECT_EQ(msgs[1].at("id"), json::value(10));
  expect_complete(msgs[1].at("result"));
  EXPECT_FALSE(loud.has_header("Mcp-Session-Id"));
}

TEST_F(Modern, MissingClientCapabilityIsHttp400WithMinus32021) {
  json::object params{{"name", kAskModel}};
  auto r = post_modern(port, 41, "tools/call", params, kAskModel);  // clientCapabilities: {}
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_EQ(r.error_code(), -32021);
  auto v = r.as_json();
  EXPECT_EQ(v.at("id"), 41);
  EXPECT_TRUE(v.at("error").at("data").at("requiredCapabilities").at("sampling").is_object()) << r.body;
}

TEST_F(Modern, InputRequiredRoundThenRetryCompletes) {
  json::object caps{{"io.modelcontextprotocol/clientCapabilities", json::object{{"sampling", json::object{}}}}};
  json::object params{{"name", kAskModel}};
  auto r1 = post_modern(port, 1, "tools/call", params, kAskModel, envelope(caps));
  ASSERT_EQ(r1.status, 200u) << r1.body;
  auto res1 = r1.as_json().at("result");
  EXPECT_EQ(res1.at("resultType"), "input_required") << r1.body;
  EXPECT_EQ(res1.at("inputRequests").at("answer").at("method"), "sampling/createMessage");
  EXPECT_TRUE(r1.header("Mcp-Session-Id").empty());

  json::object retry{{"name", kAskModel},
                     {"inputResponses",
                      json::object{{"answer", json::object{{"role", "assistant"},
                                                           {"content", json::object{{"type", "text"}, {"text", "hi"}}},
                                                           {"model", "m"}}}}},
                     {"requestState", res1.at("requestState")}};
  auto r2 = post_modern(port, 2, "tools/call", retry, kAskModel, envelope(caps));
  ASSERT_EQ(r2.status, 200u) << r2.body;
  auto res2 = r2.as_json().at("result");
  expect_complete(res2);
  EXPECT_EQ(res2.at("content").at(0).at("text"), R"(model said: {"type":"text","text":"hi"})");

  retry["requestState"] = std::string(res1.at("requestState").as_string()) + "-TAMPERED";
  auto r3 = post_modern(port, 3, "tools/call", retry, kAskModel, envelope(caps));
  EXPECT_EQ(r3.status, 200u) << "an in-band error";
  EXPECT_EQ(r3.error_code(), -32602) << r3.body;
}

/// A tool whose "region" argument is mirrored into Mcp-Param-Region (x-mcp-header).
constexpr const char* kRegionTool = "regional";
void add_region_tool(registry::Registry& registry) {
  Tool t;
  t.name = kRegionTool;
  t.input_schema = json::object{
      {"type", "object"},
      {"properties", json::object{{"region", json::object{{"type", "string"}, {"x-mcp-header", "Region"}}}}}};
  t.handler = [](Context&, const json::object& args) -> Result<ToolResult> {
    auto r = args.if_contains("region");
    return ToolResult::text(r && r->is_string() ? std::string(r->get_string()) : std::string("<none>"));
  };
  registry.add_tool(std::move(t));
}

Response call_region(std::uint16_t port, std::int64_t id, json::object args, Fields more = {}) {
  json::object params{{"name", kRegionTool}, {"arguments", std::move(args)}, {"_meta", envelope()}};
  Fields f = modern_fields("tools/call", kRegionTool);
  for (auto& m : more) f.push_back(std::move(m));
  return request(port, verb::post, "/mcp", rpc(id, "tools/call", std::move(params)), f);
}

TEST_F(Modern, McpParamHeaderMustMirrorTheArgument) {
  add_region_tool(server.registry);
  // Missing while the body carries the argument: 400 -32020, the id echoed.
  auto missing = call_region(port, 11, json::object{{"region", "us-west1"}});
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_EQ(missing.error_code(), -32020);
  EXPECT_EQ(missing.as_json().at("id"), json::value(11));
  // Different: refused; equal (header names are case-insensitive): served.
  auto other = call_region(port, 12, json::object{{"region", "us-west1"}}, {{"Mcp-Param-Region", "eu-west1"}});
  EXPECT_EQ(other.status, 400) << other.body;
  EXPECT_EQ(other.error_code(), -32020);
  auto ok = call_region(port, 13, json::object{{"region", "us-west1"}}, {{"mcp-param-region", "us-west1"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.as_json().at("result").at("content").at(0).at("text"), json::value("us-west1"));
  // Base64-encoded (conformance: "Hello"), and absent argument without a header.
  auto b64 = call_region(port, 14, json::object{{"region", "Hello"}}, {{"Mcp-Param-Region", "=?base64?SGVsbG8=?="}});
  EXPECT_EQ(b64.status, 200) << b64.body;
  auto absent = call_region(port, 15, json::object{});
  ASSERT_EQ(absent.status, 200) << absent.body;
  EXPECT_EQ(absent.as_json().at("result").at("content").at(0).at("text"), json::value("<none>"));
  auto bad = call_region(port, 16, json::object{{"region", "Hello"}}, {{"Mcp-Param-Region", "=?base64?SGVsbG8?="}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(bad.error_code(), -32020);
  // The session generation never asks for these headers.
  auto init = initialize(port);
  auto sid = init.header("Mcp-Session-Id");
  ASSERT_FALSE(sid.empty()) << init.body;
  json::object args{{"region", "us-west1"}};
  auto r = post_mcp(port, sid, call(2, kRegionTool, args));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.as_json().at("result").at("content").at(0).at("text"), json::value("us-west1"));
}

TEST_F(Modern, SessionGenerationStillWorksBesideIt) {
  auto init = initialize(port);
  ASSERT_EQ(init.status, 200) << init.body;
  auto sid = init.header("Mcp-Session-Id");
  ASSERT_FALSE(sid.empty());
  auto r = post_mcp(port, sid, rpc(2, "tools/list"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.as_json().at("result").as_object().contains("resultType"));
  // server/discover is not a method of the session generation.
  auto d = post_mcp(port, sid, rpc(3, "server/discover"));
  EXPECT_EQ(d.as_json().at("error").at("code"), json::value(-32601)) << d.body;
}

}  // namespace

namespace {

/// A server that lets the browser origin kApp call it.
constexpr const char* kApp = "http://app.example.com";
ServerSetup cors_setup() {
  ServerSetup s;
  s.options.http.cors_allowed_origins = {kApp};
  s.options.http.allowed_origins = {kApp};
  return s;
}

TEST(ModernCors, PreflightAllowsTheModernHeaders) {
  InProcessServer server(cors_setup());
  Fields f{{"Origin", kApp},
           {"Access-Control-Request-Method", "POST"},
           {"Access-Control-Request-Headers", "content-type, mcp-method, mcp-name"}};
  auto r = request(server.port(), verb::options, "/mcp", {}, f);
  ASSERT_EQ(r.status, 204) << r.body;
  auto allowed = r.header("Access-Control-Allow-Headers");
  for (const char* h : {"Mcp-Method", "Mcp-Name", "MCP-Protocol-Version", "Mcp-Session-Id"}) {
    EXPECT_NE(allowed.find(h), std::string::npos) << h << " in " << allowed;
  }
}

TEST(ModernCors, PreflightAllowsTheRequestedMcpParamHeadersOnly) {
  InProcessServer server(cors_setup());
  Fields f{{"Origin", kApp},
           {"Access-Control-Request-Method", "POST"},
           {"Access-Control-Request-Headers",
            "content-type,mcp-method, mcp-param-region ,Mcp-Param-Tenant-Id, x-other, "
            "mcp-param-, mcp-param-a b"}};
  auto r = request(server.port(), verb::options, "/mcp", {}, f);
  ASSERT_EQ(r.status, 204) << r.body;
  auto allowed = r.header("Access-Control-Allow-Headers");
  EXPECT_NE(allowed.find(", mcp-param-region"), std::string::npos) << allowed;
  EXPECT_NE(allowed.find(", Mcp-Param-Tenant-Id"), std::string::npos) << allowed;
  EXPECT_NE(allowed.find("Mcp-Method"), std::string::npos) << allowed;
  EXPECT_EQ(allowed.find("x-other"), std::string::npos) << "only Mcp-Param-* is added: " << allowed;
  EXPECT_EQ(allowed.find("mcp-param-,"), std::string::npos) << allowed;
  EXPECT_EQ(allowed.find("mcp-param-a"), std::string::npos) << allowed;
}

}  // namespace
