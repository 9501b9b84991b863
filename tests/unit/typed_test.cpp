// Typed tools and prompts (<frontmcp/typed.hpp>): schemas derived from described structs,
// from_json and its error messages, to_json, and typed tools/prompts driven through the
// dispatcher (no sockets).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdint>
#include <frontmcp/server.hpp>
#include <frontmcp/typed.hpp>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dispatcher_rig.hpp"
#include "protocol/dispatcher.hpp"
#include "protocol/versions.hpp"
#include "registry/registry.hpp"
#include "session/event_store.hpp"
#include "session/session_manager.hpp"
#include "test_util.hpp"

// ------------------------------------------------------------------ described types
// At namespace scope: BOOST_DESCRIBE_STRUCT / _ENUM must be in the type's namespace.
namespace typed_test {

namespace json = boost::json;

enum class Unit { celsius, fahrenheit };
BOOST_DESCRIBE_ENUM(Unit, celsius, fahrenheit)

struct Location {
  std::string city;
  std::optional<std::string> country;
};
BOOST_DESCRIBE_STRUCT(Location, (), (city, country))

/// One member of every supported kind.
struct Everything {
  bool flag = false;
  int count = 0;
  std::uint32_t big = 0;
  std::uint8_t small = 0;
  std::int16_t medium = 0;
  std::int64_t wide = 0;
  std::uint64_t huge = 0;
  double ratio = 0;
  float scale = 0;
  std::string name;
  std::optional<int> maybe;
  std::vector<std::string> tags;
  std::vector<std::optional<int>> holes;
  Location where;
  std::vector<Location> stops;
  Unit unit = Unit::celsius;
  std::map<std::string, double> weights;
  json::value any;
  json::object obj;
  json::array arr;
};
BOOST_DESCRIBE_STRUCT(Everything, (),
                      (flag, count, big, small, medium, wide, huge, ratio, scale, name, maybe, tags, holes, where,
                       stops, unit, weights, any, obj, arr))

/// The README's forecast, with descriptions from a static member function.
struct ForecastArgs {
  std::string city;
  std::optional<int> days;
  static frontmcp::FieldDescriptions field_descriptions() {
    return {{"city", "City name, e.g. Paris"}, {"days", "How many days (default 3)"}};
  }
};
BOOST_DESCRIBE_STRUCT(ForecastArgs, (), (city, days))

struct Day {
  int day = 0;
  double high = 0;
  Unit unit = Unit::celsius;
};
BOOST_DESCRIBE_STRUCT(Day, (), (day, high, unit))

struct Forecast {
  std::string city;
  std::vector<Day> days;
  std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(Forecast, (), (city, days, note))

/// Descriptions from a specialization of the trait (a type that cannot be changed).
struct Point {
  double x = 0;
  double y = 0;
};
BOOST_DESCRIBE_STRUCT(Point, (), (x, y))

/// A description naming no member.
struct Misdescribed {
  int a = 0;
  static frontmcp::FieldDescriptions field_descriptions() { return {{"b", "no such member"}}; }
};
BOOST_DESCRIBE_STRUCT(Misdescribed, (), (a))

/// Members of a described base are members too.
struct Derived : Point {
  std::string label;
};
BOOST_DESCRIBE_STRUCT(Derived, (Point), (label))

struct GreetArgs {
  std::string name;
  std::optional<std::string> tone;
  static frontmcp::FieldDescriptions field_descriptions() { return {{"name", "Who to greet"}}; }
};
BOOST_DESCRIBE_STRUCT(GreetArgs, (), (name, tone))

struct Empty {};
BOOST_DESCRIBE_STRUCT(Empty, (), ())

}  // namespace typed_test

template <>
struct frontmcp::field_descriptions<typed_test::Point> {
  static FieldDescriptions get() { return {{"x", "Abscissa"}, {"y", "Ordinate"}}; }
};

namespace {

namespace json = boost::json;
namespace net = boost::asio;
using namespace frontmcp;
using namespace typed_test;
using namespace std::chrono_literals;
using protocol::make_request;
using session::Session;
using session::TransportKind;

// ------------------------------------------------------------------ schema_of

TEST(TypedSchema, EveryMemberKind) {
  EXPECT_EQ(json::value(schema_of<Everything>()), json::parse(R"({
    "type":"object",
    "properties":{
      "flag":{"type":"boolean"},
      "count":{"type":"integer"},
      "big":{"type":"integer","minimum":0},
      "small":{"type":"integer","minimum":0,"maximum":255},
      "medium":{"type":"integer","minimum":-32768,"maximum":32767},
      "wide":{"type":"integer"},
      "huge":{"type":"integer","minimum":0},
      "ratio":{"type":"number"},
      "scale":{"type":"number"},
      "name":{"type":"string"},
      "maybe":{"type":"integer"},
      "tags":{"type":"array","items":{"type":"string"}},
      "holes":{"type":"array","items":{"anyOf":[{"type":"integer"},{"type":"null"}]}},
      "where":{"type":"object","properties":{"city":{"type":"string"},"country":{"type":"string"}},
               "required":["city"],"additionalProperties":false},
      "stops":{"type":"array","items":{"type":"object",
               "properties":{"city":{"type":"string"},"country":{"type":"string"}},
               "required":["city"],"additionalProperties":false}},
      "unit":{"type":"string","enum":["celsius","fahrenheit"]},
      "weights":{"type":"object","additionalProperties":{"type":"number"}},
      "any":{},
      "obj":{"type":"object"},
      "arr":{"type":"array"}
    },
    "required":["flag","count","big","small","medium","wide","huge","ratio","scale","name","tags","holes",
                "where","stops","unit","weights","any","obj","arr"],
    "additionalProperties":false})"));
}

TEST(TypedSchema, RequiredFollowsDeclarationOrder) {
  auto s = schema_of<Everything>();
  EXPECT_EQ(s.at("required").as_array().at(0), json::value("flag"));
  EXPECT_EQ(s.at("required").as_array().at(18), json::value("arr"));
}

TEST(TypedSchema, DescriptionsFromAStaticMemberFunction) {
  EXPECT_EQ(json::value(schema_of<ForecastArgs>()), json::parse(R"json({
    "type":"object",
    "properties":{"city":{"type":"string","description":"City name, e.g. Paris"},
                  "days":{"type":"integer","description":"How many days (default 3)"}},
    "required":["city"],
    "additionalProperties":false})json"));
}

TEST(TypedSchema, DescriptionsFromATraitSpecialization) {
  EXPECT_EQ(json::value(schema_of<Point>()), json::parse(R"({
    "type":"object",
    "properties":{"x":{"type":"number","description":"Abscissa"},"y":{"type":"number","description":"Ordinate"}},
    "required":["x","y"],"additionalProperties":false})"));
}

TEST(TypedSchema, ADescriptionOfNoMemberIsAStartUpError) {
  try {
    (void)schema_of<Misdescribed>();
    ADD_FAILURE() << "accepted a description of no member";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "field_descriptions names 'b', not a member (members: a)");
  }
}

TEST(TypedSchema, BaseMembersComeFirst) {
  auto s = schema_of<Derived>();
  EXPECT_EQ(s.at("required"), json::parse(R"(["x","y","label"])"));
  // Descriptions belong to one type: Point's trait does not describe Derived.
  EXPECT_EQ(s.at("properties").at("x"), json::parse(R"({"type":"number"})"));
}

TEST(TypedSchema, EmptyStructHasNoRequired) {
  EXPECT_EQ(json::value(schema_of<Empty>()),
            json::parse(R"({"type":"object","properties":{},"additionalProperties":false})"));
}

TEST(TypedSchema, NonStructTypes) {
  EXPECT_EQ(json::value(schema_of<std::vector<Unit>>()),
            json::parse(R"({"type":"array","items":{"type":"string","enum":["celsius","fahrenheit"]}})"));
  EXPECT_EQ(json::value(schema_of<std::int8_t>()), json::parse(R"({"type":"integer","minimum":-128,"maximum":127})"));
}

// ------------------------------------------------------------------ from_json

/// The error message of from_json<T>(text), or "" if it parsed.
template <class T>
std::string parse_error(std::string_view text) {
  auto r = from_json<T>(json::parse(text));
  if (r) return "";
  EXPECT_EQ(r.error().code, errc::kInvalidParams);
  return r.error().message;
}

const char* const kEverything = R"({
  "flag":true,"count":-7,"big":4294967295,"small":255,"medium":-32768,"wide":-9223372036854775808,
  "huge":18446744073709551615,"ratio":0.25,"scale":1.5,"name":"n","maybe":4,"tags":["a","b"],
  "holes":[1,null,3],"where":{"city":"Paris","country":"FR"},"stops":[{"city":"Lyon"}],"unit":"fahrenheit",
  "weights":{"a":1.25,"b":2.5},"any":[1,"x"],"obj":{"k":1},"arr":[true]})";

