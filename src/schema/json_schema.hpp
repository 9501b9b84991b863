#pragma once
// A JSON Schema 2020-12 validator over Boost.JSON (docs/json-schema.md): compile a schema
// once into a tree of nodes with pre-parsed keywords, then validate any number of
// instances against it, from any number of threads.
//
// Built for hostile input: the schema's depth and size are bounded at compile time, $ref
// cycles that never consume input are refused, and every validate() call is bounded in
// instance depth, evaluation depth and steps (Limits), so no input recurses or loops
// without bound. Remote $refs and $dynamicRef are refused at compile time rather than
// silently ignored.
#include <boost/json/value.hpp>
#include <cstddef>
#include <frontmcp/result.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace frontmcp::schema {

namespace json = boost::json;

struct Limits {
  /// Nesting of subschemas inside the schema document (compile).
  std::size_t max_schema_depth = 64;
  /// Subschemas in the whole schema document (compile).
  std::size_t max_schema_nodes = 10000;
  /// Characters of one `pattern` / `patternProperties` regular expression (compile).
  std::size_t max_pattern_length = 1000;
  /// Nesting of the instance below its root that validation descends into (validate).
  std::size_t max_instance_depth = 64;
  /// Nested subschema evaluations ($ref chains, allOf in allOf ...) of one validate(): the
  /// C++ recursion of validation (under 1 KiB of stack per level in a release build, ~2 KiB
  /// unoptimized, ~9 KiB under AddressSanitizer). A recursive tree schema takes 2 to 3
  /// levels per instance level.
  std::size_t max_eval_depth = 256;
  /// Violations collected by validate(instance, out).
  std::size_t max_violations = 8;
  /// Evaluation budget of one validate() call: one step per subschema evaluated and per
  /// element visited by a keyword. Exceeding it fails validation ("validation budget
  /// exceeded"), which bounds the CPU of nested anyOf/oneOf over large inputs.
  std::size_t max_steps = 100000;
};

struct Violation {
  /// Where in the instance: "" for the root, "days", "address.street", "tags[2]",
  /// `headers["content-type"]` for names that are not identifiers.
  std::string path;
  /// What was expected and what was got: `expected integer, got string "3"`.
  std::string message;

  bool operator==(const Violation&) const = default;
};

class Validator {
 public:
  /// Error -32602 naming the offending schema location, e.g. `inputSchema/properties/days/type:
  /// "integr" is not a JSON Schema type` for root_name "inputSchema".
  static Result<Validator> compile(const json::value& schema, const Limits& limits = {},
                                   std::string_view root_name = "schema");

  /// Whether `instance` is valid. Allocates nothing when it is, except in Boost.Regex for
  /// `pattern` / `patternProperties`, for uniqueItems over more than 16 items, and for the
  /// records of evaluated members/items under unevaluatedProperties / unevaluatedItems.
  bool validate(const json::value& instance) const;
  /// Same, and appends up to Limits::max_violations violations to `out` when invalid.
  bool validate(const json::value& instance, std::vector<Violation>& out) const;

  /// One line: `days: expected integer, got string "3"; missing required property "city"`
  /// (a violation at the root has no path prefix).
  static std::string describe(const std::vector<Violation>& violations);

  struct Impl;

 private:
  explicit Validator(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;  // immutable: copies share it
};

}  // namespace frontmcp::schema
