// The metric work of one request, three ways, in one binary and one run (docs/benchmarks.md,
// "Metrics: hand-written atomics or prometheus-cpp"):
//   handwritten  a frozen copy of the hot path frontmcp used up to commit f10575e (relaxed
//                uint64 atomics, fixed arrays), kept here as the baseline;
//   prometheus   prometheus-cpp 1.0.1 (Debian's prometheus-cpp-dev) with the handles held;
//   production   frontmcp::metrics::Metrics as built from this tree.
// "One request" is what the dispatcher and the HTTP layer do for a tools/call:
// request_done (a counter and a histogram observation) and http_response(200) (a counter).
// Run: build-bench/bin/metrics_bench (a Release build, see docs/benchmarks.md).
#include <benchmark/benchmark.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "util/metrics.hpp"

namespace {

using namespace std::chrono_literals;
using frontmcp::metrics::kHttpCodes;
using frontmcp::metrics::kMethods;
using frontmcp::metrics::Method;

// Handler times spread over several buckets, so the bucket search is not always the same.
constexpr std::array<std::chrono::nanoseconds, 8> kTimes{40us, 90us, 180us, 300us, 450us, 700us, 1200us, 3ms};

namespace handwritten {

class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { v_.fetch_add(n, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                  0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5};
  void observe(std::chrono::nanoseconds d) noexcept {
    const double s = std::chrono::duration<double>(d).count();
    auto it = std::lower_bound(kBounds.begin(), kBounds.end(), s);
    buckets_[static_cast<std::size_t>(it - kBounds.begin())].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(d.count(), 0)), std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

struct Metrics {
  std::array<std::array<Counter, 2>, kMethods> requests;
  std::array<Histogram, kMethods> request_duration;
  std::array<Counter, kHttpCodes.size() + 1> http_responses;

  void request_done(Method m, bool ok, std::chrono::nanoseconds d) noexcept {
    auto i = static_cast<std::size_t>(m);
    requests[i][ok ? 0 : 1].inc();
    request_duration[i].observe(d);
  }
  // Out of line in the server (util/metrics.cpp); kept out of line here too.
  [[gnu::noinline]] void http_response(int code) noexcept {
    auto it = std::find(kHttpCodes.begin(), kHttpCodes.end(), code);
    http_responses[static_cast<std::size_t>(it - kHttpCodes.begin())].inc();
  }
};

}  // namespace handwritten

namespace promcpp {

// The same series as the server's, registered once; the hot path only uses held handles.
struct Metrics {
  prometheus::Registry registry;
  std::array<std::array<prometheus::Counter*, 2>, kMethods> requests{};
  std::array<prometheus::Histogram*, kMethods> request_duration{};
  std::array<prometheus::Counter*, kHttpCodes.size() + 1> http_responses{};

  Metrics() {
    auto& req = prometheus::BuildCounter().Name("frontmcp_requests_total").Help("h").Register(registry);
    auto& dur = prometheus::BuildHistogram().Name("frontmcp_request_duration_seconds").Help("h").Register(registry);
    auto& http = prometheus::BuildCounter().Name("frontmcp_http_responses_total").Help("h").Register(registry);
    const prometheus::Histogram::BucketBoundaries bounds(handwritten::Histogram::kBounds.begin(),
                                                         handwritten::Histogram::kBounds.end());
    for (std::size_t i = 0; i < kMethods; ++i) {
      std::string method(frontmcp::metrics::name_of(static_cast<Method>(i)));
      requests[i][0] = &req.Add({{"method", method}, {"status", "ok"}});
      requests[i][1] = &req.Add({{"method", method}, {"status", "error"}});
      request_duration[i] = &dur.Add({{"method", method}}, bounds);
    }
    for (std::size_t i = 0; i <= kHttpCodes.size(); ++i) {
      http_responses[i] = &http.Add({{"code", i < kHttpCodes.size() ? std::to_string(kHttpCodes[i]) : "other"}});
    }
  }
  void request_done(Method m, bool ok, std::chrono::nanoseconds d) {
    auto i = static_cast<std::size_t>(m);
    requests[i][ok ? 0 : 1]->Increment();
    request_duration[i]->Observe(std::chrono::duration<double>(d).count());
  }
  [[gnu::noinline]] void http_response(int code) {
    auto it = std::find(kHttpCodes.begin(), kHttpCodes.end(), code);
    http_responses[static_cast<std::size_t>(it - kHttpCodes.begin())]->Increment();
  }
};

}  // namespace promcpp

// One shared instance per implementation: with ->Threads(2) both threads count into the
// same series, as two I/O threads serving tools/call do.
template <class M>
M& shared() {
  static M m;
  return m;
}

template <class M>
void BM_Request(benchmark::State& state) {
  auto& m = shared<M>();
  std::size_t k = static_cast<std::size_t>(state.thread_index());
  for (auto _ : state) {
    m.request_done(Method::tools_call, true, kTimes[k++ % kTimes.size()]);
    m.http_response(200);
  }
}

void BM_Request_handwritten(benchmark::State& s) {
  BM_Request<handwritten::Metrics>(s);
}
void BM_Request_prometheus(benchmark::State& s) {
  BM_Request<promcpp::Metrics>(s);
}
void BM_Request_production(benchmark::State& s) {
  BM_Request<frontmcp::metrics::Metrics>(s);
}
BENCHMARK(BM_Request_handwritten)->Threads(1)->Threads(2);
BENCHMARK(BM_Request_prometheus)->Threads(1)->Threads(2);
BENCHMARK(BM_Request_production)->Threads(1)->Threads(2);

// A scrape of these series (not per request: once per scrape interval).
void BM_Scrape_prometheus(benchmark::State& state) {
  promcpp::Metrics m;
  for (std::size_t i = 0; i < 1000; ++i) m.request_done(Method::tools_call, true, kTimes[i % kTimes.size()]);
  for (auto _ : state) {
    std::string out = prometheus::TextSerializer().Serialize(m.registry.Collect());
    benchmark::DoNotOptimize(out.data());
  }
}
void BM_Scrape_production(benchmark::State& state) {
  frontmcp::metrics::Metrics m;
  for (std::size_t i = 0; i < 1000; ++i) m.request_done(Method::tools_call, true, kTimes[i % kTimes.size()]);
  for (auto _ : state) {
    std::string out;
    frontmcp::metrics::render(m, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_Scrape_prometheus);
BENCHMARK(BM_Scrape_production);

}  // namespace

BENCHMARK_MAIN();
