#pragma once
// The catalogue of what the server offers. Entries are immutable once added and held by
// shared_ptr, so a handler keeps running even if its tool is removed meanwhile.
// Thread-safety: every member may be called from any thread (a shared_mutex: lists and
// look-ups take it shared; changes are rare and take it exclusively).
#include <boost/json/array.hpp>
#include <frontmcp/definitions.hpp>
#include <frontmcp/list_kind.hpp>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "registry/uri_template.hpp"
#include "registry/x_mcp_header.hpp"
#include "schema/json_schema.hpp"

namespace frontmcp::registry {

struct TemplateEntry {
  ResourceTemplate def;
  UriTemplate parsed;
};

/// A tool with what registration derived from it once: its x-mcp-header declarations and
/// its schemas compiled (docs/json-schema.md).
struct ToolEntry {
  Tool def;
  std::vector<ParamHeader> param_headers;
  /// Checks every call's arguments before the handler runs.
  schema::Validator input;
  /// Checks structuredContent before it is sent, when the tool declares an outputSchema.
  std::optional<schema::Validator> output;
};

enum class ListKind { tools, resources, resource_templates, prompts };

/// The registry's kind of a public frontmcp::ListKind.
constexpr ListKind list_kind(frontmcp::ListKind k) noexcept {
  switch (k) {
    case frontmcp::ListKind::tools:
      return ListKind::tools;
    case frontmcp::ListKind::prompts:
      return ListKind::prompts;
    case frontmcp::ListKind::resources:
      break;
  }
  return ListKind::resources;
}

class Registry {
 public:
  /// `schema_limits`: what the tools' schemas are compiled with (their bounds hold for every
  /// call's arguments).
  explicit Registry(std::size_t page_size, schema::Limits schema_limits = {})
      : page_size_(page_size == 0 ? 1 : page_size), schema_limits_(schema_limits) {}

  /// Throws std::invalid_argument on an empty or duplicate name/URI, a bad template, a
  /// tool whose inputSchema or outputSchema is not a schema the validator accepts
  /// (schema::Validator::compile: the message names the place), or whose inputSchema
  /// declares an invalid x-mcp-header (scan_param_headers).
  void add_tool(Tool t);
  void add_resource(Resource r);
  void add_template(ResourceTemplate t);
  void add_prompt(Prompt p);
  void set_completion(CompletionHandler h);
  bool remove_tool(std::string_view name);
  bool remove_resource(std::string_view uri);
  bool remove_prompt(std::string_view name);

  std::shared_ptr<const Tool> tool(std::string_view name) const;
  /// The tool with its x-mcp-header declarations (null when there is no such tool).
  std::shared_ptr<const ToolEntry> tool_entry(std::string_view name) const;
  std::shared_ptr<const Resource> resource(std::string_view uri) const;
  /// The first template (in registration order) matching `uri`, with its variables.
  std::shared_ptr<const TemplateEntry> match_template(std::string_view uri, UriVariables& vars) const;
  std::shared_ptr<const TemplateEntry> template_by_uri(std::string_view uri_template) const;
  std::shared_ptr<const Prompt> prompt(std::string_view name) const;
  CompletionHandler completion() const;

  bool has_tools() const;
  bool has_resources() const;  // resources or templates
  bool has_prompts() const;
  bool has_completion() const;

  /// One page of a list result ({"tools": [...], "nextCursor": "..."}). Error -32602 for a
  /// cursor this server did not issue.
  Result<json::object> list(ListKind kind, const json::value* cursor) const;

 private:
  template <class T>
  struct Table {
    std::vector<std::string> order;  // registration order, for stable pagination
    std::unordered_map<std::string, std::shared_ptr<const T>> by_key;
    std::vector<json::value> descriptors;  // cached list entries, same order
  };
  template <class T>
  static void insert(Table<T>& t, std::string key, std::shared_ptr<const T> v, json::value descriptor,
                     const char* what);
  template <class T>
  static bool erase(Table<T>& t, std::string_view key);

  std::size_t page_size_;
  schema::Limits schema_limits_;
  mutable std::shared_mutex mu_;
  Table<ToolEntry> tools_;
  Table<Resource> resources_;
  Table<TemplateEntry> templates_;
  Table<Prompt> prompts_;
  CompletionHandler completion_;
};

json::object describe(const Tool& t);
json::object describe(const Resource& r);
json::object describe(const ResourceTemplate& t);
json::object describe(const Prompt& p);

}  // namespace frontmcp::registry
