// Dispatcher: the MCP methods, driven without sockets. Each request runs as a coroutine
// on a private io_context, bounded by run_for.
#include "protocol/dispatcher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <frontmcp/definitions.hpp>
#include <frontmcp/options.hpp>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dispatcher_rig.hpp"
#include "protocol/versions.hpp"
#include "registry/registry.hpp"
#include "session/event_store.hpp"
#include "session/session_manager.hpp"
#include "test_util.hpp"

namespace {

namespace json = boost::json;
namespace net = boost::asio;
using namespace frontmcp;
using namespace std::chrono_literals;
using protocol::classify;
using protocol::make_request;
using session::Session;
using session::TransportKind;

/// Session ids, for readable comparisons of session lists.
std::vector<std::string> ids(const std::vector<std::shared_ptr<Session>>& list) {
  std::vector<std::string> out;
  for (const auto& s : list) out.push_back(s->id());
  return out;
}

using test::RecordingOutbound;

ServerOptions make_options() {
  ServerOptions o;
  o.info.name = "test-server";
  o.info.version = "9.9.9";
  o.session.page_size = 2;
  return o;
}

using ToolHandler = Handler<ToolResult, Context&, const json::object&>;

class DispatcherTest : public ::testing::Test, protected test::DispatcherRig {
 protected:
  DispatcherTest() : DispatcherRig(make_options()) {}
  net::io_context ioc;

  /// An initialized session with the given client capabilities.
  std::shared_ptr<Session> new_session(json::object caps = {}, std::string_view version = protocol::kLatestVersion) {
    auto s = sessions.create(TransportKind::streamable_http);
    EXPECT_NE(s, nullptr);
    json::object params{{"protocolVersion", version},
                        {"capabilities", std::move(caps)},
                        {"clientInfo", json::object{{"name", "test-client"}, {"version", "1.2.3"}}}};
    auto r = dispatcher.initialize(*s, &params);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return s;
  }

  void add_tool(std::string name, ToolHandler h, json::object schema = {}) {
    Tool t;
    t.name = std::move(name);
    t.input_schema = std::move(schema);
    t.handler = std::move(h);
    registry.add_tool(std::move(t));
  }

  /// Runs handle_request to completion (bounded). nullopt = no response (cancelled).
  std::optional<json::value> handle(std::shared_ptr<Session> s, json::value msg,
                                    std::chrono::milliseconds limit = 2000ms) {
    std::optional<std::optional<json::value>> result;
    bool done = false;
    std::exception_ptr error;
    ioc.restart();
    test::spawn(ioc, dispatcher.handle_request(std::move(s), std::move(msg), out), &result, &done, &error);
    ioc.run_for(limit);
    EXPECT_TRUE(done) << "handle_request did not finish within " << limit.count() << " ms";
    if (error) {
      ADD_FAILURE() << "handle_request threw";
      return json::value("threw");
    }
    if (!done || !result) return json::value("unfinished");
    return std::move(*result);
  }

  /// A request with id `id`; the response (which must exist).
  json::value call(std::shared_ptr<Session> s, std::string_view method, json::object params = {}, json::value id = 1) {
    json::value msg = params.empty() ? json::value(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}})
                                     : make_request(id, method, std::move(params));
    auto r = handle(std::move(s), std::move(msg));
    EXPECT_TRUE(r.has_value()) << method << ": no response";
    return r ? std::move(*r) : json::value();
  }

  static json::value result_of(const json::value& resp) {
    auto r = resp.is_object() ? resp.as_object().if_contains("result") : nullptr;
    EXPECT_NE(r, nullptr) << "not a result: " << resp;
    return r ? *r : json::value();
  }
  static std::int64_t error_code(const json::value& resp) {
    auto e = resp.is_object() ? resp.as_object().if_contains("error") : nullptr;
    EXPECT_NE(e, nullptr) << "not an error: " << resp;
    return e ? e->at("code").as_int64() : 0;
  }
  static std::string error_message(const json::value& resp) {
    auto e = resp.is_object() ? resp.as_object().if_contains("error") : nullptr;
    return e ? std::string(e->at("message").as_string()) : std::string();
  }

  /// Feeds a client notification (e.g. notifications/cancelled) to the dispatcher.
  void notify(const std::shared_ptr<Session>& s, json::value msg) {
    auto m = classify(msg);
    ASSERT_TRUE(m) << m.error().message;
    dispatcher.handle_notification(s, *m);
  }
  /// Feeds a client response to a server->client request.
  void respond(const std::shared_ptr<Session>& s, json::value msg) {
    auto m = classify(msg);
    ASSERT_TRUE(m) << m.error().message;
    dispatcher.handle_response(s, *m);
  }

  static json::value cancelled(json::value request_id) {
    return json::object{{"jsonrpc", "2.0"},
                        {"method", "notifications/cancelled"},
                        {"params", json::object{{"requestId", std::move(request_id)}, {"reason", "user"}}}};
  }

  static std::vector<json::value> stream_messages(session::SseStream& s) {
    std::vector<json::value> out;
    for (const auto& e : s.read_after(0, 1000)) out.push_back(json::parse(e.data));
    return out;
  }
};

// ------------------------------------------------------------------ initialize

TEST_F(DispatcherTest, InitializeKeepsEachSupportedVersion) {
  for (auto v : protocol::kSupportedVersions) {
    auto s = sessions.create(TransportKind::streamable_http);
    json::object params{{"protocolVersion", v}, {"capabilities", json::object{}}};
    auto r = dispatcher.initialize(*s, &params);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->at("protocolVersion"), json::value(v));
    EXPECT_EQ(s->protocol_version(), v);
    sessions.remove(s->id());
  }
}

TEST_F(DispatcherTest, InitializeAnswersLatestForAnUnknownVersion) {
  auto s = sessions.create(TransportKind::streamable_http);
  json::object params{{"protocolVersion", "2099-01-01"}};
  auto r = dispatcher.initialize(*s, &params);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->at("protocolVersion"), json::value(protocol::kLatestVersion));
  EXPECT_EQ(s->protocol_version(), protocol::kLatestVersion);
}

TEST_F(DispatcherTest, InitializeResultIsExact) {
  auto s = sessions.create(TransportKind::streamable_http);
  json::object params{{"protocolVersion", "2025-06-18"}, {"capabilities", json::object{}}};
  auto r = dispatcher.initialize(*s, &params);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(json::value(*r), json::parse(R"({
    "protocolVersion":"2025-06-18",
    "capabilities":{"logging":{},"tools":{"listChanged":true},
                    "resources":{"subscribe":true,"listChanged":true},"prompts":{"listChanged":true}},
    "serverInfo":{"name":"test-server","version":"9.9.9"}})"));
}

TEST_F(DispatcherTest, InitializeAdvertisesCompletionsTitleAndInstructions) {
  options.info.title = "Test Server";
  options.info.instructions = "Be nice.";
  registry.set_completion([](Context&, const CompletionRequest&) { return CompletionResult{}; });
  auto s = sessions.create(TransportKind::streamable_http);
  json::object params{{"protocolVersion", "2025-11-25"}};
  auto r = dispatcher.initialize(*s, &params);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->at("capabilities").at("completions"), json::value(json::object{}));
  EXPECT_EQ(r->at("serverInfo"), json::parse(R"({"name":"test-server","version":"9.9.9","title":"Test Server"})"));
  EXPECT_EQ(r->at("instructions"), json::value("Be nice."));
}

