// The transports take every session decision from the SessionDirectory seam: a fake
// directory (a LocalDirectory with decisions injected, and a record of the calls) stands
// for a shared one, and each test checks that the HTTP answer follows what it decided.
#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <mutex>

#include "harness.hpp"

namespace {

using namespace frontmcp;
using namespace frontmcp::test;
using bhttp::verb;
using session::Failure;
using session::Fault;
using session::HeaderField;

/// What the fake decides (the rest is LocalDirectory's answer).
struct Decisions {
  std::optional<Failure> resolve_failure;
  std::vector<HeaderField> resolve_headers;
  std::optional<Failure> create_failure;
  std::vector<HeaderField> create_headers;
  std::optional<Failure> commit_failure;
  bool holds_stream = true;
  bool acquire_finds_nothing = false;  // acquire_stream: Found{nullptr} (not moved in time)
  bool legacy_here = true;
  std::optional<Failure> forward_failure;
};

class FakeDirectory final : public session::SessionDirectory {
 public:
  FakeDirectory(session::SessionManager& sessions, std::vector<HeaderField> every_response, bool serves_while_draining)
      : local_(sessions), every_response_(std::move(every_response)), serves_while_draining_(serves_while_draining) {}

  /// Changes the decisions (from the test thread, while the server runs).
  void decide(const std::function<void(Decisions&)>& change) {
    std::lock_guard lock(mu_);
    change(decisions_);
  }

  // What the transports asked (read by the test after the response).
  std::atomic<int> resolves{0}, creates{0}, commits{0}, acquires{0}, legacy_routes{0};
  std::vector<std::pair<std::string, std::string>> forwarded() const {
    std::lock_guard lock(mu_);
    return forwarded_;
  }

  Task<session::Outcome<session::Found>> resolve(std::string_view session_id, session::Asker asker) override {
    ++resolves;
    auto d = decisions();
    if (d.resolve_failure) co_return *d.resolve_failure;
    auto found = co_await local_.resolve(session_id, asker);
    if (found && found->session) found->headers = d.resolve_headers;
    co_return found;
  }
  /// Answers without I/O unless a failure is injected (then resolve() gives it), like a
  /// shared directory that serves sessions it owns from memory and asks the store otherwise.
  std::optional<session::Found> resolve_now(std::string_view session_id, session::Asker asker) override {
    auto d = decisions();
    if (d.resolve_failure) return std::nullopt;
    ++resolves;
    auto found = local_.resolve_now(session_id, asker);
    if (found && found->session) found->headers = d.resolve_headers;
    return found;
  }
  bool needs_commit(const session::Session&) const override { return true; }  // commit() decides
  Task<session::Outcome<std::vector<HeaderField>>> create(std::shared_ptr<session::Session> s,
                                                          session::Asker asker) override {
    ++creates;
    auto d = decisions();
    if (d.create_failure) co_return *d.create_failure;
    auto local = co_await local_.create(std::move(s), asker);
    if (!local) co_return std::move(local).error();
    co_return d.create_headers;
  }
  Task<session::Done> commit(std::shared_ptr<session::Session> s) override {
    ++commits;
    auto d = decisions();
    if (d.commit_failure) co_return *d.commit_failure;
    co_return co_await local_.commit(std::move(s));
  }
  Task<session::Outcome<bool>> remove(std::string session_id) override {
    co_return co_await local_.remove(std::move(session_id));
  }
  bool holds_stream(const session::Session&) const override { return decisions().holds_stream; }
  Task<session::Outcome<session::Found>> acquire_stream(std::shared_ptr<session::Session> s,
                                                        session::Asker asker) override {
    ++acquires;
    if (decisions().acquire_finds_nothing) co_return session::Found{nullptr, {}};
    co_return co_await local_.acquire_stream(std::move(s), asker);
  }
  Task<session::Outcome<std::vector<session::StoredEvent>>> read_stream(std::string key, std::uint64_t after) override {
    co_return co_await local_.read_stream(std::move(key), after);
  }
  Task<session::Outcome<int>> stream_writer_alive(std::string key) override {
    co_return co_await local_.stream_writer_alive(std::move(key));
  }
  bool shares_streams() const noexcept override { return false; }
  Task<session::Outcome<LegacyRoute>> route_legacy(std::string session_id) override {
    ++legacy_routes;
    auto route = co_await local_.route_legacy(std::move(session_id));
    if (route) route->here = decisions().legacy_here;
    co_return route;
  }
  Task<session::Done> forward_legacy(std::string session_id, std::string body) override {
    std::lock_guard lock(mu_);
    forwarded_.emplace_back(std::move(session_id), std::move(body));
    if (decisions_.forward_failure) co_return *decisions_.forward_failure;
    co_return Ok{};
  }
  const std::vector<HeaderField>& response_headers() const noexcept override { return every_response_; }
  bool serves_while_draining() const noexcept override { return serves_while_draining_; }

