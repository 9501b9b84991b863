// x-mcp-header (MCP 2026-07-28, SEP-2243): the declarations a tool's inputSchema makes
// (registry/x_mcp_header.hpp, checked at registration) and the Mcp-Param-{Name} headers a
// modern tools/call must carry for them (protocol/param_headers.hpp), including the
// conformance suite's http-custom-header-server-validation cases (0.2.0-alpha.12).
#include "protocol/param_headers.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>
#include <stdexcept>
#include <string>

#include "registry/registry.hpp"
#include "registry/x_mcp_header.hpp"

namespace {

using namespace frontmcp;
using namespace frontmcp::protocol;
using registry::ParamHeader;
using registry::scan_param_headers;
namespace json = boost::json;

json::object schema(std::string_view text) {
  return json::parse(text).as_object();
}

/// The fault of an invalid schema ("" when it is valid).
std::string fault(std::string_view text) {
  auto r = scan_param_headers(schema(text));
  return r ? std::string() : r.error().message;
}

// ------------------------------------------------------------------ declarations

TEST(XMcpHeaderScan, FindsDeclarationsThroughPropertiesChains) {
  auto r = scan_param_headers(schema(R"({"type":"object","properties":{
      "region":{"type":"string","x-mcp-header":"Region"},
      "level":{"type":"integer"},
      "opts":{"type":"object","properties":{
          "dry":{"type":"boolean","x-mcp-header":"Dry-Run"},
          "n":{"type":"integer","x-mcp-header":"N"}}}}})"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].name, "Region");
  EXPECT_EQ((*r)[0].path, std::vector<std::string>{"region"});
  EXPECT_EQ((*r)[0].type, ParamHeader::Type::string);
  EXPECT_EQ((*r)[1].name, "Dry-Run");
  EXPECT_EQ((*r)[1].path, (std::vector<std::string>{"opts", "dry"}));
  EXPECT_EQ((*r)[1].type, ParamHeader::Type::boolean);
  EXPECT_EQ((*r)[2].type, ParamHeader::Type::integer);
}

TEST(XMcpHeaderScan, NoDeclarationsIsValid) {
  auto r = scan_param_headers(schema(R"({"type":"object","properties":{"a":{"type":"string"}}})"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
  EXPECT_TRUE(scan_param_headers(json::object{})->empty());
  // A property *named* x-mcp-header is an argument, not a declaration.
  EXPECT_TRUE(scan_param_headers(schema(R"({"properties":{"x-mcp-header":{"type":"number"}}})"))->empty());
  // Data that looks like a declaration (default, const, examples) is not one.
  EXPECT_EQ(fault(R"({"properties":{"a":{"type":"object","default":{"x-mcp-header":"A"}}}})"), "");
}

TEST(XMcpHeaderScan, ValueMustBeANonEmptyToken) {
  EXPECT_NE(fault(R"({"properties":{"a":{"type":"string","x-mcp-header":""}}})"), "");
  EXPECT_NE(fault(R"({"properties":{"a":{"type":"string","x-mcp-header":7}}})"), "");
  EXPECT_NE(fault(R"({"properties":{"a":{"type":"string","x-mcp-header":"Two Words"}}})"), "");
  EXPECT_NE(fault(R"({"properties":{"a":{"type":"string","x-mcp-header":"A:B"}}})"), "");
  EXPECT_NE(fault(R"({"properties":{"a":{"type":"string","x-mcp-header":"A\r\nX-Evil: 1"}}})"), "");
  EXPECT_NE(fault(R"({"properties":{"a":{"type":"string","x-mcp-header":"Ré"}}})"), "");
  EXPECT_EQ(fault(R"({"properties":{"a":{"type":"string","x-mcp-header":"A.b_c~1!"}}})"), "");
}

TEST(XMcpHeaderScan, NamesAreUniqueCaseInsensitively) {
  auto f = fault(R"({"properties":{"a":{"type":"string","x-mcp-header":"Region"},
                                   "b":{"type":"string","x-mcp-header":"REGION"}}})");
  EXPECT_NE(f.find("twice"), std::string::npos) << f;
}

TEST(XMcpHeaderScan, OnlyStringIntegerOrBooleanProperties) {
  EXPECT_NE(fault(R"({"properties":{"a":{"type":"number","x-mcp-header":"A"}}})"), "");
  EXPECT_NE(fault(R"({"properties":{"a":{"type":"object","x-mcp-header":"A"}}})"), "");
  EXPECT_NE(fault(R"({"properties":{"a":{"type":"array","x-mcp-header":"A"}}})"), "");
  EXPECT_NE(fault(R"({"properties":{"a":{"x-mcp-header":"A"}}})"), "");                           // no type
  EXPECT_NE(fault(R"({"properties":{"a":{"type":["string","null"],"x-mcp-header":"A"}}})"), "");  // not one type
}

