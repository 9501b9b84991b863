#pragma once
// RFC 6570 level 1 URI templates ("test://template/{id}/data"): simple string expansion
// and the reverse match used to route resources/read. Immutable after parse; thread-safe.
#include <frontmcp/definitions.hpp>
#include <frontmcp/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace frontmcp::registry {

class UriTemplate {
 public:
  /// Error -32602 for an unbalanced brace, an empty or invalid variable name, or two
  /// variables with nothing between them (ambiguous to match).
  static Result<UriTemplate> parse(std::string_view text);

  /// Variables of `uri` if it matches; a variable matches one or more characters other
  /// than '/', '?' and '#', and is percent-decoded.
  std::optional<UriVariables> match(std::string_view uri) const;
  /// Level 1 expansion: values percent-encoded except unreserved characters.
  std::string expand(const UriVariables& vars) const;

  const std::string& text() const noexcept { return text_; }
  std::vector<std::string> variable_names() const;

 private:
  struct Part {
    bool is_var;
    std::string value;  // literal text or variable name
  };
  std::string text_;
  std::vector<Part> parts_;
};

}  // namespace frontmcp::registry