TEST_F(DispatcherTest, InitializeFillsTheSession) {
  auto s = sessions.create(TransportKind::streamable_http);
  EXPECT_FALSE(s->initialized());
  json::object params{{"protocolVersion", "2025-03-26"},
                      {"capabilities", json::object{{"sampling", json::object{}}}},
                      {"clientInfo", json::object{{"name", "c"}, {"version", "1"}}}};
  ASSERT_TRUE(dispatcher.initialize(*s, &params));
  auto st = s->state();
  EXPECT_TRUE(st.initialized);
  EXPECT_EQ(st.protocol_version, "2025-03-26");
  EXPECT_EQ(st.client_capabilities, (json::object{{"sampling", json::object{}}}));
  EXPECT_EQ(st.client_info, (json::object{{"name", "c"}, {"version", "1"}}));
}

TEST_F(DispatcherTest, InitializeRejectsBadParams) {
  auto s = sessions.create(TransportKind::streamable_http);
  auto none = dispatcher.initialize(*s, nullptr);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, -32602);
  for (const char* p : {R"({})", R"({"capabilities":{}})", R"({"protocolVersion":20250618})",
                        R"({"protocolVersion":null})", R"({"protocolVersion":"2025-06-18","capabilities":[]})",
                        R"({"protocolVersion":"2025-06-18","clientInfo":"me"})"}) {
    json::object params = json::parse(p).as_object();
    auto r = dispatcher.initialize(*s, &params);
    ASSERT_FALSE(r) << p;
    EXPECT_EQ(r.error().code, -32602) << p;
  }
  EXPECT_FALSE(s->initialized()) << "a failed initialize leaves the session untouched";
}

TEST_F(DispatcherTest, InitializeThroughHandleRequestIsRefused) {
  // The transport answers initialize (it creates the session); reaching the dispatcher
  // means a second initialize on an existing session.
  auto s = new_session();
  auto resp = call(s, "initialize", json::object{{"protocolVersion", "2025-06-18"}});
  EXPECT_EQ(error_code(resp), -32600);
}

// ------------------------------------------------------ framing and basic methods

TEST_F(DispatcherTest, PingIsExactlyAnEmptyResult) {
  auto s = new_session();
  EXPECT_EQ(call(s, "ping"), json::parse(R"({"jsonrpc":"2.0","id":1,"result":{}})"));
  EXPECT_EQ(call(s, "ping", {}, json::value("p-1")), json::parse(R"({"jsonrpc":"2.0","id":"p-1","result":{}})"));
  EXPECT_EQ(call(nullptr, "ping", {}, json::value(7)), json::parse(R"({"jsonrpc":"2.0","id":7,"result":{}})"));
}

TEST_F(DispatcherTest, UnknownMethodIsMethodNotFound) {
  auto s = new_session();
  auto resp = call(s, "tools/explode", {}, json::value(5));
  EXPECT_EQ(error_code(resp), -32601);
  EXPECT_EQ(resp.at("id"), json::value(5));
  EXPECT_NE(error_message(resp).find("tools/explode"), std::string::npos);
}

TEST_F(DispatcherTest, NonRequestIsInvalidRequestWithNullId) {
  auto note = handle(nullptr, json::parse(R"({"jsonrpc":"2.0","method":"ping"})"));
  ASSERT_TRUE(note);
  EXPECT_EQ(error_code(*note), -32600);
  EXPECT_TRUE(note->at("id").is_null());
  auto bad = handle(nullptr, json::parse(R"({"id":1,"method":"ping"})"));
  ASSERT_TRUE(bad);
  EXPECT_EQ(error_code(*bad), -32600);
  EXPECT_TRUE(bad->at("id").is_null());
}

TEST_F(DispatcherTest, NothingIsSentOnTheOutboundForAPlainRequest) {
  auto s = new_session();
  call(s, "ping");
  EXPECT_TRUE(out->sent.empty());
  EXPECT_TRUE(out->responses.empty()) << "the caller sends the response, not the dispatcher";
}

// ----------------------------------------------------------------------- tools

TEST_F(DispatcherTest, ToolsListIsPaginated) {
  for (const char* n : {"a", "b", "c"}) {
    add_tool(n, [](Context&, const json::object&) { return ToolResult::text("x"); });
  }
  auto s = new_session();
  auto first = result_of(call(s, "tools/list"));
  EXPECT_EQ(first.at("tools").as_array().size(), 2u);
  ASSERT_TRUE(first.as_object().contains("nextCursor"));
  auto second = result_of(call(s, "tools/list", json::object{{"cursor", first.at("nextCursor")}}));
  EXPECT_EQ(second, json::parse(R"({"tools":[{"name":"c","inputSchema":{"type":"object"}}]})"));
  auto bad = call(s, "tools/list", json::object{{"cursor", "garbage"}});
  EXPECT_EQ(error_code(bad), -32602);
}

TEST_F(DispatcherTest, SyncToolGetsItsArguments) {
  add_tool("echo", [](Context&, const json::object& args) -> Result<ToolResult> {
    return ToolResult::text(args.at("text").as_string());
  });
  auto s = new_session();
  auto resp = call(s, "tools/call", json::object{{"name", "echo"}, {"arguments", json::object{{"text", "hi"}}}});
  EXPECT_EQ(resp, json::parse(R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hi"}]}})"));
}

TEST_F(DispatcherTest, AsyncToolIsAwaited) {
  int steps = 0;
  add_tool("slow", [&steps](Context&, const json::object& args) -> Task<Result<ToolResult>> {
    // Really suspend (twice) before answering.
    co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
    ++steps;
    co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
    ++steps;
    co_return ToolResult::text("n=" + std::to_string(args.at("n").as_int64()));
  });
  auto s = new_session();
  auto resp = call(s, "tools/call", json::object{{"name", "slow"}, {"arguments", json::object{{"n", 3}}}});
  EXPECT_EQ(result_of(resp), json::parse(R"({"content":[{"type":"text","text":"n=3"}]})"));
  EXPECT_EQ(steps, 2);
}

TEST_F(DispatcherTest, StructuredContentAndMetaArePassedThrough) {
  add_tool("sum", [](Context&, const json::object&) {
    ToolResult r = ToolResult::text("3");
    r.structured_content = json::object{{"sum", 3}};
    r.meta = json::object{{"k", "v"}};
    return r;
  });
  auto resp = call(new_session(), "tools/call", json::object{{"name", "sum"}});
  EXPECT_EQ(result_of(resp), json::parse(R"({"content":[{"type":"text","text":"3"}],
    "structuredContent":{"sum":3},"_meta":{"k":"v"}})"));
}

TEST_F(DispatcherTest, UnknownToolIsInvalidParams) {
  auto resp = call(new_session(), "tools/call", json::object{{"name", "ghost"}});
  EXPECT_EQ(error_code(resp), -32602);
  EXPECT_NE(error_message(resp).find("ghost"), std::string::npos) << resp;
}

TEST_F(DispatcherTest, ToolsCallWithBadParamsIsInvalidParams) {
  add_tool("echo", [](Context&, const json::object&) { return ToolResult::text("x"); });
  auto s = new_session();
  EXPECT_EQ(error_code(call(s, "tools/call")), -32602);
  EXPECT_EQ(error_code(call(s, "tools/call", json::object{{"name", 5}})), -32602);
  EXPECT_EQ(error_code(call(s, "tools/call", json::object{{"name", "echo"}, {"arguments", json::array{1}}})), -32602);
  EXPECT_EQ(error_code(call(s, "tools/call", json::object{{"name", "echo"}, {"arguments", "x"}})), -32602);
}