TEST(TypedFromJson, EveryMemberKind) {
  auto r = from_json<Everything>(json::parse(kEverything));
  ASSERT_TRUE(r) << r.error().message;
  const Everything& e = *r;
  EXPECT_TRUE(e.flag);
  EXPECT_EQ(e.count, -7);
  EXPECT_EQ(e.big, 4294967295u);
  EXPECT_EQ(e.small, 255);
  EXPECT_EQ(e.medium, -32768);
  EXPECT_EQ(e.wide, INT64_MIN);
  EXPECT_EQ(e.huge, UINT64_MAX);
  EXPECT_EQ(e.ratio, 0.25);
  EXPECT_EQ(e.scale, 1.5f);
  EXPECT_EQ(e.name, "n");
  EXPECT_EQ(e.maybe, 4);
  EXPECT_EQ(e.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(e.holes, (std::vector<std::optional<int>>{1, std::nullopt, 3}));
  EXPECT_EQ(e.where.city, "Paris");
  EXPECT_EQ(e.where.country, "FR");
  ASSERT_EQ(e.stops.size(), 1u);
  EXPECT_EQ(e.stops[0].city, "Lyon");
  EXPECT_EQ(e.stops[0].country, std::nullopt);
  EXPECT_EQ(e.unit, Unit::fahrenheit);
  EXPECT_EQ(e.weights, (std::map<std::string, double>{{"a", 1.25}, {"b", 2.5}}));
  EXPECT_EQ(e.any, json::parse(R"([1,"x"])"));
  EXPECT_EQ(e.obj, (json::object{{"k", 1}}));
  EXPECT_EQ(e.arr, (json::array{true}));
  auto d = from_json<double>(json::value(3));  // a JSON integer is a number
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, 3.0);
}