TEST(XMcpHeaderScan, OnlyStaticallyReachableProperties) {
  for (std::string_view s : {
           R"({"type":"object","x-mcp-header":"Root"})",
           R"({"properties":{"a":{"type":"array","items":{"type":"string","x-mcp-header":"A"}}}})",
           R"({"properties":{"a":{"type":"array","items":{"properties":{"b":{"type":"string","x-mcp-header":"B"}}}}}})",
           R"({"properties":{"a":{"oneOf":[{"type":"string","x-mcp-header":"A"}]}}})",
           R"({"anyOf":[{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}]})",
           R"({"allOf":[{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}]})",
           R"({"not":{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}})",
           R"({"if":{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}})",
           R"({"then":{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}})",
           R"({"else":{"properties":{"a":{"type":"string","x-mcp-header":"A"}}}})",
           R"({"additionalProperties":{"type":"string","x-mcp-header":"A"}})",
           R"({"patternProperties":{"^a":{"type":"string","x-mcp-header":"A"}}})",
           R"({"properties":{"a":{"$ref":"#/$defs/r"}},"$defs":{"r":{"type":"string","x-mcp-header":"A"}}})",
       }) {
    EXPECT_NE(fault(s), "") << s;
  }
}

TEST(XMcpHeaderRegistry, InvalidDeclarationRefusesTheToolAndValidOnesAreKept) {
  registry::Registry reg(10);
  Tool bad;
  bad.name = "bad";
  bad.input_schema = schema(R"({"properties":{"a":{"type":"number","x-mcp-header":"A"}}})");
  bad.handler = [](Context&, const json::object&) -> Result<ToolResult> { return ToolResult::text(""); };
  EXPECT_THROW(reg.add_tool(bad), std::invalid_argument);
  EXPECT_FALSE(reg.tool("bad"));
  Tool good = bad;
  good.name = "good";
  good.input_schema = schema(R"({"properties":{"a":{"type":"string","x-mcp-header":"A"}}})");
  reg.add_tool(good);
  auto e = reg.tool_entry("good");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->param_headers.size(), 1u);
  EXPECT_EQ(e->param_headers[0].name, "A");
  EXPECT_EQ(reg.tool("good")->name, "good");
}

// ------------------------------------------------------------------ request check

/// Request headers by name, looked up case-insensitively (as Beast does).
struct Fields {
  std::map<std::string, std::string> h;
  modern::HeaderLookup lookup() const {
    return [this](std::string_view n) -> std::optional<std::string_view> {
      for (const auto& [k, v] : h) {
        if (k.size() == n.size() && std::equal(k.begin(), k.end(), n.begin(), [](char a, char b) {
              return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            })) {
          return std::string_view(v);
        }
      }
      return std::nullopt;
    };
  }
};

const std::vector<ParamHeader> kDecls = {
    {{"region"}, "Region", ParamHeader::Type::string},
    {{"count"}, "Count", ParamHeader::Type::integer},
    {{"opts", "dry"}, "Dry", ParamHeader::Type::boolean},
};

std::optional<modern::Refusal> check(std::string_view args, Fields f) {
  auto a = json::parse(args);
  return check_param_headers(kDecls, a.if_object(), f.lookup(), json::value(42));
}

TEST(ParamHeaders, MatchingHeadersPass) {
  EXPECT_FALSE(check(R"({"region":"us-west1","count":3,"opts":{"dry":true}})",
                     Fields{{{"Mcp-Param-Region", "us-west1"}, {"mcp-param-count", "3"}, {"MCP-PARAM-DRY", "true"}}}));
  // Trimmed like every header value.
  EXPECT_FALSE(check(R"({"region":"eu"})", Fields{{{"Mcp-Param-Region", "  eu\t"}}}));
}

TEST(ParamHeaders, AbsentOrNullArgumentsExpectNoHeader) {
  EXPECT_FALSE(check(R"({})", Fields{}));
  EXPECT_FALSE(check(R"({"region":null,"opts":{"dry":null}})", Fields{}));
  EXPECT_FALSE(check(R"({"opts":null})", Fields{}));
  EXPECT_FALSE(check_param_headers(kDecls, nullptr, Fields{}.lookup(), json::value(1)));  // no arguments
  // A header sent for an absent argument is ignored.
  EXPECT_FALSE(check(R"({})", Fields{{{"Mcp-Param-Region", "x"}}}));
}

TEST(ParamHeaders, MissingHeaderIsRefused400HeaderMismatch) {
  auto r = check(R"({"region":"us-west1"})", Fields{});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400u);
  EXPECT_EQ(r->code, -32020);
  EXPECT_EQ(r->id, json::value(42));
  EXPECT_NE(r->message.find("Mcp-Param-Region"), std::string::npos) << r->message;
  EXPECT_TRUE(check(R"({"opts":{"dry":false}})", Fields{}));
}

TEST(ParamHeaders, MismatchedValuesAreRefused) {
  EXPECT_TRUE(check(R"({"region":"us-west1"})", Fields{{{"Mcp-Param-Region", "us-east1"}}}));
  EXPECT_TRUE(check(R"({"region":"us"})", Fields{{{"Mcp-Param-Region", "US"}}}));  // values are case-sensitive
  EXPECT_TRUE(check(R"({"opts":{"dry":true}})", Fields{{{"Mcp-Param-Dry", "True"}}}));
  EXPECT_TRUE(check(R"({"opts":{"dry":true}})", Fields{{{"Mcp-Param-Dry", "1"}}}));
  EXPECT_TRUE(check(R"({"count":3})", Fields{{{"Mcp-Param-Count", "4"}}}));
}

