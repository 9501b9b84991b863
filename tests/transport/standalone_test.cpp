// Standalone mode (session::LocalDirectory): Streamable HTTP on /mcp and the legacy
// HTTP+SSE pair, served in-process and spoken to over loopback (harness.hpp).
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "harness.hpp"

namespace {

using namespace frontmcp;
using namespace frontmcp::test;
using bhttp::verb;

class Standalone : public ::testing::Test {
 protected:
  InProcessServer server;
  std::uint16_t port = server.port();

  /// A new initialized session's id.
  std::string open_session() {
    auto r = initialize(port);
    EXPECT_EQ(r.status, 200) << r.body;
    auto sid = r.header("Mcp-Session-Id");
    EXPECT_FALSE(sid.empty());
    return sid;
  }
};

/// The text of the first content item of a tools/call result message.
std::string result_text(const json::value& msg) {
  auto* r = msg.as_object().if_contains("result");
  if (!r) return "<no result: " + json::serialize(msg) + ">";
  return std::string(r->at("content").at(0).at("text").as_string());
}

bool is_method(const json::value& msg, std::string_view method) {
  auto* m = msg.as_object().if_contains("method");
  return m && m->is_string() && m->get_string() == method;
}

TEST_F(Standalone, InitializeAnswersWithASessionId) {
  auto r = initialize(port);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  auto sid = r.header("Mcp-Session-Id");
  ASSERT_FALSE(sid.empty());
  auto s = server.sessions.find(sid);
  ASSERT_NE(s, nullptr) << "the header names a session of the server";
  EXPECT_TRUE(s->initialized());
  EXPECT_EQ(r.as_json().at("result").at("protocolVersion"), json::value("2025-11-25"));
}

TEST_F(Standalone, PlainToolCallIsAnsweredAsJson) {
  auto sid = open_session();
  auto r = post_mcp(port, sid, call(2, kEcho, json::object{{"text", "hi"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  auto msg = r.as_json();
  EXPECT_EQ(msg.at("id"), json::value(2));
  EXPECT_EQ(result_text(msg), "hi");
  EXPECT_EQ(server.runs(kEcho), 1);
}

TEST_F(Standalone, CoroutineToolThatNotifiesIsAnsweredAsSseNotificationThenResponse) {
  auto sid = open_session();
  auto r = post_mcp(port, sid, call(3, kLogThenAnswer));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "text/event-stream");
  auto msgs = r.sse_messages();
  ASSERT_EQ(msgs.size(), 2u) << r.body;
  EXPECT_TRUE(is_method(msgs[0], "notifications/message")) << msgs[0];
  EXPECT_EQ(msgs[1].at("id"), json::value(3));
  EXPECT_EQ(result_text(msgs[1]), "logged");
  EXPECT_EQ(server.runs(kLogThenAnswer), 1);
}

// The inline path (a plain function) collects what the handler sent: the same answer.
TEST_F(Standalone, PlainToolThatNotifiesIsAnsweredAsSseNotificationThenResponse) {
  auto sid = open_session();
  auto r = post_mcp(port, sid, call(4, kEcho, json::object{{"text", "x"}, {"log", true}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "text/event-stream");
  auto msgs = r.sse_messages();
  ASSERT_EQ(msgs.size(), 2u) << r.body;
  EXPECT_TRUE(is_method(msgs[0], "notifications/message")) << msgs[0];
  EXPECT_EQ(msgs[1].at("id"), json::value(4));
  EXPECT_EQ(result_text(msgs[1]), "x");
}

TEST_F(Standalone, NotificationOnlyPostIsAccepted) {
  auto sid = open_session();
  auto r = post_mcp(port, sid, notification("notifications/initialized"));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(r.body.empty()) << r.body;
}

TEST_F(Standalone, UnknownSessionIsNotFound) {
  open_session();
  auto r = post_mcp(port, "no-such-session", call(2, kEcho));
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.error_code(), -32001) << r.body;
  EXPECT_EQ(server.runs(kEcho), 0);
}

TEST_F(Standalone, MissingSessionIdIsABadRequest) {
  open_session();
  auto r = post_mcp(port, "", call(2, kEcho));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("Mcp-Session-Id header is required"), std::string::npos) << r.body;
  EXPECT_EQ(server.runs(kEcho), 0);
}

TEST_F(Standalone, DeleteEndsTheSessionOnce) {
  auto sid = open_session();
  Fields f{{"Mcp-Session-Id", sid}};
  auto first = request(port, verb::delete_, "/mcp", {}, f);
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(server.sessions.find(sid), nullptr);
  auto again = request(port, verb::delete_, "/mcp", {}, f);
  EXPECT_EQ(again.status, 404) << again.body;
  EXPECT_EQ(again.error_code(), -32001) << again.body;
  auto after = post_mcp(port, sid, call(2, kEcho));
  EXPECT_EQ(after.status, 404) << after.body;
}

TEST_F(Standalone, GetOpensTheStandaloneStream) {
  auto sid = open_session();
  Connection c(port);
  ASSERT_TRUE(c.send(verb::get, "/mcp", {}, Fields{{"Accept", "text/event-stream"}, {"Mcp-Session-Id", sid}}));
  auto head = c.read_head();
  ASSERT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Type"), "text/event-stream");
  // The head is written once the stream has its writer: this connection.
  EXPECT_TRUE(server.sessions.find(sid)->standalone()->attached());
  c.close();
}

TEST_F(Standalone, GetWithoutSessionIsABadRequest) {
  auto r = request(port, verb::get, "/mcp", {}, Fields{{"Accept", "text/event-stream"}});
  EXPECT_EQ(r.status, 400) << r.body;
}

/// The sessionId of a legacy stream's endpoint event ("" when it is not there).
std::string endpoint_session(const std::string& stream_body) {
  constexpr std::string_view kData = "data: /message?sessionId=";
  if (stream_body.find("event: endpoint") == std::string::npos) return {};
  auto at = stream_body.find(kData);
  if (at == std::string::npos) return {};
  auto from = at + kData.size();
  return stream_body.substr(from, stream_body.find('\n', from) - from);
}

TEST_F(Standalone, LegacyStreamAnnouncesItsEndpointAndCarriesTheAnswers) {
  Connection sse(port);
  ASSERT_TRUE(sse.send(verb::get, "/sse", {}, Fields{{"Accept", "text/event-stream"}}));
  auto head = sse.read_head();
  ASSERT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Type"), "text/event-stream");
  auto sid = endpoint_session(sse.read_until("\n\n"));
  ASSERT_FALSE(sid.empty());
  auto s = server.sessions.find(sid);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->transport(), session::TransportKind::legacy_sse);

  const std::string target = "/message?sessionId=" + sid;
  const Fields json_ct{{"Content-Type", "application/json"}};
  json::object init{{"protocolVersion", "2024-11-05"},
                    {"capabilities", json::object{}},
                    {"clientInfo", json::object{{"name", "legacy"}, {"version", "1"}}}};
  auto r1 = request(port, verb::post, target, rpc(1, "initialize", std::move(init)), json_ct);
  EXPECT_EQ(r1.status, 202) << r1.body;
  auto r2 = request(port, verb::post, target, call(2, kEcho, json::object{{"text", "on the stream"}}), json_ct);
  EXPECT_EQ(r2.status, 202) << r2.body;

  auto body = sse.read_until("\"id\":2");
  ASSERT_FALSE(body.empty()) << "no answer to id 2 on the stream";
  Response stream{200, {}, body};
  std::vector<json::value> answers;
  for (auto& m : stream.sse_messages()) {
    if (m.as_object().contains("id")) answers.push_back(std::move(m));
  }
  ASSERT_EQ(answers.size(), 2u) << body;
  EXPECT_EQ(answers[0].at("id"), json::value(1));
  EXPECT_TRUE(answers[0].as_object().contains("result")) << answers[0];
  EXPECT_EQ(answers[1].at("id"), json::value(2));
  EXPECT_EQ(result_text(answers[1]), "on the stream");
  sse.close();
}

TEST_F(Standalone, LegacyMessageForAnUnknownSessionIsNotFound) {
  auto r = request(port, verb::post, "/message?sessionId=nope", call(2, kEcho),
                   Fields{{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.error_code(), -32001) << r.body;
}

/// JSON response mode: the POST gets only its response; what the handler sent besides it
/// goes to the session's GET stream.
class JsonMode : public ::testing::Test {
 protected:
  static ServerSetup json_mode() {
    ServerSetup s;
    s.options.response_mode = ResponseMode::json;
    return s;
  }
  InProcessServer server{json_mode()};
  std::uint16_t port = server.port();
};

TEST_F(JsonMode, NotificationsOfARequestGoToTheOpenGetStream) {
  auto sid = initialize(port).header("Mcp-Session-Id");
  ASSERT_FALSE(sid.empty());
  Connection get(port);
  ASSERT_TRUE(get.send(verb::get, "/mcp", {}, Fields{{"Accept", "text/event-stream"}, {"Mcp-Session-Id", sid}}));
  ASSERT_EQ(get.read_head().status, 200);

  auto r = post_mcp(port, sid, call(2, kLogThenAnswer));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.as_json().at("id"), json::value(2));
  EXPECT_EQ(r.body.find("notifications/message"), std::string::npos) << r.body;

  auto stream = get.read_until("notifications/message");
  ASSERT_FALSE(stream.empty()) << "the notification did not reach the GET stream";
  EXPECT_EQ(stream.find("\"id\":2"), std::string::npos) << "the response belongs to the POST: " << stream;
  get.close();
}

/// Sessions belong to the principal whose request created them (HttpOptions::authorize;
/// here the X-User header names it): another principal is answered as for an unknown
/// session, and cannot end it.
class Principals : public ::testing::Test {
 protected:
  static ServerSetup with_users() {
    ServerSetup s;
    s.options.http.authorize = [](const AuthRequest& r) {
      return AuthDecision::allow(std::string(r.header("X-User")));
    };
    return s;
  }
  InProcessServer server{with_users()};
  std::uint16_t port = server.port();
};

TEST_F(Principals, AnotherPrincipalsSessionIsNotFound) {
  const Fields alice{{"X-User", "alice"}}, mallory{{"X-User", "mallory"}};
  auto init = initialize(port, alice);
  ASSERT_EQ(init.status, 200) << init.body;
  auto sid = init.header("Mcp-Session-Id");
  EXPECT_EQ(post_mcp(port, sid, call(2, kEcho), alice).status, 200);

  auto post = post_mcp(port, sid, call(3, kEcho), mallory);
  EXPECT_EQ(post.status, 404) << post.body;
  EXPECT_EQ(post.error_code(), -32001) << post.body;
  auto get = request(port, verb::get, "/mcp", {},
                     Fields{{"Accept", "text/event-stream"}, {"Mcp-Session-Id", sid}, mallory[0]});
  EXPECT_EQ(get.status, 404) << get.body;
  auto del = request(port, verb::delete_, "/mcp", {}, Fields{{"Mcp-Session-Id", sid}, mallory[0]});
  EXPECT_EQ(del.status, 404) << del.body;
  EXPECT_NE(server.sessions.find(sid), nullptr) << "still alice's";
  EXPECT_EQ(server.runs(kEcho), 1) << "only alice's call ran";
}

}  // namespace