TEST_F(DispatcherTest, NullArgumentsAreNoArguments) {
  std::size_t seen = 99;
  add_tool("count", [&seen](Context&, const json::object& args) {
    seen = args.size();
    return ToolResult::text("ok");
  });
  auto resp = call(new_session(), "tools/call", json::object{{"name", "count"}, {"arguments", nullptr}});
  EXPECT_EQ(result_of(resp).at("content").at(0).at("text"), json::value("ok"));
  EXPECT_EQ(seen, 0u);
}

/// The text of a tools/call result that must be a tool error (isError: true).
std::string tool_error_text(const json::value& resp) {
  const auto& r = resp.at("result").as_object();
  EXPECT_TRUE(r.contains("isError") && r.at("isError").as_bool()) << json::serialize(resp);
  return std::string(r.at("content").at(0).at("text").as_string());
}

// The README's forecast tool (issue 14): every argument is checked against the inputSchema
// before the handler runs, and what is wrong is named, all of it at once.
TEST_F(DispatcherTest, ArgumentsAreValidatedAgainstTheInputSchemaBeforeTheHandlerRuns) {
  int called = 0;
  add_tool(
      "forecast",
      [&called](Context&, const json::object&) {
        ++called;
        return ToolResult::text("sunny");
      },
      json::parse(R"({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1}},
                     "required":["city"]})")
          .as_object());
  auto s = new_session();
  auto args = [&](const char* a) {
    return call(s, "tools/call", json::object{{"name", "forecast"}, {"arguments", json::parse(a)}});
  };
  EXPECT_EQ(tool_error_text(args(R"({"city":"Oslo","days":"3"})")),
            "Invalid arguments for tool forecast: days: expected integer, got string \"3\"");
  EXPECT_EQ(tool_error_text(args(R"({"city":42})")),
            "Invalid arguments for tool forecast: city: expected string, got integer 42");
  EXPECT_EQ(tool_error_text(args(R"({"days":0})")),
            "Invalid arguments for tool forecast: days: must be >= 1, got 0; missing required property \"city\"");
  EXPECT_EQ(called, 0);
  EXPECT_EQ(result_of(args(R"({"city":"Oslo","days":3})")).at("content").at(0).at("text"), json::value("sunny"));
  EXPECT_EQ(called, 1);
}

// The reference server's json_schema_2020_12_tool: additionalProperties false and a $ref
// into $defs were accepted whatever came (issue 14).
TEST_F(DispatcherTest, AdditionalPropertiesAndRefsIntoDefsAreEnforced) {
  int called = 0;
  add_tool(
      "contact",
      [&called](Context&, const json::object&) {
        ++called;
        return ToolResult::text("ok");
      },
      json::parse(R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
        "$defs":{"address":{"$anchor":"addressDef","type":"object",
                            "properties":{"street":{"type":"string"},"city":{"type":"string"}}}},
        "properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"}},
        "additionalProperties":false})")
          .as_object());
  auto s = new_session();
  auto args = [&](const char* a) {
    return call(s, "tools/call", json::object{{"name", "contact"}, {"arguments", json::parse(a)}});
  };
  EXPECT_NE(tool_error_text(args(R"({"nmae":1})")).find("\"nmae\""), std::string::npos);
  EXPECT_EQ(tool_error_text(args(R"({"address":{"street":5}})")),
            "Invalid arguments for tool contact: address.street: expected string, got integer 5");
  EXPECT_EQ(called, 0);
  EXPECT_EQ(result_of(args(R"({"name":"Ada","address":{"street":"Main"}})")).at("content").at(0).at("text"),
            json::value("ok"));
}

TEST_F(DispatcherTest, AnInvalidSchemaIsRefusedAtRegistrationNamingThePlace) {
  Tool t;
  t.name = "broken";
  t.input_schema = json::parse(R"({"type":"object","properties":{"days":{"type":"integr"}}})").as_object();
  t.handler = [](Context&, const json::object&) { return ToolResult::text("never"); };
  try {
    registry.add_tool(t);
    ADD_FAILURE() << "add_tool accepted an invalid inputSchema";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("inputSchema/properties/days/type"), std::string::npos) << e.what();
  }
  t.input_schema = json::object{{"type", "object"}};
  t.output_schema =
      json::parse(R"({"type":"object","properties":{"n":{"$ref":"https://example.com/n.json"}}})").as_object();
  EXPECT_THROW(registry.add_tool(t), std::invalid_argument) << "a remote $ref is never fetched";
  EXPECT_EQ(registry.tool("broken"), nullptr);
}

// A handler whose structuredContent does not fit its outputSchema has a bug: the client
// gets a tool error saying so instead of a result its SDK would reject.
TEST_F(DispatcherTest, StructuredContentIsCheckedAgainstTheOutputSchema) {
  json::value next;  // what the handler returns as structuredContent (null: none)
  Tool t;
  t.name = "stats";
  t.input_schema = json::object{{"type", "object"}};
  t.output_schema =
      json::parse(R"({"type":"object","properties":{"mean":{"type":"number"}},"required":["mean"]})").as_object();
  t.handler = [&next](Context&, const json::object&) {
    ToolResult r = ToolResult::text("stats");
    if (!next.is_null()) r.structured_content = next;
    return r;
  };
  registry.add_tool(t);
  auto s = new_session();
  auto run = [&] { return call(s, "tools/call", json::object{{"name", "stats"}, {"arguments", json::object{}}}); };
  next = json::parse(R"({"mean":2.5})");
  EXPECT_EQ(result_of(run()).at("structuredContent"), next);
  next = json::parse(R"({"mean":"2.5"})");
  EXPECT_EQ(tool_error_text(run()),
            "Tool stats returned structuredContent that does not match its outputSchema: mean: expected number, got "
            "string \"2.5\"");
  next = nullptr;
  EXPECT_EQ(tool_error_text(run()), "Tool stats returned no structuredContent, which its outputSchema requires");
}

TEST_F(DispatcherTest, MissingRequiredArgumentIsAToolErrorResult) {
  bool called = false;
  add_tool(
      "greet",
      [&called](Context&, const json::object&) {
        called = true;
        return ToolResult::text("hello");
      },
      json::parse(R"({"type":"object","properties":{"name":{"type":"string"}},"required":["name"]})").as_object());
  auto resp = call(new_session(), "tools/call", json::object{{"name", "greet"}, {"arguments", json::object{}}});
  EXPECT_EQ(resp, json::parse(R"({"jsonrpc":"2.0","id":1,"result":{
    "content":[{"type":"text","text":"Invalid arguments for tool greet: missing required property \"name\""}],
    "isError":true}})"));
  EXPECT_FALSE(called);
  // With the argument present the handler runs.
  auto ok =
      call(new_session(), "tools/call", json::object{{"name", "greet"}, {"arguments", json::object{{"name", "x"}}}});
  EXPECT_EQ(result_of(ok).at("content").at(0).at("text"), json::value("hello"));
  EXPECT_TRUE(called);
}

TEST_F(DispatcherTest, ThrowingSyncToolIsAnErrorResultNotACrash) {
  add_tool("boom", [](Context&, const json::object&) -> Result<ToolResult> { throw std::runtime_error("kaboom"); });
  auto resp = call(new_session(), "tools/call", json::object{{"name", "boom"}});
  EXPECT_EQ(resp, json::parse(R"({"jsonrpc":"2.0","id":1,"result":{
    "content":[{"type":"text","text":"kaboom"}],"isError":true}})"));
}

