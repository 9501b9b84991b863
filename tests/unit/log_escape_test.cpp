#include "util/log_escape.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <frontmcp/logging.hpp>
#include <random>
#include <sstream>

#include "util/log.hpp"

namespace {

using frontmcp::util::append_json_string;
using frontmcp::util::append_log_field;
using frontmcp::util::escape_log_text;
using frontmcp::util::needs_log_escape;

// The session id of issue 11's request: a line break, a forged log line, an ANSI escape.
const std::string kForged = "x\n[2026-12-05 10:00:00.000] [frontmcp] [error] FORGED\x1b[2J";

std::string json_of(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(LogEscape, PrintableTextAndUtf8AreKept) {
  for (std::string s : {"plain", "path=/mcp?x=1", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "back\\slash"}) {
    EXPECT_FALSE(needs_log_escape(s)) << s;
    EXPECT_EQ(escape_log_text(s), s);
  }
}

TEST(LogEscape, ControlsBecomeVisibleSpellingsOnOneLine) {
  EXPECT_EQ(escape_log_text("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(escape_log_text(std::string("\x1b[2J\x7f\x00", 6)), "\\x1b[2J\\x7f\\x00");
  EXPECT_EQ(escape_log_text(kForged), "x\\n[2026-12-05 10:00:00.000] [frontmcp] [error] FORGED\\x1b[2J");
  EXPECT_TRUE(needs_log_escape(kForged));
}

TEST(LogEscape, C1ControlsAndUnicodeLineBreaksAreEscaped) {
  EXPECT_EQ(escape_log_text("\xc2\x9b"
                            "2J"),
            "\\u009b2J");  // CSI, the one-byte form of ESC [
  EXPECT_EQ(escape_log_text("a\xe2\x80\xa8"
                            "b\xe2\x80\xa9"),
            "a\\u2028b\\u2029");
}

TEST(LogEscape, InvalidUtf8BytesAreEscapedOneByOne) {
  EXPECT_EQ(escape_log_text("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(escape_log_text("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(escape_log_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a surrogate
  EXPECT_EQ(escape_log_text("ok\xe2\x82"), "ok\\xe2\\x82");                // truncated at the end
  EXPECT_EQ(escape_log_text("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
}

TEST(LogEscape, JsonStringsEscapeQuotesControlsAndInvalidBytes) {
  EXPECT_EQ(json_of("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_of("a\nb\x1b"), R"("a\nb\u001b")");
  EXPECT_EQ(json_of("\xc2\x85\x7f"), R"("\u0085\u007f")");
  EXPECT_EQ(json_of("\xff"), R"("\\xff")");
  EXPECT_EQ(json_of("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

TEST(LogEscape, JsonStringsAreValidJsonForAnyBytes) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 40);
  for (int i = 0; i < 20'000; ++i) {
    std::string s(static_cast<std::size_t>(len(rng)), '\0');
    for (auto& c : s) c = static_cast<char>(byte(rng));
    std::string j = json_of(s);
    boost::system::error_code ec;
    auto v = boost::json::parse(j, ec);
    ASSERT_FALSE(ec) << "not JSON: " << j;
    ASSERT_TRUE(v.is_string());
    // Nothing but printable ASCII and valid UTF-8 reaches the log as raw bytes.
    EXPECT_FALSE(needs_log_escape(escape_log_text(s)));
  }
}

TEST(LogEscape, FieldValuesThatCouldPoseAsFieldsAreQuoted) {
  std::string line = "msg";
  append_log_field(line, "session", "abc");
  append_log_field(line, "path", "/x method=forged");
  append_log_field(line, "q", "say \"hi\" \\");
  EXPECT_EQ(line, R"(msg session=abc path="/x method=forged" q="say \"hi\" \\")");
}

/// Runs `fn` with the library's logger writing to a string in `format`; returns the output.
template <class Fn>
std::string logged(frontmcp::LogFormat format, Fn fn) {
  auto& logger = frontmcp::util::log();
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(out);
  auto saved = logger.sinks();
  logger.sinks() = {sink};
  frontmcp::configure_logging(format, "info");
  fn();
  logger.sinks() = saved;
  frontmcp::configure_logging(frontmcp::LogFormat::text, "warn");
  return out.str();
}

TEST(LogEscape, TextLogHasOneLineAndNoEscapeByteForAHostileValue) {
  auto out = logged(frontmcp::LogFormat::text, [] {
    frontmcp::util::log_event(spdlog::level::info, "request rejected", {{"session", kForged}});
    frontmcp::util::log().warn("rejected request with Host '{}'", kForged);
  });
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_EQ(out.find("\n[2026-12-05 10:00:00.000]"), std::string::npos) << out;
  EXPECT_NE(out.find(R"(session="x\n[2026-12-05 10:00:00.000] [frontmcp] [error] FORGED\x1b[2J")"), std::string::npos)
      << out;
}

TEST(LogEscape, JsonLogLinesParseForAHostileValue) {
  auto out = logged(frontmcp::LogFormat::json, [] {
    frontmcp::util::log_event(spdlog::level::info, kForged, {{"session", kForged}, {"path", "\xff\xc2\x9b"}});
    frontmcp::util::log().warn("Host '{}'", kForged);
  });
  std::istringstream lines(out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << line;
    EXPECT_TRUE(v.as_object().contains("msg")) << line;
  }
  EXPECT_EQ(n, 2) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
}

}  // namespace

TEST(LogThrottle, LetsTheFirstThroughThenOnePerInterval) {
  frontmcp::util::LogThrottle hourly(std::chrono::hours(1));
  EXPECT_TRUE(hourly.allow());
  EXPECT_FALSE(hourly.allow());
  EXPECT_FALSE(hourly.allow());
  frontmcp::util::LogThrottle always(std::chrono::nanoseconds(0));
  EXPECT_TRUE(always.allow());
  EXPECT_TRUE(always.allow());
}
