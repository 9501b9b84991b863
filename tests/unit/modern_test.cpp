// MCP 2026-07-28: era classification and the modern request checks (protocol/modern.hpp),
// including the conformance suite's server-stateless probes (0.2.0-alpha.12).
#include "protocol/modern.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <string>

namespace {

using namespace frontmcp::protocol;
using namespace frontmcp::protocol::modern;
namespace json = boost::json;

/// A parsed body and its classified messages (which point into it).
struct Body {
  explicit Body(std::string_view text) : value(json::parse(text)) {
    if (value.is_array()) {
      for (const auto& v : value.get_array()) msgs.push_back(*classify(v));
    } else {
      msgs.push_back(*classify(value));
    }
  }
  json::value value;
  std::vector<Message> msgs;
  const Message& msg() const { return msgs.front(); }
};

const char* const kMeta = R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
                          R"("io.modelcontextprotocol/clientCapabilities":{"sampling":{}},)"
                          R"("io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"}})";

std::string request(int id, std::string_view method, std::string params_extra = {}, std::string meta = kMeta) {
  std::string params = meta;
  if (!params_extra.empty()) params += (params.empty() ? "" : ",") + params_extra;
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + std::string(method) + R"(","params":{)" +
         params + "}}";
}

/// Headers of a well-formed modern request for `method` (and Mcp-Name when given).
struct Headers {
  std::map<std::string, std::string> h;
  Headers(std::string_view method, std::string name = {}) {
    h["MCP-Protocol-Version"] = "2026-07-28";
    h["Mcp-Method"] = std::string(method);
    if (!name.empty()) h["Mcp-Name"] = name;
  }
  std::optional<std::string_view> get(const std::string& n) const {
    auto it = h.find(n);
    if (it == h.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  RequestHeaders request_headers() const {
    return RequestHeaders{get("MCP-Protocol-Version"), get("Mcp-Method"), get("Mcp-Name"), {}};
  }
};

std::variant<Envelope, Refusal> check(const std::string& body, const Headers& headers, bool completions = false) {
  Body b(body);
  auto rh = headers.request_headers();
  return check_request(b.msg(), &rh, completions);
}

Refusal refused(const std::variant<Envelope, Refusal>& r) {
  EXPECT_TRUE(std::holds_alternative<Refusal>(r));
  return std::holds_alternative<Refusal>(r) ? std::get<Refusal>(r) : Refusal{};
}

// ------------------------------------------------------------------ classification

Era era_of(std::string_view body, std::string_view header = {}) {
  Body b(body);
  auto r = classify_era(b.msgs, b.value.is_array(), header);
  EXPECT_TRUE(std::holds_alternative<Era>(r)) << body;
  return std::holds_alternative<Era>(r) ? std::get<Era>(r) : Era::legacy;
}

TEST(ModernEra, ClaimInMetaIsModernWhateverItsValue) {
  EXPECT_EQ(era_of(request(1, "tools/list")), Era::modern);
  EXPECT_EQ(era_of(request(1, "tools/list", {}, R"("_meta":{"io.modelcontextprotocol/protocolVersion":7})")),
            Era::modern);
  // initialize with a claim is modern (and then 404 at the method rung).
  EXPECT_EQ(era_of(request(1, "initialize")), Era::modern);
}

TEST(ModernEra, ModernHeaderWithoutClaimIsModern) {
  EXPECT_EQ(era_of(R"({"jsonrpc":"2.0","id":1,"method":"server/discover","params":{}})", "2026-07-28"), Era::modern);
  EXPECT_EQ(era_of(R"({"jsonrpc":"2.0","id":1,"method":"server/discover"})", "v999.0.0"), Era::modern);
}

TEST(ModernEra, EverythingElseIsLegacy) {
  EXPECT_EQ(era_of(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}})"),
            Era::legacy);
  EXPECT_EQ(era_of(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})", "2025-11-25"), Era::legacy);
  EXPECT_EQ(era_of(R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"progressToken":1}}})"),
            Era::legacy);
  EXPECT_EQ(era_of(R"({"jsonrpc":"2.0","id":1,"result":{}})", "2026-07-28"), Era::legacy);  // a response
  EXPECT_EQ(era_of(R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}])"),
            Era::legacy);
}

