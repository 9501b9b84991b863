#pragma once
// Private to src/cluster: the state the parts of a Cluster share (Cluster::Impl) and which
// file does what with it (docs/architecture.md "src/cluster"). Every part works on the
// one Impl; none owns another:
//
//   cluster.cpp       composition root: construction, start/leave/stop/release_io, probes
//   heartbeat.cpp     the heartbeat and the two leases; reactions to Redis / the relay
//                     coming back (restore_all, revalidate_owned)
//   scanner.cpp       the liveness probe, the orphan scan and claim, the replica sweep
//   directory.cpp     the Redis session directory: resolve (lookup, takeover), save,
//                     remove, adopt, fence/demote, hand-off, acquire
//   relay.cpp         Pub/Sub: publish (sealed), on_message, ask_owner/acknowledge
//   relay_message.*   the relay's typed messages, one decode and one encode (pure)
//   bus.cpp           ClusterBus (session::MessageBus) and lease-gated delivery
//   event_mirror.*    MirroredEventStore and reading the mirrored log
//
// Coroutines that outlive the call that started them (co_spawn) are static members taking
// a shared_ptr<Impl> (g++ 12 miscompiles capturing lambda coroutines); the other member
// coroutines are awaited by a caller that keeps the Impl alive.
#include <algorithm>
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cluster/cluster.hpp"
#include "cluster/event_mirror.hpp"
#include "cluster/placement.hpp"
#include "cluster/relay_auth.hpp"
#include "cluster/relay_message.hpp"
#include "cluster/scripts.hpp"
#include "redis/redis.hpp"
#include "session/session.hpp"
#include "util/log.hpp"

namespace frontmcp::cluster {

namespace net = boost::asio;

inline std::int64_t now_ns() {
  return std::chrono::steady_clock::now().time_since_epoch().count();
}
inline std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using session::Done;
using session::Failure;
using session::Fault;
using session::Outcome;

/// A Redis failure as the client sees it: 503 + Retry-After.
inline Failure unavailable(const Error& e) {
  return Failure{Fault::unavailable, "Service Unavailable: session store unavailable (" + e.message + ")"};
}
/// The request path could not settle the owner in kClaimAttempts (the seed's error name
/// stays in the message: operators grep for it).
inline Failure claim_conflict(const std::string& sid) {
  return Failure{Fault::conflict,
                 "SessionClaimConflictError: session " + sid + " is being claimed by another node; retry the request"};
}
inline Failure not_found() {
  return Failure{Fault::not_found, "Session not found"};
}
/// A script found the session key holding another type than a hash (a `SET` by hand): the
/// record is as unreadable as one whose state does not parse.
inline bool wrong_type(const ScriptError& e) {
  return e.kind == redis::ErrorKind::wrongtype;
}
/// A session record's fields -> SessionState (directory.cpp).
Result<session::SessionState> parse_state(std::string_view sid, std::string_view node, long long epoch,
                                          std::string_view json, long long rev = 0);

struct Cluster::Impl : std::enable_shared_from_this<Impl> {
  Impl(const ServerOptions& o, std::string n, metrics::Metrics& m);  // cluster.cpp

  const ServerOptions& opt;
  metrics::Metrics& metrics;
  std::string node;
  /// Serverless mode: the records only (no heartbeat, scanner, relay or ownership).
  const bool serverless = opt.mode == DeploymentMode::serverless;
  Keys keys;
  RelayAuth auth{opt.ha.relay_secret, opt.ha.relay_previous_secret};
  /// This process among the incarnations of `node` (a restart with the same id gets a new
  /// one): in the heartbeat and in the writer records of the streams it writes.
  std::string boot;
  Scripts scripts;
  std::shared_ptr<MirroredEventStore> events;
  std::string ttl_ms;  // session idle TTL, as a script argument
  session::SessionManager* sessions = nullptr;
  net::any_io_executor ex;
  std::optional<net::strand<net::any_io_executor>> strand;  // heartbeat + scanner timers
  std::unique_ptr<redis::Client> client;
  std::unique_ptr<redis::Subscriber> sub;
  std::unique_ptr<net::steady_timer> hb_timer, scan_timer;
  std::function<void(const std::shared_ptr<session::Session>&, std::string)> legacy_handler;
  std::int64_t started_at_ms = wall_ms();

  std::atomic<std::int64_t> lease_until{0};  // the heartbeat lease (now_ns())
  /// The relay lease (now_ns()): this node's relay subscription was alive at a time T
  /// (a PING sent at T was answered), so no other node declares it dead before
  /// T + kRelayLease (liveness.lua); 0 while the subscription is down. Armed only by a
  /// heartbeat sent after the subscription came up (see on_relay_state and beat()).
  std::atomic<std::int64_t> relay_until{0};
  std::atomic<bool> relay_armed{false};
  std::atomic<std::int64_t> relay_up_since{0};  // now_ns() when the subscription last came up; 0: down
  std::atomic<std::int64_t> last_beat{0};       // now_ns() when the last successful heartbeat was sent
  std::atomic<bool> stopping{false};
  std::atomic<bool> beating{false};  // last heartbeat succeeded
  std::atomic<bool> scanning{false};

  mutable std::mutex mu;
  std::unordered_map<std::string, std::string> replica_owner;                   // session -> owner last seen
  std::unordered_map<std::string, std::shared_ptr<session::PendingCall>> acks;  // ask_owner() calls waiting

