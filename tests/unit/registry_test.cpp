// Registry: registration rules, pagination, descriptors, template routing.
#include "registry/registry.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <stdexcept>
#include <string>

namespace {

namespace json = boost::json;
using namespace frontmcp;
using registry::ListKind;
using registry::Registry;

Tool make_tool(std::string name) {
  Tool t;
  t.name = std::move(name);
  t.handler = [](Context&, const json::object&) { return ToolResult::text("ok"); };
  return t;
}

Resource make_resource(std::string uri) {
  Resource r;
  r.uri = std::move(uri);
  r.name = "res";
  r.reader = [](Context&, const std::string& u) {
    return std::vector<ResourceContents>{{u, "text/plain", std::string("x"), std::nullopt}};
  };
  return r;
}

ResourceTemplate make_template(std::string uri_template, std::string name = "tpl") {
  ResourceTemplate t;
  t.uri_template = std::move(uri_template);
  t.name = std::move(name);
  t.reader = [](Context&, const std::string&, const UriVariables&) { return std::vector<ResourceContents>{}; };
  return t;
}

Prompt make_prompt(std::string name) {
  Prompt p;
  p.name = std::move(name);
  p.handler = [](Context&, const PromptArguments&) { return PromptResult{}; };
  return p;
}

std::vector<std::string> names(const json::array& items, const char* key = "name") {
  std::vector<std::string> out;
  for (const auto& i : items) out.emplace_back(i.at(key).as_string());
  return out;
}

// ---------------------------------------------------------------- registration

TEST(Registry, DuplicateToolThrowsInvalidArgument) {
  Registry r(100);
  r.add_tool(make_tool("echo"));
  EXPECT_THROW(r.add_tool(make_tool("echo")), std::invalid_argument);
  // The first one is unaffected.
  EXPECT_NE(r.tool("echo"), nullptr);
  auto page = r.list(ListKind::tools, nullptr);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->at("tools").as_array().size(), 1u);
}

TEST(Registry, DuplicateResourceTemplateAndPromptThrow) {
  Registry r(100);
  r.add_resource(make_resource("file:///a"));
  EXPECT_THROW(r.add_resource(make_resource("file:///a")), std::invalid_argument);
  r.add_template(make_template("t://{id}"));
  EXPECT_THROW(r.add_template(make_template("t://{id}")), std::invalid_argument);
  r.add_prompt(make_prompt("greet"));
  EXPECT_THROW(r.add_prompt(make_prompt("greet")), std::invalid_argument);
}

TEST(Registry, SameNameInDifferentKindsIsAllowed) {
  Registry r(100);
  r.add_tool(make_tool("x"));
  EXPECT_NO_THROW(r.add_prompt(make_prompt("x")));
  EXPECT_NO_THROW(r.add_resource(make_resource("x")));
}

TEST(Registry, EmptyNameThrows) {
  Registry r(100);
  EXPECT_THROW(r.add_tool(make_tool("")), std::invalid_argument);
  EXPECT_THROW(r.add_resource(make_resource("")), std::invalid_argument);
  EXPECT_THROW(r.add_prompt(make_prompt("")), std::invalid_argument);
}

TEST(Registry, MissingHandlerThrows) {
  Registry r(100);
  Tool t;
  t.name = "nohandler";
  EXPECT_THROW(r.add_tool(t), std::invalid_argument);
  Resource res;
  res.uri = "file:///x";
  EXPECT_THROW(r.add_resource(res), std::invalid_argument);
  ResourceTemplate tpl;
  tpl.uri_template = "t://{x}";
  EXPECT_THROW(r.add_template(tpl), std::invalid_argument);
  Prompt p;
  p.name = "p";
  EXPECT_THROW(r.add_prompt(p), std::invalid_argument);
  EXPECT_FALSE(r.has_tools());
}

TEST(Registry, BadTemplateThrows) {
  Registry r(100);
  EXPECT_THROW(r.add_template(make_template("t://{a}{b}")), std::invalid_argument);
  EXPECT_THROW(r.add_template(make_template("t://{a")), std::invalid_argument);
  EXPECT_FALSE(r.has_resources());
}

