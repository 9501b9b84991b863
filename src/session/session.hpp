#pragma once
// Session: the live side of one MCP session on this node: its state, its SSE streams,
// the requests it has in flight, and the server->client requests it waits on.
// Thread-safety: all members, any thread (one mutex per session; it is never held
// while calling out, so handlers of one session may run on several connections).
#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "session/session_state.hpp"
#include "session/stream.hpp"
#include "util/async_event.hpp"

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
  /// Per-session data of whoever runs the sessions of a deployment (the session itself
  /// never looks inside). Given at construction and never replaced, so reading it needs
  /// no lock; it lives as long as the session object.
  class Attachment {
   public:
    virtual ~Attachment() = default;
  };
  /// How a session object is made (SessionManager::Hooks says it for all of them).
  struct Options {
    /// Appended to the ids of server->client requests (next_request_id()).
    std::string request_id_suffix;
    /// The index of the first POST stream (0 counts as 1); later ones count up from it.
    std::uint64_t first_stream_index = 1;
    std::shared_ptr<Attachment> attachment;
  };

  Session(SessionState state, std::shared_ptr<EventStore> events);
  Session(SessionState state, std::shared_ptr<EventStore> events, Options options);

  const std::string& id() const noexcept { return id_; }
  SessionState state() const;
  /// Applies `f` to the state under the session's lock and counts it as a change.
  /// (Distributed mode writes a changed state before the response goes out.)
  template <class F>
  auto update(F&& f) {
    std::lock_guard lock(mu_);
    ++changes_;
    return f(state_);
  }
  /// How many update() calls there have been: grows by one with each, never goes down, so
  /// a store that remembers the count its last write covered knows whether anything
  /// changed since.
  std::uint64_t changes() const {
    std::lock_guard lock(mu_);
    return changes_;
  }
  /// Applies `f(state, changes)` under the session's lock WITHOUT counting a change:
  /// `changes` is changes() at that moment. For a store that must read or rewrite the
  /// state atomically with respect to update() (a snapshot with the changes it covers, a
  /// state read elsewhere merged into this one). `f` must not call back into the session.
  template <class F>
  auto with_state(F&& f) {
    std::lock_guard lock(mu_);
    return f(state_, std::as_const(changes_));
  }
  /// The object given at construction (Options::attachment); nullptr if none.
  Attachment* attachment() const noexcept { return attachment_.get(); }

  bool initialized() const;
  std::string protocol_version() const;
  /// Whether the session was created by `principal` (SessionState::principal).
  bool belongs_to(std::string_view principal) const;
  /// SessionState::principal.
  std::string principal() const;
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

  // Server->client requests: ids "s<n><suffix>" (Options::request_id_suffix; distributed
  // mode names the node there, so the node that receives the client's answer knows where
  // the request waits).
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
  std::shared_ptr<ByteBudget> budget_;  // before standalone_, which shares it
  std::shared_ptr<SseStream> standalone_;
  std::map<std::uint64_t, std::shared_ptr<SseStream>> streams_;
  std::uint64_t next_stream_ = 1;
  std::unordered_map<std::string, std::shared_ptr<PendingCall>> pending_;
  std::unordered_map<std::string, std::shared_ptr<InFlight>> inflight_;
  std::atomic<std::uint64_t> next_request_id_{0};
  const std::string request_id_suffix_;
  const std::shared_ptr<Attachment> attachment_;
  std::uint64_t changes_ = 0;  // update() calls
  std::atomic<std::int64_t> last_activity_ns_;
  std::atomic<bool> closed_{false};
  std::atomic<int> serving_{0};
};

/// Serialises a JSON-RPC id (string or integer) as a map key.
std::string id_key(const json::value& id);

}  // namespace frontmcp::session