  /// The owner of a session served here as a replica, as last read ("" if unknown).
  std::string owner_of(const std::string& sid) const {
    std::lock_guard lock(mu);
    auto it = replica_owner.find(sid);
    return it == replica_owner.end() ? std::string() : it->second;
  }

  /// Whether this node may serve its sessions from memory: both leases hold.
  bool lease_valid() const {
    auto n = now_ns();
    return n < lease_until.load(std::memory_order_acquire) && n < relay_until.load(std::memory_order_acquire);
  }
  static std::int64_t lease_margin(std::chrono::nanoseconds lease) {
    return std::min<std::chrono::nanoseconds>(lease / 10, std::chrono::seconds(1)).count();
  }

  // ---- heartbeat.cpp: the heartbeat, the leases, Redis and the relay coming back --------

  /// The relay subscription was alive at `sent_ns`: extend the relay lease (if armed).
  void relay_alive(std::int64_t sent_ns);
  void on_client_state(bool up);
  void on_relay_state(bool up);
  static net::awaitable<void> revalidate_owned(std::shared_ptr<Impl> self);
  static net::awaitable<void> restore_all(std::shared_ptr<Impl> self);
  void poke_heartbeat();
  net::awaitable<void> beat();
  static net::awaitable<void> heartbeat_loop(std::shared_ptr<Impl> self);

  // ---- scanner.cpp: liveness probe, orphan scan, replica sweep --------------------------

  void poke_scanner();
  static net::awaitable<void> scanner_loop(std::shared_ptr<Impl> self);
  net::awaitable<void> probe_liveness();
  net::awaitable<void> scan();
  net::awaitable<void> claim_batch(const std::string& dead, const std::vector<std::string>& ids);
  void sweep_replicas();

  // ---- directory.cpp: the session records in Redis --------------------------------------

  net::awaitable<std::shared_ptr<session::Session>> adopt_owned(session::SessionState st);
  void fence(const std::string& sid, std::string_view why);
  net::awaitable<Result<redis::Reply, ScriptError>> lookup(std::string sid);
  net::awaitable<Outcome<bool>> remove_record(std::string sid);
  net::awaitable<Outcome<Resolution>> drop_corrupt(std::string sid, Error why);
  net::awaitable<Outcome<Resolution>> resolve_serverless(std::string sid);
  net::awaitable<Outcome<Resolution>> resolve(std::string sid);
  /// resolve()'s answer when it needs no Redis round trip (owned, under the lease, checked
  /// within kRevalidateInterval), else nullopt.
  std::optional<Resolution> resolve_from_memory(std::string_view sid);
  void demote(const std::shared_ptr<session::Session>& s, const std::string& owner);
  net::awaitable<Done> save(std::shared_ptr<session::Session> s, bool create);
  net::awaitable<Done> save_now(std::shared_ptr<session::Session> s, bool create);
  static net::awaitable<void> handoff(std::shared_ptr<Impl> self, std::string sid, std::string to);
  static net::awaitable<void> adopt_given(std::shared_ptr<Impl> self, std::string sid);

  // ---- event_mirror.cpp -----------------------------------------------------------------

  net::awaitable<Outcome<std::vector<session::StoredEvent>>> read_events(std::string stream_key, std::uint64_t after);

  // ---- relay.cpp: the Pub/Sub relay -----------------------------------------------------

  /// A relay message as published on `channel`: signed with the relay secret (RelayAuth).
  std::string seal(const std::string& channel, relay::Message m) const;
  /// takeover.lua publishes it to the old owner (fencing a stalled one).
  std::string lost_message(const std::string& sid, const std::string& old_owner) const;
  void publish(const std::string& node_id, relay::Message m);
  void broadcast(relay::Message m);
  void publish_on(std::string channel, relay::Message m);
  void refused(metrics::RelayRefusal why, std::string_view channel);
  /// Refused relay messages are logged at warning at most every 10 s (all are counted).
  util::LogThrottle refusal_log{std::chrono::seconds(10)};
  /// Counts a relayed message that was (or was not) delivered here.
  void delivered(bool yes, std::string_view type = {}, std::string_view sid = {});
  void on_message(std::string_view channel, std::string_view wire);
  void apply_replica_state(const relay::State& m);
  net::awaitable<void> tell_owner(std::shared_ptr<session::Session> s, std::string owner, std::uint64_t epoch,
                                  std::uint64_t rev, json::object st);
  net::awaitable<bool> ask_owner(std::string owner, relay::Message msg);
  std::shared_ptr<session::PendingCall> take_ack(const std::string& rid);
  void acknowledge(const std::string& sid, const std::string& rid);

  // ---- bus.cpp: delivery to the sessions this node owns ---------------------------------

  /// `relayed`: the relay message type when `msg` came over the relay; such a message is
  /// counted (delivered() once) when it is sent or dropped, not when it is deferred.
  void deliver(const std::shared_ptr<session::Session>& s, const json::value& msg, std::string_view relayed = {});
  void flush_deferred();
  struct Deferred {
    std::weak_ptr<session::Session> session;
    std::string sid;
    json::value msg;
    std::string relayed;  // the relay message type, "" for a local message
  };
  /// A deferred message that will not be sent: counted if it came over the relay.
  void drop_deferred(const Deferred& d, std::string_view why);
  std::mutex deferred_mu;
  std::deque<Deferred> deferred;  // guarded by deferred_mu
  std::atomic<std::size_t> deferred_n{0};
};

}  // namespace frontmcp::cluster