TEST(ModernEra, BatchWithAModernElementIsRefused) {
  Body b("[" + request(1, "tools/list") + R"(,{"jsonrpc":"2.0","id":2,"method":"ping"}])");
  auto r = classify_era(b.msgs, true, "");
  ASSERT_TRUE(std::holds_alternative<Refusal>(r));
  EXPECT_EQ(std::get<Refusal>(r).status, 400u);
  EXPECT_EQ(std::get<Refusal>(r).code, -32600);
}

TEST(ModernEra, IsModernVersion) {
  EXPECT_TRUE(is_modern_version("2026-07-28"));
  EXPECT_TRUE(is_modern_version("v999.0.0"));
  EXPECT_FALSE(is_modern_version("2025-11-25"));
  EXPECT_FALSE(is_modern_version(""));
}

// ------------------------------------------------------------------ the ladder

TEST(ModernLadder, WellFormedRequestGivesItsEnvelope) {
  auto r = check(request(7, "tools/list"), Headers("tools/list"));
  ASSERT_TRUE(std::holds_alternative<Envelope>(r));
  const auto& env = std::get<Envelope>(r);
  EXPECT_EQ(env.protocol_version, "2026-07-28");
  EXPECT_FALSE(env.log_level);
  // The client's capabilities and identity are read from the message itself.
  Body b(request(7, "tools/list"));
  auto meta = meta_of(b.msg().params);
  ASSERT_TRUE(meta);
  EXPECT_TRUE(client_capabilities_of(meta).contains("sampling"));
  EXPECT_EQ(client_info_of(meta).at("name").as_string(), "t");
  EXPECT_TRUE(client_capabilities_of(nullptr).empty());
}

TEST(ModernLadder, MetaFieldsAreFoundAmongOtherKeysOfTheSameLength) {
  // Keys as long as the protocol's, but other: they are not taken for them.
  const std::string meta = R"("_meta":{"io.modelcontextprotocol/protocolVersioN":"1999-01-01",)"
                           R"("io.modelcontextprotocol/clientCapabilitieX":5,)"
                           R"("io.modelcontextprotocol/clientInfX":5,)"
                           R"("io.modelcontextprotocol/logLeveX":5,"progressToken":"t",)"
                           R"("io.modelcontextprotocol/clientCapabilities":{},)"
                           R"("io.modelcontextprotocol/logLevel":"error",)"
                           R"("io.modelcontextprotocol/protocolVersion":"2026-07-28"})";
  auto r = check(request(8, "tools/list", {}, meta), Headers("tools/list"));
  ASSERT_TRUE(std::holds_alternative<Envelope>(r));
  EXPECT_EQ(std::get<Envelope>(r).protocol_version, "2026-07-28");
  EXPECT_EQ(std::get<Envelope>(r).log_level, frontmcp::LogLevel::error);
  // Without the real capabilities key, its look-alike does not stand in for it.
  const std::string without = R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
                              R"("io.modelcontextprotocol/clientCapabilitieX":{}})";
  EXPECT_EQ(refused(check(request(9, "tools/list", {}, without), Headers("tools/list"))).code, -32602);
}

TEST(ModernLadder, ClientInfoIsOptionalAndLogLevelIsParsed) {
  auto r = check(request(105, "server/discover", {},
                         R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
                         R"("io.modelcontextprotocol/clientCapabilities":{},)"
                         R"("io.modelcontextprotocol/logLevel":"warning"})"),
                 Headers("server/discover"));
  ASSERT_TRUE(std::holds_alternative<Envelope>(r));
  EXPECT_EQ(std::get<Envelope>(r).log_level, frontmcp::LogLevel::warning);
  Body b(request(105, "server/discover", {},
                 R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
                 R"("io.modelcontextprotocol/clientCapabilities":{}})"));
  EXPECT_TRUE(client_info_of(meta_of(b.msg().params)).empty());
}

TEST(ModernLadder, MissingMetaFieldsAreInvalidParams400) {
  // Conformance ids 101 (params {}), 102 (no protocolVersion), 104 (no clientCapabilities).
  for (auto [id, meta] : std::vector<std::pair<int, std::string>>{
           {101, ""},
           {102, R"("_meta":{"io.modelcontextprotocol/clientCapabilities":{}})"},
           {104, R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"})"},
           {106, R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
                 R"("io.modelcontextprotocol/clientCapabilities":[]})"},
           {107, R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
                 R"("io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/logLevel":"loud"})"}}) {
    auto r = refused(check(request(id, "server/discover", {}, meta), Headers("server/discover")));
    EXPECT_EQ(r.status, 400u) << id;
    EXPECT_EQ(r.code, -32602) << id;
    EXPECT_EQ(r.id, json::value(id)) << id;
  }
}

