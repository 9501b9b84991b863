#pragma once
// Private to src/cluster: what this node knows about one session's place in the cluster,
// kept beside the session object (its Session::Attachment; every session of a manager set
// up by Cluster::configure has one): whether this node owns it or serves it as a replica,
// when it last confirmed the record, and the bookkeeping of writing its state to Redis
// (the state last read or written, which changes a write covers, one write at a time).
//
// Thread-safety: all members, any thread. Locks: the session's lock (Session::with_state)
// is taken before the placement's own, never after: merge() and snapshot_for_save() run
// under both, so they are atomic with respect to Session::update(); no member calls into
// the session while holding the placement's lock.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "session/session.hpp"
#include "session/session_manager.hpp"
#include "util/async_event.hpp"

namespace frontmcp::cluster {

class Placement final : public session::Session::Attachment {
 public:
  /// `base`: the session's first state (created here, or read from the store).
  explicit Placement(session::SessionState base) : base_(std::move(base)) {}

  /// The placement of `s`; nullptr for a session made without Cluster::configure.
  static Placement* of(const session::Session& s) noexcept { return dynamic_cast<Placement*>(s.attachment()); }

  // ---- role ------------------------------------------------------------------------------

  /// Whether this node owns the session (holds its standalone stream and its
  /// subscriptions) or only serves requests for it as a replica.
  bool owned() const noexcept { return owned_.load(std::memory_order_acquire); }
  void set_owned(bool owned) noexcept { owned_.store(owned, std::memory_order_release); }
  /// When this node last confirmed the record in the store (steady ns; 0: never).
  std::int64_t validated_at() const noexcept { return validated_ns_.load(std::memory_order_relaxed); }
  void set_validated_now() noexcept;
  /// The next request re-reads the record (the copy here may be stale).
  void clear_validated() noexcept { validated_ns_.store(0, std::memory_order_relaxed); }
  /// This node became the owner without a client request (orphan scanner); its first
  /// response must re-pin the load balancer (affinity cookie).
  void set_announce_owner() noexcept { announce_.store(true, std::memory_order_release); }
  bool take_announce_owner() noexcept { return announce_.exchange(false, std::memory_order_acq_rel); }

  // ---- writing the state -----------------------------------------------------------------

  /// True while some update() of `s` is not covered by a successful write (mark_saved).
  /// Every request that sees this writes itself, so none is answered before its change is
  /// stored (concurrent requests of one session may each write; the writes are idempotent
  /// full states under one epoch).
  bool has_unsaved_changes(const session::Session& s) const;
  /// The state of `s` to write, with the change count it covers; its `rev` is the revision
  /// of the state its changes are based on (the last one read or written).
  std::pair<session::SessionState, std::uint64_t> snapshot_for_save(session::Session& s) const;
  /// A write covering changes up to `covers` succeeded; the merge base is not moved.
  void mark_saved(std::uint64_t covers);
  /// `written` (a snapshot_for_save() state, based on revision written.rev) is now the
  /// record's state at revision `rev`, and the write covers changes up to `covers`. It
  /// becomes the merge base, unless the base was replaced since the snapshot (a concurrent
  /// read or write): concurrent writers of this session may re-read an older record than
  /// the one this write produced, and a base newer than their read would make their merge
  /// drop this write's changes.
  void mark_saved(std::uint64_t covers, const session::SessionState& written, std::uint64_t rev);
  /// `fresh` is the store's state of `s` (a write lost to a newer revision or epoch, or a
  /// re-read): the changes made here since the last sync (log level, subscriptions,
  /// initialisation) are applied on top of it, the result becomes the session's state
  /// (not counted as a change) and `fresh` the new base. Returns the merged state.
  session::SessionState merge(session::Session& s, session::SessionState fresh);
  /// The state as last read from or written to the store (the merge base).
  session::SessionState base() const;

  /// One write of this session's state at a time from this node. False while another is
  /// in flight: `waker` is notified when it ends (the waiter then usually finds its change
  /// written by it: a group commit). end_write() wakes every waiter.
  bool try_begin_write(const std::shared_ptr<util::Waker>& waker);
  void end_write();

 private:
  mutable std::mutex mu_;
  session::SessionState base_;                               // guarded by mu_
  std::uint64_t saved_ = 0;                                  // changes covered by a successful write; guarded by mu_
  bool writing_ = false;                                     // guarded by mu_
  std::vector<std::shared_ptr<util::Waker>> write_waiters_;  // guarded by mu_
  std::atomic<bool> owned_{true};
  std::atomic<std::int64_t> validated_ns_{0};
  std::atomic<bool> announce_{false};
};

/// The placement of a session of this node's manager (see Placement). Every session made
/// after Cluster::configure has one; throws std::logic_error for one that has not (a bug).
Placement& placement(const session::Session& s);

/// The fencing epoch of the session's state (SessionState::epoch).
std::uint64_t epoch_of(session::Session& s);

/// How the session manager of node `node_id` makes its sessions in a cluster:
/// server->client request ids end with "@<node_id>" (the node that receives the client's
/// answer knows where the request waits), POST streams are numbered from a random base
/// per node and session (the event ids of two nodes serving one session never collide),
/// and each session has a Placement.
session::SessionManager::Hooks session_hooks(const std::string& node_id);

/// The local object for a session read from the store (a takeover, a restart, or a
/// request served as a replica): creates it, or refreshes the existing one (state merged
/// with the changes made here and not written yet, role, validated now, subscription
/// index). Not bound by max_sessions.
std::shared_ptr<session::Session> adopt(session::SessionManager& sessions, session::SessionState state, bool owned);

/// The sessions this node owns.
std::size_t owned_count(const session::SessionManager& sessions);

}  // namespace frontmcp::cluster
