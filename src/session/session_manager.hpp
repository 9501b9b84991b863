#pragma once
// SessionManager: the sessions this node serves, plus the index of resource
// subscriptions. Thread-safety: all members, any thread (a shared_mutex; look-ups on
// the hot path take it shared).
#include "session/session.hpp"
#include "session/session_store.hpp"

#include <functional>
#include <limits>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace frontmcp::session {

class SessionManager {
 public:
  SessionManager(std::size_t max_sessions, std::shared_ptr<EventStore> events,
                 std::shared_ptr<SessionStore> store, std::string node_id);

  /// A new, uninitialised session of `principal` (see SessionState::principal); nullptr
  /// when max_sessions is reached.
  std::shared_ptr<Session> create(TransportKind transport, std::string principal = {});
  std::shared_ptr<Session> find(std::string_view id) const;
  /// Distributed mode: the local object for a session read from the store (a takeover,
  /// a restart, or a request served as a replica). Creates it or refreshes the existing
  /// one (state, epoch, role, subscription index). Not bound by max_sessions: the session
  /// exists already, refusing it here would lose it.
  std::shared_ptr<Session> adopt(SessionState state, bool owned);
  /// Distributed mode: server->client request ids get "@<nodeId>".
  void set_distributed(bool on) { request_id_suffix_ = on ? "@" + node_id_ : std::string(); }
  /// Sessions this node owns (all of them in standalone mode).
  std::size_t owned_count() const;
  /// Removes and closes the session; false if unknown.
  bool remove(std::string_view id);
  std::size_t size() const;
  std::vector<std::shared_ptr<Session>> all() const;

  /// False (nothing changed) when the session already holds `max` other subscriptions.
  bool subscribe(const std::shared_ptr<Session>& s, std::string_view uri,
                 std::size_t max = std::numeric_limits<std::size_t>::max());
  void unsubscribe(const std::shared_ptr<Session>& s, std::string_view uri);
  std::vector<std::shared_ptr<Session>> subscribers(std::string_view uri) const;

  /// Removes sessions idle for longer than `ttl` with no attached stream and no request
  /// running; returns how many.
  std::size_t sweep_idle(std::chrono::milliseconds ttl);
  /// How often sweep_idle runs for `ttl`: a quarter of it, within [100 ms, 30 s]. So an
  /// idle session ends between ttl and ttl * 1.25 (ttl + 30 s for TTLs over 2 min), and a
  /// sweep, a scan of every session under a shared lock, runs at most 10 times a second.
  static std::chrono::milliseconds sweep_interval(std::chrono::milliseconds ttl) noexcept;
  static constexpr std::chrono::milliseconds kMinSweepInterval{100};
  static constexpr std::chrono::milliseconds kMaxSweepInterval{30'000};

  SessionStore& store() noexcept { return *store_; }
  const std::string& node_id() const noexcept { return node_id_; }

 private:
  std::size_t max_sessions_;
  std::shared_ptr<EventStore> events_;
  std::shared_ptr<SessionStore> store_;
  std::string node_id_;
  std::string request_id_suffix_;
  mutable std::shared_mutex mu_;
  /// Looked up by string_view without building a std::string (C++20 heterogeneous lookup).
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::shared_ptr<Session>, Hash, std::equal_to<>> sessions_;
  std::unordered_map<std::string, std::unordered_set<std::string>, Hash, std::equal_to<>> subscribers_;  // uri -> ids
};

}  // namespace frontmcp::session
