// stdio: transport::run_stdio on a pipe, in this process. Lines go in through the pipe's
// write end; what the server writes is collected line by line (a streambuf that signals
// each complete line), so the test waits for answers, never for time.
#include "transport/stdio.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <ostream>
#include <streambuf>
#include <thread>

#include "harness.hpp"

namespace {

using namespace frontmcp;
using namespace frontmcp::test;

/// Collects written lines; wait_for_lines() blocks (bounded) until enough arrived.
class LineSink final : public std::streambuf {
 public:
  bool wait_for_lines(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kIoLimit, [&] { return lines_.size() >= n; });
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

 protected:
  int_type overflow(int_type ch) override {
    if (ch != traits_type::eof()) put(static_cast<char>(ch));
    return ch;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i) put(s[i]);
    return n;
  }

 private:
  void put(char c) {
    std::lock_guard lock(mu_);
    if (c != '\n') {
      partial_ += c;
      return;
    }
    lines_.push_back(std::move(partial_));
    partial_.clear();
    cv_.notify_all();
  }
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string partial_;
  std::vector<std::string> lines_;
};

/// The response to `id` among `lines` (null when there is none).
json::value response_to(const std::vector<std::string>& lines, std::int64_t id) {
  for (const auto& l : lines) {
    boost::system::error_code ec;
    auto v = json::parse(l, ec);
    EXPECT_FALSE(ec) << "not a JSON line: " << l;
    if (ec || !v.is_object()) continue;
    auto* i = v.get_object().if_contains("id");
    if (i && *i == json::value(id) && !v.get_object().contains("method")) return v;
  }
  return nullptr;
}

ServerSetup default_setup() {
  return {};
}

/// `MakeSetup` configures the server (Stdio: the defaults).
template <ServerSetup (*MakeSetup)()>
class StdioWith : public ::testing::Test {
 protected:
  InProcessServer server{MakeSetup()};  // its io_context runs the handlers; its HTTP side is unused
  LineSink sink;
  std::ostream out{&sink};
  int fds[2] = {-1, -1};
  std::future<int> served;

  void SetUp() override {
    ASSERT_EQ(::pipe(fds), 0);
    served = std::async(std::launch::async,
                        [this] { return transport::run_stdio(server.deps, server.io_context(), fds[0], out); });
  }
  void TearDown() override {
    end_input();
    if (served.valid()) {
      ASSERT_EQ(served.wait_for(kIoLimit), std::future_status::ready) << "run_stdio did not end at EOF";
      EXPECT_EQ(served.get(), 0);
    }
    if (fds[0] >= 0) ::close(fds[0]);
  }

  void write_line(const std::string& line) {
    std::string l = line + "\n";
    ASSERT_EQ(::write(fds[1], l.data(), l.size()), static_cast<ssize_t>(l.size()));
  }
  void end_input() {
    if (fds[1] >= 0) ::close(fds[1]);
    fds[1] = -1;
  }
};

using Stdio = StdioWith<default_setup>;

std::string initialize_line(std::int64_t id) {
  json::object params{{"protocolVersion", "2025-06-18"},
                      {"capabilities", json::object{}},
                      {"clientInfo", json::object{{"name", "stdio-test"}, {"version", "1"}}}};
  return rpc(id, "initialize", std::move(params));
}

TEST_F(Stdio, InitializeAndToolCallAreAnsweredLineByLine) {
  write_line(initialize_line(1));
  write_line(call(2, kEcho, json::object{{"text", "over stdio"}}));
  ASSERT_TRUE(sink.wait_for_lines(2));
  auto lines = sink.lines();
  EXPECT_EQ(lines.size(), 2u);
  auto init = response_to(lines, 1);
  ASSERT_TRUE(init.is_object()) << "no response to initialize";
  EXPECT_EQ(init.at("result").at("protocolVersion"), json::value("2025-06-18"));
  auto tool = response_to(lines, 2);
  ASSERT_TRUE(tool.is_object()) << "no response to tools/call";
  EXPECT_EQ(tool.at("result").at("content").at(0).at("text"), json::value("over stdio"));
  EXPECT_EQ(server.runs(kEcho), 1);
}