TEST(TypedFromJson, OptionalMissingOrNullIsNullopt) {
  auto a = from_json<ForecastArgs>(json::parse(R"({"city":"Paris"})"));
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->days, std::nullopt);
  auto b = from_json<ForecastArgs>(json::parse(R"({"city":"Paris","days":null})"));
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->days, std::nullopt);
}

TEST(TypedFromJson, AnIntegralDoubleIsAnInteger) {
  auto r = from_json<ForecastArgs>(json::parse(R"({"city":"Paris","days":3.0})"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->days, 3);
  auto u = from_json<std::uint64_t>(json::value(1e19));
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(*u, 10000000000000000000u);
}

TEST(TypedFromJson, FromAnObjectWithoutCopy) {
  json::object args{{"city", "Oslo"}, {"days", 2}};
  auto r = from_json<ForecastArgs>(args);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->city, "Oslo");
  EXPECT_EQ(r->days, 2);
}

TEST(TypedFromJson, WrongTypeNamesThePathAndTheValue) {
  EXPECT_EQ(parse_error<ForecastArgs>(R"({"city":"Paris","days":"3"})"), R"(days: expected integer, got string "3")");
  EXPECT_EQ(parse_error<ForecastArgs>(R"({"city":"Paris","days":2.5})"), "days: expected integer, got number 2.5");
  EXPECT_EQ(parse_error<ForecastArgs>(R"({"city":"Paris","days":true})"), "days: expected integer, got boolean true");
  EXPECT_EQ(parse_error<ForecastArgs>(R"({"city":null})"), "city: expected string, got null");
  EXPECT_EQ(parse_error<ForecastArgs>(R"({"city":["Paris"]})"), "city: expected string, got array");
  EXPECT_EQ(parse_error<ForecastArgs>(R"({"city":{}})"), "city: expected string, got object");
  EXPECT_EQ(parse_error<ForecastArgs>(R"([1])"), "expected object, got array");
  EXPECT_EQ(parse_error<Everything>(R"({"flag":"yes"})").substr(0, 40), R"(flag: expected boolean, got string "yes")");
}

