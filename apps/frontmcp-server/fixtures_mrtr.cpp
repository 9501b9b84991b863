// Fixtures of the conformance suite's 2026-07-28 scenarios (0.2.0-alpha.12, its reference
// everything-server's stateless branch): multi-round-trip requests, a missing client
// capability, logging gated by the request's logLevel. Each handler is the same code in
// both generations: in a session, Context::elicit and friends send server->client
// requests and wait; on a stateless request they are answered from the client's
// inputResponses or end the round with "input_required" (docs/protocol.md).
#include <boost/json/serialize.hpp>

#include "fixtures.hpp"

namespace frontmcp_server {

namespace json = boost::json;
using namespace frontmcp;

namespace {

json::object object_schema(json::object properties, json::array required) {
  json::object s{{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) s["required"] = std::move(required);
  return s;
}

json::object string_property() {
  return {{"type", "string"}};
}

json::object elicitation(std::string message, std::string field, json::object type = string_property()) {
  return {{"message", std::move(message)},
          {"requestedSchema", object_schema(json::object{{field, std::move(type)}}, json::array{json::string(field)})}};
}

json::object sampling(std::string question, int max_tokens) {
  return {{"messages", json::array{json::object{{"role", "user"},
                                                {"content", json::object{{"type", "text"}, {"text", question}}}}}},
          {"maxTokens", max_tokens}};
}

/// The value of `field` in an accepted elicitation's content; nullptr otherwise.
const json::value* accepted(const json::value& answer, std::string_view field) {
  const auto* o = answer.if_object();
  if (!o) return nullptr;
  auto action = o->if_contains("action");
  auto content = o->if_contains("content");
  if (!action || !action->is_string() || action->get_string() != "accept" || !content || !content->is_object()) {
    return nullptr;
  }
  return content->get_object().if_contains(field);
}

std::string string_or(const json::value* v, std::string fallback) {
  return v && v->is_string() ? std::string(v->get_string()) : std::move(fallback);
}

/// The text of a sampling answer (CreateMessageResult.content).
std::string sampled_text(const json::value& answer) {
  const auto* o = answer.if_object();
  auto c = o ? o->if_contains("content") : nullptr;
  auto t = c && c->is_object() ? c->get_object().if_contains("text") : nullptr;
  return t && t->is_string() ? std::string(t->get_string()) : json::serialize(answer);
}

std::size_t root_count(const json::value& answer) {
  const auto* o = answer.if_object();
  auto r = o ? o->if_contains("roots") : nullptr;
  return r && r->is_array() ? r->get_array().size() : 0;
}

ToolResult failed(const Error& e) {
  return ToolResult::error("input request failed: " + e.message);
}

// --- coroutine handlers (free functions: safe with co_spawn on g++ 12) ---

Task<Result<ToolResult>> missing_capability(Context& ctx, const json::object&) {
  auto r = co_await ctx.create_message("llm_answer", sampling("Say something", 20));
  // Without the sampling capability this is -32021, which the client must see as such.
  if (!r) co_return std::move(r).error();
  co_return ToolResult::text("Success: " + sampled_text(*r));
}

Task<Result<ToolResult>> logging_tool(Context& ctx, const json::object&) {
  ctx.log(LogLevel::info, "test_logging_tool ran", "conformance");
  co_return ToolResult::text("Logging evaluated");
}

Task<Result<ToolResult>> elicit_name(Context& ctx, const json::object&) {
  auto r = co_await ctx.elicit("user_name", elicitation("What is your name?", "name"));
  if (!r) co_return failed(r.error());
  co_return ToolResult::text("Hello, " + string_or(accepted(*r, "name"), "unknown") + "!");
}

Task<Result<ToolResult>> sample(Context& ctx, const json::object&) {
  auto r = co_await ctx.create_message("sample_request", sampling("What is the capital of France?", 100));
  if (!r) co_return failed(r.error());
  co_return ToolResult::text("Sampling result: " + sampled_text(*r));
}

Task<Result<ToolResult>> roots(Context& ctx, const json::object&) {
  auto r = co_await ctx.list_roots("roots_request");
  if (!r) co_return failed(r.error());
  co_return ToolResult::text("Found " + std::to_string(root_count(*r)) + " root(s)");
}

json::object confirm_request() {
  return elicitation("Please confirm", "ok", json::object{{"type", "boolean"}});
}

Task<Result<ToolResult>> request_state(Context& ctx, const json::object&) {
  auto r = co_await ctx.elicit("confirm", confirm_request());
  if (!r) co_return failed(r.error());
  auto ok = accepted(*r, "ok");
  co_return ToolResult::text(std::string("state-ok: confirmed=") +
                             (ok && ok->is_bool() && ok->get_bool() ? "true" : "false"));
}

Task<Result<ToolResult>> multiple_inputs(Context& ctx, const json::object&) {
  // Asked one after the other without returning in between: one round asks for all three.
  auto name = co_await ctx.elicit("user_name", elicitation("What is your name?", "name"));
  auto greeting = co_await ctx.create_message("greeting", sampling("Generate a greeting", 50));
  auto found = co_await ctx.list_roots("client_roots");
  for (const auto* r : {&name, &greeting, &found}) {
    if (!*r) co_return failed(r->error());
  }
  co_return ToolResult::text("Name: " + string_or(accepted(*name, "name"), "unknown") + "; Greeting: " +
                             sampled_text(*greeting) + "; Roots: " + std::to_string(root_count(*found)));
}

Task<Result<ToolResult>> multi_round(Context& ctx, const json::object&) {
  // The second question is asked once the first is answered: two rounds (three requests).
  auto name = co_await ctx.elicit("step1", elicitation("Step 1: What is your name?", "name"));
  if (!name) co_return failed(name.error());
  auto color = co_await ctx.elicit("step2", elicitation("Step 2: What is your favorite color?", "color"));
  if (!color) co_return failed(color.error());
  co_return ToolResult::text("Multi-round complete for " + string_or(accepted(*name, "name"), "unknown") +
                             " who likes " + string_or(accepted(*color, "color"), "unknown"));
}

Task<Result<ToolResult>> tampered_state(Context& ctx, const json::object&) {
  // A changed requestState never reaches the handler: the server refuses it (-32602).
  auto r = co_await ctx.elicit("confirm", confirm_request());
  if (!r) co_return failed(r.error());
  co_return ToolResult::text("integrity-ok: state verified");
}

Task<Result<ToolResult>> capabilities(Context& ctx, const json::object&) {
  // Asks only for what the client declared (the server must never ask for more).
  const auto& caps = ctx.client_capabilities();
  std::vector<std::string> received;
  bool asked = false;
  if (caps.contains("elicitation")) {
    asked = true;
    auto r = co_await ctx.elicit("elicit_input", elicitation("Elicitation input", "value"));
    if (r) received.emplace_back("elicit_input");
  }
  if (caps.contains("sampling")) {
    asked = true;
    auto r = co_await ctx.create_message("sample_input", sampling("Sample request", 50));
    if (r) received.emplace_back("sample_input");
  }
  if (!asked) co_return ToolResult::text("No supported capabilities declared");
  std::string keys;
  for (const auto& k : received) keys += (keys.empty() ? "" : ", ") + k;
  co_return ToolResult::text("capabilities-ok: received " + keys);
}

Task<Result<PromptResult>> prompt_with_input(Context& ctx, const PromptArguments&) {
  auto r = co_await ctx.elicit("user_context", elicitation("What context should the prompt use?", "context"));
  if (!r) co_return r.error();
  co_return PromptResult{
      {}, {{"user", content::text("Prompt with context: " + string_or(accepted(*r, "context"), "none"))}}};
}

}  // namespace

void add_mrtr_fixtures(Server& server) {
  auto tool = [&](std::string name, std::string description,
                  Task<Result<ToolResult>> (*fn)(Context&, const json::object&)) {
    Tool t;
    t.name = std::move(name);
    t.description = std::move(description);
    t.input_schema = object_schema({}, {});
    t.handler = fn;
    server.add_tool(std::move(t));
  };
  tool("test_missing_capability", "Test tool requiring sampling", missing_capability);
  tool("test_logging_tool", "Sends a log message (delivered only when the request asks for a logLevel)", logging_tool);
  tool("test_streaming_elicitation",
       "Answers with its result only: the stateless generation sends no server-to-client request on a stream",
       [](Context&, const json::object&) -> Task<Result<ToolResult>> {
         co_return ToolResult::text("Streaming complete");
       });
  tool("test_input_required_result_elicitation", "MRTR: asks for the user's name (key user_name)", elicit_name);
  tool("test_input_required_result_sampling", "MRTR: asks the client's model a question", sample);
  tool("test_input_required_result_list_roots", "MRTR: asks for the client's roots", roots);
  tool("test_input_required_result_request_state", "MRTR: a confirmation carried with requestState", request_state);
  tool("test_input_required_result_multiple_inputs", "MRTR: elicitation, sampling and roots in one round",
       multiple_inputs);
  tool("test_input_required_result_multi_round", "MRTR: two questions in two rounds", multi_round);
  tool("test_input_required_result_tampered_state", "MRTR: a requestState that must verify", tampered_state);
  tool("test_input_required_result_capabilities", "MRTR: asks only for declared client capabilities", capabilities);

  Prompt p;
  p.name = "test_input_required_result_prompt";
  p.description = "MRTR: prompt that requires elicitation input";
  p.handler = prompt_with_input;
  server.add_prompt(std::move(p));
}

}  // namespace frontmcp_server
