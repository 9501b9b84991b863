#pragma once
// Session: the live side of one MCP session on this node: its state, its SSE streams,
// the requests it has in flight, and the server->client requests it waits on.
// Thread-safety: all members, any thread (one mutex per session; it is never held
// while calling out, so handlers of one session may run on several connections).
#include "session/session_state.hpp"
#include "session/stream.hpp"
#include "util/async_event.hpp"

#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace frontmcp::session {

/// A server->client request waiting for its answer.
class PendingCall {
 public:
  explicit PendingCall(std::shared_ptr<util::Waker> waker) : waker_(std::move(waker)) {}
  /// First completion wins; later ones are ignored. Any thread.
  void complete(Result<json::value> r);
  std::optional<Result<json::value>> take();
  /// The answer, once it comes, or nullopt at `deadline`. On the waker's executor.
  boost::asio::awaitable<std::optional<Result<json::value>>> wait_until(util::Waker::Clock::time_point deadline);
  util::Waker& waker() { return *waker_; }

 private:
  std::mutex mu_;
  std::optional<Result<json::value>> result_;
  std::shared_ptr<util::Waker> waker_;
};

/// A client->server request being served, so notifications/cancelled can reach it.
struct InFlight {
  std::atomic<bool> cancelled{false};
  std::mutex mu;
  std::shared_ptr<PendingCall> waiting_on;  // the client request it awaits, if any
  void cancel(std::string reason);
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(SessionState state, std::shared_ptr<EventStore> events);

  const std::string& id() const noexcept { return id_; }
  SessionState state() const;
  /// Applies `f` to the state under the session's lock.
  /// Counts as a change (distributed mode writes it before the response goes out).
  template <class F>
  auto update(F&& f) {
    std::lock_guard lock(mu_);
    ++changes_;
    return f(state_);
  }
  /// True while some update() is not covered by a successful write (mark_synced). Every
  /// request that sees this writes itself, so none is answered before its change is
  /// stored (concurrent requests of one session may each write; the writes are
  /// idempotent full states under one epoch).
  bool has_unsaved_changes() const {
    std::lock_guard lock(mu_);
    return changes_ > saved_;
  }
  /// The state to write, with the change count it covers; its `rev` is the revision of the
  /// state its changes are based on (the last one read or written).
  std::pair<SessionState, std::uint64_t> snapshot_for_save() const {
    std::lock_guard lock(mu_);
    SessionState st = state_;
    st.rev = synced_.rev;
    return {std::move(st), changes_};
  }
  /// Replaces the durable state with one read from the session store (same id); not
  /// dirty. It is also the new base of merge_changes().
  void replace_state(SessionState st);
  /// The state as last read from or written to the store.
  SessionState synced_state() const;
  /// A write covering changes up to `covers` succeeded. The merge base is NOT moved: it
  /// stays the last state read from the store, because concurrent writers of this
  /// session may re-read an older record than the one this write produced, and a base
  /// newer than their read would make their merge drop this write's changes.
  void mark_saved(std::uint64_t covers);
  /// Distributed mode: `written` (a snapshot_for_save() state, based on revision
  /// written.rev) is now the record's state at revision `rev`. It becomes the merge base,
  /// unless the base was replaced since the snapshot (a concurrent read or write).
  void mark_saved(std::uint64_t covers, const SessionState& written, std::uint64_t rev);
  /// A write lost to a newer epoch: `fresh` is the store's state; this session's changes
  /// since the last sync (log level, subscriptions) are applied on top of it, and `fresh`
  /// becomes the new base. Returns the merged state.
  SessionState merge_changes(SessionState fresh);
  /// Distributed mode: one write of this session's state at a time from this node. False
  /// while another is in flight: `waker` is notified when it ends (the waiter then usually
  /// finds its change written by it: a group commit). end_write() wakes every waiter.
  bool try_begin_write(const std::shared_ptr<util::Waker>& waker);
  void end_write();
  std::uint64_t epoch() const;

  /// Distributed mode: whether this node owns the session (holds its standalone stream and
  /// its subscriptions) or only serves requests for it as a replica. Always true standalone.
  bool owned() const noexcept { return owned_.load(std::memory_order_acquire); }
  void set_owned(bool owned) noexcept { owned_.store(owned, std::memory_order_release); }
  /// Distributed mode: when this node last confirmed the record in the store (steady ns).
  std::int64_t validated_at() const noexcept { return validated_ns_.load(std::memory_order_relaxed); }
  void set_validated_now() noexcept;
  /// The next request re-reads the record (the copy here may be stale).
  void clear_validated() noexcept { validated_ns_.store(0, std::memory_order_relaxed); }
  /// Distributed mode: this node became the owner without a client request (orphan
  /// scanner); its first response must re-pin the load balancer (affinity cookie).
  void set_announce_owner() noexcept { announce_.store(true, std::memory_order_release); }
  bool take_announce_owner() noexcept { return announce_.exchange(false, std::memory_order_acq_rel); }
  bool initialized() const;
  std::string protocol_version() const;
  /// Whether the session was created by `principal` (SessionState::principal).
  bool belongs_to(std::string_view principal) const;
  std::optional<LogLevel> log_level() const;
  TransportKind transport() const noexcept { return transport_; }

