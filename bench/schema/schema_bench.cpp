// The JSON Schema validator (src/schema/json_schema.hpp, docs/json-schema.md): compiling a
// typical tool inputSchema, validating valid arguments on the bool fast path, explaining
// invalid ones, and the large-input cases the bounds are for.
// Run: build-bench/bin/schema_bench (a Release build, see docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <string>
#include <vector>

#include "schema/json_schema.hpp"

namespace {

namespace json = boost::json;
using frontmcp::schema::Validator;
using frontmcp::schema::Violation;

const char* const kToolSchema = R"({
  "$defs": {"address": {"type": "object", "properties": {"street": {"type": "string", "minLength": 1},
                                                          "zip": {"type": "string", "pattern": "^[0-9]{4,5}$"}},
                         "required": ["street"], "additionalProperties": false}},
  "type": "object",
  "properties": {
    "city": {"type": "string", "enum": ["Oslo", "Paris", "Lima", "Kyoto"]},
    "days": {"type": "integer", "minimum": 1, "maximum": 30},
    "units": {"oneOf": [{"const": "metric"}, {"const": "imperial"}]},
    "address": {"$ref": "#/$defs/address"},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 32}, "uniqueItems": true, "maxItems": 10},
    "when": {"type": "string", "format": "date-time"},
    "limit": {"anyOf": [{"type": "null"}, {"type": "number", "exclusiveMinimum": 0}]}
  },
  "required": ["city", "days"],
  "additionalProperties": false
})";

const char* const kValid =
    R"({"city": "Oslo", "days": 3, "units": "metric", "address": {"street": "Main", "zip": "0150"},
  "tags": ["a", "b", "c"], "when": "2026-12-05T10:00:00Z", "limit": 2.5})";

const char* const kInvalid = R"({"city": "Bergen", "days": "3", "units": "si", "address": {"street": 5},
  "tags": ["a", "a"], "nmae": 1})";

void BM_Compile(benchmark::State& state) {
  auto schema = json::parse(kToolSchema);
  for (auto _ : state) {
    auto v = Validator::compile(schema);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_Compile);

void BM_ValidFastPath(benchmark::State& state) {
  auto v = Validator::compile(json::parse(kToolSchema)).value();
  auto inst = json::parse(kValid);
  for (auto _ : state) benchmark::DoNotOptimize(v.validate(inst));
}
BENCHMARK(BM_ValidFastPath);

void BM_InvalidCollecting(benchmark::State& state) {
  auto v = Validator::compile(json::parse(kToolSchema)).value();
  auto inst = json::parse(kInvalid);
  for (auto _ : state) {
    std::vector<Violation> out;
    benchmark::DoNotOptimize(v.validate(inst, out));
    benchmark::DoNotOptimize(Validator::describe(out));
  }
}
BENCHMARK(BM_InvalidCollecting);

void BM_UniqueItems(benchmark::State& state) {
  auto v = Validator::compile(json::parse(R"({"uniqueItems": true})")).value();
  json::array a;
  for (int64_t i = 0; i < state.range(0); ++i) a.push_back(json::value("item-" + std::to_string(i)));
  json::value inst(std::move(a));
  for (auto _ : state) benchmark::DoNotOptimize(v.validate(inst));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_UniqueItems)->Arg(16)->Arg(1000)->Arg(50000);

void BM_ItemsOneOf(benchmark::State& state) {
  auto v =
      Validator::compile(json::parse(R"({"items": {"oneOf": [{"type": "integer"}, {"type": "string"}]}})")).value();
  json::array a;
  for (int64_t i = 0; i < state.range(0); ++i) a.push_back(json::value(i));
  json::value inst(std::move(a));
  for (auto _ : state) benchmark::DoNotOptimize(v.validate(inst));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ItemsOneOf)->Arg(1000)->Arg(30000);

}  // namespace

BENCHMARK_MAIN();
