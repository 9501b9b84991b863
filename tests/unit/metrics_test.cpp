// Prometheus metrics: bucket placement, the exposition text, closed label sets.
#include "util/metrics.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace {

using namespace frontmcp::metrics;
using namespace std::chrono_literals;

/// The value of the sample line that starts with `series ` in `text` ("" if absent).
std::string sample(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return {};
  auto start = at + 1 + series.size() + 1;
  return text.substr(start, text.find('\n', start) - start);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithLeSemantics) {
  Histogram h;
  h.observe(100us);   // exactly on the 0.0001 bound: counted in le="0.0001"
  h.observe(101us);   // next bucket
  h.observe(3ms);     // le="0.005"
  h.observe(10s);     // beyond the last bound: +Inf only
  std::string out = "\n";
  h.render(out, "x_seconds", "m=\"a\"");
  EXPECT_EQ(sample(out, R"(x_seconds_bucket{m="a",le="0.0001"})"), "1");
  EXPECT_EQ(sample(out, R"(x_seconds_bucket{m="a",le="0.00025"})"), "2");
  EXPECT_EQ(sample(out, R"(x_seconds_bucket{m="a",le="0.0025"})"), "2");
  EXPECT_EQ(sample(out, R"(x_seconds_bucket{m="a",le="0.005"})"), "3");
  EXPECT_EQ(sample(out, R"(x_seconds_bucket{m="a",le="2.5"})"), "3");
  EXPECT_EQ(sample(out, R"(x_seconds_bucket{m="a",le="+Inf"})"), "4");
  EXPECT_EQ(sample(out, R"(x_seconds_count{m="a"})"), "4");
  EXPECT_EQ(std::stod(sample(out, R"(x_seconds_sum{m="a"})")), 10.003201);
  EXPECT_EQ(h.count(), 4u);
}

TEST(Metrics, UnknownMethodsShareOneSeries) {
  EXPECT_EQ(method_of("tools/call"), Method::tools_call);
  EXPECT_EQ(method_of("resources/templates/list"), Method::resources_templates_list);
  EXPECT_EQ(method_of("tools/call2"), Method::other);
  EXPECT_EQ(method_of(""), Method::other);
  EXPECT_EQ(name_of(Method::logging_set_level), "logging/setLevel");
}

TEST(Metrics, RenderCountsRequestsByMethodAndOutcome) {
  Metrics m;
  m.request_done(Method::tools_call, true, 1ms);
  m.request_done(Method::tools_call, true, 1ms);
  m.request_done(Method::tools_call, false, 1ms);
  m.request_done(method_of("x/unknown"), false, 1ms);
  m.http_response(200);
  m.http_response(418);  // not in the closed set
  m.takeover(Takeover::scanner);
  std::string out = "\n";
  render(m, out);
  EXPECT_EQ(sample(out, R"(frontmcp_requests_total{method="tools/call",status="ok"})"), "2");
  EXPECT_EQ(sample(out, R"(frontmcp_requests_total{method="tools/call",status="error"})"), "1");
  EXPECT_EQ(sample(out, R"(frontmcp_requests_total{method="other",status="error"})"), "1");
  EXPECT_EQ(sample(out, R"(frontmcp_request_duration_seconds_count{method="tools/call"})"), "3");
  EXPECT_EQ(sample(out, R"(frontmcp_http_responses_total{code="200"})"), "1");
  EXPECT_EQ(sample(out, R"(frontmcp_http_responses_total{code="other"})"), "1");
  EXPECT_EQ(sample(out, R"(frontmcp_takeovers_total{path="scanner"})"), "1");
  EXPECT_EQ(sample(out, R"(frontmcp_takeovers_total{path="request"})"), "0");
  EXPECT_NE(out.find("# TYPE frontmcp_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(out.find("# TYPE frontmcp_requests_total counter\n"), std::string::npos);
}

TEST(Metrics, RelayRefusalsAreCountedByReason) {
  Metrics m;
  m.relay_refused(RelayRefusal::forged);
  m.relay_refused(RelayRefusal::forged);
  m.relay_refused(RelayRefusal::unknown_type);
  std::string out = "\n";
  render(m, out);
  EXPECT_NE(out.find("# TYPE frontmcp_relay_refused_total counter\n"), std::string::npos);
  EXPECT_EQ(sample(out, R"(frontmcp_relay_refused_total{reason="forged"})"), "2");
  EXPECT_EQ(sample(out, R"(frontmcp_relay_refused_total{reason="unknown_type"})"), "1");
  for (auto r : {"unsigned", "stale", "malformed"}) {
    EXPECT_EQ(sample(out, std::string("frontmcp_relay_refused_total{reason=\"") + r + "\"}"), "0") << r;
  }
  EXPECT_EQ(name_of(RelayRefusal::unsigned_message), "unsigned");
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label(R"(a"b\c)" "\n"), R"(a\"b\\c\n)");
}

}  // namespace