  void touch() noexcept;
  std::chrono::steady_clock::time_point last_activity() const noexcept;

  /// The standalone stream (GET /mcp, or the legacy /sse stream). Always exists.
  const std::shared_ptr<SseStream>& standalone() const noexcept { return standalone_; }
  /// A new POST stream, registered for resumption until it is finished and delivered.
  /// At most EventLimits::max_streams are kept: the oldest finished one makes room;
  /// nullptr when all of them are still in use (too many requests in flight).
  std::shared_ptr<SseStream> open_stream();
  /// The event bytes held by this session's streams together.
  std::size_t event_bytes() const noexcept { return budget_->used(); }
  std::shared_ptr<SseStream> find_stream(std::uint64_t index) const;
  void close_stream(std::uint64_t index);
  /// Messages not tied to a request (resources/updated, list_changed, log lines of
  /// background work) go to the standalone stream. Dropped (and counted) when no client
  /// listens and resumability cannot help.
  void send_unsolicited(const json::value& msg);

  // Server->client requests. Ids end with "@<nodeId>" in distributed mode, so the node
  // that receives the client's answer knows where the request waits.
  void set_request_id_suffix(std::string suffix) { request_id_suffix_ = std::move(suffix); }
  /// Distributed mode: POST streams are numbered from `first` (random per node and
  /// session), so the event ids of two nodes serving one session never collide.
  void set_first_stream_index(std::uint64_t first);
  std::string next_request_id();
  /// False (not added) when `max` calls already wait.
  bool add_pending(const std::string& id, std::shared_ptr<PendingCall> call,
                   std::size_t max = std::numeric_limits<std::size_t>::max());
  void remove_pending(const std::string& id);
  /// Delivers a client's answer; false if nobody waits for that id.
  bool resolve_pending(const std::string& id, Result<json::value> r);

  // Client->server requests in flight.
  std::shared_ptr<InFlight> begin_request(const std::string& id);
  void end_request(const std::string& id);
  void cancel_request(const std::string& id, std::string reason);

  /// True while a client is connected to one of its streams or a request is running.
  bool busy() const;

  /// A request of this session is being served, from before its handler runs until its
  /// response was sent (Server::stop keeps the standalone stream, which may carry it,
  /// open until then).
  class Serving {
   public:
    explicit Serving(Session& s) : s_(s) { s_.serving_.fetch_add(1, std::memory_order_acq_rel); }
    ~Serving() { s_.serving_.fetch_sub(1, std::memory_order_acq_rel); }
    Serving(const Serving&) = delete;
    Serving& operator=(const Serving&) = delete;

   private:
    Session& s_;
  };
  bool serving() const noexcept { return serving_.load(std::memory_order_acquire) > 0; }

  /// Ends the session: streams finish, waiting calls fail, in-flight requests are cancelled.
  void close();
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

 private:
  std::string id_;
  TransportKind transport_;
  std::shared_ptr<EventStore> events_;
  mutable std::mutex mu_;
  SessionState state_;
  SessionState synced_;
  std::shared_ptr<ByteBudget> budget_;  // before standalone_, which shares it
  std::shared_ptr<SseStream> standalone_;
  std::map<std::uint64_t, std::shared_ptr<SseStream>> streams_;
  std::uint64_t next_stream_ = 1;
  std::unordered_map<std::string, std::shared_ptr<PendingCall>> pending_;
  std::unordered_map<std::string, std::shared_ptr<InFlight>> inflight_;
  std::atomic<std::uint64_t> next_request_id_{0};
  std::string request_id_suffix_;
  bool writing_ = false;
  std::vector<std::shared_ptr<util::Waker>> write_waiters_;
  std::uint64_t changes_ = 0;  // update() calls
  std::uint64_t saved_ = 0;    // changes covered by a successful write
  std::atomic<bool> owned_{true};
  std::atomic<std::int64_t> validated_ns_{0};
  std::atomic<bool> announce_{false};
  std::atomic<std::int64_t> last_activity_ns_;
  std::atomic<bool> closed_{false};
  std::atomic<int> serving_{0};
};

/// Serialises a JSON-RPC id (string or integer) as a map key.
std::string id_key(const json::value& id);

}  // namespace frontmcp::session
