#include "http/response_head.hpp"

#include <gtest/gtest.h>

namespace {

using frontmcp::http::append_response_head;
using frontmcp::http::Headers;
using frontmcp::http::ResponseHead;

std::string head_of(const ResponseHead& h, const Headers& extra = {}) {
  std::string out;
  const Headers* lists[] = {&extra};
  append_response_head(out, h, lists);
  return out;
}

TEST(ResponseHead, StatusLineFieldsAndLength) {
  ResponseHead h;
  h.content_type = "application/json";
  h.content_length = 17;
  EXPECT_EQ(head_of(h, Headers{{"Mcp-Session-Id", "abc"}}),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nMcp-Session-Id: abc\r\nContent-Length: 17\r\n\r\n");
}

TEST(ResponseHead, ConnectionFieldFollowsTheVersionDefault) {
  ResponseHead h;
  h.content_length = 0;
  h.keep_alive = false;
  EXPECT_EQ(head_of(h), "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  h.version = 10;
  EXPECT_EQ(head_of(h), "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  h.keep_alive = true;
  EXPECT_EQ(head_of(h), "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseHead, NoContentLengthWhereNoBodyIsAllowed) {
  for (int status : {101, 204, 304}) {
    ResponseHead h;
    h.status = status;
    h.content_length = 0;
    EXPECT_EQ(head_of(h).find("Content-Length"), std::string::npos) << status;
  }
  ResponseHead h;
  h.status = 202;
  h.content_length = 0;
  EXPECT_EQ(head_of(h), "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseHead, ChunkedStream) {
  ResponseHead h;
  h.content_type = "text/event-stream";
  h.chunked = true;
  EXPECT_EQ(head_of(h), "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
}

TEST(ResponseHead, FieldsThatWouldSplitTheMessageAreLeftOut) {
  ResponseHead h;
  h.content_length = 0;
  Headers bad{{"X-Ok", "fine"},
              {"X-Injected", "a\r\nSet-Cookie: evil=1"},
              {"X-Nul", std::string("a\0b", 3)},
              {"Bad Name", "v"},
              {"", "v"},
              {"X-Bare-Lf", "a\nb"}};
  EXPECT_EQ(head_of(h, bad), "HTTP/1.1 200 OK\r\nX-Ok: fine\r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseHead, ReasonPhraseOfEveryStatusTheServerSends) {
  struct Case {
    int status;
    const char* line;
  };
  for (auto c : {Case{400, "HTTP/1.1 400 Bad Request\r\n"}, Case{404, "HTTP/1.1 404 Not Found\r\n"},
                 Case{406, "HTTP/1.1 406 Not Acceptable\r\n"}, Case{413, "HTTP/1.1 413 Payload Too Large\r\n"},
                 Case{503, "HTTP/1.1 503 Service Unavailable\r\n"}}) {
    ResponseHead h;
    h.status = c.status;
    EXPECT_EQ(head_of(h).rfind(c.line, 0), 0u) << head_of(h);
  }
}

}  // namespace