TEST_F(DispatcherTest, ThrowingAsyncToolIsAnErrorResultNotACrash) {
  add_tool("boom", [](Context&, const json::object&) -> Task<Result<ToolResult>> {
    co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
    throw std::runtime_error("async kaboom");
  });
  auto resp = call(new_session(), "tools/call", json::object{{"name", "boom"}});
  EXPECT_EQ(result_of(resp), json::parse(R"({"content":[{"type":"text","text":"async kaboom"}],"isError":true})"));
}

TEST_F(DispatcherTest, ToolReturningErrorIsAJsonRpcError) {
  add_tool("denied", [](Context&, const json::object&) -> Result<ToolResult> {
    return Error{-32042, "denied by policy", json::object{{"why", "test"}}};
  });
  auto resp = call(new_session(), "tools/call", json::object{{"name", "denied"}}, json::value("r1"));
  EXPECT_EQ(resp, json::parse(R"({"jsonrpc":"2.0","id":"r1","error":{
    "code":-32042,"message":"denied by policy","data":{"why":"test"}}})"));
}

TEST_F(DispatcherTest, ToolWorksWithoutASession) {
  std::string sid = "unset", version;
  add_tool("who", [&](Context& ctx, const json::object&) {
    sid = std::string(ctx.session_id());
    version = std::string(ctx.protocol_version());
    return ToolResult::text("ok");
  });
  auto resp = call(nullptr, "tools/call", json::object{{"name", "who"}});
  EXPECT_EQ(result_of(resp).at("content").at(0).at("text"), json::value("ok"));
  EXPECT_EQ(sid, "");
  EXPECT_EQ(version, protocol::kLatestVersion);
}

TEST_F(DispatcherTest, ContextDescribesTheRequest) {
  std::string sid, node, version;
  json::value request_id, info, caps;
  bool cancelled = true;
  add_tool("ctx", [&](Context& ctx, const json::object&) {
    sid = std::string(ctx.session_id());
    node = std::string(ctx.node_id());
    version = std::string(ctx.protocol_version());
    request_id = ctx.request_id();
    info = ctx.client_info();
    caps = ctx.client_capabilities();
    cancelled = ctx.cancelled();
    return ToolResult::text("ok");
  });
  auto s = new_session(json::object{{"roots", json::object{}}}, "2025-06-18");
  call(s, "tools/call", json::object{{"name", "ctx"}}, json::value("req-9"));
  EXPECT_EQ(sid, s->id());
  EXPECT_EQ(node, "node-test");
  EXPECT_EQ(version, "2025-06-18");
  EXPECT_EQ(request_id, json::value("req-9"));
  EXPECT_EQ(info, json::parse(R"({"name":"test-client","version":"1.2.3"})"));
  EXPECT_EQ(caps, json::parse(R"({"roots":{}})"));
  EXPECT_FALSE(cancelled);
}

TEST_F(DispatcherTest, CloseSseStreamDisconnectsTheOutbound) {
  add_tool("poll", [](Context& ctx, const json::object&) {
    ctx.close_sse_stream();
    return ToolResult::text("ok");
  });
  call(new_session(), "tools/call", json::object{{"name", "poll"}});
  EXPECT_EQ(out->disconnects, 1);
}

// ------------------------------------------------------------------- resources

class DispatcherResources : public DispatcherTest {
 protected:
  void SetUp() override {
    Resource r;
    r.uri = "file:///readme";
    r.name = "readme";
    r.mime_type = "text/plain";
    r.reader = [](Context&, const std::string& uri) {
      return std::vector<ResourceContents>{{uri, "text/plain", std::string("hello"), std::nullopt}};
    };
    registry.add_resource(r);

    Resource me;
    me.uri = "users://me/profile";
    me.name = "me";
    me.reader = [](Context&, const std::string& uri) {
      return std::vector<ResourceContents>{{uri, "", std::string("static me"), std::nullopt}};
    };
    registry.add_resource(me);

    ResourceTemplate t;
    t.uri_template = "users://{id}/profile";
    t.name = "profile";
    t.reader = [](Context&, const std::string& uri,
                  const UriVariables& vars) -> Task<Result<std::vector<ResourceContents>>> {
      co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
      co_return std::vector<ResourceContents>{{uri, "application/json", std::nullopt, std::string("YmxvYg==")},
                                              {uri, "", "profile of " + vars.at("id"), std::nullopt}};
    };
    registry.add_template(t);

    ResourceTemplate broken;
    broken.uri_template = "broken://{x}";
    broken.name = "broken";
    broken.reader = [](Context&, const std::string&, const UriVariables&) -> Result<std::vector<ResourceContents>> {
      throw std::runtime_error("disk on fire");
    };
    registry.add_template(broken);

    ResourceTemplate refusing;
    refusing.uri_template = "secret://{x}";
    refusing.name = "secret";
    refusing.reader = [](Context&, const std::string&, const UriVariables&) -> Result<std::vector<ResourceContents>> {
      return Error{-32003, "forbidden", {}};
    };
    registry.add_template(refusing);
  }
};

TEST_F(DispatcherResources, ReadStaticResource) {
  auto resp = call(new_session(), "resources/read", json::object{{"uri", "file:///readme"}});
  EXPECT_EQ(resp, json::parse(R"({"jsonrpc":"2.0","id":1,"result":{"contents":[
    {"uri":"file:///readme","mimeType":"text/plain","text":"hello"}]}})"));
}

TEST_F(DispatcherResources, ReadThroughATemplate) {
  auto resp = call(new_session(), "resources/read", json::object{{"uri", "users://42/profile"}});
  EXPECT_EQ(result_of(resp), json::parse(R"({"contents":[
    {"uri":"users://42/profile","mimeType":"application/json","blob":"YmxvYg=="},
    {"uri":"users://42/profile","text":"profile of 42"}]})"));
}

TEST_F(DispatcherResources, TemplateVariablesArePercentDecoded) {
  auto resp = call(new_session(), "resources/read", json::object{{"uri", "users://a%20b/profile"}});
  EXPECT_EQ(result_of(resp).at("contents").at(1).at("text"), json::value("profile of a b"));
}