TEST(Registry, LookUps) {
  Registry r(100);
  EXPECT_EQ(r.tool("nope"), nullptr);
  EXPECT_EQ(r.resource("nope"), nullptr);
  EXPECT_EQ(r.prompt("nope"), nullptr);
  EXPECT_EQ(r.template_by_uri("t://{id}"), nullptr);
  r.add_tool(make_tool("echo"));
  r.add_resource(make_resource("file:///a"));
  r.add_prompt(make_prompt("greet"));
  r.add_template(make_template("t://{id}"));
  ASSERT_NE(r.tool("echo"), nullptr);
  EXPECT_EQ(r.tool("echo")->name, "echo");
  EXPECT_EQ(r.resource("file:///a")->uri, "file:///a");
  EXPECT_EQ(r.prompt("greet")->name, "greet");
  ASSERT_NE(r.template_by_uri("t://{id}"), nullptr);
  EXPECT_EQ(r.template_by_uri("t://{id}")->parsed.text(), "t://{id}");
}

TEST(Registry, HasFlags) {
  Registry r(100);
  EXPECT_FALSE(r.has_tools());
  EXPECT_FALSE(r.has_resources());
  EXPECT_FALSE(r.has_prompts());
  EXPECT_FALSE(r.has_completion());
  r.add_tool(make_tool("a"));
  EXPECT_TRUE(r.has_tools());
  r.add_template(make_template("t://{id}"));
  EXPECT_TRUE(r.has_resources());  // a template alone counts
  r.add_prompt(make_prompt("p"));
  EXPECT_TRUE(r.has_prompts());
  r.set_completion([](Context&, const CompletionRequest&) { return CompletionResult{}; });
  EXPECT_TRUE(r.has_completion());
  EXPECT_TRUE(static_cast<bool>(r.completion()));
}

// ------------------------------------------------------------------ pagination

class RegistryPagination : public ::testing::Test {
 protected:
  Registry r{2};
  void SetUp() override {
    for (const char* n : {"t1", "t2", "t3", "t4", "t5"}) r.add_tool(make_tool(n));
  }
};

TEST_F(RegistryPagination, WalksAllPagesInRegistrationOrder) {
  auto p1 = r.list(ListKind::tools, nullptr);
  ASSERT_TRUE(p1);
  EXPECT_EQ(names(p1->at("tools").as_array()), (std::vector<std::string>{"t1", "t2"}));
  ASSERT_TRUE(p1->contains("nextCursor"));
  ASSERT_TRUE(p1->at("nextCursor").is_string());

  json::value c1 = p1->at("nextCursor");
  auto p2 = r.list(ListKind::tools, &c1);
  ASSERT_TRUE(p2);
  EXPECT_EQ(names(p2->at("tools").as_array()), (std::vector<std::string>{"t3", "t4"}));
  ASSERT_TRUE(p2->contains("nextCursor"));

  json::value c2 = p2->at("nextCursor");
  auto p3 = r.list(ListKind::tools, &c2);
  ASSERT_TRUE(p3);
  EXPECT_EQ(names(p3->at("tools").as_array()), (std::vector<std::string>{"t5"}));
  EXPECT_FALSE(p3->contains("nextCursor"));
}

TEST_F(RegistryPagination, NullCursorIsTheFirstPage) {
  json::value null_cursor;
  auto p = r.list(ListKind::tools, &null_cursor);
  ASSERT_TRUE(p);
  EXPECT_EQ(names(p->at("tools").as_array()), (std::vector<std::string>{"t1", "t2"}));
}

TEST_F(RegistryPagination, InvalidCursorIsInvalidParams) {
  for (json::value c : {json::value("abc"), json::value(""), json::value("-1"), json::value("2x"), json::value("99"),
                        json::value(2), json::value(json::object{})}) {
    auto p = r.list(ListKind::tools, &c);
    ASSERT_FALSE(p) << c;
    EXPECT_EQ(p.error().code, -32602) << c;
  }
}

TEST(Registry, ExactlyOnePageHasNoNextCursor) {
  Registry r(2);
  r.add_prompt(make_prompt("a"));
  r.add_prompt(make_prompt("b"));
  auto p = r.list(ListKind::prompts, nullptr);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->at("prompts").as_array().size(), 2u);
  EXPECT_FALSE(p->contains("nextCursor"));
}

