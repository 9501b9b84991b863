// RFC 6570 level 1 URI templates: parse, match, expand.
#include "registry/uri_template.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using frontmcp::UriVariables;
using frontmcp::registry::UriTemplate;

UriTemplate parse_ok(std::string_view text) {
  auto r = UriTemplate::parse(text);
  EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message);
  if (!r) return UriTemplate::parse("").value();
  return std::move(r).value();
}

// ----------------------------------------------------------------------- parse

TEST(UriTemplateParse, AcceptsLiteralsAndVariables) {
  auto t = parse_ok("test://template/{id}/data");
  EXPECT_EQ(t.text(), "test://template/{id}/data");
  EXPECT_EQ(t.variable_names(), std::vector<std::string>{"id"});
}

TEST(UriTemplateParse, VariableNamesInOrder) {
  auto t = parse_ok("db://{schema}/{table.name}/{row_id}");
  EXPECT_EQ(t.variable_names(), (std::vector<std::string>{"schema", "table.name", "row_id"}));
}

TEST(UriTemplateParse, PlainUriHasNoVariables) {
  auto t = parse_ok("file:///etc/hosts");
  EXPECT_TRUE(t.variable_names().empty());
}

TEST(UriTemplateParse, UnclosedBraceIsInvalidParams) {
  auto r = UriTemplate::parse("test://{id");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, -32602);
}

TEST(UriTemplateParse, StrayClosingBraceIsInvalidParams) {
  for (const char* t : {"test://id}", "}", "a/{x}}", "a/}{x}"}) {
    auto r = UriTemplate::parse(t);
    ASSERT_FALSE(r) << t;
    EXPECT_EQ(r.error().code, -32602) << t;
  }
}

TEST(UriTemplateParse, NestedOpeningBraceIsRejected) {
  auto r = UriTemplate::parse("a/{x{y}}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, -32602);
}

TEST(UriTemplateParse, EmptyVariableIsInvalidParams) {
  auto r = UriTemplate::parse("test://{}/data");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, -32602);
}

TEST(UriTemplateParse, AdjacentVariablesAreRejected) {
  auto r = UriTemplate::parse("test://{a}{b}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, -32602);
  EXPECT_NE(r.error().message.find("adjacent"), std::string::npos) << r.error().message;
}

TEST(UriTemplateParse, OperatorsAndInvalidNamesAreRejected) {
  // Level 2+ operators and modifiers are not supported.
  for (const char* t : {"a/{+path}", "a/{#frag}", "a/{x,y}", "a/{x*}", "a/{x:3}", "a/{a-b}", "a/{ x}"}) {
    auto r = UriTemplate::parse(t);
    ASSERT_FALSE(r) << t;
    EXPECT_EQ(r.error().code, -32602) << t;
  }
}

TEST(UriTemplateParse, DottedNamesFollowRfc6570) {
  // varname = varchar *( ["."] varchar ): a leading '.' is the level-3 label operator
  // ("{.ext}"), which level 1 does not support; a trailing or doubled '.' is malformed.
  for (const char* t : {"file:///report{.ext}", "a/{x.}", "a/{x..y}"}) {
    auto r = UriTemplate::parse(t);
    EXPECT_FALSE(r) << t << " was accepted";
  }
}

// ----------------------------------------------------------------------- match

TEST(UriTemplateMatch, SingleVariable) {
  auto t = parse_ok("test://template/{id}/data");
  auto m = t.match("test://template/42/data");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (UriVariables{{"id", "42"}}));
}

TEST(UriTemplateMatch, VariableAtTheEnd) {
  auto t = parse_ok("users://{name}");
  auto m = t.match("users://alice");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("name"), "alice");
}

TEST(UriTemplateMatch, MultipleVariables) {
  auto t = parse_ok("repo://{owner}/{repo}/issues/{number}");
  auto m = t.match("repo://acme/widgets/issues/17");
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, (UriVariables{{"owner", "acme"}, {"repo", "widgets"}, {"number", "17"}}));
}

TEST(UriTemplateMatch, VariablesSeparatedByNonSlashLiteral) {
  auto t = parse_ok("file:///{name}.{ext}");
  auto m = t.match("file:///report.pdf");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("name"), "report");
  EXPECT_EQ(m->at("ext"), "pdf");
}

TEST(UriTemplateMatch, PercentDecodesValues) {
  auto t = parse_ok("notes://{title}");
  auto m = t.match("notes://hello%20world%2Fx%c3%A9");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("title"), "hello world/x\xC3\xA9");
}

TEST(UriTemplateMatch, MalformedPercentEscapeDoesNotMatch) {
  auto t = parse_ok("notes://{title}");
  EXPECT_FALSE(t.match("notes://a%zz"));
  EXPECT_FALSE(t.match("notes://a%2"));
  EXPECT_FALSE(t.match("notes://a%"));
}