 private:
  Decisions decisions() const {
    std::lock_guard lock(mu_);
    return decisions_;
  }

  session::LocalDirectory local_;
  const std::vector<HeaderField> every_response_;
  const bool serves_while_draining_;
  mutable std::mutex mu_;
  Decisions decisions_;
  std::vector<std::pair<std::string, std::string>> forwarded_;
};

/// Records what is sent to a session's standalone stream through the bus and does not
/// deliver it (a test can tell the bus from the local stream); the rest is local.
class RecordingBus final : public session::MessageBus {
 public:
  explicit RecordingBus(session::SessionManager& sessions) : local_(sessions) {}
  bool to_session(const std::string& session_id, const json::value& msg) override {
    std::lock_guard lock(mu_);
    sent_.emplace_back(session_id, msg);
    return true;
  }
  void to_subscribers(std::string_view uri, const json::value& msg) override { local_.to_subscribers(uri, msg); }
  void to_all(const json::value& msg) override { local_.to_all(msg); }
  bool client_response(const std::string& session_id, const std::string& request_id,
                       Result<json::value> answer) override {
    return local_.client_response(session_id, request_id, std::move(answer));
  }
  std::vector<std::pair<std::string, json::value>> sent() const {
    std::lock_guard lock(mu_);
    return sent_;
  }

 private:
  session::LocalMessageBus local_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, json::value>> sent_;
};

struct Config {
  ResponseMode mode = ResponseMode::automatic;
  std::vector<HeaderField> every_response = {};
  bool serves_while_draining = false;
};

class Seam : public ::testing::Test {
 protected:
  FakeDirectory* fake = nullptr;
  RecordingBus* bus = nullptr;
  std::unique_ptr<InProcessServer> server;
  std::uint16_t port = 0;

  /// Starts the server on the fake directory and the recording bus.
  void start(Config c = {}) {
    ServerSetup s;
    s.options.response_mode = c.mode;
    s.directory = [this, c](session::SessionManager& m) {
      auto d = std::make_unique<FakeDirectory>(m, c.every_response, c.serves_while_draining);
      fake = d.get();
      return d;
    };
    s.bus = [this](session::SessionManager& m) {
      auto b = std::make_unique<RecordingBus>(m);
      bus = b.get();
      return b;
    };
    server = std::make_unique<InProcessServer>(std::move(s));
    port = server->port();
  }

  std::string open_session() {
    auto r = initialize(port);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.header("Mcp-Session-Id");
  }
};

bool is_method(const json::value& msg, std::string_view method) {
  auto* m = msg.as_object().if_contains("method");
  return m && m->is_string() && m->get_string() == method;
}

// Every retryable fault: the client is told to retry (503 + Retry-After, -32000).
TEST_F(Seam, RetryableResolveFailuresAreServiceUnavailableWithRetryAfter) {
  start();
  auto sid = open_session();
  for (auto fault : {Fault::unavailable, Fault::conflict, Fault::stale}) {
    fake->decide([fault](Decisions& d) { d.resolve_failure = Failure{fault, "store says no"}; });
    auto r = post_mcp(port, sid, call(2, kEcho));
    EXPECT_EQ(r.status, 503) << session::to_string(fault) << ": " << r.body;
    EXPECT_EQ(r.header("Retry-After"), "1") << session::to_string(fault);
    EXPECT_EQ(r.error_code(), -32000) << r.body;
    EXPECT_NE(r.body.find("store says no"), std::string::npos) << r.body;
  }
  EXPECT_GE(fake->resolves.load(), 3);
  EXPECT_EQ(server->runs(kEcho), 0);
}

TEST_F(Seam, ResolveNotFoundIsNotFoundWithoutRetryAfter) {
  start();
  auto sid = open_session();  // it exists in this process: only the directory says otherwise
  fake->decide([](Decisions& d) { d.resolve_failure = Failure{Fault::not_found, "Session not found"}; });
  auto r = post_mcp(port, sid, call(2, kEcho));
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(r.error_code(), -32001) << r.body;
  EXPECT_FALSE(r.has_header("Retry-After"));
  EXPECT_EQ(server->runs(kEcho), 0);
}

TEST_F(Seam, HeadersOfAResolvedSessionAreOnTheResponse) {
  start();
  auto sid = open_session();
  fake->decide([](Decisions& d) { d.resolve_headers = {{"Set-Cookie", "frontmcp-node=node-b; Path=/"}}; });
  auto r = post_mcp(port, sid, call(2, kEcho, json::object{{"text", "t"}}));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Set-Cookie"), "frontmcp-node=node-b; Path=/");
  EXPECT_EQ(server->runs(kEcho), 1);
}

TEST_F(Seam, HeadersOfCreateAreOnTheInitializeResponse) {
  start();
  fake->decide([](Decisions& d) { d.create_headers = {{"Set-Cookie", "frontmcp-node=node-a; Path=/"}}; });
  auto r = initialize(port);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Set-Cookie"), "frontmcp-node=node-a; Path=/");
  EXPECT_FALSE(r.header("Mcp-Session-Id").empty());
  EXPECT_EQ(fake->creates.load(), 1);
}

TEST_F(Seam, CreateFailureRefusesInitializeAndForgetsTheSession) {
  start();
  fake->decide([](Decisions& d) { d.create_failure = Failure{Fault::unavailable, "store unreachable"}; });
  auto r = initialize(port);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.header("Retry-After"), "1");
  EXPECT_FALSE(r.has_header("Mcp-Session-Id"));
  EXPECT_EQ(fake->creates.load(), 1);
  EXPECT_TRUE(server->sessions.all().empty());
}