TEST(Registry, EmptyListsUseTheRightKeys) {
  Registry r(2);
  auto tools = r.list(ListKind::tools, nullptr);
  auto resources = r.list(ListKind::resources, nullptr);
  auto templates = r.list(ListKind::resource_templates, nullptr);
  auto prompts = r.list(ListKind::prompts, nullptr);
  ASSERT_TRUE(tools && resources && templates && prompts);
  EXPECT_EQ(json::value(*tools), json::parse(R"({"tools":[]})"));
  EXPECT_EQ(json::value(*resources), json::parse(R"({"resources":[]})"));
  EXPECT_EQ(json::value(*templates), json::parse(R"({"resourceTemplates":[]})"));
  EXPECT_EQ(json::value(*prompts), json::parse(R"({"prompts":[]})"));
}

TEST(Registry, PageSizeZeroIsTreatedAsOne) {
  Registry r(0);
  r.add_tool(make_tool("a"));
  r.add_tool(make_tool("b"));
  auto p = r.list(ListKind::tools, nullptr);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->at("tools").as_array().size(), 1u);
  EXPECT_TRUE(p->contains("nextCursor"));
}

TEST(Registry, ResourcesAndTemplatesArePaginatedSeparately) {
  Registry r(2);
  for (const char* u : {"a://1", "a://2", "a://3"}) r.add_resource(make_resource(u));
  r.add_template(make_template("t://{x}"));
  auto res = r.list(ListKind::resources, nullptr);
  ASSERT_TRUE(res);
  EXPECT_EQ(names(res->at("resources").as_array(), "uri"), (std::vector<std::string>{"a://1", "a://2"}));
  EXPECT_TRUE(res->contains("nextCursor"));
  auto tpl = r.list(ListKind::resource_templates, nullptr);
  ASSERT_TRUE(tpl);
  EXPECT_EQ(names(tpl->at("resourceTemplates").as_array(), "uriTemplate"), (std::vector<std::string>{"t://{x}"}));
  EXPECT_FALSE(tpl->contains("nextCursor"));
}

// -------------------------------------------------------------------- describe

TEST(RegistryDescribe, MinimalToolDefaultsInputSchemaAndOmitsOptionalFields) {
  auto d = registry::describe(make_tool("echo"));
  EXPECT_EQ(json::value(d), json::parse(R"({"name":"echo","inputSchema":{"type":"object"}})"));
}

TEST(RegistryDescribe, FullTool) {
  Tool t = make_tool("add");
  t.title = "Add";
  t.description = "Adds two numbers";
  t.input_schema =
      json::parse(R"({"type":"object","properties":{"a":{"type":"number"}},"required":["a"]})").as_object();
  t.output_schema = json::parse(R"({"type":"object","properties":{"sum":{"type":"number"}}})").as_object();
  t.annotations = json::object{{"readOnlyHint", true}};
  t.meta = json::object{{"x", 1}};
  EXPECT_EQ(json::value(registry::describe(t)), json::parse(R"({
    "name":"add","title":"Add","description":"Adds two numbers",
    "inputSchema":{"type":"object","properties":{"a":{"type":"number"}},"required":["a"]},
    "outputSchema":{"type":"object","properties":{"sum":{"type":"number"}}},
    "annotations":{"readOnlyHint":true},
    "_meta":{"x":1}})"));
}

TEST(RegistryDescribe, ListReturnsTheDescriptors) {
  Registry r(10);
  Tool t = make_tool("echo");
  t.description = "Echo";
  r.add_tool(t);
  auto p = r.list(ListKind::tools, nullptr);
  ASSERT_TRUE(p);
  EXPECT_EQ(json::value(*p),
            json::parse(R"({"tools":[{"name":"echo","description":"Echo","inputSchema":{"type":"object"}}]})"));
}