TEST_F(DispatcherResources, StaticResourceWinsOverATemplate) {
  auto resp = call(new_session(), "resources/read", json::object{{"uri", "users://me/profile"}});
  EXPECT_EQ(result_of(resp), json::parse(R"({"contents":[{"uri":"users://me/profile","text":"static me"}]})"));
}

TEST_F(DispatcherResources, UnknownResourceIsMinus32002WithTheUri) {
  auto resp = call(new_session(), "resources/read", json::object{{"uri", "nope://x"}}, json::value(3));
  EXPECT_EQ(resp, json::parse(R"({"jsonrpc":"2.0","id":3,"error":{
    "code":-32002,"message":"Resource not found","data":{"uri":"nope://x"}}})"));
}

TEST_F(DispatcherResources, ReadWithoutUriIsInvalidParams) {
  auto s = new_session();
  EXPECT_EQ(error_code(call(s, "resources/read")), -32602);
  EXPECT_EQ(error_code(call(s, "resources/read", json::object{{"uri", 1}})), -32602);
}

TEST_F(DispatcherResources, ThrowingReaderIsAnInternalErrorNotACrash) {
  auto resp = call(new_session(), "resources/read", json::object{{"uri", "broken://1"}});
  EXPECT_EQ(error_code(resp), -32603);
  EXPECT_NE(error_message(resp).find("disk on fire"), std::string::npos) << resp;
}

TEST_F(DispatcherResources, ReaderErrorIsPassedThrough) {
  auto resp = call(new_session(), "resources/read", json::object{{"uri", "secret://1"}});
  EXPECT_EQ(error_code(resp), -32003);
  EXPECT_EQ(error_message(resp), "forbidden");
}

TEST_F(DispatcherResources, ListsResourcesAndTemplates) {
  auto s = new_session();
  auto res = result_of(call(s, "resources/list"));
  EXPECT_EQ(res, json::parse(R"({"resources":[
    {"uri":"file:///readme","name":"readme","mimeType":"text/plain"},
    {"uri":"users://me/profile","name":"me"}]})"));
  auto tpl = result_of(call(s, "resources/templates/list"));
  EXPECT_EQ(tpl.at("resourceTemplates").as_array().size(), 2u);
  EXPECT_EQ(tpl.at("resourceTemplates").at(0),
            json::parse(R"({"uriTemplate":"users://{id}/profile","name":"profile"})"));
  ASSERT_TRUE(tpl.as_object().contains("nextCursor"));
  auto tpl2 = result_of(call(s, "resources/templates/list", json::object{{"cursor", tpl.at("nextCursor")}}));
  EXPECT_EQ(tpl2.at("resourceTemplates").as_array().size(), 1u);
  EXPECT_FALSE(tpl2.as_object().contains("nextCursor"));
}

// --------------------------------------------------------------- subscriptions

TEST_F(DispatcherTest, SubscribeAndResourceUpdated) {
  auto a = new_session();
  auto b = new_session();
  EXPECT_EQ(result_of(call(a, "resources/subscribe", json::object{{"uri", "file:///x"}})), json::value(json::object{}));
  EXPECT_EQ(ids(sessions.subscribers("file:///x")), std::vector<std::string>{a->id()});
  dispatcher.resource_updated("file:///x");
  auto msgs = stream_messages(*a->standalone());
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(
      msgs[0],
      json::parse(R"({"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"file:///x"}})"));
  EXPECT_TRUE(stream_messages(*b->standalone()).empty());

  EXPECT_EQ(result_of(call(a, "resources/unsubscribe", json::object{{"uri", "file:///x"}})),
            json::value(json::object{}));
  EXPECT_TRUE(sessions.subscribers("file:///x").empty());
  dispatcher.resource_updated("file:///x");
  EXPECT_EQ(stream_messages(*a->standalone()).size(), 1u);
}

TEST_F(DispatcherTest, SubscribeNeedsASessionAndAUri) {
  EXPECT_EQ(error_code(call(nullptr, "resources/subscribe", json::object{{"uri", "file:///x"}})), -32600);
  EXPECT_EQ(error_code(call(new_session(), "resources/subscribe")), -32602);
}

TEST_F(DispatcherTest, ToolCanNotifyResourceUpdated) {
  add_tool("touch", [](Context& ctx, const json::object&) {
    ctx.notify_resource_updated("file:///y");
    return ToolResult::text("ok");
  });
  auto watcher = new_session();
  sessions.subscribe(watcher, "file:///y");
  call(new_session(), "tools/call", json::object{{"name", "touch"}});
  auto msgs = stream_messages(*watcher->standalone());
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].at("params").at("uri"), json::value("file:///y"));
}

TEST_F(DispatcherTest, ListChangedReachesInitializedSessionsOnly) {
  auto ready = new_session();
  auto fresh = sessions.create(TransportKind::streamable_http);
  dispatcher.list_changed(registry::ListKind::tools);
  dispatcher.list_changed(registry::ListKind::resource_templates);
  dispatcher.list_changed(registry::ListKind::prompts);
  auto msgs = stream_messages(*ready->standalone());
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0], json::parse(R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})"));
  EXPECT_EQ(msgs[1], json::parse(R"({"jsonrpc":"2.0","method":"notifications/resources/list_changed"})"));
  EXPECT_EQ(msgs[2], json::parse(R"({"jsonrpc":"2.0","method":"notifications/prompts/list_changed"})"));
  EXPECT_TRUE(stream_messages(*fresh->standalone()).empty());
}

// --------------------------------------------------------------------- prompts

class DispatcherPrompts : public DispatcherTest {
 protected:
  int calls = 0;
  void SetUp() override {
    Prompt p;
    p.name = "greet";
    p.description = "Greets someone";
    p.arguments = {{"name", "who", true}, {"tone", "", false}};
    p.handler = [this](Context&, const PromptArguments& args) {
      ++calls;
      PromptResult r;
      r.description = "A greeting";
      auto tone = args.find("tone");
      r.messages.push_back({"user", content::text("Hello, " + args.at("name") +
                                                  (tone == args.end() ? std::string() : " (" + tone->second + ")"))});
      return r;
    };
    registry.add_prompt(p);
  }
};

TEST_F(DispatcherPrompts, GetRendersMessages) {
  auto resp = call(new_session(), "prompts/get",
                   json::object{{"name", "greet"}, {"arguments", json::object{{"name", "Ada"}, {"tone", "warm"}}}});
  EXPECT_EQ(result_of(resp), json::parse(R"j({"description":"A greeting","messages":[
    {"role":"user","content":{"type":"text","text":"Hello, Ada (warm)"}}]})j"));
}

TEST_F(DispatcherPrompts, MissingRequiredArgumentIsInvalidParams) {
  auto s = new_session();
  auto resp = call(s, "prompts/get", json::object{{"name", "greet"}, {"arguments", json::object{{"tone", "x"}}}});
  EXPECT_EQ(error_code(resp), -32602);
  EXPECT_NE(error_message(resp).find("name"), std::string::npos) << resp;
  EXPECT_EQ(error_code(call(s, "prompts/get", json::object{{"name", "greet"}})), -32602);
  EXPECT_EQ(calls, 0);
}

TEST_F(DispatcherPrompts, BadArgumentsAreInvalidParams) {
  auto s = new_session();
  EXPECT_EQ(
      error_code(call(s, "prompts/get", json::object{{"name", "greet"}, {"arguments", json::object{{"name", 5}}}})),
      -32602);
  EXPECT_EQ(error_code(call(s, "prompts/get", json::object{{"name", "greet"}, {"arguments", "Ada"}})), -32602);
  EXPECT_EQ(error_code(call(s, "prompts/get", json::object{{"name", "nope"}})), -32602);
  EXPECT_EQ(error_code(call(s, "prompts/get")), -32602);
  EXPECT_EQ(calls, 0);
}

TEST_F(DispatcherPrompts, List) {
  auto resp = call(new_session(), "prompts/list");
  EXPECT_EQ(result_of(resp), json::parse(R"({"prompts":[{"name":"greet","description":"Greets someone",
    "arguments":[{"name":"name","required":true,"description":"who"},{"name":"tone","required":false}]}]})"));
}

// ------------------------------------------------------------------ completion