TEST(TypedFromJson, MissingAndUnknownMembers) {
  EXPECT_EQ(parse_error<ForecastArgs>(R"({})"), "city: missing required member");
  EXPECT_EQ(parse_error<ForecastArgs>(R"({"city":"Paris","citty":"Paris"})"),
            "citty: unknown member (expected one of: city, days)");
  EXPECT_EQ(parse_error<ForecastArgs>(R"({"citty":"Paris"})"),
            "city: missing required member; citty: unknown member (expected one of: city, days)");
}

TEST(TypedFromJson, IntegersAreRangeChecked) {
  auto e = [](std::string_view member, std::string_view value) {
    std::string text = std::string(kEverything);
    // Replace the member's value (each appears once, followed by ',').
    auto at = text.find("\"" + std::string(member) + "\":") + member.size() + 3;
    text.replace(at, text.find(',', at) - at, value);
    return parse_error<Everything>(text);
  };
  EXPECT_EQ(e("small", "256"), "small: expected integer between 0 and 255, got number 256");
  EXPECT_EQ(e("small", "-1"), "small: expected integer between 0 and 255, got number -1");
  EXPECT_EQ(e("medium", "40000"), "medium: expected integer between -32768 and 32767, got number 40000");
  EXPECT_EQ(e("count", "2147483648"),
            "count: expected integer between -2147483648 and 2147483647, got number 2147483648");
  EXPECT_EQ(e("big", "-1"), "big: expected integer between 0 and 4294967295, got number -1");
  EXPECT_EQ(e("wide", "9223372036854775808"),
            "wide: expected integer between -9223372036854775808 and 9223372036854775807, got number "
            "9223372036854775808");
  EXPECT_EQ(e("huge", "-1"), "huge: expected integer between 0 and 18446744073709551615, got number -1");
  EXPECT_EQ(e("count", "1e300"), "count: expected integer between -2147483648 and 2147483647, got number 1e+300");
  EXPECT_EQ(e("scale", "1e300"), "scale: expected number within float's range, got number 1e+300");
  EXPECT_EQ(e("ratio", "\"0.5\""), R"(ratio: expected number, got string "0.5")");
}

TEST(TypedFromJson, NestedPaths) {
  auto e = [](std::string_view member, std::string_view value) {
    std::string text = std::string(kEverything);
    auto at = text.find("\"" + std::string(member) + "\":") + member.size() + 3;
    // These values are arrays or objects: replace up to the matching bracket.
    char open = text[at], close = open == '[' ? ']' : '}';
    int depth = 0;
    std::size_t end = at;
    for (; end < text.size(); ++end) {
      if (text[end] == open) ++depth;
      if (text[end] == close && --depth == 0) break;
    }
    text.replace(at, end + 1 - at, value);
    return parse_error<Everything>(text);
  };
  EXPECT_EQ(e("tags", R"(["a",1])"), "tags[1]: expected string, got number 1");
  EXPECT_EQ(e("holes", R"([1,"x"])"), R"(holes[1]: expected integer, got string "x")");
  EXPECT_EQ(e("where", R"({"country":"FR"})"), "where.city: missing required member");
  EXPECT_EQ(e("stops", R"([{"city":"a"},{"city":"b","zip":1}])"),
            "stops[1].zip: unknown member (expected one of: city, country)");
  EXPECT_EQ(e("weights", R"({"a":"x"})"), R"(weights.a: expected number, got string "x")");
  EXPECT_EQ(e("obj", R"([])"), "obj: expected object, got array");
  EXPECT_EQ(e("arr", R"({})"), "arr: expected array, got object");
  EXPECT_EQ(e("tags", R"({})"), "tags: expected array, got object");
  EXPECT_EQ(e("weights", R"([])"), "weights: expected object, got array");
  EXPECT_EQ(e("where", R"([])"), "where: expected object, got array");
}

