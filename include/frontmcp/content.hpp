#pragma once
// Builders for MCP content blocks and results. Each returns plain JSON, so anything the
// spec allows can still be written by hand.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <frontmcp/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace frontmcp::content {

json::object text(std::string_view text);
json::object image(std::string_view base64_data, std::string_view mime_type);
json::object audio(std::string_view base64_data, std::string_view mime_type);
/// An embedded text resource.
json::object resource_text(std::string_view uri, std::string_view text, std::string_view mime_type = "text/plain");
/// An embedded binary resource (base64 blob).
json::object resource_blob(std::string_view uri, std::string_view base64_blob, std::string_view mime_type);
json::object resource_link(std::string_view uri, std::string_view name, std::string_view mime_type = {});

}  // namespace frontmcp::content

namespace frontmcp {

/// Result of tools/call.
struct ToolResult {
  json::array content;
  std::optional<json::value> structured_content;
  bool is_error = false;
  json::object meta;

  static ToolResult text(std::string_view s);
  /// A tool execution error: reported to the model in the result (isError: true), as the
  /// spec asks, rather than as a JSON-RPC protocol error.
  static ToolResult error(std::string_view message);
  json::object to_json() const&;
  /// Moves the content instead of copying it (the server's path: a result is written once).
  json::object to_json() &&;
};

/// One message of prompts/get.
struct PromptMessage {
  std::string role;  // "user" | "assistant"
  json::object content;
};

struct PromptResult {
  std::string description;
  std::vector<PromptMessage> messages;
  json::object to_json() const;
};

/// One item of resources/read.
struct ResourceContents {
  std::string uri;
  std::string mime_type;
  std::optional<std::string> text;  // exactly one of text / blob
  std::optional<std::string> blob;  // base64
  json::object to_json() const;
};

struct CompletionResult {
  std::vector<std::string> values;
  std::optional<std::size_t> total;
  bool has_more = false;
  json::object to_json() const;
};

}  // namespace frontmcp