TEST_F(DispatcherTest, CompletionCompleteCallsTheHandler) {
  CompletionRequest seen;
  registry.set_completion([&seen](Context&, const CompletionRequest& req) {
    seen = req;
    CompletionResult r;
    r.values = {req.argument_value + "1", req.argument_value + "2"};
    r.total = 2;
    return r;
  });
  auto resp = call(new_session(), "completion/complete",
                   json::object{{"ref", json::object{{"type", "ref/prompt"}, {"name", "greet"}}},
                                {"argument", json::object{{"name", "name"}, {"value", "Ad"}}},
                                {"context", json::object{{"arguments", json::object{{"tone", "warm"}, {"n", 1}}}}}});
  EXPECT_EQ(result_of(resp), json::parse(R"({"completion":{"values":["Ad1","Ad2"],"hasMore":false,"total":2}})"));
  EXPECT_EQ(seen.ref_type, "ref/prompt");
  EXPECT_EQ(seen.ref, "greet");
  EXPECT_EQ(seen.argument_name, "name");
  EXPECT_EQ(seen.argument_value, "Ad");
  EXPECT_EQ(seen.context_arguments, (PromptArguments{{"tone", "warm"}})) << "non-string context values are skipped";
}

TEST_F(DispatcherTest, CompletionForAResourceTemplateUsesTheUri) {
  CompletionRequest seen;
  registry.set_completion([&seen](Context&, const CompletionRequest& req) {
    seen = req;
    return CompletionResult{};
  });
  auto resp = call(new_session(), "completion/complete",
                   json::object{{"ref", json::object{{"type", "ref/resource"}, {"uri", "users://{id}/profile"}}},
                                {"argument", json::object{{"name", "id"}, {"value", ""}}}});
  EXPECT_EQ(result_of(resp), json::parse(R"({"completion":{"values":[],"hasMore":false}})"));
  EXPECT_EQ(seen.ref_type, "ref/resource");
  EXPECT_EQ(seen.ref, "users://{id}/profile");
  EXPECT_TRUE(seen.context_arguments.empty());
}

TEST_F(DispatcherTest, CompletionWithoutAHandlerIsMethodNotFound) {
  auto resp = call(new_session(), "completion/complete",
                   json::object{{"ref", json::object{{"type", "ref/prompt"}, {"name", "greet"}}},
                                {"argument", json::object{{"name", "n"}, {"value", "v"}}}});
  EXPECT_EQ(error_code(resp), -32601);
}

TEST_F(DispatcherTest, CompletionWithBadParamsIsInvalidParams) {
  registry.set_completion([](Context&, const CompletionRequest&) { return CompletionResult{}; });
  auto s = new_session();
  for (const char* p :
       {R"({})", R"({"ref":{"type":"ref/prompt","name":"g"}})", R"({"ref":"g","argument":{"name":"n","value":"v"}})",
        R"({"ref":{"name":"g"},"argument":{"name":"n","value":"v"}})",
        R"({"ref":{"type":"ref/prompt"},"argument":{"name":"n","value":"v"}})",
        R"({"ref":{"type":"ref/resource","name":"g"},"argument":{"name":"n","value":"v"}})",
        R"({"ref":{"type":"ref/prompt","name":"g"},"argument":{"name":"n"}})",
        R"({"ref":{"type":"ref/prompt","name":"g"},"argument":{"name":"n","value":1}})"}) {
    EXPECT_EQ(error_code(call(s, "completion/complete", json::parse(p).as_object())), -32602) << p;
  }
}

// --------------------------------------------------------------------- logging

TEST_F(DispatcherTest, SetLevelValidIsEmptyResult) {
  auto s = new_session();
  EXPECT_FALSE(s->log_level().has_value());
  EXPECT_EQ(call(s, "logging/setLevel", json::object{{"level", "warning"}}),
            json::parse(R"({"jsonrpc":"2.0","id":1,"result":{}})"));
  EXPECT_EQ(s->log_level(), LogLevel::warning);
  EXPECT_EQ(result_of(call(s, "logging/setLevel", json::object{{"level", "emergency"}})), json::value(json::object{}));
  EXPECT_EQ(s->log_level(), LogLevel::emergency);
}

TEST_F(DispatcherTest, SetLevelInvalidIsInvalidParams) {
  auto s = new_session();
  EXPECT_EQ(error_code(call(s, "logging/setLevel", json::object{{"level", "loud"}})), -32602);
  EXPECT_EQ(error_code(call(s, "logging/setLevel", json::object{{"level", "WARNING"}})), -32602);
  EXPECT_EQ(error_code(call(s, "logging/setLevel", json::object{{"level", 3}})), -32602);
  EXPECT_EQ(error_code(call(s, "logging/setLevel")), -32602);
  EXPECT_FALSE(s->log_level().has_value());
}

class DispatcherLogging : public DispatcherTest {
 protected:
  void SetUp() override {
    add_tool("chatty", [](Context& ctx, const json::object&) {
      ctx.log(LogLevel::debug, "d");
      ctx.log(LogLevel::info, "i");
      ctx.log(LogLevel::warning, "w");
      ctx.log(LogLevel::error, json::object{{"x", 1}}, "db");
      return ToolResult::text("ok");
    });
  }
  std::vector<std::string> levels() const {
    std::vector<std::string> names;
    for (const auto& m : out->with_method("notifications/message")) {
      names.emplace_back(m.at("params").at("level").as_string());
    }
    return names;
  }
};

TEST_F(DispatcherLogging, LogBelowTheLevelIsFiltered) {
  auto s = new_session();
  call(s, "logging/setLevel", json::object{{"level", "warning"}});
  call(s, "tools/call", json::object{{"name", "chatty"}});
  EXPECT_EQ(levels(), (std::vector<std::string>{"warning", "error"}));
  auto msgs = out->with_method("notifications/message");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(
      msgs[0],
      json::parse(R"({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"warning","data":"w"}})"));
  EXPECT_EQ(msgs[1], json::parse(R"({"jsonrpc":"2.0","method":"notifications/message",
    "params":{"level":"error","data":{"x":1},"logger":"db"}})"));
}

TEST_F(DispatcherLogging, EverythingPassesBeforeSetLevel) {
  call(new_session(), "tools/call", json::object{{"name", "chatty"}});
  EXPECT_EQ(levels(), (std::vector<std::string>{"debug", "info", "warning", "error"}));
}

TEST_F(DispatcherLogging, LevelIsPerSession) {
  auto quiet = new_session();
  call(quiet, "logging/setLevel", json::object{{"level", "emergency"}});
  call(quiet, "tools/call", json::object{{"name", "chatty"}});
  EXPECT_TRUE(levels().empty());
  call(new_session(), "tools/call", json::object{{"name", "chatty"}});
  EXPECT_EQ(levels().size(), 4u);
}

// -------------------------------------------------------------------- progress

class DispatcherProgress : public DispatcherTest {
 protected:
  void SetUp() override {
    add_tool("work", [](Context& ctx, const json::object& args) {
      if (args.contains("bare")) {
        ctx.progress(3);
      } else {
        ctx.progress(0.5, 1.0, "halfway");
      }
      return ToolResult::text("done");
    });
  }
};

TEST_F(DispatcherProgress, NothingWithoutAProgressToken) {
  auto resp = call(new_session(), "tools/call", json::object{{"name", "work"}});
  EXPECT_EQ(result_of(resp).at("content").at(0).at("text"), json::value("done"));
  EXPECT_TRUE(out->sent.empty());
}

TEST_F(DispatcherProgress, NothingWhenMetaHasNoToken) {
  call(new_session(), "tools/call", json::object{{"name", "work"}, {"_meta", json::object{{"other", 1}}}});
  EXPECT_TRUE(out->sent.empty());
}