TEST(TypedFromJson, EnumsByName) {
  EXPECT_EQ(parse_error<Unit>(R"("kelvin")"), R"(expected one of "celsius", "fahrenheit", got string "kelvin")");
  EXPECT_EQ(parse_error<Unit>(R"(0)"), R"(expected one of "celsius", "fahrenheit", got number 0)");
  EXPECT_EQ(parse_error<Unit>(R"("Celsius")"), R"(expected one of "celsius", "fahrenheit", got string "Celsius")");
  auto r = from_json<Unit>(json::value("celsius"));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, Unit::celsius);
}

TEST(TypedFromJson, EveryErrorIsReportedUpToALimit) {
  // 19 required members missing: 8 reported, the rest counted.
  EXPECT_EQ(parse_error<Everything>(R"({})"),
            "flag: missing required member; count: missing required member; big: missing required member; "
            "small: missing required member; medium: missing required member; wide: missing required member; "
            "huge: missing required member; ratio: missing required member; and 11 more");
}

TEST(TypedFromJson, LongStringsAreCutInMessages) {
  std::string long_city(100, 'x');
  auto msg = parse_error<ForecastArgs>(R"({"city":"Paris","days":")" + long_city + "\"}");
  EXPECT_EQ(msg, "days: expected integer, got string \"" + std::string(40, 'x') + "\"...");
  // Not inside a UTF-8 sequence: 39 ASCII bytes then "é" (2 bytes) straddling the cut.
  std::string straddle = std::string(39, 'a') + "\xC3\xA9" + std::string(20, 'b');
  msg = parse_error<ForecastArgs>(R"({"city":"Paris","days":")" + straddle + "\"}");
  EXPECT_EQ(msg, "days: expected integer, got string \"" + std::string(39, 'a') + "\"...");
}

// ------------------------------------------------------------------ to_json

TEST(TypedToJson, RoundTripsEveryMemberKind) {
  auto r = from_json<Everything>(json::parse(kEverything));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(to_json(*r), json::parse(kEverything));
}

TEST(TypedToJson, OptionalMembersWithNothingAreLeftOut) {
  Forecast f{"Paris", {{1, 20.5, Unit::celsius}}, std::nullopt};
  EXPECT_EQ(to_json(f), json::parse(R"({"city":"Paris","days":[{"day":1,"high":20.5,"unit":"celsius"}]})"));
  f.note = "sunny";
  EXPECT_EQ(to_json(f).at("note"), json::value("sunny"));
  EXPECT_EQ(to_json(std::optional<int>{}), json::value(nullptr));
}

TEST(TypedToJson, IntegralDoublesAreWrittenAsIntegers) {
  EXPECT_EQ(json::serialize(to_json(Day{1, 20.0, Unit::celsius})), R"({"day":1,"high":20,"unit":"celsius"})");
  EXPECT_EQ(json::serialize(to_json(-3.0f)), "-3");
  EXPECT_TRUE(to_json(20.5).is_double());
  EXPECT_TRUE(to_json(1e300).is_double());
  EXPECT_TRUE(to_json(-0.5).is_double());
}

TEST(TypedToJson, AnEnumeratorWithoutANameIsItsNumber) {
  EXPECT_EQ(to_json(Unit::fahrenheit), json::value("fahrenheit"));
  EXPECT_EQ(to_json(static_cast<Unit>(7)), json::value(7));
}

TEST(TypedToJson, StructuredResultCarriesTheJsonTwice) {
  Forecast f{"Paris", {{1, 20.5, Unit::celsius}}, std::nullopt};
  ToolResult r = structured_result(f);
  EXPECT_FALSE(r.is_error);
  ASSERT_TRUE(r.structured_content);
  EXPECT_EQ(*r.structured_content, to_json(f));
  ASSERT_EQ(r.content.size(), 1u);
  EXPECT_EQ(r.content[0].at("type"), json::value("text"));
  EXPECT_EQ(json::parse(r.content[0].at("text").as_string()), to_json(f));
}

// ------------------------------------------------------------------ prompts' arguments

TEST(TypedPrompt, ArgumentsFromTheStruct) {
  auto args = prompt_arguments_of<GreetArgs>();
  ASSERT_EQ(args.size(), 2u);
  EXPECT_EQ(args[0].name, "name");
  EXPECT_EQ(args[0].description, "Who to greet");
  EXPECT_TRUE(args[0].required);
  EXPECT_EQ(args[1].name, "tone");
  EXPECT_EQ(args[1].description, "");
  EXPECT_FALSE(args[1].required);
}

