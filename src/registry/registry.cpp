#include "registry/registry.hpp"

#include <charconv>
#include <mutex>
#include <stdexcept>

namespace frontmcp::registry {

namespace {
void put_if(json::object& o, std::string_view key, const std::string& v) {
  if (!v.empty()) o[key] = v;
}
}  // namespace

json::object describe(const Tool& t) {
  json::object o{{"name", t.name}};
  put_if(o, "title", t.title);
  put_if(o, "description", t.description);
  o["inputSchema"] = t.input_schema.empty() ? json::object{{"type", "object"}} : t.input_schema;
  if (t.output_schema) o["outputSchema"] = *t.output_schema;
  if (!t.annotations.empty()) o["annotations"] = t.annotations;
  if (!t.meta.empty()) o["_meta"] = t.meta;
  return o;
}

json::object describe(const Resource& r) {
  json::object o{{"uri", r.uri}, {"name", r.name}};
  put_if(o, "title", r.title);
  put_if(o, "description", r.description);
  put_if(o, "mimeType", r.mime_type);
  if (!r.annotations.empty()) o["annotations"] = r.annotations;
  return o;
}

json::object describe(const ResourceTemplate& t) {
  json::object o{{"uriTemplate", t.uri_template}, {"name", t.name}};
  put_if(o, "title", t.title);
  put_if(o, "description", t.description);
  put_if(o, "mimeType", t.mime_type);
  if (!t.annotations.empty()) o["annotations"] = t.annotations;
  return o;
}

json::object describe(const Prompt& p) {
  json::object o{{"name", p.name}};
  put_if(o, "title", p.title);
  put_if(o, "description", p.description);
  if (!p.arguments.empty()) {
    json::array args;
    for (const auto& a : p.arguments) {
      json::object ao{{"name", a.name}, {"required", a.required}};
      put_if(ao, "description", a.description);
      args.push_back(std::move(ao));
    }
    o["arguments"] = std::move(args);
  }
  return o;
}

template <class T>
void Registry::insert(Table<T>& t, std::string key, std::shared_ptr<const T> v, json::value descriptor,
                      const char* what) {
  if (key.empty()) throw std::invalid_argument(std::string(what) + ": name/URI must not be empty");
  if (t.by_key.count(key)) throw std::invalid_argument(std::string(what) + " '" + key + "' is registered twice");
  t.order.push_back(key);
  t.descriptors.push_back(std::move(descriptor));
  t.by_key.emplace(std::move(key), std::move(v));
}

template <class T>
bool Registry::erase(Table<T>& t, std::string_view key) {
  auto it = t.by_key.find(std::string(key));
  if (it == t.by_key.end()) return false;
  t.by_key.erase(it);
  for (std::size_t i = 0; i < t.order.size(); ++i) {
    if (t.order[i] == key) {
      t.order.erase(t.order.begin() + static_cast<std::ptrdiff_t>(i));
      t.descriptors.erase(t.descriptors.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
  return true;
}

void Registry::add_tool(Tool t) {
  if (!t.handler) throw std::invalid_argument("tool '" + t.name + "' has no handler");
  auto headers = scan_param_headers(t.input_schema);
  if (!headers) throw std::invalid_argument("tool '" + t.name + "': " + headers.error().message);
  auto d = describe(t);
  // Compiled once here, from what tools/list shows (an empty inputSchema is {"type":"object"}).
  auto input = schema::Validator::compile(d.at("inputSchema"), schema_limits_, "inputSchema");
  if (!input) throw std::invalid_argument("tool '" + t.name + "': " + input.error().message);
  std::optional<schema::Validator> output;
  if (t.output_schema) {
    auto compiled = schema::Validator::compile(d.at("outputSchema"), schema_limits_, "outputSchema");
    if (!compiled) throw std::invalid_argument("tool '" + t.name + "': " + compiled.error().message);
    output = std::move(compiled).value();
  }
  ToolEntry entry{std::move(t), std::move(headers).value(), std::move(input).value(), std::move(output)};
  std::unique_lock lock(mu_);
  std::string key = entry.def.name;
  insert(tools_, std::move(key), std::make_shared<const ToolEntry>(std::move(entry)), std::move(d), "tool");
}

void Registry::add_resource(Resource r) {
  if (!r.reader) throw std::invalid_argument("resource '" + r.uri + "' has no reader");
  auto d = describe(r);
  std::unique_lock lock(mu_);
  std::string key = r.uri;
  insert(resources_, std::move(key), std::make_shared<const Resource>(std::move(r)), std::move(d), "resource");
}

void Registry::add_template(ResourceTemplate t) {
  if (!t.reader) throw std::invalid_argument("resource template '" + t.uri_template + "' has no reader");
  auto parsed = UriTemplate::parse(t.uri_template);
  if (!parsed) throw std::invalid_argument(parsed.error().message);
  auto d = describe(t);
  std::unique_lock lock(mu_);
  std::string key = t.uri_template;
  insert(templates_, std::move(key),
         std::make_shared<const TemplateEntry>(TemplateEntry{std::move(t), std::move(parsed).value()}), std::move(d),
         "resource template");
}

void Registry::add_prompt(Prompt p) {
  if (!p.handler) throw std::invalid_argument("prompt '" + p.name + "' has no handler");
  auto d = describe(p);
  std::unique_lock lock(mu_);
  std::string key = p.name;
  insert(prompts_, std::move(key), std::make_shared<const Prompt>(std::move(p)), std::move(d), "prompt");
}

void Registry::set_completion(CompletionHandler h) {
  std::unique_lock lock(mu_);
  completion_ = std::move(h);
}

bool Registry::remove_tool(std::string_view name) {
  std::unique_lock lock(mu_);
  return erase(tools_, name);
}
bool Registry::remove_resource(std::string_view uri) {
  std::unique_lock lock(mu_);
  return erase(resources_, uri);
}
bool Registry::remove_prompt(std::string_view name) {
  std::unique_lock lock(mu_);
  return erase(prompts_, name);
}

namespace {
template <class Map>
auto find_in(const Map& m, std::string_view key) -> typename Map::mapped_type {
  auto it = m.find(std::string(key));
  return it == m.end() ? nullptr : it->second;
}
}  // namespace

std::shared_ptr<const Tool> Registry::tool(std::string_view name) const {
  auto e = tool_entry(name);
  return e ? std::shared_ptr<const Tool>(e, &e->def) : nullptr;  // shares the entry's ownership
}
std::shared_ptr<const ToolEntry> Registry::tool_entry(std::string_view name) const {
  std::shared_lock lock(mu_);
  return find_in(tools_.by_key, name);
}
std::shared_ptr<const Resource> Registry::resource(std::string_view uri) const {
  std::shared_lock lock(mu_);
  return find_in(resources_.by_key, uri);
}
std::shared_ptr<const TemplateEntry> Registry::template_by_uri(std::string_view uri_template) const {
  std::shared_lock lock(mu_);
  return find_in(templates_.by_key, uri_template);
}
std::shared_ptr<const TemplateEntry> Registry::match_template(std::string_view uri, UriVariables& vars) const {
  std::shared_lock lock(mu_);
  for (const auto& key : templates_.order) {
    const auto& e = templates_.by_key.at(key);
    if (auto m = e->parsed.match(uri)) {
      vars = std::move(*m);
      return e;
    }
  }
  return nullptr;
}
std::shared_ptr<const Prompt> Registry::prompt(std::string_view name) const {
  std::shared_lock lock(mu_);
  return find_in(prompts_.by_key, name);
}
CompletionHandler Registry::completion() const {
  std::shared_lock lock(mu_);
  return completion_;
}
bool Registry::has_tools() const {
  std::shared_lock lock(mu_);
  return !tools_.order.empty();
}
bool Registry::has_resources() const {
  std::shared_lock lock(mu_);
  return !resources_.order.empty() || !templates_.order.empty();
}
bool Registry::has_prompts() const {
  std::shared_lock lock(mu_);
  return !prompts_.order.empty();
}
bool Registry::has_completion() const {
  std::shared_lock lock(mu_);
  return static_cast<bool>(completion_);
}

Result<json::object> Registry::list(ListKind kind, const json::value* cursor) const {
  std::size_t start = 0;
  if (cursor && !cursor->is_null()) {
    if (!cursor->is_string()) return Error::invalid_params("cursor must be a string");
    auto s = cursor->get_string();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), start);
    if (ec != std::errc{} || p != s.data() + s.size()) return Error::invalid_params("invalid cursor");
  }
  std::shared_lock lock(mu_);
  const std::vector<json::value>* items = nullptr;
  const char* key = "";
  switch (kind) {
    case ListKind::tools:
      items = &tools_.descriptors;
      key = "tools";
      break;
    case ListKind::resources:
      items = &resources_.descriptors;
      key = "resources";
      break;
    case ListKind::resource_templates:
      items = &templates_.descriptors;
      key = "resourceTemplates";
      break;
    case ListKind::prompts:
      items = &prompts_.descriptors;
      key = "prompts";
      break;
  }
  if (start > items->size()) return Error::invalid_params("invalid cursor");
  std::size_t end = std::min(items->size(), start + page_size_);
  json::array page(items->begin() + static_cast<std::ptrdiff_t>(start),
                   items->begin() + static_cast<std::ptrdiff_t>(end));
  json::object out{{key, std::move(page)}};
  if (end < items->size()) out["nextCursor"] = std::to_string(end);
  return out;
}

}  // namespace frontmcp::registry
