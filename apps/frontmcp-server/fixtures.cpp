// Demo content of the reference server. The conformance fixtures return exactly what the
// official suite's reference "everything server" returns (docs/conformance.md).
#include "fixtures.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace frontmcp_server {

namespace net = boost::asio;
namespace json = boost::json;
using namespace frontmcp;

namespace {

constexpr const char* kImage =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
constexpr const char* kAudio = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";
/// Pause between the steps of the logging/progress fixtures (as the reference does).
constexpr std::chrono::milliseconds kStepDelay{50};

Task<void> pause(std::chrono::milliseconds d) {
  net::steady_timer t(co_await net::this_coro::executor, d);
  co_await t.async_wait(net::use_awaitable);
}

json::object empty_schema() {
  return {{"type", "object"}, {"properties", json::object{}}};
}

json::object string_arg_schema(const char* name, const char* description) {
  return {{"type", "object"},
          {"properties", json::object{{name, json::object{{"type", "string"}, {"description", description}}}}},
          {"required", json::array{name}}};
}

Tool simple_tool(std::string name, std::string description, ToolResult result) {
  Tool t;
  t.name = std::move(name);
  t.description = std::move(description);
  t.input_schema = empty_schema();
  t.handler = [result = std::move(result)](Context&, const json::object&) -> Result<ToolResult> { return result; };
  return t;
}

std::string text_of(const json::value& v) {
  if (auto o = v.if_object()) {
    if (auto c = o->if_contains("content"); c && c->is_object()) {
      if (auto t = c->get_object().if_contains("text"); t && t->is_string()) return std::string(t->get_string());
    }
  }
  return json::serialize(v);
}

// --- coroutine handlers (free functions: safe with co_spawn on g++ 12) ---

Task<Result<ToolResult>> tool_with_logging(Context& ctx, const json::object&) {
  ctx.log(LogLevel::info, "Tool execution started", "conformance");
  co_await pause(kStepDelay);
  ctx.log(LogLevel::info, "Tool processing data", "conformance");
  co_await pause(kStepDelay);
  ctx.log(LogLevel::info, "Tool execution completed", "conformance");
  co_return ToolResult::text("Tool with logging executed successfully");
}

Task<Result<ToolResult>> tool_with_progress(Context& ctx, const json::object&) {
  for (int step = 0; step <= 2; ++step) {
    double p = step * 50.0;
    ctx.progress(p, 100.0, "Completed step " + std::to_string(static_cast<int>(p)) + " of 100");
    if (step < 2) co_await pause(kStepDelay);
  }
  co_return ToolResult::text("Progress tool completed");
}

Task<Result<ToolResult>> tool_sampling(Context& ctx, const json::object& args) {
  json::object params{
      {"messages", json::array{json::object{{"role", "user"},
                                            {"content", json::object{{"type", "text"}, {"text", args.at("prompt")}}}}}},
      {"maxTokens", 100}};
  auto r = co_await ctx.create_message(std::move(params));
  if (!r) co_return ToolResult::error("Sampling not supported or error: " + r.error().message);
  co_return ToolResult::text("LLM response: " + text_of(*r));
}

Task<Result<ToolResult>> elicit_and_report(Context& ctx, json::object params, std::string prefix) {
  auto r = co_await ctx.elicit(std::move(params));
  if (!r) co_return ToolResult::error("Elicitation not supported or error: " + r.error().message);
  const auto& o = r->as_object();
  std::string action = o.contains("action") ? std::string(o.at("action").as_string()) : "unknown";
  std::string content = o.contains("content") ? json::serialize(o.at("content")) : "{}";
  co_return ToolResult::text(prefix + "action=" + action + ", content=" + content);
}

Task<Result<ToolResult>> tool_elicitation(Context& ctx, const json::object& args) {
  json::object schema{
      {"type", "object"},
      {"properties",
       json::object{{"username", json::object{{"type", "string"}, {"description", "User's response"}}},
                    {"email", json::object{{"type", "string"}, {"description", "User's email address"}}}}},
      {"required", json::array{"username", "email"}}};
  json::object params{{"message", args.at("message")}, {"requestedSchema", std::move(schema)}};
  co_return co_await elicit_and_report(ctx, std::move(params), "User response: ");
}

Task<Result<ToolResult>> tool_elicitation_defaults(Context& ctx, const json::object&) {
  auto schema = json::parse(R"JSON({"type":"object","properties":{
     "name":{"type":"string","description":"User name","default":"John Doe"},
     "age":{"type":"integer","description":"User age","default":30},
     "score":{"type":"number","description":"User score","default":95.5},
     "status":{"type":"string","description":"User status","enum":["active","inactive","pending"],"default":"active"},
     "verified":{"type":"boolean","description":"Verification status","default":true}},"required":[]})JSON");
  json::object params{{"mode", "form"},
                      {"message", "Please review and update the form fields with defaults"},
                      {"requestedSchema", std::move(schema)}};
  co_return co_await elicit_and_report(ctx, std::move(params), "Elicitation completed: ");
}