TEST(RegistryDescribe, Resource) {
  Resource r = make_resource("file:///a.txt");
  r.name = "a";
  EXPECT_EQ(json::value(registry::describe(r)), json::parse(R"({"uri":"file:///a.txt","name":"a"})"));
  r.title = "A";
  r.description = "the a file";
  r.mime_type = "text/plain";
  r.annotations = json::object{{"priority", 0.5}};
  EXPECT_EQ(json::value(registry::describe(r)), json::parse(R"({"uri":"file:///a.txt","name":"a","title":"A",
    "description":"the a file","mimeType":"text/plain","annotations":{"priority":0.5}})"));
}

TEST(RegistryDescribe, ResourceTemplate) {
  auto t = make_template("t://{id}", "things");
  EXPECT_EQ(json::value(registry::describe(t)), json::parse(R"({"uriTemplate":"t://{id}","name":"things"})"));
  t.mime_type = "application/json";
  t.description = "d";
  EXPECT_EQ(
      json::value(registry::describe(t)),
      json::parse(R"({"uriTemplate":"t://{id}","name":"things","description":"d","mimeType":"application/json"})"));
}

TEST(RegistryDescribe, Prompt) {
  Prompt p = make_prompt("greet");
  EXPECT_EQ(json::value(registry::describe(p)), json::parse(R"({"name":"greet"})"));
  p.title = "Greet";
  p.arguments = {{"name", "who to greet", true}, {"style", "", false}};
  EXPECT_EQ(json::value(registry::describe(p)), json::parse(R"({"name":"greet","title":"Greet","arguments":[
    {"name":"name","required":true,"description":"who to greet"},
    {"name":"style","required":false}]})"));
}

// ------------------------------------------------------------ template routing

TEST(Registry, MatchTemplateReturnsVariables) {
  Registry r(10);
  r.add_template(make_template("users://{id}/profile", "profile"));
  UriVariables vars;
  auto e = r.match_template("users://42/profile", vars);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->def.name, "profile");
  EXPECT_EQ(vars, (UriVariables{{"id", "42"}}));
  UriVariables none;
  EXPECT_EQ(r.match_template("users://42/other", none), nullptr);
}

TEST(Registry, MatchTemplateFirstRegisteredWins) {
  Registry r(10);
  r.add_template(make_template("x://{id}", "first"));
  r.add_template(make_template("x://{name}", "second"));
  UriVariables vars;
  auto e = r.match_template("x://7", vars);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->def.name, "first");
  EXPECT_EQ(vars, (UriVariables{{"id", "7"}}));

  Registry reversed(10);
  reversed.add_template(make_template("x://{name}", "second"));
  reversed.add_template(make_template("x://{id}", "first"));
  UriVariables v2;
  auto e2 = reversed.match_template("x://7", v2);
  ASSERT_NE(e2, nullptr);
  EXPECT_EQ(e2->def.name, "second");
  EXPECT_EQ(v2, (UriVariables{{"name", "7"}}));
}

TEST(Registry, MatchTemplateFallsThroughToALaterTemplate) {
  Registry r(10);
  r.add_template(make_template("x://{id}/a", "a"));
  r.add_template(make_template("x://{id}/b", "b"));
  UriVariables vars;
  auto e = r.match_template("x://1/b", vars);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->def.name, "b");
}

// ---------------------------------------------------------------------- remove

TEST(Registry, RemoveToolKeepsOrderOfTheRest) {
  Registry r(10);
  for (const char* n : {"a", "b", "c"}) r.add_tool(make_tool(n));
  auto kept = r.tool("b");
  EXPECT_TRUE(r.remove_tool("b"));
  EXPECT_FALSE(r.remove_tool("b"));
  EXPECT_EQ(r.tool("b"), nullptr);
  auto p = r.list(ListKind::tools, nullptr);
  ASSERT_TRUE(p);
  EXPECT_EQ(names(p->at("tools").as_array()), (std::vector<std::string>{"a", "c"}));
  // A handler already looked up stays usable.
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->name, "b");
  EXPECT_TRUE(static_cast<bool>(kept->handler));
  // And the name can be registered again.
  EXPECT_NO_THROW(r.add_tool(make_tool("b")));
  auto p2 = r.list(ListKind::tools, nullptr);
  EXPECT_EQ(names(p2->at("tools").as_array()), (std::vector<std::string>{"a", "c", "b"}));
}

TEST(Registry, RemoveResourceAndPrompt) {
  Registry r(10);
  r.add_resource(make_resource("a://1"));
  r.add_prompt(make_prompt("p"));
  EXPECT_FALSE(r.remove_resource("a://2"));
  EXPECT_TRUE(r.remove_resource("a://1"));
  EXPECT_EQ(r.resource("a://1"), nullptr);
  EXPECT_FALSE(r.has_resources());
  EXPECT_TRUE(r.remove_prompt("p"));
  EXPECT_FALSE(r.remove_prompt("p"));
  EXPECT_FALSE(r.has_prompts());
  auto p = r.list(ListKind::prompts, nullptr);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->at("prompts").as_array().empty());
}

TEST(Registry, RemoveUnknownToolIsFalse) {
  Registry r(10);
  EXPECT_FALSE(r.remove_tool("ghost"));
}

}  // namespace
