// Typed tools and prompts: arguments and results are C++ structs described with
// Boost.Describe; frontmcp derives the JSON Schemas, parses the arguments (or answers with
// an error naming the bad member) and serializes the results (docs/authoring.md).
//   typed_tools [port]   then point an MCP client at http://127.0.0.1:PORT/mcp
#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe.hpp>
#include <chrono>
#include <frontmcp/server.hpp>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

using namespace frontmcp;

// ------------------------------------------------------------------ forecast

enum class Unit { celsius, fahrenheit };
BOOST_DESCRIBE_ENUM(Unit, celsius, fahrenheit)

struct ForecastArgs {
  std::string city;
  std::optional<int> days;  // optional: not in "required"
  std::optional<Unit> unit;
  static FieldDescriptions field_descriptions() {
    return {{"city", "City name, e.g. Paris"}, {"days", "Days ahead, 1 to 7 (default 3)"}, {"unit", "Default celsius"}};
  }
};
BOOST_DESCRIBE_STRUCT(ForecastArgs, (), (city, days, unit))
// inputSchema, derived:
//   {"type":"object",
//    "properties":{"city":{"type":"string","description":"City name, e.g. Paris"},
//                  "days":{"type":"integer","description":"Days ahead, 1 to 7 (default 3)"},
//                  "unit":{"type":"string","enum":["celsius","fahrenheit"],"description":"Default celsius"}},
//    "required":["city"],"additionalProperties":false}
//
// tools/call {"name":"forecast","arguments":{"city":"Paris","days":"3"}} is answered with
//   {"content":[{"type":"text",
//     "text":"Invalid arguments for tool forecast: days: expected integer, got string \"3\""}],
//    "isError":true}
// and the handler does not run: the server checks every call against inputSchema first
// (docs/json-schema.md), and a misspelt member is named with the known ones:
//   "Invalid arguments for tool forecast: unknown property \"dayz\" (additionalProperties is
//    false; known: \"city\", \"days\", \"unit\")"

ToolResult forecast(const ForecastArgs& a) {
  int days = a.days.value_or(3);
  // A rule the schema does not say: an ordinary tool error, for the model to read.
  if (days < 1 || days > 7) return ToolResult::error("days must be between 1 and 7");
  bool f = a.unit == Unit::fahrenheit;
  return ToolResult::text(a.city + ": sunny for " + std::to_string(days) + " days, " + (f ? "72 F" : "22 C"));
}

// ------------------------------------------------------------------ stats: progress + structured result

struct StatsArgs {
  std::vector<double> values;
  static FieldDescriptions field_descriptions() { return {{"values", "The numbers to summarize"}}; }
};
BOOST_DESCRIBE_STRUCT(StatsArgs, (), (values))

/// The result: outputSchema is derived from it, and the tool answers with
/// structuredContent {"count":3,"sum":6,"mean":2,"min":1,"max":3} plus the same JSON in a
/// text block.
struct Stats {
  std::size_t count = 0;
  double sum = 0;
  std::optional<double> mean;  // left out when there are no values
  std::optional<double> min;
  std::optional<double> max;
};
BOOST_DESCRIBE_STRUCT(Stats, (), (count, sum, mean, min, max))

// A coroutine: goes through the values slowly, reporting progress (sent only when the
// call carried a progressToken), and stops early when the client cancels.
Task<Result<Stats>> stats(Context& ctx, const StatsArgs& a) {
  Stats s;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (double v : a.values) {
    if (ctx.cancelled()) co_return Error::internal("cancelled");
    s.sum += v;
    s.min = s.min ? std::min(*s.min, v) : v;
    s.max = s.max ? std::max(*s.max, v) : v;
    ++s.count;
    ctx.progress(static_cast<double>(s.count), static_cast<double>(a.values.size()),
                 "summed " + std::to_string(s.count) + " values");
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  if (s.count > 0) s.mean = s.sum / static_cast<double>(s.count);
  co_return s;
}

// ------------------------------------------------------------------ a typed prompt

struct ReviewArgs {
  std::string code;                     // required
  std::optional<std::string> language;  // optional
  static FieldDescriptions field_descriptions() { return {{"code", "The code to review"}}; }
};
BOOST_DESCRIBE_STRUCT(ReviewArgs, (), (code, language))

int main(int argc, char** argv) {
  ServerOptions options;
  options.info.name = "typed-tools";
  options.http.port = argc > 1 ? static_cast<std::uint16_t>(std::stoi(argv[1])) : 3002;
  Server server(options);

  server.add_tool<ForecastArgs>("forecast", "Weather forecast for a city", forecast);
  server.add_tool<StatsArgs>("stats", "Count, sum, mean, min and max of numbers", stats);

  // make_tool when the definition needs more than a name and a description.
  Tool echo = make_tool<ForecastArgs>("echo_city", "Repeats the city",
                                      [](Context& ctx, const ForecastArgs& a) -> Result<ToolResult> {
                                        ctx.log(LogLevel::info, json::string("echoing " + a.city));
                                        return ToolResult::text(a.city);
                                      });
  echo.title = "Echo the city";
  echo.annotations = {{"readOnlyHint", true}};
  server.add_tool(std::move(echo));

  server.add_prompt<ReviewArgs>("review", "Asks for a code review", [](const ReviewArgs& a) {
    std::string lang = a.language ? " (" + *a.language + ")" : "";
    return PromptResult{"A code review", {{"user", content::text("Please review this code" + lang + ":\n" + a.code)}}};
  });

  server.start();
  std::cout << "typed_tools listening on http://127.0.0.1:" << server.port() << "/mcp" << std::endl;
  return server.run();
}