TEST(UriTemplateMatch, VariableNeverSpansSlash) {
  auto t = parse_ok("test://template/{id}/data");
  EXPECT_FALSE(t.match("test://template/a/b/data"));
  auto tail = parse_ok("users://{name}");
  EXPECT_FALSE(tail.match("users://alice/extra"));
}

TEST(UriTemplateMatch, VariableNeverSpansQueryOrFragment) {
  auto t = parse_ok("users://{name}");
  EXPECT_FALSE(t.match("users://alice?x=1"));
  EXPECT_FALSE(t.match("users://alice#top"));
}

TEST(UriTemplateMatch, EmptyVariableDoesNotMatch) {
  auto t = parse_ok("test://template/{id}/data");
  EXPECT_FALSE(t.match("test://template//data"));
  auto tail = parse_ok("users://{name}");
  EXPECT_FALSE(tail.match("users://"));
}

TEST(UriTemplateMatch, TrailingMismatchDoesNotMatch) {
  auto t = parse_ok("test://template/{id}/data");
  EXPECT_FALSE(t.match("test://template/1/datax"));
  EXPECT_FALSE(t.match("test://template/1/dat"));
  EXPECT_FALSE(t.match("test://template/1/data/"));
  EXPECT_FALSE(t.match("test://template/1"));
}

TEST(UriTemplateMatch, LeadingMismatchDoesNotMatch) {
  auto t = parse_ok("test://template/{id}/data");
  EXPECT_FALSE(t.match("test://other/1/data"));
  EXPECT_FALSE(t.match("xtest://template/1/data"));
  EXPECT_FALSE(t.match(""));
}

TEST(UriTemplateMatch, LiteralTemplateMatchesOnlyItself) {
  auto t = parse_ok("file:///etc/hosts");
  auto m = t.match("file:///etc/hosts");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->empty());
  EXPECT_FALSE(t.match("file:///etc/hostsx"));
  EXPECT_FALSE(t.match("file:///etc/host"));
}

TEST(UriTemplateMatch, VariableMayContainTheFollowingLiteral) {
  // The documented rule: a variable matches one or more characters other than '/', '?'
  // and '#'. "v1.md" is such a value, and "notes://v1.md.md" has exactly one reading.
  auto t = parse_ok("notes://{title}.md");
  auto m = t.match("notes://v1.md.md");
  ASSERT_TRUE(m) << "no match although title=\"v1.md\" matches";
  EXPECT_EQ(m->at("title"), "v1.md");
}

TEST(UriTemplateMatch, LaterOccurrenceOfALiteralBeforeASlash) {
  auto t = parse_ok("files://{name}.txt/meta");
  auto m = t.match("files://a.txt.txt/meta");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->at("name"), "a.txt");
}

// ---------------------------------------------------------------------- expand

TEST(UriTemplateExpand, SubstitutesVariables) {
  auto t = parse_ok("repo://{owner}/{repo}");
  EXPECT_EQ(t.expand({{"owner", "acme"}, {"repo", "widgets"}}), "repo://acme/widgets");
}

TEST(UriTemplateExpand, PercentEncodesAllButUnreserved) {
  auto t = parse_ok("notes://{title}");
  EXPECT_EQ(t.expand({{"title", "a b/c?d#e%f"}}), "notes://a%20b%2Fc%3Fd%23e%25f");
  EXPECT_EQ(t.expand({{"title", "AZaz09-._~"}}), "notes://AZaz09-._~");
  // UTF-8 bytes, upper-case hex.
  EXPECT_EQ(t.expand({{"title", "\xC3\xA9"}}), "notes://%C3%A9");
}

TEST(UriTemplateExpand, UndefinedVariableExpandsToNothing) {
  auto t = parse_ok("repo://{owner}/{repo}");
  EXPECT_EQ(t.expand({{"owner", "acme"}}), "repo://acme/");
  EXPECT_EQ(t.expand({}), "repo:///");
}

TEST(UriTemplateExpand, RoundTripThroughMatch) {
  auto t = parse_ok("repo://{owner}/{path}/raw.{ext}");
  const UriVariables vars{{"owner", "me & you"}, {"path", "dir/sub dir?x#y"}, {"ext", "t\xC3\xA9xt"}};
  std::string uri = t.expand(vars);
  auto m = t.match(uri);
  ASSERT_TRUE(m) << uri;
  EXPECT_EQ(*m, vars);
}

TEST(UriTemplateExpand, RoundTripWhenAValueContainsTheNextLiteral) {
  // '.' is unreserved, so expand() leaves it as is; match() must still find the value.
  auto t = parse_ok("files://{name}.txt");
  const UriVariables vars{{"name", "archive.txt"}};
  std::string uri = t.expand(vars);
  EXPECT_EQ(uri, "files://archive.txt.txt");
  auto m = t.match(uri);
  ASSERT_TRUE(m) << uri;
  EXPECT_EQ(*m, vars);
}

}  // namespace
