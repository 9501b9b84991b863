// SSE framing: what goes on the wire for each event.
#include "http/sse_format.hpp"

#include <gtest/gtest.h>

namespace {

using namespace frontmcp::http;

TEST(SseFormat, EventWithIdNameAndData) {
  std::string out;
  sse::append_event(out, "1_3", "message", R"({"jsonrpc":"2.0"})");
  EXPECT_EQ(out, "id: 1_3\nevent: message\ndata: {\"jsonrpc\":\"2.0\"}\n\n");
}

TEST(SseFormat, EmptyIdAndNameAreLeftOut) {
  std::string out;
  sse::append_event(out, {}, {}, "x");
  EXPECT_EQ(out, "data: x\n\n");
}

TEST(SseFormat, EmptyDataStillHasADataLineSoTheEventIsDispatched) {
  std::string out;
  sse::append_event(out, "0_0", {}, {});
  EXPECT_EQ(out, "id: 0_0\ndata: \n\n");
}

TEST(SseFormat, EveryLineBreakStartsANewDataField) {
  std::string out;
  sse::append_event(out, {}, "message", "a\nb\r\nc\rd");
  EXPECT_EQ(out, "event: message\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
}

TEST(SseFormat, TrailingLineBreakGivesAnEmptyLastDataField) {
  std::string out;
  sse::append_event(out, {}, {}, "a\n");
  EXPECT_EQ(out, "data: a\ndata: \n\n");
}

TEST(SseFormat, CommentAndRetry) {
  std::string out;
  sse::append_retry(out, 1500);
  sse::append_event(out, "2_1", {}, {});
  sse::append_comment(out, "keepalive");
  EXPECT_EQ(out, "retry: 1500\nid: 2_1\ndata: \n\n: keepalive\n\n");
}

TEST(SseFormat, AppendsToWhatIsAlreadyThere) {
  std::string out = "event: endpoint\ndata: /message?sessionId=abc\n\n";
  sse::append_event(out, "1_1", "message", "{}");
  EXPECT_EQ(out, "event: endpoint\ndata: /message?sessionId=abc\n\nid: 1_1\nevent: message\ndata: {}\n\n");
}

}  // namespace