Task<Result<ToolResult>> tool_elicitation_enums(Context& ctx, const json::object&) {
  auto schema = json::parse(R"JSON({"type":"object","properties":{
     "untitledSingle":{"type":"string","description":"Select one option","enum":["option1","option2","option3"]},
     "titledSingle":{"type":"string","description":"Select one option with titles",
        "oneOf":[{"const":"value1","title":"First Option"},{"const":"value2","title":"Second Option"},{"const":"value3","title":"Third Option"}]},
     "legacyEnum":{"type":"string","description":"Select one option (legacy)","enum":["opt1","opt2","opt3"],
        "enumNames":["Option One","Option Two","Option Three"]},
     "untitledMulti":{"type":"array","description":"Select multiple options","minItems":1,"maxItems":3,
        "items":{"type":"string","enum":["option1","option2","option3"]}},
     "titledMulti":{"type":"array","description":"Select multiple options with titles","minItems":1,"maxItems":3,
        "items":{"anyOf":[{"const":"value1","title":"First Choice"},{"const":"value2","title":"Second Choice"},{"const":"value3","title":"Third Choice"}]}}},
    "required":[]})JSON");
  json::object params{{"mode", "form"},
                      {"message", "Please select options from the enum fields"},
                      {"requestedSchema", std::move(schema)}};
  co_return co_await elicit_and_report(ctx, std::move(params), "Elicitation completed: ");
}

Task<Result<ToolResult>> tool_reconnection(Context& ctx, const json::object&) {
  // SEP-1699: end the HTTP response now; the client reconnects with Last-Event-ID and
  // receives the result on the resumed stream.
  ctx.close_sse_stream();
  co_await pause(std::chrono::milliseconds{100});
  co_return ToolResult::text(
      "Reconnection test completed successfully. If you received this, the client properly reconnected after "
      "stream closure.");
}

