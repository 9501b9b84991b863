#pragma once
// Distributed mode (docs/ha.md): sessions in Redis, heartbeats, the takeover script,
// the orphan scanner, the Pub/Sub relay and the graceful hand-off. One Cluster per
// server, created when mode == distributed; the transports ask it for sessions and the
// dispatcher reaches it through the MessageBus it makes.
//
// Ownership: a node serves any session. It *owns* a session (holds its standalone stream,
// its subscriptions, receives its relayed messages) only after creating it, claiming it
// from a dead node (takeover.lua) or receiving it from the live owner (handoff.lua).
// Other nodes serve requests for it as replicas, reading the record once per request.
//
// Lease: a node whose last heartbeat write was sent at T cannot lose a session before
// T + heartbeatTtlMs (the takeover script refuses while the heartbeat key exists), so
// within that lease the owner serves from memory without a Redis round trip, and checks
// the record at most once per kRevalidateInterval.
//
// Threading: all members may be called from any thread. Failure: every call that needs
// Redis and cannot reach it fails at once with Error{kServerError} (HTTP 503 +
// Retry-After); nothing blocks for longer than the Redis command timeout.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <frontmcp/options.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "session/directory.hpp"
#include "session/event_store.hpp"
#include "session/message_bus.hpp"
#include "session/session_manager.hpp"
#include "util/metrics.hpp"

