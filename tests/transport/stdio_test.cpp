// stdio: transport::run_stdio on a pipe, in this process. Lines go in through the pipe's
// write end; what the server writes is collected line by line (a streambuf that signals
// each complete line), so the test waits for answers, never for time.
#include "transport/stdio.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <ostream>
#include <streambuf>

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

class Stdio : public ::testing::Test {
 protected:
  InProcessServer server;  // its io_context runs the handlers; its HTTP side is unused
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

}  // namespace