// The inline path: no status went out yet, so the failure to store is answered as HTTP.
TEST_F(Seam, CommitFailureOfAnInlineCallIsServiceUnavailableAfterOneRun) {
  start();
  auto sid = open_session();
  fake->decide([](Decisions& d) { d.commit_failure = Failure{Fault::stale, "session moved"}; });
  auto r = post_mcp(port, sid, call(2, kEcho));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.header("Retry-After"), "1");
  EXPECT_EQ(r.error_code(), -32000) << r.body;
  EXPECT_EQ(server->runs(kEcho), 1) << "the handler ran once, its response was withheld";
  EXPECT_EQ(fake->commits.load(), 1);
}

// A spawned request answers on its stream (status 200 went out): a JSON-RPC error there.
TEST_F(Seam, CommitFailureOfAStreamedCallIsItsJsonRpcError) {
  start();
  auto sid = open_session();
  fake->decide([](Decisions& d) { d.commit_failure = Failure{Fault::stale, "session moved"}; });
  auto r = post_mcp(port, sid, call(2, kLogThenAnswer));
  ASSERT_EQ(r.status, 200) << r.body;
  auto msgs = r.sse_messages();
  ASSERT_EQ(msgs.size(), 2u) << r.body;
  EXPECT_TRUE(is_method(msgs[0], "notifications/message"));
  EXPECT_EQ(msgs[1].at("id"), json::value(2));
  EXPECT_EQ(msgs[1].at("error").at("code"), json::value(-32000)) << msgs[1];
  EXPECT_EQ(server->runs(kLogThenAnswer), 1);
  EXPECT_EQ(fake->commits.load(), 1);
}

// JSON mode: what is not a response goes to the standalone stream; the directory says
// whether it is here (the session's stream) or elsewhere (the bus).
TEST_F(Seam, JsonModeNotificationsGoThroughTheBusWhenTheStreamIsElsewhere) {
  start(Config{ResponseMode::json});
  auto sid = open_session();
  fake->decide([](Decisions& d) { d.holds_stream = false; });
  auto spawned = post_mcp(port, sid, call(2, kLogThenAnswer));
  ASSERT_EQ(spawned.status, 200) << spawned.body;
  EXPECT_EQ(spawned.header("Content-Type"), "application/json");
  EXPECT_EQ(spawned.as_json().at("id"), json::value(2));
  auto inline_call = post_mcp(port, sid, call(3, kEcho, json::object{{"log", true}}));
  ASSERT_EQ(inline_call.status, 200) << inline_call.body;
  EXPECT_EQ(inline_call.as_json().at("id"), json::value(3));

  auto sent = bus->sent();
  ASSERT_EQ(sent.size(), 2u) << "one notification per call, through the bus";
  for (const auto& [to, msg] : sent) {
    EXPECT_EQ(to, sid);
    EXPECT_TRUE(is_method(msg, "notifications/message")) << msg;
  }
  EXPECT_EQ(server->sessions.find(sid)->standalone()->last_seq(), 0u) << "nothing on the local stream";
}

TEST_F(Seam, JsonModeNotificationsGoToTheLocalStreamWhenItIsHere) {
  start(Config{ResponseMode::json});
  auto sid = open_session();
  EXPECT_EQ(post_mcp(port, sid, call(2, kLogThenAnswer)).status, 200);
  EXPECT_EQ(post_mcp(port, sid, call(3, kEcho, json::object{{"log", true}})).status, 200);
  EXPECT_TRUE(bus->sent().empty());
  EXPECT_EQ(server->sessions.find(sid)->standalone()->last_seq(), 2u);
}