TEST_F(Stdio, ASecondInitializeIsRefused) {
  write_line(initialize_line(1));
  ASSERT_TRUE(sink.wait_for_lines(1));
  write_line(initialize_line(2));
  ASSERT_TRUE(sink.wait_for_lines(2));
  auto again = response_to(sink.lines(), 2);
  ASSERT_TRUE(again.is_object()) << "no response to the second initialize";
  EXPECT_EQ(again.at("error").at("code"), json::value(-32600)) << again;
  EXPECT_NE(std::string(again.at("error").at("message").as_string()).find("Server already initialized"),
            std::string::npos)
      << again;
}

TEST_F(Stdio, TheSessionEndsAtEndOfInput) {
  write_line(initialize_line(1));
  ASSERT_TRUE(sink.wait_for_lines(1));
  EXPECT_EQ(server.sessions.all().size(), 1u);
  end_input();
  ASSERT_EQ(served.wait_for(kIoLimit), std::future_status::ready);
  EXPECT_EQ(served.get(), 0);
  EXPECT_TRUE(server.sessions.all().empty());
}

ServerSetup one_call_per_second_burst_two() {
  ServerSetup s;
  s.options.tool_rate = RateLimit{1, 2};
  return s;
}
using StdioToolLimit = StdioWith<one_call_per_second_burst_two>;

// The tools/call limit applies on stdio too (its principal: the one peer, ""); three calls
// in a row with burst 2: one is refused with a tool result (isError), in whatever order
// they ran.
TEST_F(StdioToolLimit, TheThirdCallInARowIsAToolError) {
  write_line(initialize_line(1));
  ASSERT_TRUE(sink.wait_for_lines(1));
  for (int id = 2; id <= 4; ++id) write_line(call(id, kEcho, json::object{{"text", "x"}}));
  ASSERT_TRUE(sink.wait_for_lines(4));
  int refused = 0;
  for (int id = 2; id <= 4; ++id) {
    auto r = response_to(sink.lines(), id);
    ASSERT_TRUE(r.is_object()) << "no response to " << id;
    auto& result = r.at("result").as_object();
    if (auto* e = result.if_contains("isError"); e && e->as_bool()) {
      ++refused;
      std::string text(result.at("content").at(0).at("text").as_string());
      EXPECT_TRUE(text.starts_with(R"(rate limit exceeded for tool "echo": at most 1 calls per second (burst 2); )"
                                   R"(retry after )"))
          << text;
    }
  }
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(server.runs(kEcho), 2);
  EXPECT_EQ(server.metrics.rate_limited[static_cast<std::size_t>(metrics::RateLimited::tool)].value(), 1u);
}

// ------------------------------------------------------ MCP 2026-07-28 on stdio