namespace frontmcp::cluster {

/// A node re-reads the record of a session it owns at most this often (bounds how long
/// a DELETE on another node whose relay message was lost stays unnoticed).
inline constexpr std::chrono::milliseconds kRevalidateInterval{1'000};
/// Liveness (docs/ha.md "Liveness"): a node serves its sessions from memory only within
/// this of the last proof that its relay subscription was alive, and another node declares
/// it dead once its subscription has been missing for this long (its process died).
inline constexpr std::chrono::milliseconds kRelayLease{2'000};
/// How often the relay subscription proves itself (PING), well inside kRelayLease.
inline constexpr std::chrono::milliseconds kRelayPing{400};
/// How often every node runs the liveness probe and the orphan scan (at most; never less
/// often than heartbeatIntervalMs).
inline constexpr std::chrono::milliseconds kLivenessProbe{1'000};
/// The longest a GET waits for a session's stream to move to its node before it answers
/// 503 + Retry-After: long enough for a dead owner to be declared dead (kRelayLease plus
/// two probes), short enough that a client is never left hanging (a stalled owner keeps
/// its sessions until its heartbeat expires).
inline constexpr std::chrono::milliseconds kStreamMoveWait{kRelayLease + 2 * kLivenessProbe + std::chrono::seconds(1)};
/// Attempts of the request path to settle the owner (lookup, takeover) before it answers
/// SessionClaimConflictError (503 + Retry-After).
inline constexpr int kClaimAttempts = 4;

struct Resolution {
  std::shared_ptr<session::Session> session;  // nullptr: no such session (404)
  bool became_owner = false;                  // this request made this node the owner: send the cookie
};

class Cluster {
 public:
  /// `metrics` must outlive the Cluster.
  Cluster(const ServerOptions& options, std::string node_id, metrics::Metrics& metrics);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  /// The event store of every stream: kept in memory for live delivery and copied to
  /// Redis (write-behind) when resumability is on, so any node can replay it.
  std::shared_ptr<session::EventStore> event_store() const;
  std::unique_ptr<session::MessageBus> make_bus(session::SessionManager& sessions);
  /// Before `sessions` makes its first session: its sessions carry this node's id in their
  /// server->client request ids, number their POST streams from a random base, and carry
  /// the cluster's per-session data (ownership, write bookkeeping; see owns()).
  void configure(session::SessionManager& sessions) const;

  /// Creates the Redis connections and spawns the heartbeat, the scanner and the relay on
  /// `ex` (they run once its threads do). Throws HaConfigurationError on a bad Redis URL.
  void start(session::SessionManager& sessions, boost::asio::any_io_executor ex);
  /// Startup: waits up to `wait` for the first heartbeat and the relay subscription (so a
  /// healthy start is ready at once). A Redis that is not there yet is retried in the
  /// background; readiness says so. Returns ready().
  bool wait_ready(std::chrono::milliseconds wait);
  /// Graceful stop, step 1: no more heartbeats; the heartbeat key is deleted and the node
  /// marked dead long enough ago that other nodes claim its sessions at once. Blocks for
  /// at most the Redis command timeout.
  void leave();
  /// Step 2: closes the Redis connections. Idempotent.
  void stop();
  /// Step 3, after the I/O threads have stopped and before the io_context is destroyed:
  /// destroys the timers and connections (I/O objects must not outlive their context).
  void release_io();

  /// Readiness probes, each "" when it passes, else why not: Redis (the session store)
  /// answers, the relay is subscribed, this node's heartbeat is current (the last two are
  /// not probed in serverless mode).
  struct Probes {
    std::string redis, relay, heartbeat;
    /// The first failing probe's reason ("" when all pass).
    const std::string& failing() const noexcept { return !redis.empty() ? redis : !relay.empty() ? relay : heartbeat; }
  };
  Probes probes() const;
  /// Every probe passes.
  bool ready() const { return probes().failing().empty(); }
  /// Seconds since this node's last successful heartbeat write (-1 before the first).
  double heartbeat_age_seconds() const;
  /// Serverless mode: session records only (no heartbeat, scanner, relay, ownership).
  bool serverless() const noexcept;
  const std::string& node_id() const noexcept;

  /// The session for a request (see the class comment). Error: Redis unavailable or
  /// SessionClaimConflictError after kClaimAttempts.
  boost::asio::awaitable<session::Outcome<Resolution>> resolve(std::string session_id);
  /// resolve()'s answer when it needs no Redis (a session owned here, under the lease).
  std::optional<Resolution> resolve_from_memory(std::string_view session_id);
  /// Writes a new session's record (this node owns it).
  boost::asio::awaitable<session::Done> create(std::shared_ptr<session::Session> s);
  /// Writes a session's state, fenced by its epoch. A stale epoch means this node lost
  /// the session: it is demoted to a replica and the call fails (503, retry).
  boost::asio::awaitable<session::Done> persist(std::shared_ptr<session::Session> s);
  /// DELETE: removes the record wherever the owner is; false if there was none.
  boost::asio::awaitable<session::Outcome<bool>> remove(std::string session_id);
  /// Whether the process that writes a stream (another node's POST stream) still lives:
  /// 1 yes, 0 no (dead, or restarted), -1 unknown (no writer record).
  boost::asio::awaitable<session::Outcome<int>> writer_alive(std::string stream_key);
  /// A stream's events after `after_seq` from the shared log (a stream of another node).
  boost::asio::awaitable<session::Outcome<std::vector<session::StoredEvent>>> read_events(std::string stream_key,
                                                                                          std::uint64_t after_seq);
  /// GET stream on a node that does not own the session: asks the live owner to hand it
  /// over, or claims it once the owner is dead, waiting at most `wait`. True once owned.
  boost::asio::awaitable<bool> acquire(std::shared_ptr<session::Session> s, std::chrono::milliseconds wait);
  /// Legacy SSE: relays a POST /message body to the node that holds the /sse stream.
  boost::asio::awaitable<session::Done> relay_legacy(std::string session_id, std::string owner, std::string body);
  /// The owner of a session per the last lookup (replicas only; "" if unknown).
  std::string owner_of(const std::string& session_id) const;

  /// Set before start(): runs a relayed legacy POST /message body on the owner.
  std::function<void(const std::shared_ptr<session::Session>&, std::string body)> legacy_handler;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

/// Whether this node owns `s` (holds its standalone stream and its subscriptions) or only
/// serves requests for it as a replica. True for a session made without configure()
/// (standalone mode).
bool owns(const session::Session& s) noexcept;
/// True while some change of `s` (Session::update) is not covered by a successful write
/// (persist()): a request that sees this writes before it is answered.
bool has_unsaved_changes(const session::Session& s);

/// "Set-Cookie" value of the affinity cookie (`__frontmcp_node`).
std::string affinity_cookie(const std::string& node_id, std::chrono::milliseconds max_age, bool secure);

}  // namespace frontmcp::cluster
