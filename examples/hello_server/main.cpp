// The smallest useful MCP server: one tool, one resource, one prompt.
//   hello_server [port]   then point an MCP client at http://127.0.0.1:PORT/mcp
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/value_to.hpp>
#include <frontmcp/server.hpp>
#include <iostream>
#include <string>

using namespace frontmcp;

// A coroutine tool: reports progress while it "works", and stops early when cancelled.
Task<Result<ToolResult>> count_to(Context& ctx, const json::object& args) {
  auto n = args.at("n").to_number<int>();
  if (n < 1 || n > 100) co_return ToolResult::error("n must be between 1 and 100");
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (int i = 1; i <= n && !ctx.cancelled(); ++i) {
    ctx.progress(i, n, "counted to " + std::to_string(i));
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  co_return ToolResult::text("done counting to " + std::to_string(n));
}

int main(int argc, char** argv) {
  ServerOptions options;
  options.info.name = "hello-server";
  options.http.port = argc > 1 ? static_cast<std::uint16_t>(std::stoi(argv[1])) : 3001;
  Server server(options);

  Tool greet;
  greet.name = "greet";
  greet.description = "Greets someone by name";
  greet.input_schema = {
      {"type", "object"}, {"properties", {{"name", {{"type", "string"}}}}}, {"required", json::array{"name"}}};
  greet.handler = [](Context&, const json::object& args) -> Result<ToolResult> {
    return ToolResult::text("Hello, " + json::value_to<std::string>(args.at("name")) + "!");
  };
  server.add_tool(std::move(greet));

  Tool counter;
  counter.name = "count_to";
  counter.description = "Counts slowly to n, reporting progress";
  counter.input_schema = {
      {"type", "object"}, {"properties", {{"n", {{"type", "integer"}}}}}, {"required", json::array{"n"}}};
  counter.handler = count_to;
  server.add_tool(std::move(counter));

  Resource readme;
  readme.uri = "hello://readme";
  readme.name = "readme";
  readme.mime_type = "text/plain";
  readme.reader = [](Context&, const std::string& uri) -> Result<std::vector<ResourceContents>> {
    return std::vector<ResourceContents>{{uri, "text/plain", "Hello from frontmcp.", std::nullopt}};
  };
  server.add_resource(std::move(readme));

  Prompt ask;
  ask.name = "ask";
  ask.description = "Asks the model a question";
  ask.arguments = {{"question", "What to ask", true}};
  ask.handler = [](Context&, const PromptArguments& a) -> Result<PromptResult> {
    return PromptResult{"A question", {{"user", content::text(a.at("question"))}}};
  };
  server.add_prompt(std::move(ask));

  server.start();
  std::cout << "hello_server listening on http://127.0.0.1:" << server.port() << "/mcp" << std::endl;
  return server.run();
}
