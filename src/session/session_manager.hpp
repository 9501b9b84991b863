#pragma once
// SessionManager: the sessions this node serves, plus the index of resource
// subscriptions. Thread-safety: all members, any thread (a shared_mutex; look-ups on
// the hot path take it shared).
#include <frontmcp/options.hpp>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "session/listen_registry.hpp"
#include "session/session.hpp"

namespace frontmcp::session {

class SessionManager {
 public:
  /// `max_listeners`: SessionOptions::max_listen_streams.
  SessionManager(std::size_t max_sessions, std::shared_ptr<EventStore> events, std::string node_id,
                 std::size_t max_listeners = kDefaultMaxListenStreams);

  /// A new, uninitialised session of `principal` (see SessionState::principal); nullptr
  /// when max_sessions is reached.
  std::shared_ptr<Session> create(TransportKind transport, std::string principal = {});
  std::shared_ptr<Session> find(std::string_view id) const;
  /// The local object for a session that exists already elsewhere (its state was read
  /// from a store): made from `state` and indexed when it is not here, else the one here,
  /// unchanged (also when another caller inserted it just now). Not bound by
  /// max_sessions: the session exists already, refusing it here would lose it.
  std::shared_ptr<Session> insert_existing(SessionState state);
  /// Brings the subscription index in line with the session's state after it was changed
  /// other than by subscribe()/unsubscribe() (a state read from a store): `before` is what
  /// its subscriptions were, `after` what they are now.
  void reindex(const std::shared_ptr<Session>& s, const std::set<std::string, std::less<>>& before,
               const std::set<std::string, std::less<>>& after);

  /// How this manager makes its session objects (create() and insert_existing()). The
  /// defaults suit one process; a deployment of several sets them before the first session.
  struct Hooks {
    /// Session::Options::request_id_suffix of every session.
    std::string request_id_suffix;
    /// POST streams of each session are numbered from a random base (1 + random 32 bits
    /// << 16), not from 1.
    bool random_first_stream = false;
    /// Session::Options::attachment, made from the session's first state (none if empty).
    std::function<std::shared_ptr<Session::Attachment>(const SessionState&)> attachment;
  };
  /// Set before any session is made (not synchronised with create()).
  void set_hooks(Hooks hooks) { hooks_ = std::move(hooks); }
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

  const std::string& node_id() const noexcept { return node_id_; }

  /// The subscriptions/listen streams of this process (MCP 2026-07-28). Not sessions; kept
  /// here because both message buses (and the relay) reach the sessions through this.
  ListenRegistry& listeners() noexcept { return listeners_; }

 private:
  std::size_t max_sessions_;
  std::shared_ptr<EventStore> events_;
  std::string node_id_;
  Hooks hooks_;
  ListenRegistry listeners_;
  mutable std::shared_mutex mu_;
  /// Looked up by string_view without building a std::string (C++20 heterogeneous lookup).
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::shared_ptr<Session>, Hash, std::equal_to<>> sessions_;
  std::unordered_map<std::string, std::unordered_set<std::string>, Hash, std::equal_to<>> subscribers_;  // uri -> ids

  std::shared_ptr<Session> make(SessionState state) const;
  void unindex(const std::string& id, std::string_view uri);  // under mu_, exclusive
};

}  // namespace frontmcp::session
