// Placement: this node's ownership and write bookkeeping of one session (placement.hpp),
// adopting a session read from the store, and the session hooks of a cluster node.
#include "cluster/placement.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "cluster/cluster.hpp"

namespace frontmcp::cluster {

using session::Session;
using session::SessionManager;
using session::SessionState;

void Placement::set_validated_now() noexcept {
  validated_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
}

bool Placement::has_unsaved_changes(const Session& s) const {
  // Read before saved_: a write completing in between covers at most what exists, so the
  // answer is never "saved" for a change made before this call and not written.
  auto changes = s.changes();
  std::lock_guard lock(mu_);
  return changes > saved_;
}

std::pair<SessionState, std::uint64_t> Placement::snapshot_for_save(Session& s) const {
  return s.with_state([this](const SessionState& state, std::uint64_t changes) {
    std::lock_guard lock(mu_);
    SessionState st = state;
    st.rev = base_.rev;
    return std::pair<SessionState, std::uint64_t>{std::move(st), changes};
  });
}

void Placement::mark_saved(std::uint64_t covers) {
  std::lock_guard lock(mu_);
  saved_ = std::max(saved_, covers);
}

void Placement::mark_saved(std::uint64_t covers, const SessionState& written, std::uint64_t rev) {
  std::lock_guard lock(mu_);
  saved_ = std::max(saved_, covers);
  if (base_.rev != written.rev) return;
  std::string id = std::move(base_.id);
  base_ = written;
  base_.id = std::move(id);
  base_.rev = rev;
}

SessionState Placement::merge(Session& s, SessionState fresh) {
  return s.with_state([&](SessionState& state, std::uint64_t) {
    std::lock_guard lock(mu_);
    fresh.id = s.id();
    SessionState merged = fresh;
    if (state.log_level != base_.log_level) merged.log_level = state.log_level;
    for (const auto& uri : state.subscriptions) {
      if (!base_.subscriptions.count(uri)) merged.subscriptions.insert(uri);
    }
    for (const auto& uri : base_.subscriptions) {
      if (!state.subscriptions.count(uri)) {
        auto it = merged.subscriptions.find(uri);
        if (it != merged.subscriptions.end()) merged.subscriptions.erase(it);
      }
    }
    if (state.initialized && !base_.initialized) {
      merged.initialized = true;
      merged.protocol_version = state.protocol_version;
      merged.client_info = state.client_info;
      merged.client_capabilities = state.client_capabilities;
    }
    base_ = std::move(fresh);
    state = merged;
    return merged;
  });
}

SessionState Placement::base() const {
  std::lock_guard lock(mu_);
  return base_;
}

bool Placement::try_begin_write(const std::shared_ptr<util::Waker>& waker) {
  std::lock_guard lock(mu_);
  if (!writing_) {
    writing_ = true;
    return true;
  }
  write_waiters_.push_back(waker);
  return false;
}

void Placement::end_write() {
  std::vector<std::shared_ptr<util::Waker>> waiters;
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    waiters.swap(write_waiters_);
  }
  for (auto& w : waiters) w->notify();
}

Placement& placement(const Session& s) {
  auto* p = Placement::of(s);
  if (!p) throw std::logic_error("session " + s.id() + " has no cluster placement (made before Cluster::configure?)");
  return *p;
}

std::uint64_t epoch_of(Session& s) {
  return s.with_state([](const SessionState& st, std::uint64_t) { return st.epoch; });
}

SessionManager::Hooks session_hooks(const std::string& node_id) {
  SessionManager::Hooks h;
  h.request_id_suffix = "@" + node_id;
  h.random_first_stream = true;
  h.attachment = [](const SessionState& first) { return std::make_shared<Placement>(first); };
  return h;
}

std::shared_ptr<Session> adopt(SessionManager& sessions, SessionState st, bool owned) {
  auto s = sessions.find(st.id);
  if (!s) s = sessions.insert_existing(st);  // or the one another adopt() inserted just now
  auto& p = placement(*s);
  auto before = s->state().subscriptions;
  // Merged, not replaced: a request running on this node may have changed the state
  // and not written it yet (its write applies the same merge if it races). A session
  // made just now from `st` merges it with itself: no change.
  auto merged = p.merge(*s, std::move(st));
  p.set_owned(owned);
  p.set_validated_now();
  sessions.reindex(s, before, merged.subscriptions);
  return s;
}

std::size_t owned_count(const SessionManager& sessions) {
  std::size_t n = 0;
  for (const auto& s : sessions.all()) n += owns(*s) ? 1 : 0;
  return n;
}

// ---- cluster.hpp ------------------------------------------------------------------------

bool owns(const Session& s) noexcept {
  auto* p = Placement::of(s);
  return !p || p->owned();
}

bool has_unsaved_changes(const Session& s) {
  auto* p = Placement::of(s);
  return p ? p->has_unsaved_changes(s) : s.changes() > 0;
}

void Cluster::configure(SessionManager& sessions) const {
  sessions.set_hooks(session_hooks(node_id()));
}

}  // namespace frontmcp::cluster