TEST(ModernLadder, HeaderMustEqualMeta) {
  // Conformance id 302: header 2026-07-28, _meta v999.0.0.
  auto body = request(302, "server/discover", {},
                      R"("_meta":{"io.modelcontextprotocol/protocolVersion":"v999.0.0",)"
                      R"("io.modelcontextprotocol/clientCapabilities":{}})");
  auto r = refused(check(body, Headers("server/discover")));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.code, -32020);
  EXPECT_EQ(r.id, json::value(302));
  Headers none("server/discover");
  none.h.erase("MCP-Protocol-Version");
  r = refused(check(request(303, "server/discover"), none));
  EXPECT_EQ(r.code, -32020);
  EXPECT_EQ(r.status, 400u);
}

TEST(ModernLadder, UnsupportedVersionNamesSupportedAndRequested) {
  // Conformance id 301: header and _meta v999.0.0.
  auto body = request(301, "server/discover", {},
                      R"("_meta":{"io.modelcontextprotocol/protocolVersion":"v999.0.0",)"
                      R"("io.modelcontextprotocol/clientCapabilities":{}})");
  Headers h("server/discover");
  h.h["MCP-Protocol-Version"] = "v999.0.0";
  auto r = refused(check(body, h));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.code, -32022);
  EXPECT_EQ(r.id, json::value(301));
  EXPECT_EQ(json::serialize(r.data), R"({"supported":["2026-07-28"],"requested":"v999.0.0"})");
  // A legacy revision claimed in _meta is unsupported on this path too.
  h.h["MCP-Protocol-Version"] = "2025-11-25";
  auto legacy = request(310, "tools/list", {},
                        R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2025-11-25",)"
                        R"("io.modelcontextprotocol/clientCapabilities":{}})");
  EXPECT_EQ(refused(check(legacy, h)).code, -32022);
}

TEST(ModernLadder, RemovedAndUnknownMethodsAre404) {
  // Conformance id 500 (removed methods) and 601 (unknown/method).
  for (std::string_view method :
       {"initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe",
        "notifications/initialized", "unknown/method", "completion/complete"}) {
    auto r = refused(check(request(500, method), Headers(method)));
    EXPECT_EQ(r.status, 404u) << method;
    EXPECT_EQ(r.code, -32601) << method;
    EXPECT_EQ(r.id, json::value(500)) << method;
  }
  // subscriptions/listen is a method of the generation (served as a listen stream).
  EXPECT_TRUE(
      std::holds_alternative<Envelope>(check(request(9, "subscriptions/listen"), Headers("subscriptions/listen"))));
  // completion/complete exists with a completion handler.
  EXPECT_TRUE(std::holds_alternative<Envelope>(
      check(request(8, "completion/complete"), Headers("completion/complete"), /*completions=*/true)));
}

TEST(ModernLadder, McpMethodIsRequiredAndCaseSensitive) {
  Headers missing("tools/list");
  missing.h.erase("Mcp-Method");
  EXPECT_EQ(refused(check(request(1, "tools/list"), missing)).code, -32020);
  auto r = refused(check(request(2, "tools/list"), Headers("TOOLS/LIST")));
  EXPECT_EQ(r.code, -32020);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.id, json::value(2));
}

