#include "session/listen_registry.hpp"

#include <algorithm>

namespace frontmcp::session {

namespace {

constexpr std::string_view kToolsChanged = "notifications/tools/list_changed";
constexpr std::string_view kPromptsChanged = "notifications/prompts/list_changed";
constexpr std::string_view kResourcesChanged = "notifications/resources/list_changed";

/// The stream key of every listener (nothing is mirrored: the store is in memory).
constexpr std::string_view kStreamKey = "listen";

std::string_view method_of(const json::value& msg) {
  if (!msg.is_object()) return {};
  auto* m = msg.get_object().if_contains("method");
  return m && m->is_string() ? std::string_view(m->get_string()) : std::string_view();
}

/// The bounds of each listen stream's log.
EventLimits backlog_limits() {
  EventLimits limits;
  limits.max_events = ListenRegistry::kBacklogEvents;
  limits.max_bytes_per_stream = ListenRegistry::kBacklogBytes;
  return limits;
}

}  // namespace

json::object ListenFilter::to_json() const {
  json::object o;
  if (tools) o["toolsListChanged"] = true;
  if (prompts) o["promptsListChanged"] = true;
  if (resources) o["resourcesListChanged"] = true;
  if (resource_subscriptions) {
    json::array a;
    for (const auto& u : uris) a.emplace_back(json::string_view(u));
    o["resourceSubscriptions"] = std::move(a);
  }
  return o;
}

bool ListenFilter::wants(std::string_view method) const noexcept {
  if (method == kToolsChanged) return tools;
  if (method == kPromptsChanged) return prompts;
  if (method == kResourcesChanged) return resources;
  return false;
}

json::value stamped(const json::value& msg, const json::value& id) {
  json::value out = msg;
  auto& params = out.as_object()["params"];
  if (!params.is_object()) params = json::object{};
  auto& meta = params.get_object()["_meta"];
  if (!meta.is_object()) meta = json::object{};
  meta.get_object()[kMetaSubscriptionId] = id;
  return out;
}

ListenRegistry::ListenRegistry(std::size_t max_listeners)
    : max_(max_listeners), store_(std::make_shared<MemoryEventStore>(backlog_limits())) {}

std::shared_ptr<ListenRegistry::Listener> ListenRegistry::open(json::value id, ListenFilter filter) {
  auto l = std::make_shared<Listener>();
  l->id = std::move(id);
  l->filter = std::move(filter);
  // Index 0: the oldest events go even unread (a standalone stream's rule), so a client
  // that stops reading holds at most kBacklogEvents.
  l->stream = std::make_shared<SseStream>(std::string(kStreamKey), 0, store_);
  json::object meta{{kMetaSubscriptionId, l->id}};
  json::object params{{"_meta", std::move(meta)}, {"notifications", l->filter.to_json()}};
  json::object ack{{"jsonrpc", "2.0"}, {"method", kListenAcknowledged}, {"params", std::move(params)}};
  // Written before the listener is visible: nothing delivered can precede it.
  l->stream->send(ack);
  std::lock_guard lock(mu_);
  if (listeners_.size() >= max_) return nullptr;
  listeners_.emplace(l.get(), l);
  return l;
}

std::shared_ptr<ListenRegistry::Listener> ListenRegistry::take(const Listener* l) {
  std::lock_guard lock(mu_);
  auto it = listeners_.find(l);
  if (it == listeners_.end()) return nullptr;
  auto kept = std::move(it->second);
  listeners_.erase(it);
  return kept;
}

void ListenRegistry::close(const std::shared_ptr<Listener>& l) {
  if (!l) return;
  take(l.get());
  l->stream->finish();
}

void ListenRegistry::complete(const std::shared_ptr<Listener>& l, const json::object& meta) {
  if (!l || !take(l.get())) return;  // closed or completed already
  json::object m = meta;
  m[kMetaSubscriptionId] = l->id;
  json::object result{{"resultType", "complete"}, {"_meta", std::move(m)}};
  json::object response{{"jsonrpc", "2.0"}, {"id", l->id}, {"result", std::move(result)}};
  l->stream->send_response(response);
  l->stream->finish();
}

void ListenRegistry::complete_all(const json::object& meta) {
  std::vector<std::shared_ptr<Listener>> all;
  {
    std::lock_guard lock(mu_);
    all.reserve(listeners_.size());
    for (const auto& [k, l] : listeners_) all.push_back(l);
  }
  for (const auto& l : all) complete(l, meta);
}

std::vector<std::shared_ptr<ListenRegistry::Listener>> ListenRegistry::matching(std::string_view method,
                                                                                std::string_view uri) const {
  std::vector<std::shared_ptr<Listener>> out;
  std::lock_guard lock(mu_);
  for (const auto& [k, l] : listeners_) {
    const auto& uris = l->filter.uris;
    bool wanted = uri.empty() ? l->filter.wants(method) : std::find(uris.begin(), uris.end(), uri) != uris.end();
    if (wanted) out.push_back(l);
  }
  return out;
}

void ListenRegistry::to_all(const json::value& msg) {
  auto method = method_of(msg);
  if (method.empty()) return;
  for (const auto& l : matching(method, {})) l->stream->send(stamped(msg, l->id));
}

void ListenRegistry::to_subscribers(std::string_view uri, const json::value& msg) {
  if (uri.empty() || !msg.is_object()) return;
  for (const auto& l : matching({}, uri)) l->stream->send(stamped(msg, l->id));
}

std::size_t ListenRegistry::size() const {
  std::lock_guard lock(mu_);
  return listeners_.size();
}

}  // namespace frontmcp::session
