#include <frontmcp/content.hpp>

namespace frontmcp::content {

json::object text(std::string_view text) {
  return {{"type", "text"}, {"text", text}};
}

json::object image(std::string_view base64_data, std::string_view mime_type) {
  return {{"type", "image"}, {"data", base64_data}, {"mimeType", mime_type}};
}

json::object audio(std::string_view base64_data, std::string_view mime_type) {
  return {{"type", "audio"}, {"data", base64_data}, {"mimeType", mime_type}};
}

json::object resource_text(std::string_view uri, std::string_view text, std::string_view mime_type) {
  return {{"type", "resource"}, {"resource", json::object{{"uri", uri}, {"mimeType", mime_type}, {"text", text}}}};
}

json::object resource_blob(std::string_view uri, std::string_view base64_blob, std::string_view mime_type) {
  return {{"type", "resource"},
          {"resource", json::object{{"uri", uri}, {"mimeType", mime_type}, {"blob", base64_blob}}}};
}

json::object resource_link(std::string_view uri, std::string_view name, std::string_view mime_type) {
  json::object o{{"type", "resource_link"}, {"uri", uri}, {"name", name}};
  if (!mime_type.empty()) o["mimeType"] = mime_type;
  return o;
}

}  // namespace frontmcp::content

namespace frontmcp {

ToolResult ToolResult::text(std::string_view s) {
  ToolResult r;
  r.content.push_back(content::text(s));
  return r;
}

ToolResult ToolResult::error(std::string_view message) {
  ToolResult r = text(message);
  r.is_error = true;
  return r;
}

json::object ToolResult::to_json() const& {
  return ToolResult(*this).to_json();
}

json::object ToolResult::to_json() && {
  json::object o;
  o.reserve(4);
  o.emplace("content", std::move(content));
  if (structured_content) o.emplace("structuredContent", std::move(*structured_content));
  if (is_error) o.emplace("isError", true);
  if (!meta.empty()) o.emplace("_meta", std::move(meta));
  return o;
}

json::object PromptResult::to_json() const {
  json::array msgs;
  msgs.reserve(messages.size());
  for (const auto& m : messages) msgs.push_back(json::object{{"role", m.role}, {"content", m.content}});
  json::object o{{"messages", std::move(msgs)}};
  if (!description.empty()) o["description"] = description;
  return o;
}

json::object ResourceContents::to_json() const {
  json::object o{{"uri", uri}};
  if (!mime_type.empty()) o["mimeType"] = mime_type;
  if (text) o["text"] = *text;
  if (blob) o["blob"] = *blob;
  return o;
}

json::object CompletionResult::to_json() const {
  json::array vals;
  // The spec caps a completion answer at 100 values.
  constexpr std::size_t kMaxCompletionValues = 100;
  for (std::size_t i = 0; i < values.size() && i < kMaxCompletionValues; ++i) vals.push_back(json::string(values[i]));
  json::object c{{"values", std::move(vals)}, {"hasMore", has_more || values.size() > kMaxCompletionValues}};
  if (total) c["total"] = *total;
  return {{"completion", std::move(c)}};
}

}  // namespace frontmcp