// ------------------------------------------------------------------ Server

TEST(TypedServer, AddToolAndAddPromptRegister) {
  Server server;
  server.add_tool<ForecastArgs>("forecast", "Weather forecast",
                                [](const ForecastArgs& a) { return ToolResult::text(a.city); });
  server.add_prompt<GreetArgs>("greet", "Greets", [](const GreetArgs&) { return PromptResult{}; });
  EXPECT_THROW(server.add_tool<ForecastArgs>("forecast", "again",
                                             [](const ForecastArgs& a) { return ToolResult::text(a.city); }),
               std::invalid_argument);
  EXPECT_TRUE(server.remove_tool("forecast"));
  EXPECT_TRUE(server.remove_prompt("greet"));
}

TEST(TypedServer, MakeToolFillsTheSchemas) {
  Tool t = make_tool<ForecastArgs>("forecast", "Weather forecast", [](const ForecastArgs& a) {
    return Forecast{a.city, {}, std::nullopt};
  });
  EXPECT_EQ(t.name, "forecast");
  EXPECT_EQ(t.description, "Weather forecast");
  EXPECT_EQ(t.input_schema, schema_of<ForecastArgs>());
  ASSERT_TRUE(t.output_schema);
  EXPECT_EQ(*t.output_schema, schema_of<Forecast>());
  EXPECT_FALSE(t.handler.is_async());
  Tool plain = make_tool<ForecastArgs>("p", "", [](Context&, const ForecastArgs&) { return ToolResult::text("x"); });
  EXPECT_FALSE(plain.output_schema);
}

// ------------------------------------------------------------------ through the dispatcher

using test::RecordingOutbound;

/// A typed async tool: a coroutine (free function) that really suspends, reports
/// progress and returns a struct.
Task<Result<Forecast>> slow_forecast(Context& ctx, const ForecastArgs& a) {
  Forecast f{a.city, {}, std::nullopt};
  int days = a.days.value_or(2);
  for (int d = 1; d <= days; ++d) {
    co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
    ctx.progress(d, days);
    f.days.push_back({d, 10.0 + d, Unit::celsius});
  }
  co_return f;
}

Task<Result<ToolResult>> async_error(const ForecastArgs&) {
  co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
  co_return Error::invalid_params("no such city");
}

/// Task<S> without Result: a coroutine that cannot fail.
Task<Forecast> plain_async(const ForecastArgs& a) {
  co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
  co_return Forecast{a.city, {}, std::nullopt};
}

Task<PromptResult> async_greeting(Context&, const GreetArgs& a) {
  co_await net::post(co_await net::this_coro::executor, net::use_awaitable);
  co_return PromptResult{"greeting", {{"user", content::text("Hi " + a.name)}}};
}

class TypedDispatch : public ::testing::Test, protected test::DispatcherRig {
 protected:
  net::io_context ioc;

  void SetUp() override {
    registry.add_tool(make_tool<ForecastArgs>(
        "forecast", "Weather forecast", [](Context&, const ForecastArgs& a) -> Result<ToolResult> {
          return ToolResult::text(a.city + " for " + std::to_string(a.days.value_or(3)) + " days");
        }));
    registry.add_tool(make_tool<ForecastArgs>("structured", "", [](const ForecastArgs& a) {
      return Forecast{a.city, {{1, 20.5, Unit::fahrenheit}}, "sunny"};
    }));
    registry.add_tool(make_tool<ForecastArgs>(
        "refuses", "", [](const ForecastArgs&) -> Result<Forecast> { return Error::invalid_params("no such city"); }));
    registry.add_tool(make_tool<ForecastArgs>("slow", "", slow_forecast));
    registry.add_tool(make_tool<ForecastArgs>("async_error", "", async_error));
    registry.add_tool(make_tool<ForecastArgs>("plain_async", "", plain_async));
    // A mutable lambda (the wrapper calls it as non-const) that throws.
    registry.add_tool(make_tool<ForecastArgs>("throws", "", [n = 0](const ForecastArgs&) mutable -> ToolResult {
      throw std::runtime_error("boom " + std::to_string(++n));
    }));
    registry.add_prompt(make_prompt<GreetArgs>("greet", "Greets", [](const GreetArgs& a) {
      return PromptResult{"greeting", {{"user", content::text("Hello " + a.name + a.tone.value_or(""))}}};
    }));
    registry.add_prompt(make_prompt<GreetArgs>("greet_async", "Greets later", async_greeting));
  }