TEST(ParamHeaders, IntegersCompareNumerically) {
  EXPECT_FALSE(check(R"({"count":42})", Fields{{{"Mcp-Param-Count", "42.0"}}}));
  EXPECT_FALSE(check(R"({"count":42.0})", Fields{{{"Mcp-Param-Count", "42"}}}));
  EXPECT_FALSE(check(R"({"count":-7})", Fields{{{"Mcp-Param-Count", "-7"}}}));
  EXPECT_FALSE(check(R"({"count":9007199254740991})", Fields{{{"Mcp-Param-Count", "9007199254740991"}}}));
  EXPECT_TRUE(check(R"({"count":42})", Fields{{{"Mcp-Param-Count", "42.5"}}}));
  // Only plain decimals: no hex, exponent, sign or inner spaces.
  for (const char* v : {"0x2a", "4.2e1", "+42", "4 2", "42.", ".5", ""}) {
    EXPECT_TRUE(check(R"({"count":42})", Fields{{{"Mcp-Param-Count", v}}})) << v;
  }
}

TEST(ParamHeaders, Base64SentinelIsDecoded) {
  // Conformance: =?base64?SGVsbG8=?= for "Hello" passes; bad padding and non-alphabet
  // characters are refused; a value lacking a marker is literal.
  EXPECT_FALSE(check(R"({"region":"Hello"})", Fields{{{"Mcp-Param-Region", "=?base64?SGVsbG8=?="}}}));
  auto pad = check(R"({"region":"Hello"})", Fields{{{"Mcp-Param-Region", "=?base64?SGVsbG8?="}}});
  ASSERT_TRUE(pad);
  EXPECT_EQ(pad->code, -32020);
  EXPECT_TRUE(check(R"({"region":"Hello"})", Fields{{{"Mcp-Param-Region", "=?base64?SGVs!!!bG8=?="}}}));
  EXPECT_FALSE(check(R"({"region":"SGVsbG8="})", Fields{{{"Mcp-Param-Region", "SGVsbG8="}}}));
  EXPECT_FALSE(check(R"({"region":"=?base64?SGVsbG8="})", Fields{{{"Mcp-Param-Region", "=?base64?SGVsbG8="}}}));
  // Non-ASCII and surrounding spaces survive only base64-encoded (spec examples).
  EXPECT_FALSE(check(R"({"region":"Hello, 世界"})", Fields{{{"Mcp-Param-Region", "=?base64?SGVsbG8sIOS4lueVjA==?="}}}));
  EXPECT_FALSE(check(R"({"region":" padded "})", Fields{{{"Mcp-Param-Region", "=?base64?IHBhZGRlZCA=?="}}}));
  EXPECT_FALSE(check(R"({"count":42})", Fields{{{"Mcp-Param-Count", "=?base64?NDI=?="}}}));
}

TEST(ParamHeaders, RawNonAsciiValueIsRefused) {
  // The client must base64-encode it; a raw one is refused even when it equals the body.
  auto r = check(R"({"region":"Hello, 世界"})", Fields{{{"Mcp-Param-Region", "Hello, 世界"}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, -32020);
}

TEST(ParamHeaders, NonPrimitiveBodyValuesAreLeftToTheTool) {
  EXPECT_FALSE(check(R"({"region":{"a":1},"count":[1]})", Fields{}));
}

TEST(ParamHeaders, RequestLevelCheckFindsTheTool) {
  registry::Registry reg(10);
  Tool t;
  t.name = "t";
  t.input_schema = schema(R"({"properties":{"region":{"type":"string","x-mcp-header":"Region"}}})");
  t.handler = [](Context&, const json::object&) -> Result<ToolResult> { return ToolResult::text(""); };
  reg.add_tool(t);
  auto body = json::parse(R"({"jsonrpc":"2.0","id":"r1","method":"tools/call",
      "params":{"name":"t","arguments":{"region":"x"}}})");
  auto m = classify(body);
  ASSERT_TRUE(m);
  auto tool = called_tool(reg, *m, m->params->if_contains("name"));
  ASSERT_TRUE(tool);
  EXPECT_EQ(tool->def.name, "t");
  auto r = check_param_headers(tool.get(), *m, Fields{}.lookup());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, json::value("r1"));
  EXPECT_FALSE(check_param_headers(tool.get(), *m, Fields{{{"Mcp-Param-Region", "x"}}}.lookup()));
  // Other methods and unknown tools have no tool, and pass (the dispatcher answers those).
  auto other = json::parse(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"nope"}})");
  auto other_m = classify(other);
  EXPECT_FALSE(called_tool(reg, *other_m, other_m->params->if_contains("name")));
  EXPECT_FALSE(check_param_headers(nullptr, *classify(other), Fields{}.lookup()));
  auto list = json::parse(R"({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"name":"t"}})");
  auto list_m = classify(list);
  EXPECT_FALSE(called_tool(reg, *list_m, list_m->params->if_contains("name")));
}

}  // namespace