TEST_F(DispatcherProgress, StringTokenIsEchoed) {
  call(new_session(), "tools/call",
       json::object{{"name", "work"}, {"_meta", json::object{{"progressToken", "tok-1"}}}});
  ASSERT_EQ(out->sent.size(), 1u);
  EXPECT_EQ(out->sent[0], json::parse(R"({"jsonrpc":"2.0","method":"notifications/progress",
    "params":{"progressToken":"tok-1","progress":0.5,"total":1,"message":"halfway"}})"));
}

TEST_F(DispatcherProgress, WholeNumbersAreSentAsIntegers) {
  // 3.0 is written "3", not "3E0": some clients compare progress values as integers.
  call(new_session(), "tools/call",
       json::object{{"name", "work"},
                    {"arguments", json::object{{"bare", true}}},
                    {"_meta", json::object{{"progressToken", 7}}}});
  ASSERT_EQ(out->sent.size(), 1u);
  EXPECT_EQ(json::serialize(out->sent[0].at("params").at("progress")), "3");
}

TEST_F(DispatcherProgress, IntegerTokenKeepsItsType) {
  call(new_session(), "tools/call",
       json::object{{"name", "work"},
                    {"arguments", json::object{{"bare", true}}},
                    {"_meta", json::object{{"progressToken", 7}}}});
  ASSERT_EQ(out->sent.size(), 1u);
  const auto& p = out->sent[0].at("params").as_object();
  ASSERT_TRUE(p.at("progressToken").is_int64()) << out->sent[0];
  EXPECT_EQ(p.at("progressToken").as_int64(), 7);
  EXPECT_EQ(p.at("progress").to_number<double>(), 3.0);
  EXPECT_FALSE(p.contains("total"));
  EXPECT_FALSE(p.contains("message"));
}

TEST_F(DispatcherProgress, WorksWithoutASession) {
  call(nullptr, "tools/call", json::object{{"name", "work"}, {"_meta", json::object{{"progressToken", "t"}}}});
  EXPECT_EQ(out->with_method("notifications/progress").size(), 1u);
}

// ------------------------------------------------------ server->client requests

class DispatcherClientRequests : public DispatcherTest {
 protected:
  std::chrono::milliseconds timeout = 5000ms;
  std::string method = "sampling/createMessage";
  void SetUp() override {
    add_tool("ask", [this](Context& ctx, const json::object&) -> Task<Result<ToolResult>> {
      // Arguments are built before co_await: g++ 12 cannot keep an initializer_list
      // temporary alive across a suspension ("array used as initializer").
      Result<json::value> r = Error::internal("unset");
      if (method == "sampling/createMessage") {
        json::object params{{"maxTokens", 10}};
        r = co_await ctx.create_message(std::move(params), timeout);
      } else if (method == "elicitation/create") {
        json::object params{{"message", "name?"}};
        r = co_await ctx.elicit(std::move(params), timeout);
      } else {
        r = co_await ctx.list_roots(timeout);
      }
      if (!r) co_return r.error();
      co_return ToolResult::text(json::serialize(*r));
    });
  }
  /// Answers every server->client request from the event loop, as a client would.
  void answer_with(std::shared_ptr<Session> s, std::function<json::value(const json::value& id)> make) {
    out->on_send = [this, s, make](const json::value& m) {
      if (!m.as_object().contains("id")) return;
      net::post(ioc, [this, s, make, id = m.at("id")] { respond(s, make(id)); });
    };
  }
};

TEST_F(DispatcherClientRequests, CreateMessageAnswered) {
  auto s = new_session(json::object{{"sampling", json::object{}}});
  answer_with(s, [](const json::value& id) {
    return json::value(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", json::object{{"content", "4"}}}});
  });
  auto resp = call(s, "tools/call", json::object{{"name", "ask"}});
  EXPECT_EQ(result_of(resp), json::parse(R"({"content":[{"type":"text","text":"{\"content\":\"4\"}"}]})"));
  ASSERT_EQ(out->sent.size(), 1u);
  EXPECT_EQ(out->sent[0], json::parse(R"({"jsonrpc":"2.0","id":"s1","method":"sampling/createMessage",
    "params":{"maxTokens":10}})"));
}

TEST_F(DispatcherClientRequests, AnsweredWithAnError) {
  auto s = new_session(json::object{{"sampling", json::object{}}});
  answer_with(s, [](const json::value& id) {
    return json::value(json::object{{"jsonrpc", "2.0"},
                                    {"id", id},
                                    {"error", json::object{{"code", -1}, {"message", "User rejected"}, {"data", 5}}}});
  });
  auto resp = call(s, "tools/call", json::object{{"name", "ask"}});
  EXPECT_EQ(resp.at("error"), json::parse(R"({"code":-1,"message":"User rejected","data":5})"));
}

TEST_F(DispatcherClientRequests, ElicitAndRootsUseTheirMethods) {
  auto s = new_session(json::object{{"elicitation", json::object{}}, {"roots", json::object{}}});
  answer_with(s, [](const json::value& id) {
    return json::value(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"result", json::object{}}});
  });
  method = "elicitation/create";
  call(s, "tools/call", json::object{{"name", "ask"}});
  method = "roots/list";
  call(s, "tools/call", json::object{{"name", "ask"}});
  ASSERT_EQ(out->sent.size(), 2u);
  EXPECT_EQ(out->sent[0], json::parse(R"({"jsonrpc":"2.0","id":"s1","method":"elicitation/create",
    "params":{"message":"name?"}})"));
  EXPECT_EQ(out->sent[1], json::parse(R"({"jsonrpc":"2.0","id":"s2","method":"roots/list","params":{}})"));
}

TEST_F(DispatcherClientRequests, TimesOut) {
  timeout = 50ms;
  auto s = new_session(json::object{{"sampling", json::object{}}});
  auto started = std::chrono::steady_clock::now();
  auto resp = call(s, "tools/call", json::object{{"name", "ask"}});
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(error_code(resp), errc::kRequestTimeout);
  EXPECT_EQ(errc::kRequestTimeout, -32003) << "never -32001, which means: your session is gone";
  EXPECT_NE(errc::kRequestTimeout, errc::kSessionNotFound);
  EXPECT_EQ(error_message(resp), "sampling/createMessage timed out");
  EXPECT_GE(took, 50ms);
  ASSERT_EQ(out->sent.size(), 2u);
  EXPECT_EQ(out->sent[0].at("method"), json::value("sampling/createMessage"));
  EXPECT_EQ(out->sent[1], json::parse(R"({"jsonrpc":"2.0","method":"notifications/cancelled",
    "params":{"requestId":"s1","reason":"timeout"}})"));
  // A late answer finds nobody waiting (and is harmless).
  EXPECT_FALSE(s->resolve_pending("s1", json::value(1)));
  respond(s, json::parse(R"({"jsonrpc":"2.0","id":"s1","result":{}})"));
}

TEST_F(DispatcherClientRequests, ClientWithoutTheCapabilityIsRefusedWithoutSending) {
  auto s = new_session();  // no sampling capability
  auto resp = call(s, "tools/call", json::object{{"name", "ask"}});
  EXPECT_EQ(error_code(resp), -32600);
  EXPECT_NE(error_message(resp).find("sampling"), std::string::npos) << resp;
  EXPECT_TRUE(out->sent.empty());
}

TEST_F(DispatcherClientRequests, NeedsASession) {
  auto resp = call(nullptr, "tools/call", json::object{{"name", "ask"}});
  EXPECT_EQ(error_code(resp), errc::kServerError);
  EXPECT_TRUE(out->sent.empty());
}