void add_tools(Server& server) {
  server.add_tool(simple_tool("test_simple_text", "Tests simple text content response",
                              ToolResult::text("This is a simple text response for testing.")));
  ToolResult image;
  image.content.push_back(content::image(kImage, "image/png"));
  server.add_tool(simple_tool("test_image_content", "Tests image content response", image));
  ToolResult audio;
  audio.content.push_back(content::audio(kAudio, "audio/wav"));
  server.add_tool(simple_tool("test_audio_content", "Tests audio content response", audio));
  ToolResult embedded;
  embedded.content.push_back(
      content::resource_text("test://embedded-resource", "This is an embedded resource content.", "text/plain"));
  server.add_tool(simple_tool("test_embedded_resource", "Tests embedded resource content response", embedded));
  ToolResult mixed = ToolResult::text("Multiple content types test:");
  mixed.content.push_back(content::image(kImage, "image/png"));
  mixed.content.push_back(
      content::resource_text("test://mixed-content-resource", R"({"test":"data","value":123})", "application/json"));
  server.add_tool(simple_tool("test_multiple_content_types",
                              "Tests response with multiple content types (text, image, resource)", mixed));
  server.add_tool(simple_tool("test_error_handling", "Tests error response handling",
                              ToolResult::error("This tool intentionally returns an error for testing")));

  auto coroutine_tool = [&](std::string name, std::string description, json::object schema,
                            Task<Result<ToolResult>> (*fn)(Context&, const json::object&)) {
    Tool t;
    t.name = std::move(name);
    t.description = std::move(description);
    t.input_schema = std::move(schema);
    t.handler = fn;
    server.add_tool(std::move(t));
  };
  coroutine_tool("test_tool_with_logging", "Tests tool that emits log messages during execution", empty_schema(),
                 tool_with_logging);
  coroutine_tool("test_tool_with_progress", "Tests tool that reports progress notifications", empty_schema(),
                 tool_with_progress);
  coroutine_tool("test_reconnection",
                 "Tests SSE stream disconnection and client reconnection (SEP-1699). Server will close the stream "
                 "mid-call and send the result after client reconnects.",
                 empty_schema(), tool_reconnection);
  coroutine_tool("test_sampling", "Tests server-initiated sampling (LLM completion request)",
                 string_arg_schema("prompt", "The prompt to send to the LLM"), tool_sampling);
  coroutine_tool("test_elicitation", "Tests server-initiated elicitation (user input request)",
                 string_arg_schema("message", "The message to show the user"), tool_elicitation);
  coroutine_tool("test_elicitation_sep1034_defaults", "Tests elicitation with default values per SEP-1034",
                 empty_schema(), tool_elicitation_defaults);
  coroutine_tool("test_elicitation_sep1330_enums", "Tests elicitation with enum schema improvements per SEP-1330",
                 empty_schema(), tool_elicitation_enums);

  Tool schema2020;
  schema2020.name = "json_schema_2020_12_tool";
  schema2020.description = "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)";
  schema2020.input_schema =
      // The conformance suite's canonical fixture (0.2.x JSON_SCHEMA_2020_12_FIXTURE): SEP-1613's
      // $schema, $defs and additionalProperties, plus SEP-2106's allOf/anyOf, if/then/else and
      // $anchor, all passed through unchanged.
      json::parse(R"JSON({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
     "$defs":{"address":{"$anchor":"addressDef","type":"object",
                         "properties":{"street":{"type":"string"},"city":{"type":"string"}}}},
     "properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},
                   "contactMethod":{"type":"string","enum":["phone","email"]},
                   "phone":{"type":"string"},"email":{"type":"string"}},
     "allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],
     "if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},
     "then":{"required":["phone"]},"else":{"required":["email"]},
     "additionalProperties":false})JSON")
          .as_object();
  schema2020.handler = [](Context&, const json::object& args) -> Result<ToolResult> {
    return ToolResult::text("JSON Schema 2020-12 tool called with: " + json::serialize(args));
  };
  server.add_tool(std::move(schema2020));

  // Demo tools of the reference server (used by the HA tests and the examples).
  Tool echo;
  echo.name = "echo";
  echo.title = "Echo";
  echo.description = "Returns the text it is given";
  echo.input_schema = string_arg_schema("text", "Text to echo back");
  echo.annotations = {{"readOnlyHint", true}, {"idempotentHint", true}};
  echo.handler = [](Context&, const json::object& args) -> Result<ToolResult> {
    const auto& t = args.at("text");
    if (!t.is_string()) return ToolResult::error("text must be a string");
    return ToolResult::text(t.get_string());
  };
  server.add_tool(std::move(echo));

  Tool touch;
  touch.name = "touch_resource";
  touch.description = "Notifies every session subscribed to the given resource URI that it changed";
  touch.input_schema = string_arg_schema("uri", "The resource URI");
  touch.handler = [](Context& ctx, const json::object& args) -> Result<ToolResult> {
    const auto& uri = args.at("uri");
    if (!uri.is_string()) return ToolResult::error("uri must be a string");
    ctx.notify_resource_updated(uri.get_string());
    return ToolResult::text("touched " + std::string(uri.get_string()));
  };
  server.add_tool(std::move(touch));

  Tool whoami;
  whoami.name = "whoami";
  whoami.description = "Returns the id of the node that ran this call";
  whoami.input_schema = empty_schema();
  whoami.annotations = {{"readOnlyHint", true}};
  whoami.handler = [](Context& ctx, const json::object&) -> Result<ToolResult> {
    ToolResult r = ToolResult::text(ctx.node_id());
    r.structured_content = json::object{{"nodeId", ctx.node_id()}, {"sessionId", ctx.session_id()}};
    return r;
  };
  server.add_tool(std::move(whoami));
}

Resource static_resource(std::string uri, std::string name, std::string title, std::string description,
                         std::string mime, ResourceContents contents) {
  Resource r;
  r.uri = std::move(uri);
  r.name = std::move(name);
  r.title = std::move(title);
  r.description = std::move(description);
  r.mime_type = std::move(mime);
  r.reader = [contents = std::move(contents)](Context&, const std::string&) -> Result<std::vector<ResourceContents>> {
    return std::vector<ResourceContents>{contents};
  };
  return r;
}

