#pragma once
// What a server offers: tools, resources, resource templates, prompts, completions.
// Each is a plain struct; register it with Server::add_*.
#include <boost/json/object.hpp>
#include <frontmcp/content.hpp>
#include <frontmcp/handler.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace frontmcp {

struct Tool {
  std::string name;
  std::string title;
  std::string description;
  /// JSON Schema of the arguments; {"type":"object"} when left empty.
  json::object input_schema;
  /// JSON Schema of structuredContent, when the tool returns structured results.
  std::optional<json::object> output_schema;
  /// readOnlyHint, destructiveHint, idempotentHint, openWorldHint, title ...
  json::object annotations;
  json::object meta;
  Handler<ToolResult, Context&, const json::object&> handler;
};

struct Resource {
  std::string uri;
  std::string name;
  std::string title;
  std::string description;
  std::string mime_type;
  json::object annotations;
  Handler<std::vector<ResourceContents>, Context&, const std::string&> reader;
};

/// Variables of a matched URI template, by name.
using UriVariables = std::map<std::string, std::string, std::less<>>;

/// A resource template (RFC 6570 level 1: simple {var} expansion).
struct ResourceTemplate {
  std::string uri_template;
  std::string name;
  std::string title;
  std::string description;
  std::string mime_type;
  json::object annotations;
  Handler<std::vector<ResourceContents>, Context&, const std::string&, const UriVariables&> reader;
};

struct PromptArgument {
  std::string name;
  std::string description;
  bool required = false;
};

using PromptArguments = std::map<std::string, std::string, std::less<>>;

struct Prompt {
  std::string name;
  std::string title;
  std::string description;
  std::vector<PromptArgument> arguments;
  Handler<PromptResult, Context&, const PromptArguments&> handler;
};

/// What completion/complete asks about.
struct CompletionRequest {
  std::string ref_type;  // "ref/prompt" | "ref/resource"
  std::string ref;       // prompt name or resource template
  std::string argument_name;
  std::string argument_value;
  PromptArguments context_arguments;
};

using CompletionHandler = Handler<CompletionResult, Context&, const CompletionRequest&>;

}  // namespace frontmcp