TEST_F(Seam, GetIsServiceUnavailableWhenTheStreamCannotBeMovedHere) {
  start();
  auto sid = open_session();
  fake->decide([](Decisions& d) { d.acquire_finds_nothing = true; });
  auto r = request(port, verb::get, "/mcp", {}, Fields{{"Accept", "text/event-stream"}, {"Mcp-Session-Id", sid}});
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.header("Retry-After"), "1");
  EXPECT_EQ(r.error_code(), -32000) << r.body;
  EXPECT_EQ(fake->acquires.load(), 1);
  EXPECT_FALSE(server->sessions.find(sid)->standalone()->attached());
}

TEST_F(Seam, LegacyMessageForAStreamElsewhereIsForwarded) {
  start();
  Connection sse(port);
  ASSERT_TRUE(sse.send(verb::get, "/sse", {}, Fields{{"Accept", "text/event-stream"}}));
  ASSERT_EQ(sse.read_head().status, 200);
  auto events = sse.read_until("\n\n");
  constexpr std::string_view kData = "data: /message?sessionId=";
  auto at = events.find(kData);
  ASSERT_NE(at, std::string::npos) << events;
  auto sid = events.substr(at + kData.size(), events.find('\n', at) - at - kData.size());
  EXPECT_EQ(fake->creates.load(), 1);

  fake->decide([](Decisions& d) { d.legacy_here = false; });
  auto body = call(7, kEcho, json::object{{"text", "elsewhere"}});
  auto r = request(port, verb::post, "/message?sessionId=" + sid, body, Fields{{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(fake->legacy_routes.load(), 1);
  auto forwarded = fake->forwarded();
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(forwarded[0].first, sid);
  EXPECT_EQ(forwarded[0].second, body);
  EXPECT_EQ(server->runs(kEcho), 0) << "not run here";

  // The holder cannot be reached: the client retries.
  fake->decide([](Decisions& d) { d.forward_failure = Failure{Fault::unavailable, "relay down"}; });
  auto refused =
      request(port, verb::post, "/message?sessionId=" + sid, body, Fields{{"Content-Type", "application/json"}});
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.header("Retry-After"), "1");
  EXPECT_EQ(fake->forwarded().size(), 2u);

  // The stream is gone on its node (the session with it): 404 and no Retry-After, which
  // would send the client retrying a session that never comes back (the legacy transport
  // had its own mapping until issue 12 and sent one).
  fake->decide([](Decisions& d) { d.forward_failure = Failure{Fault::not_found, "Session not found"}; });
  auto gone =
      request(port, verb::post, "/message?sessionId=" + sid, body, Fields{{"Content-Type", "application/json"}});
  EXPECT_EQ(gone.status, 404) << gone.body;
  EXPECT_EQ(gone.header("Retry-After"), "");
  EXPECT_NE(gone.body.find("-32001"), std::string::npos) << gone.body;
  sse.close();
}

TEST_F(Seam, ResponseHeadersOfTheDirectoryAreOnEveryResponse) {
  start(Config{ResponseMode::automatic, {{"X-FrontMCP-Machine-Id", "node-fake"}}});
  std::vector<std::pair<std::string, Response>> answers;
  auto init = initialize(port);
  auto sid = init.header("Mcp-Session-Id");
  answers.emplace_back("initialize", init);
  answers.emplace_back("tools/call", post_mcp(port, sid, call(2, kEcho)));
  answers.emplace_back("unknown session", post_mcp(port, "nope", call(3, kEcho)));
  answers.emplace_back("no session id", post_mcp(port, "", call(4, kEcho)));
  answers.emplace_back("unknown path", request(port, verb::get, "/nowhere"));
  answers.emplace_back("healthz", request(port, verb::get, "/healthz"));
  answers.emplace_back("delete", request(port, verb::delete_, "/mcp", {}, Fields{{"Mcp-Session-Id", sid}}));
  const int expected[] = {200, 200, 404, 400, 404, 200, 200};
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const auto& [what, r] = answers[i];
    EXPECT_EQ(r.status, expected[i]) << what << ": " << r.body;
    EXPECT_EQ(r.header("X-FrontMCP-Machine-Id"), "node-fake") << what;
  }
}

TEST_F(Seam, DrainingRefusesRequestsWhenTheDirectoryCannotServeThem) {
  start(Config{ResponseMode::automatic, {}, /*serves_while_draining=*/false});
  auto sid = open_session();
  server->draining = true;
  auto r = post_mcp(port, sid, call(2, kEcho));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.header("Retry-After"), "1");
  EXPECT_EQ(server->runs(kEcho), 0);
}

TEST_F(Seam, DrainingServesRequestsWhenTheDirectorySaysSessionsOutliveTheProcess) {
  start(Config{ResponseMode::automatic, {}, /*serves_while_draining=*/true});
  auto sid = open_session();
  server->draining = true;
  auto r = post_mcp(port, sid, call(2, kEcho));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(server->runs(kEcho), 1);
}

}  // namespace