void add_resources(Server& server) {
  server.add_resource(static_resource(
      "test://static-text", "static-text", "Static Text Resource", "A static text resource for testing", "text/plain",
      {"test://static-text", "text/plain", "This is the content of the static text resource.", std::nullopt}));
  server.add_resource(static_resource("test://static-binary", "static-binary", "Static Binary Resource",
                                      "A static binary resource (image) for testing", "image/png",
                                      {"test://static-binary", "image/png", std::nullopt, kImage}));
  server.add_resource(
      static_resource("test://watched-resource", "watched-resource", "Watched Resource",
                      "A resource clients can subscribe to (touch_resource notifies them)", "text/plain",
                      {"test://watched-resource", "text/plain", "Watched resource content", std::nullopt}));
  ResourceTemplate t;
  t.uri_template = "test://template/{id}/data";
  t.name = "template";
  t.title = "Resource Template";
  t.description = "A resource template with parameter substitution";
  t.mime_type = "application/json";
  t.reader = [](Context&, const std::string& uri, const UriVariables& vars) -> Result<std::vector<ResourceContents>> {
    const auto& id = vars.at("id");
    json::object body{{"id", id}, {"templateTest", true}, {"data", "Data for ID: " + id}};
    return std::vector<ResourceContents>{{uri, "application/json", json::serialize(body), std::nullopt}};
  };
  server.add_resource_template(std::move(t));
}

PromptMessage user(json::object content) {
  return {"user", std::move(content)};
}

void add_prompts(Server& server) {
  Prompt simple;
  simple.name = "test_simple_prompt";
  simple.title = "Simple Test Prompt";
  simple.description = "A simple prompt without arguments";
  simple.handler = [](Context&, const PromptArguments&) -> Result<PromptResult> {
    return PromptResult{{}, {user(content::text("This is a simple prompt for testing."))}};
  };
  server.add_prompt(std::move(simple));

  Prompt with_args;
  with_args.name = "test_prompt_with_arguments";
  with_args.title = "Prompt With Arguments";
  with_args.description = "A prompt with required arguments";
  with_args.arguments = {{"arg1", "First test argument", true}, {"arg2", "Second test argument", true}};
  with_args.handler = [](Context&, const PromptArguments& a) -> Result<PromptResult> {
    return PromptResult{
        {}, {user(content::text("Prompt with arguments: arg1='" + a.at("arg1") + "', arg2='" + a.at("arg2") + "'"))}};
  };
  server.add_prompt(std::move(with_args));

  Prompt embedded;
  embedded.name = "test_prompt_with_embedded_resource";
  embedded.title = "Prompt With Embedded Resource";
  embedded.description = "A prompt that includes an embedded resource";
  embedded.arguments = {{"resourceUri", "URI of the resource to embed", true}};
  embedded.handler = [](Context&, const PromptArguments& a) -> Result<PromptResult> {
    return PromptResult{{},
                        {user(content::resource_text(a.at("resourceUri"), "Embedded resource content for testing.")),
                         user(content::text("Please process the embedded resource above."))}};
  };
  server.add_prompt(std::move(embedded));

  Prompt image;
  image.name = "test_prompt_with_image";
  image.title = "Prompt With Image";
  image.description = "A prompt that includes image content";
  image.handler = [](Context&, const PromptArguments&) -> Result<PromptResult> {
    return PromptResult{
        {}, {user(content::image(kImage, "image/png")), user(content::text("Please analyze the image above."))}};
  };
  server.add_prompt(std::move(image));

  // Completion: argument values of the prompts and the template, filtered by prefix.
  server.set_completion_handler([](Context&, const CompletionRequest& req) -> Result<CompletionResult> {
    static const std::vector<std::string> kArgValues = {"test", "testValue1", "testValue2", "example"};
    static const std::vector<std::string> kIds = {"1", "2", "3", "42", "123"};
    const auto& pool = req.ref_type == "ref/resource" ? kIds : kArgValues;
    CompletionResult r;
    for (const auto& v : pool) {
      if (v.rfind(req.argument_value, 0) == 0) r.values.push_back(v);
    }
    r.total = r.values.size();
    return r;
  });
}

}  // namespace

void register_fixtures(Server& server) {
  add_tools(server);
  add_header_fixtures(server);
  add_resources(server);
  add_prompts(server);
  add_mrtr_fixtures(server);
  add_listen_fixtures(server);
}

}  // namespace frontmcp_server
