#include "session/session_manager.hpp"

#include <algorithm>
#include <mutex>
#include <string>

#include "util/ids.hpp"

namespace frontmcp::session {

SessionManager::SessionManager(std::size_t max_sessions, std::shared_ptr<EventStore> events, std::string node_id,
                               std::size_t max_listeners)
    : max_sessions_(max_sessions),
      events_(std::move(events)),
      node_id_(std::move(node_id)),
      listeners_(max_listeners) {}

namespace {
/// Hooks::random_first_stream: 1 + (random 32 bits << 16).
std::uint64_t random_stream_base() {
  auto hex = util::random_hex_id().substr(0, 8);
  return (static_cast<std::uint64_t>(std::stoul(hex, nullptr, 16)) << 16) + 1;
}
}  // namespace

std::shared_ptr<Session> SessionManager::make(SessionState st) const {
  Session::Options o;
  o.request_id_suffix = hooks_.request_id_suffix;
  if (hooks_.random_first_stream) o.first_stream_index = random_stream_base();
  if (hooks_.attachment) o.attachment = hooks_.attachment(st);
  return std::make_shared<Session>(std::move(st), events_, std::move(o));
}

std::shared_ptr<Session> SessionManager::create(TransportKind transport, std::string principal) {
  SessionState st;
  st.id = util::random_hex_id();
  st.transport = transport;
  st.principal = std::move(principal);
  st.node_id = node_id_;
  st.created_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  auto s = make(std::move(st));
  std::unique_lock lock(mu_);
  if (sessions_.size() >= max_sessions_) return nullptr;
  sessions_.emplace(s->id(), s);
  return s;
}

std::shared_ptr<Session> SessionManager::insert_existing(SessionState st) {
  if (auto s = find(st.id)) return s;
  auto subs = st.subscriptions;
  auto s = make(std::move(st));
  std::unique_lock lock(mu_);
  auto [it, inserted] = sessions_.emplace(s->id(), s);
  if (!inserted) return it->second;  // lost a race with another insert: use theirs
  for (const auto& uri : subs) subscribers_[uri].insert(s->id());
  return s;
}

void SessionManager::unindex(const std::string& id, std::string_view uri) {
  auto it = subscribers_.find(uri);
  if (it == subscribers_.end()) return;
  it->second.erase(id);
  if (it->second.empty()) subscribers_.erase(it);
}

void SessionManager::reindex(const std::shared_ptr<Session>& s, const std::set<std::string, std::less<>>& before,
                             const std::set<std::string, std::less<>>& after) {
  std::unique_lock lock(mu_);
  for (const auto& uri : before) {
    if (!after.count(uri)) unindex(s->id(), uri);
  }
  for (const auto& uri : after) subscribers_[uri].insert(s->id());
}

std::shared_ptr<Session> SessionManager::find(std::string_view id) const {
  std::shared_lock lock(mu_);
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second;
}

bool SessionManager::remove(std::string_view id) {
  std::shared_ptr<Session> s;
  {
    std::unique_lock lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return false;
    s = std::move(it->second);
    sessions_.erase(it);
    for (const auto& uri : s->state().subscriptions) unindex(s->id(), uri);
  }
  s->close();
  return true;
}

std::size_t SessionManager::size() const {
  std::shared_lock lock(mu_);
  return sessions_.size();
}

std::vector<std::shared_ptr<Session>> SessionManager::all() const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<Session>> out;
  out.reserve(sessions_.size());
  for (const auto& [id, s] : sessions_) out.push_back(s);
  return out;
}

bool SessionManager::subscribe(const std::shared_ptr<Session>& s, std::string_view uri, std::size_t max) {
  bool added = s->update([&](SessionState& st) {
    if (st.subscriptions.count(uri) == 0 && st.subscriptions.size() >= max) return false;
    st.subscriptions.emplace(uri);
    return true;
  });
  if (!added) return false;
  std::unique_lock lock(mu_);
  subscribers_[std::string(uri)].insert(s->id());
  return true;
}

void SessionManager::unsubscribe(const std::shared_ptr<Session>& s, std::string_view uri) {
  s->update([&](SessionState& st) {
    auto it = st.subscriptions.find(uri);
    if (it != st.subscriptions.end()) st.subscriptions.erase(it);
  });
  std::unique_lock lock(mu_);
  unindex(s->id(), uri);
}

std::vector<std::shared_ptr<Session>> SessionManager::subscribers(std::string_view uri) const {
  std::vector<std::shared_ptr<Session>> out;
  std::shared_lock lock(mu_);
  auto it = subscribers_.find(uri);
  if (it == subscribers_.end()) return out;
  for (const auto& id : it->second) {
    auto s = sessions_.find(id);
    if (s != sessions_.end()) out.push_back(s->second);
  }
  return out;
}

std::chrono::milliseconds SessionManager::sweep_interval(std::chrono::milliseconds ttl) noexcept {
  return std::clamp(ttl / 4, kMinSweepInterval, kMaxSweepInterval);
}

std::size_t SessionManager::sweep_idle(std::chrono::milliseconds ttl) {
  auto cutoff = std::chrono::steady_clock::now() - ttl;
  std::vector<std::string> idle;
  {
    std::shared_lock lock(mu_);
    for (const auto& [id, s] : sessions_) {
      if (s->last_activity() < cutoff && !s->busy()) idle.push_back(id);
    }
  }
  for (const auto& id : idle) remove(id);
  return idle.size();
}

}  // namespace frontmcp::session