/// params._meta of a modern request.
json::object envelope() {
  return json::object{{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                      {"io.modelcontextprotocol/clientCapabilities", json::object{}}};
}

std::string modern_rpc(std::int64_t id, std::string_view method, json::object params = {}) {
  params["_meta"] = envelope();
  return rpc(id, method, std::move(params));
}

std::string modern_call(std::int64_t id, std::string_view tool, json::object args = {}) {
  return modern_rpc(id, "tools/call", json::object{{"name", tool}, {"arguments", std::move(args)}});
}

/// Waits (bounded) until the response to `id` is among the lines; null on timeout.
json::value wait_for_response(LineSink& sink, std::int64_t id) {
  for (std::size_t n = 1;; ++n) {
    if (!sink.wait_for_lines(n)) return nullptr;
    auto lines = sink.lines();
    if (auto r = response_to(lines, id); !r.is_null()) return r;
    n = lines.size();
  }
}

TEST_F(Stdio, DiscoverIsAnsweredWithoutPinningThenInitializeServesTheSession) {
  write_line(modern_rpc(1, "server/discover"));
  auto discover = wait_for_response(sink, 1);
  ASSERT_TRUE(discover.is_object()) << "no response to server/discover";
  EXPECT_EQ(discover.at("result").at("resultType"), json::value("complete")) << discover;
  EXPECT_EQ(discover.at("result").at("supportedVersions").at(0), json::value("2026-07-28"));
  EXPECT_TRUE(server.sessions.all().front()->state().client_info.empty()) << "discover must not touch the session";
  // A dual-era client falls back to the session handshake: still possible.
  write_line(initialize_line(2));
  auto init = wait_for_response(sink, 2);
  ASSERT_TRUE(init.is_object()) << "no response to initialize";
  EXPECT_EQ(init.at("result").at("protocolVersion"), json::value("2025-06-18")) << init;
  write_line(call(3, kEcho, json::object{{"text", "legacy"}}));
  auto tool = wait_for_response(sink, 3);
  ASSERT_TRUE(tool.is_object());
  EXPECT_FALSE(tool.at("result").as_object().contains("resultType")) << tool;
}

TEST_F(Stdio, ModernRequestPinsTheProcessAndInitializeIsThenUnsupported) {
  write_line(modern_call(1, kEcho, json::object{{"text", "modern"}}));
  auto tool = wait_for_response(sink, 1);
  ASSERT_TRUE(tool.is_object()) << "no response to the modern tools/call";
  const auto& result = tool.at("result");
  EXPECT_EQ(result.at("resultType"), json::value("complete")) << tool;
  EXPECT_TRUE(result.at("_meta").as_object().contains("io.modelcontextprotocol/serverInfo")) << tool;
  EXPECT_EQ(result.at("content").at(0).at("text"), json::value("modern"));
  write_line(initialize_line(2));
  auto init = wait_for_response(sink, 2);
  ASSERT_TRUE(init.is_object()) << "no response to initialize";
  EXPECT_EQ(init.at("error").at("code"), json::value(-32022)) << init;
  EXPECT_EQ(json::serialize(init.at("error").at("data")), R"({"supported":["2026-07-28"],"requested":"2025-06-18"})");
  EXPECT_FALSE(server.sessions.all().front()->initialized());
}

TEST_F(Stdio, ModernChecksRunWithoutHeaders) {
  write_line(modern_rpc(1, "tools/list"));  // pins; no header is asked for
  auto list = wait_for_response(sink, 1);
  ASSERT_TRUE(list.is_object());
  EXPECT_EQ(list.at("result").at("resultType"), json::value("complete")) << list;
  // Missing _meta: -32602; removed methods: -32601; an unsupported version: -32022.
  write_line(rpc(2, "tools/list"));
  write_line(modern_rpc(3, "ping"));
  write_line(modern_rpc(4, "logging/setLevel", json::object{{"level", "info"}}));
  json::object v999{{"_meta", json::object{{"io.modelcontextprotocol/protocolVersion", "v999.0.0"},
                                           {"io.modelcontextprotocol/clientCapabilities", json::object{}}}}};
  write_line(rpc(5, "tools/list", v999));
  for (auto [id, code] : std::vector<std::pair<int, int>>{{2, -32602}, {3, -32601}, {4, -32601}, {5, -32022}}) {
    auto r = wait_for_response(sink, id);
    ASSERT_TRUE(r.is_object()) << "no response to " << id;
    EXPECT_EQ(r.at("error").at("code"), json::value(code)) << r;
  }
}

TEST_F(Stdio, ModernLogMessagesOnlyWithALogLevel) {
  write_line(modern_call(1, kEcho, json::object{{"text", "a"}, {"log", true}}));
  ASSERT_TRUE(wait_for_response(sink, 1).is_object());
  json::object params{{"name", kEcho}, {"arguments", json::object{{"text", "b"}, {"log", true}}}};
  auto meta = envelope();
  meta["io.modelcontextprotocol/logLevel"] = "info";
  params["_meta"] = std::move(meta);
  write_line(rpc(2, "tools/call", params));
  ASSERT_TRUE(wait_for_response(sink, 2).is_object());
  auto lines = sink.lines();
  ASSERT_EQ(lines.size(), 3u) << "one log message, for the request that asked for it";
  EXPECT_NE(lines[1].find("notifications/message"), std::string::npos) << lines[1];
}

/// Runs of wait_for_cancel that saw ctx.cancelled().
std::atomic<int> g_cancelled_runs{0};

Task<void> sleep_a_little() {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, std::chrono::milliseconds{5});
  co_await t.async_wait(boost::asio::use_awaitable);
}