  std::shared_ptr<Session> new_session() {
    auto s = sessions.create(TransportKind::streamable_http);
    json::object params{{"protocolVersion", protocol::kLatestVersion}, {"capabilities", json::object{}}};
    auto r = dispatcher.initialize(*s, &params);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return s;
  }

  /// The response to `method` (bounded run on the private io_context).
  json::value call(std::string_view method, json::object params) {
    std::optional<std::optional<json::value>> result;
    bool done = false;
    std::exception_ptr error;
    ioc.restart();
    test::spawn(ioc, dispatcher.handle_request(new_session(), make_request(1, method, std::move(params)), out), &result,
                &done, &error);
    ioc.run_for(2000ms);
    EXPECT_TRUE(done && !error && result && *result) << method << " did not answer";
    return done && !error && result && *result ? std::move(**result) : json::value();
  }
  json::value call_tool(std::string_view name, std::string_view args, json::object meta = {}) {
    json::object params{{"name", name}, {"arguments", json::parse(args)}};
    if (!meta.empty()) params.emplace("_meta", std::move(meta));
    return call("tools/call", std::move(params));
  }
  static json::value result_of(const json::value& resp) {
    auto r = resp.is_object() ? resp.as_object().if_contains("result") : nullptr;
    EXPECT_NE(r, nullptr) << "not a result: " << resp;
    return r ? *r : json::value();
  }
};

TEST_F(TypedDispatch, ToolGetsParsedArguments) {
  EXPECT_EQ(result_of(call_tool("forecast", R"({"city":"Paris","days":5})")),
            json::parse(R"({"content":[{"type":"text","text":"Paris for 5 days"}]})"));
  EXPECT_EQ(result_of(call_tool("forecast", R"({"city":"Paris"})")),
            json::parse(R"({"content":[{"type":"text","text":"Paris for 3 days"}]})"));
}

TEST_F(TypedDispatch, BadArgumentsAreAToolErrorNamingTheMember) {
  EXPECT_EQ(result_of(call_tool("forecast", R"({"city":"Paris","days":"3"})")), json::parse(R"({
    "content":[{"type":"text","text":"Invalid arguments for tool forecast: days: expected integer, got string \"3\""}],
    "isError":true})"));
  EXPECT_EQ(result_of(call_tool("forecast", R"({"city":"Paris","dayz":3})")), json::parse(R"json({
    "content":[{"type":"text",
      "text":"Invalid arguments for tool forecast: unknown property \"dayz\" (additionalProperties is false; known: \"city\", \"days\")"}],
    "isError":true})json"));
  // The async path says the same.
  EXPECT_EQ(result_of(call_tool("slow", R"({"city":7})")), json::parse(R"({
    "content":[{"type":"text","text":"Invalid arguments for tool slow: city: expected string, got integer 7"}],
    "isError":true})"));
}

TEST_F(TypedDispatch, ToolsListShowsBothSchemas) {
  auto list = result_of(call("tools/list", {})).at("tools").as_array();
  for (const auto& t : list) {
    const auto& name = t.at("name").as_string();
    EXPECT_EQ(t.at("inputSchema"), json::value(schema_of<ForecastArgs>())) << name;
    if (name == "structured" || name == "refuses" || name == "slow" || name == "plain_async") {
      EXPECT_EQ(t.at("outputSchema"), json::value(schema_of<Forecast>())) << name;
    } else {
      EXPECT_FALSE(t.as_object().contains("outputSchema")) << name;
    }
  }
  EXPECT_EQ(list.size(), 7u);
}