TEST(ModernLadder, McpNameMatchesNameOrUri) {
  auto call = request(3, "tools/call", R"("name":"test_simple_text")");
  EXPECT_TRUE(std::holds_alternative<Envelope>(check(call, Headers("tools/call", "test_simple_text"))));
  EXPECT_EQ(refused(check(call, Headers("tools/call"))).code, -32020);  // missing
  EXPECT_EQ(refused(check(call, Headers("tools/call", "other"))).code, -32020);
  auto get = request(4, "prompts/get", R"("name":"p")");
  EXPECT_TRUE(std::holds_alternative<Envelope>(check(get, Headers("prompts/get", "p"))));
  auto read = request(5, "resources/read", R"("uri":"test://static-text")");
  EXPECT_TRUE(std::holds_alternative<Envelope>(check(read, Headers("resources/read", "test://static-text"))));
  EXPECT_EQ(refused(check(read, Headers("resources/read", "test://other"))).code, -32020);
}

TEST(ModernLadder, HeaderWhitespaceIsTrimmed) {
  // Conformance sep-2243-server-accepts-whitespace-header-value.
  auto call = request(6, "tools/call", R"("name":"test_simple_text")");
  EXPECT_TRUE(std::holds_alternative<Envelope>(check(call, Headers(" \ttools/call ", "  test_simple_text  "))));
}

TEST(ModernLadder, Base64SentinelIsDecoded) {
  auto call = request(9, "tools/call", R"("name":"Hello")");
  EXPECT_TRUE(std::holds_alternative<Envelope>(check(call, Headers("tools/call", "=?base64?SGVsbG8=?="))));
  // Invalid base64, or a value that decodes to something else: -32020.
  EXPECT_EQ(refused(check(call, Headers("tools/call", "=?base64?SGVsbG8?="))).code, -32020);
  EXPECT_EQ(refused(check(call, Headers("tools/call", "=?base64?SGVsbG9v?="))).code, -32020);
  // Without both markers the value is literal.
  EXPECT_EQ(refused(check(call, Headers("tools/call", "=?base64?SGVsbG8="))).code, -32020);
}

TEST(ModernHeaderValue, Decoding) {
  EXPECT_EQ(header_value("  a b\t"), "a b");
  EXPECT_EQ(header_value("=?base64?SGVsbG8=?="), "Hello");
  EXPECT_EQ(header_value("=?base64?SGk=?="), "Hi");
  EXPECT_EQ(header_value("=?base64?SGVs?="), "Hel");
  EXPECT_EQ(header_value("=?base64?\?="), "");
  EXPECT_FALSE(header_value("=?base64?SGVsbG8?="));
  EXPECT_FALSE(header_value("=?base64?S=Vs?="));
  EXPECT_FALSE(header_value("=?base64?SG!s?="));
  EXPECT_EQ(header_value("=?BASE64?SGk=?="), "=?BASE64?SGk=?=");  // markers are case-sensitive
}

TEST(ModernLadder, RungsRunInTheSpecOrder) {
  // No _meta and no headers: the _meta rung answers first.
  Headers none("x");
  none.h.clear();
  EXPECT_EQ(refused(check(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{}})", none)).code, -32602);
  // Unsupported version and an unknown method: the version rung first.
  Headers h("ping");
  h.h["MCP-Protocol-Version"] = "v999.0.0";
  auto v999 = request(2, "ping", {},
                      R"("_meta":{"io.modelcontextprotocol/protocolVersion":"v999.0.0",)"
                      R"("io.modelcontextprotocol/clientCapabilities":{}})");
  EXPECT_EQ(refused(check(v999, h)).code, -32022);
  // Unknown method and a wrong Mcp-Method: 404 first.
  EXPECT_EQ(refused(check(request(3, "ping"), Headers("tools/list"))).code, -32601);
}

TEST(ModernResult, DecorateAddsResultTypeServerInfoAndCacheHints) {
  json::object info{{"name", "s"}, {"version", "1"}};
  json::object list{{"tools", json::array{}}, {"_meta", json::object{{"x", 1}}}};
  decorate_result("tools/list", list, info);
  EXPECT_EQ(list.at("resultType"), "complete");
  EXPECT_EQ(list.at("ttlMs"), 0);
  EXPECT_EQ(list.at("cacheScope"), "public");
  EXPECT_EQ(list.at("_meta").at("x"), 1);
  EXPECT_EQ(list.at("_meta").at("io.modelcontextprotocol/serverInfo").at("name"), "s");
  json::object call{{"content", json::array{}}};
  decorate_result("tools/call", call, info);
  EXPECT_EQ(call.at("resultType"), "complete");
  EXPECT_FALSE(call.contains("ttlMs"));
  EXPECT_FALSE(call.contains("cacheScope"));
}

TEST(ModernRefusal, ErrorMessageEchoesTheId) {
  Refusal r{400, -32022, "no", json::object{{"requested", "x"}}, json::value("abc")};
  EXPECT_EQ(json::serialize(error_message(r)),
            R"({"jsonrpc":"2.0","id":"abc","error":{"code":-32022,"message":"no","data":{"requested":"x"}}})");
}

}  // namespace