/// Waits until the request is cancelled (bounded), then answers.
Task<Result<ToolResult>> wait_for_cancel(Context& ctx) {
  for (auto end = std::chrono::steady_clock::now() + kIoLimit; std::chrono::steady_clock::now() < end;) {
    if (ctx.cancelled()) {
      g_cancelled_runs.fetch_add(1);
      break;
    }
    co_await sleep_a_little();
  }
  co_return ToolResult::text("finished");
}

TEST_F(Stdio, ModernRequestIsCancelledByNotification) {
  Tool t;
  t.name = "wait_for_cancel";
  t.handler = [](Context& ctx, const json::object&) { return wait_for_cancel(ctx); };
  server.registry.add_tool(std::move(t));
  g_cancelled_runs = 0;
  write_line(modern_call(7, "wait_for_cancel"));
  json::object cancel{{"requestId", 7}, {"reason", "user"}};
  write_line(notification("notifications/cancelled", cancel));
  write_line(modern_call(8, kEcho, json::object{{"text", "after"}}));
  auto after = wait_for_response(sink, 8);
  ASSERT_TRUE(after.is_object());
  EXPECT_EQ(after.at("result").at("resultType"), json::value("complete")) << "served as a modern request: " << after;
  for (auto end = std::chrono::steady_clock::now() + kIoLimit;
       g_cancelled_runs.load() == 0 && std::chrono::steady_clock::now() < end;) {
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  EXPECT_EQ(g_cancelled_runs.load(), 1) << "the handler never saw the cancellation";
  // Nothing of the cancelled request reaches stdout: its response never comes.
  end_input();
  ASSERT_EQ(served.wait_for(kIoLimit), std::future_status::ready);
  EXPECT_TRUE(response_to(sink.lines(), 7).is_null()) << "a cancelled request was answered";
}

TEST_F(Stdio, ListenAcknowledgesFirstDeliversTaggedChangesAndEndsOnCancel) {
  json::object filter{{"notifications", json::object{{"toolsListChanged", true}}}};
  write_line(modern_rpc(5, "subscriptions/listen", filter));
  ASSERT_TRUE(sink.wait_for_lines(1));
  auto ack = json::parse(sink.lines()[0]);
  EXPECT_EQ(ack.at("method"), json::value("notifications/subscriptions/acknowledged")) << ack;
  EXPECT_EQ(ack.at("params").at("_meta").at("io.modelcontextprotocol/subscriptionId"), json::value(5));
  EXPECT_EQ(json::serialize(ack.at("params").at("notifications")), R"({"toolsListChanged":true})");

  server.dispatcher.list_changed(registry::ListKind::tools);
  server.dispatcher.list_changed(registry::ListKind::prompts);  // not asked for
  ASSERT_TRUE(sink.wait_for_lines(2));
  auto change = json::parse(sink.lines()[1]);
  EXPECT_EQ(change.at("method"), json::value("notifications/tools/list_changed")) << change;
  EXPECT_EQ(change.at("params").at("_meta").at("io.modelcontextprotocol/subscriptionId"), json::value(5));

  json::object cancel{{"requestId", 5}};
  write_line(notification("notifications/cancelled", cancel));
  write_line(modern_call(6, kEcho, json::object{{"text", "after"}}));  // orders the cancel before what follows
  ASSERT_TRUE(wait_for_response(sink, 6).is_object());
  EXPECT_EQ(server.sessions.listeners().size(), 0u) << "the cancelled listener is gone";
  server.dispatcher.list_changed(registry::ListKind::tools);
  write_line(modern_call(7, kEcho, json::object{{"text", "last"}}));
  ASSERT_TRUE(wait_for_response(sink, 7).is_object());
  auto lines = sink.lines();
  EXPECT_EQ(lines.size(), 4u) << "ack, one change, two echoes: nothing after the cancel";
  for (const auto& l : lines) EXPECT_EQ(l.find("prompts/list_changed"), std::string::npos) << l;
}

}  // namespace