TEST_F(TypedDispatch, StructResultIsStructuredContentAndText) {
  auto r = result_of(call_tool("structured", R"({"city":"Paris"})"));
  auto expected = json::parse(R"({"city":"Paris","days":[{"day":1,"high":20.5,"unit":"fahrenheit"}],"note":"sunny"})");
  EXPECT_EQ(r.at("structuredContent"), expected);
  ASSERT_EQ(r.at("content").as_array().size(), 1u);
  EXPECT_EQ(r.at("content").at(0).at("type"), json::value("text"));
  EXPECT_EQ(json::parse(r.at("content").at(0).at("text").as_string()), expected);
  EXPECT_FALSE(r.as_object().contains("isError"));
}

TEST_F(TypedDispatch, AnErrorResultIsAJsonRpcError) {
  auto resp = call_tool("refuses", R"({"city":"Atlantis"})");
  EXPECT_EQ(resp.at("error").at("code"), json::value(errc::kInvalidParams));
  EXPECT_EQ(resp.at("error").at("message"), json::value("no such city"));
  resp = call_tool("async_error", R"({"city":"Atlantis"})");
  EXPECT_EQ(resp.at("error").at("message"), json::value("no such city"));
}

TEST_F(TypedDispatch, AsyncToolReportsProgressAndReturnsAStruct) {
  auto r = result_of(call_tool("slow", R"({"city":"Oslo","days":2})", json::object{{"progressToken", "t"}}));
  EXPECT_EQ(r.at("structuredContent"), json::parse(R"({"city":"Oslo","days":[
    {"day":1,"high":11,"unit":"celsius"},{"day":2,"high":12,"unit":"celsius"}]})"));
  ASSERT_EQ(out->sent.size(), 2u);
  EXPECT_EQ(out->sent[1], json::parse(R"({"jsonrpc":"2.0","method":"notifications/progress",
    "params":{"progressToken":"t","progress":2,"total":2}})"));
}

TEST_F(TypedDispatch, AsyncToolWithoutResult) {
  EXPECT_EQ(result_of(call_tool("plain_async", R"({"city":"Rome"})")).at("structuredContent"),
            json::parse(R"({"city":"Rome","days":[]})"));
}

TEST_F(TypedDispatch, AThrowingHandlerIsAToolError) {
  EXPECT_EQ(result_of(call_tool("throws", R"({"city":"Rome"})")),
            json::parse(R"({"content":[{"type":"text","text":"boom 1"}],"isError":true})"));
  EXPECT_EQ(result_of(call_tool("throws", R"({"city":"Rome"})")).at("content").at(0).at("text"), json::value("boom 2"));
}

TEST_F(TypedDispatch, PromptGetsParsedArguments) {
  auto list = result_of(call("prompts/list", {})).at("prompts").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("arguments"), json::parse(R"([{"name":"name","description":"Who to greet","required":true},
    {"name":"tone","required":false}])"));
  auto r = result_of(call(
      "prompts/get", json::object{{"name", "greet"}, {"arguments", json::object{{"name", "Ada"}, {"tone", "!"}}}}));
  EXPECT_EQ(r, json::parse(R"({"description":"greeting",
    "messages":[{"role":"user","content":{"type":"text","text":"Hello Ada!"}}]})"));
  r = result_of(
      call("prompts/get", json::object{{"name", "greet_async"}, {"arguments", json::object{{"name", "Bo"}}}}));
  EXPECT_EQ(r.at("messages").at(0).at("content").at("text"), json::value("Hi Bo"));
}

TEST_F(TypedDispatch, UnknownPromptArgumentIsInvalidParams) {
  auto resp =
      call("prompts/get", json::object{{"name", "greet"}, {"arguments", json::object{{"name", "Ada"}, {"x", ""}}}});
  EXPECT_EQ(resp.at("error").at("code"), json::value(errc::kInvalidParams));
  EXPECT_EQ(resp.at("error").at("message"),
            json::value("Invalid arguments for prompt greet: x: unknown member (expected one of: name, tone)"));
  resp =
      call("prompts/get", json::object{{"name", "greet_async"}, {"arguments", json::object{{"name", "A"}, {"y", ""}}}});
  EXPECT_EQ(resp.at("error").at("message"),
            json::value("Invalid arguments for prompt greet_async: y: unknown member (expected one of: name, tone)"));
}

}  // namespace
