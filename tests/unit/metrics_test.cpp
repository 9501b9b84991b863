// Prometheus metrics: bucket placement, the exposition text, closed label sets.
#include "util/metrics.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "util/exposition.hpp"

namespace {

using namespace frontmcp::metrics;
using namespace std::chrono_literals;

/// The value of the sample line that starts with `series ` in `text` ("" if absent).
std::string sample_of(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return {};
  auto start = at + 1 + series.size() + 1;
  return text.substr(start, text.find('\n', start) - start);
}

std::string rendered(const Metrics& m) {
  std::string out = "\n";
  render(m, out);
  return out;
}

TEST(Metrics, HistogramBucketsAreCumulativeWithLeSemantics) {
  Metrics m;
  auto& h = m.request_duration[static_cast<std::size_t>(Method::ping)];
  h.observe(100us);  // exactly on the 0.0001 bound: counted in le="0.0001"
  h.observe(101us);  // next bucket
  h.observe(3ms);    // le="0.005"
  h.observe(10s);    // beyond the last bound: +Inf only
  auto out = rendered(m);
  EXPECT_EQ(sample_of(out, R"(frontmcp_request_duration_seconds_bucket{method="ping",le="0.0001"})"), "1");
  EXPECT_EQ(sample_of(out, R"(frontmcp_request_duration_seconds_bucket{method="ping",le="0.00025"})"), "2");
  EXPECT_EQ(sample_of(out, R"(frontmcp_request_duration_seconds_bucket{method="ping",le="0.0025"})"), "2");
  EXPECT_EQ(sample_of(out, R"(frontmcp_request_duration_seconds_bucket{method="ping",le="0.005"})"), "3");
  EXPECT_EQ(sample_of(out, R"(frontmcp_request_duration_seconds_bucket{method="ping",le="2.5"})"), "3");
  EXPECT_EQ(sample_of(out, R"(frontmcp_request_duration_seconds_bucket{method="ping",le="+Inf"})"), "4");
  EXPECT_EQ(sample_of(out, R"(frontmcp_request_duration_seconds_count{method="ping"})"), "4");
  EXPECT_NEAR(std::stod(sample_of(out, R"(frontmcp_request_duration_seconds_sum{method="ping"})")), 10.003201, 1e-12);
  EXPECT_EQ(h.count(), 4u);
  // Every bound is written as Prometheus' own clients write it (0.0001, not 1e-04).
  for (const char* le : {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                         "0.25", "0.5", "1", "2.5"}) {
    EXPECT_NE(out.find(std::string("_bucket{method=\"ping\",le=\"") + le + "\"} "), std::string::npos) << le;
  }
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
  auto out = rendered(m);
  EXPECT_EQ(sample_of(out, R"(frontmcp_requests_total{method="tools/call",status="ok"})"), "2");
  EXPECT_EQ(sample_of(out, R"(frontmcp_requests_total{method="tools/call",status="error"})"), "1");
  EXPECT_EQ(sample_of(out, R"(frontmcp_requests_total{method="other",status="error"})"), "1");
  EXPECT_EQ(sample_of(out, R"(frontmcp_request_duration_seconds_count{method="tools/call"})"), "3");
  EXPECT_EQ(sample_of(out, R"(frontmcp_http_responses_total{code="200"})"), "1");
  EXPECT_EQ(sample_of(out, R"(frontmcp_http_responses_total{code="other"})"), "1");
  EXPECT_EQ(sample_of(out, R"(frontmcp_takeovers_total{path="scanner"})"), "1");
  EXPECT_EQ(sample_of(out, R"(frontmcp_takeovers_total{path="request"})"), "0");
  EXPECT_EQ(sample_of(out, "frontmcp_redis_command_duration_seconds_count"), "0");
  EXPECT_NE(out.find("# TYPE frontmcp_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(out.find("# TYPE frontmcp_requests_total counter\n"), std::string::npos);
  EXPECT_NE(out.find("# HELP frontmcp_http_responses_total HTTP responses sent, by status code.\n"), std::string::npos);
  // Series in label order, so that two scrapes read alike.
  EXPECT_LT(out.find(R"(frontmcp_http_responses_total{code="200"})"),
            out.find(R"(frontmcp_http_responses_total{code="202"})"));
  EXPECT_EQ(m.requests[static_cast<std::size_t>(Method::tools_call)][0].value(), 2u);
}

TEST(Metrics, EachServerCountsInItsOwnRegistry) {
  Metrics a;
  Metrics b;
  a.http_response(404);
  EXPECT_EQ(sample_of(rendered(a), R"(frontmcp_http_responses_total{code="404"})"), "1");
  EXPECT_EQ(sample_of(rendered(b), R"(frontmcp_http_responses_total{code="404"})"), "0");
}

TEST(Metrics, RelayRefusalsAreCountedByReason) {
  Metrics m;
  m.relay_refused(RelayRefusal::forged);
  m.relay_refused(RelayRefusal::forged);
  m.relay_refused(RelayRefusal::unknown_type);
  auto out = rendered(m);
  EXPECT_NE(out.find("# TYPE frontmcp_relay_refused_total counter\n"), std::string::npos);
  EXPECT_EQ(sample_of(out, R"(frontmcp_relay_refused_total{reason="forged"})"), "2");
  EXPECT_EQ(sample_of(out, R"(frontmcp_relay_refused_total{reason="unknown_type"})"), "1");
  for (auto r : {"unsigned", "stale", "malformed"}) {
    EXPECT_EQ(sample_of(out, std::string("frontmcp_relay_refused_total{reason=\"") + r + "\"}"), "0") << r;
  }
  EXPECT_EQ(name_of(RelayRefusal::unsigned_message), "unsigned");
}

TEST(Metrics, RateLimitRefusalsAreCountedByLimit) {
  Metrics m;
  auto out = rendered(m);
  EXPECT_NE(out.find("# TYPE frontmcp_rate_limited_total counter\n"), std::string::npos);
  EXPECT_EQ(sample_of(out, R"(frontmcp_rate_limited_total{limit="tool"})"), "0");  // present before any refusal
  m.refused_by(RateLimited::tool);
  m.refused_by(RateLimited::request);
  m.refused_by(RateLimited::request);
  out = rendered(m);
  EXPECT_EQ(sample_of(out, R"(frontmcp_rate_limited_total{limit="tool"})"), "1");
  EXPECT_EQ(sample_of(out, R"(frontmcp_rate_limited_total{limit="request"})"), "2");
}

TEST(Metrics, ScrapeTimeFamiliesAndEscapedLabelValues) {
  Families f;
  metric(f, "x_up", "Up.", prometheus::MetricType::Gauge, 1);
  sample(family(f, "x_info", "Info.", prometheus::MetricType::Gauge), {{"node", "a\"b\\c\nd"}, {"mode", "m"}}, 1);
  metric(f, "x_total", "Total.", prometheus::MetricType::Counter, 12345678901);
  EXPECT_EQ(serialize(f),
            "# HELP x_up Up.\n# TYPE x_up gauge\nx_up 1\n"
            "# HELP x_info Info.\n# TYPE x_info gauge\nx_info{node=\"a\\\"b\\\\c\\nd\",mode=\"m\"} 1\n"
            "# HELP x_total Total.\n# TYPE x_total counter\nx_total 12345678901\n");
}

}  // namespace