TEST_F(DispatcherClientRequests, ResponseToAnUnknownIdIsIgnored) {
  auto s = new_session();
  respond(s, json::parse(R"({"jsonrpc":"2.0","id":"s99","result":{}})"));
  respond(s, json::parse(R"({"jsonrpc":"2.0","id":12,"error":{"code":1,"message":"x"}})"));
  respond(nullptr, json::parse(R"({"jsonrpc":"2.0","id":"s1","result":{}})"));
  EXPECT_EQ(result_of(call(s, "ping")), json::value(json::object{}));
}

// ---------------------------------------------------------------- cancellation

TEST_F(DispatcherClientRequests, CancelWhileWaitingOnTheClientSuppressesTheResponse) {
  auto s = new_session(json::object{{"sampling", json::object{}}});
  // The client cancels its tools/call (id 1) instead of answering.
  out->on_send = [this, s](const json::value& m) {
    if (m.as_object().contains("id")) net::post(ioc, [this, s] { notify(s, cancelled(1)); });
  };
  auto r = handle(s, make_request(1, "tools/call", json::object{{"name", "ask"}}));
  EXPECT_FALSE(r.has_value()) << *r;
}

TEST_F(DispatcherTest, CancelledFlagIsSeenByAPollingHandler) {
  int spins = 0;
  bool saw_cancel = false;
  add_tool("loop", [&](Context& ctx, const json::object&) -> Task<Result<ToolResult>> {
    ctx.log(LogLevel::info, "started");  // the test cancels when it sees this
    while (!ctx.cancelled() && spins < 10'000) {
      ++spins;
      co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
    }
    saw_cancel = ctx.cancelled();
    co_return ToolResult::text("finished anyway");
  });
  auto s = new_session();
  out->on_send = [this, s](const json::value&) { net::post(ioc, [this, s] { notify(s, cancelled("c-1")); }); };
  auto r = handle(s, make_request(json::value("c-1"), "tools/call", json::object{{"name", "loop"}}));
  EXPECT_TRUE(saw_cancel);
  EXPECT_LT(spins, 10'000);
  EXPECT_FALSE(r.has_value()) << "a cancelled request gets no response";
}

TEST_F(DispatcherTest, CancelMatchesTheIdExactly) {
  bool saw_cancel = true;
  int spins = 0;
  add_tool("loop", [&](Context& ctx, const json::object&) -> Task<Result<ToolResult>> {
    ctx.log(LogLevel::info, "started");
    // Give the (wrong) cancellations time to arrive.
    while (!ctx.cancelled() && spins < 20) {
      ++spins;
      co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
    }
    saw_cancel = ctx.cancelled();
    co_return ToolResult::text("done");
  });
  auto s = new_session();
  auto other = new_session();
  out->on_send = [this, s, other](const json::value&) {
    net::post(ioc, [this, s, other] {
      notify(s, cancelled("1"));    // string "1" is not integer 1
      notify(s, cancelled(2));      // another request
      notify(other, cancelled(1));  // same id, other session
      notify(nullptr, cancelled(1));
    });
  };
  auto r = handle(s, make_request(1, "tools/call", json::object{{"name", "loop"}}));
  EXPECT_FALSE(saw_cancel);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(result_of(*r).at("content").at(0).at("text"), json::value("done"));
}

TEST_F(DispatcherClientRequests, RemovingTheSessionCancelsInFlightRequests) {
  auto s = new_session(json::object{{"sampling", json::object{}}});
  out->on_send = [this, s](const json::value&) { net::post(ioc, [this, s] { sessions.remove(s->id()); }); };
  auto r = handle(s, make_request(1, "tools/call", json::object{{"name", "ask"}}));
  EXPECT_FALSE(r.has_value());
  EXPECT_TRUE(s->closed());
}

TEST_F(DispatcherTest, ProgressIsSuppressedAfterCancellation) {
  add_tool("p", [](Context& ctx, const json::object&) -> Task<Result<ToolResult>> {
    ctx.progress(1);
    for (int i = 0; i < 20 && !ctx.cancelled(); ++i) {
      co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
    }
    ctx.progress(2);
    co_return ToolResult::text("x");
  });
  auto s = new_session();
  out->on_send = [this, s](const json::value&) { net::post(ioc, [this, s] { notify(s, cancelled(1)); }); };
  auto r = handle(
      s, make_request(1, "tools/call", json::object{{"name", "p"}, {"_meta", json::object{{"progressToken", 1}}}}));
  EXPECT_FALSE(r.has_value());
  ASSERT_EQ(out->sent.size(), 1u);
  EXPECT_EQ(out->sent[0].at("params").at("progress").to_number<double>(), 1.0);
}

}  // namespace

namespace {

Task<Result<ToolResult>> async_tool(Context&, const json::object&) {
  co_return ToolResult::text("later");
}

// Which requests the HTTP transport may serve inline on the connection (no spawned task).
TEST_F(DispatcherTest, RunsSynchronouslyOnlyWhenNoUserCoroutineIsInvolved) {
  add_tool("plain", [](Context&, const json::object&) -> Result<ToolResult> { return ToolResult::text("now"); });
  add_tool("coro", async_tool);
  auto check = [&](std::string_view method, json::object params) {
    json::value msg = make_request(1, method, std::move(params));
    auto m = classify(msg);
    EXPECT_TRUE(m.has_value());
    return dispatcher.runs_synchronously(*m);
  };
  EXPECT_TRUE(check("tools/call", {{"name", "plain"}}));
  EXPECT_FALSE(check("tools/call", {{"name", "coro"}}));
  EXPECT_TRUE(check("tools/call", {{"name", "missing"}})) << "an unknown tool is answered at once";
  EXPECT_TRUE(check("ping", {}));
  EXPECT_TRUE(check("tools/list", {}));
  EXPECT_TRUE(check("completion/complete", {})) << "no completion handler: answered at once";
}

// ------------------------------------------------------- numbers JSON cannot spell

// A NaN or an infinity would be serialized as `NaN`/`Infinity`: a body no client parses.
TEST_F(DispatcherTest, ResultWithAnInfinityBecomesAnInternalError) {
  add_tool("inf", [](Context&, const json::object&) {
    ToolResult r = ToolResult::text("x");
    r.structured_content = json::object{{"v", std::numeric_limits<double>::infinity()}};
    return r;
  });
  auto resp = call(new_session(), "tools/call", json::object{{"name", "inf"}}, 42);
  EXPECT_EQ(error_code(resp), errc::kInternalError) << resp;
  EXPECT_EQ(resp.at("id"), json::value(42));
  EXPECT_FALSE(protocol::has_non_finite(resp));
}

TEST_F(DispatcherTest, NonFiniteProgressAndLogDataAreNotSent) {
  add_tool("nan", [](Context& ctx, const json::object&) {
    ctx.progress(std::numeric_limits<double>::quiet_NaN());
    ctx.log(LogLevel::info, json::object{{"v", -std::numeric_limits<double>::infinity()}});
    ctx.progress(1, 2);
    return ToolResult::text("ok");
  });
  auto resp =
      call(new_session(), "tools/call", json::object{{"name", "nan"}, {"_meta", json::object{{"progressToken", "t"}}}});
  EXPECT_EQ(result_of(resp).at("content").at(0).at("text"), json::value("ok"));
  ASSERT_EQ(out->sent.size(), 1u);  // only the finite progress
  EXPECT_EQ(out->sent[0].at("params").at("progress"), json::value(1));
}

}  // namespace
