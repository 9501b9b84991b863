// Content builders and the result types' JSON.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <frontmcp/content.hpp>
#include <string>

namespace {

namespace json = boost::json;
using namespace frontmcp;

json::value J(const char* text) {
  return json::parse(text);
}

// -------------------------------------------------------------------- builders

TEST(Content, Text) {
  EXPECT_EQ(json::value(content::text("hello")), J(R"({"type":"text","text":"hello"})"));
  EXPECT_EQ(json::value(content::text("")), J(R"({"type":"text","text":""})"));
}

TEST(Content, TextKeepsUnicodeAndEscapes) {
  auto t = content::text("caf\xC3\xA9 \"quoted\"\n");
  EXPECT_EQ(t.at("text").as_string(), "caf\xC3\xA9 \"quoted\"\n");
}

TEST(Content, Image) {
  EXPECT_EQ(json::value(content::image("iVBORw0KGgo=", "image/png")),
            J(R"({"type":"image","data":"iVBORw0KGgo=","mimeType":"image/png"})"));
}

TEST(Content, Audio) {
  EXPECT_EQ(json::value(content::audio("UklGRg==", "audio/wav")),
            J(R"({"type":"audio","data":"UklGRg==","mimeType":"audio/wav"})"));
}

TEST(Content, ResourceTextDefaultsToTextPlain) {
  EXPECT_EQ(json::value(content::resource_text("file:///a.txt", "body")),
            J(R"({"type":"resource","resource":{"uri":"file:///a.txt","mimeType":"text/plain","text":"body"}})"));
  EXPECT_EQ(json::value(content::resource_text("file:///a.md", "# x", "text/markdown")),
            J(R"({"type":"resource","resource":{"uri":"file:///a.md","mimeType":"text/markdown","text":"# x"}})"));
}

TEST(Content, ResourceBlob) {
  EXPECT_EQ(
      json::value(content::resource_blob("file:///a.bin", "AAEC", "application/octet-stream")),
      J(R"({"type":"resource","resource":{"uri":"file:///a.bin","mimeType":"application/octet-stream","blob":"AAEC"}})"));
}

TEST(Content, ResourceLinkOmitsEmptyMimeType) {
  EXPECT_EQ(json::value(content::resource_link("file:///a", "a")),
            J(R"({"type":"resource_link","uri":"file:///a","name":"a"})"));
  EXPECT_EQ(json::value(content::resource_link("file:///a", "a", "text/plain")),
            J(R"({"type":"resource_link","uri":"file:///a","name":"a","mimeType":"text/plain"})"));
}

// ------------------------------------------------------------------ ToolResult

TEST(ToolResult, Text) {
  EXPECT_EQ(json::value(ToolResult::text("hi").to_json()), J(R"({"content":[{"type":"text","text":"hi"}]})"));
  EXPECT_FALSE(ToolResult::text("hi").is_error);
}

TEST(ToolResult, ErrorSetsIsError) {
  auto r = ToolResult::error("went wrong");
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(json::value(r.to_json()), J(R"({"content":[{"type":"text","text":"went wrong"}],"isError":true})"));
}

TEST(ToolResult, EmptyHasEmptyContent) {
  EXPECT_EQ(json::value(ToolResult{}.to_json()), J(R"({"content":[]})"));
}

TEST(ToolResult, StructuredContentMetaAndSeveralBlocks) {
  ToolResult r;
  r.content.push_back(content::text("a"));
  r.content.push_back(content::image("AA==", "image/png"));
  r.structured_content = json::object{{"n", 1}};
  r.meta = json::object{{"trace", "t1"}};
  EXPECT_EQ(json::value(r.to_json()), J(R"({"content":[{"type":"text","text":"a"},
    {"type":"image","data":"AA==","mimeType":"image/png"}],
    "structuredContent":{"n":1},"_meta":{"trace":"t1"}})"));
}

TEST(ToolResult, RvalueToJsonMovesTheSameFieldsAndLvalueKeepsThem) {
  ToolResult r;
  r.content.push_back(content::text("a long enough text to live on the heap, not inline"));
  r.structured_content = json::object{{"n", 1}};
  r.is_error = true;
  r.meta = json::object{{"trace", "t1"}};
  const json::value copied(r.to_json());
  EXPECT_EQ(r.content.size(), 1u) << "to_json() on an lvalue leaves the result as it was";
  EXPECT_EQ(json::value(std::move(r).to_json()), copied);
  EXPECT_EQ(copied, J(R"({"content":[{"type":"text","text":"a long enough text to live on the heap, not inline"}],
    "structuredContent":{"n":1},"isError":true,"_meta":{"trace":"t1"}})"));
}

TEST(ToolResult, StructuredContentMayBeANonObjectValue) {
  ToolResult r;
  r.structured_content = json::value(nullptr);
  EXPECT_TRUE(r.to_json().contains("structuredContent")) << "set but null is still present";
}

// ---------------------------------------------------------------- PromptResult

TEST(PromptResult, MessagesAndDescription) {
  PromptResult r;
  r.description = "d";
  r.messages.push_back({"user", content::text("q")});
  r.messages.push_back({"assistant", content::text("a")});
  EXPECT_EQ(json::value(r.to_json()), J(R"({"messages":[
    {"role":"user","content":{"type":"text","text":"q"}},
    {"role":"assistant","content":{"type":"text","text":"a"}}],"description":"d"})"));
}

TEST(PromptResult, EmptyDescriptionIsOmitted) {
  EXPECT_EQ(json::value(PromptResult{}.to_json()), J(R"({"messages":[]})"));
}

// ------------------------------------------------------------ ResourceContents

TEST(ResourceContents, Text) {
  ResourceContents c{"file:///a", "text/plain", std::string("hello"), std::nullopt};
  EXPECT_EQ(json::value(c.to_json()), J(R"({"uri":"file:///a","mimeType":"text/plain","text":"hello"})"));
}

TEST(ResourceContents, Blob) {
  ResourceContents c{"file:///b", "image/png", std::nullopt, std::string("AAAA")};
  EXPECT_EQ(json::value(c.to_json()), J(R"({"uri":"file:///b","mimeType":"image/png","blob":"AAAA"})"));
}

TEST(ResourceContents, EmptyMimeTypeIsOmittedButEmptyTextIsKept) {
  ResourceContents c{"file:///c", "", std::string(""), std::nullopt};
  EXPECT_EQ(json::value(c.to_json()), J(R"({"uri":"file:///c","text":""})"));
}

// ------------------------------------------------------------ CompletionResult

TEST(CompletionResult, Values) {
  CompletionResult c;
  c.values = {"a", "b"};
  EXPECT_EQ(json::value(c.to_json()), J(R"({"completion":{"values":["a","b"],"hasMore":false}})"));
}

TEST(CompletionResult, TotalAndHasMore) {
  CompletionResult c;
  c.values = {"a"};
  c.total = 10;
  c.has_more = true;
  EXPECT_EQ(json::value(c.to_json()), J(R"({"completion":{"values":["a"],"hasMore":true,"total":10}})"));
}

TEST(CompletionResult, Empty) {
  EXPECT_EQ(json::value(CompletionResult{}.to_json()), J(R"({"completion":{"values":[],"hasMore":false}})"));
}

TEST(CompletionResult, ExactlyOneHundredValuesIsNotTruncated) {
  CompletionResult c;
  for (int i = 0; i < 100; ++i) c.values.push_back("v" + std::to_string(i));
  auto j = c.to_json();
  EXPECT_EQ(j.at("completion").at("values").as_array().size(), 100u);
  EXPECT_EQ(j.at("completion").at("hasMore"), json::value(false));
}

TEST(CompletionResult, CappedAtOneHundredWithHasMore) {
  CompletionResult c;
  for (int i = 0; i < 150; ++i) c.values.push_back("v" + std::to_string(i));
  c.total = 150;
  auto j = c.to_json();
  const auto& vals = j.at("completion").at("values").as_array();
  ASSERT_EQ(vals.size(), 100u);
  EXPECT_EQ(vals.front(), json::value("v0"));
  EXPECT_EQ(vals.back(), json::value("v99"));
  EXPECT_EQ(j.at("completion").at("hasMore"), json::value(true));
  EXPECT_EQ(j.at("completion").at("total"), json::value(150));
}

}  // namespace
