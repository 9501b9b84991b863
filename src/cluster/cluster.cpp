#include "cluster/cluster.hpp"

#include "cluster/relay_auth.hpp"
#include "cluster/scripts.hpp"
#include "redis/redis.hpp"
#include "util/async_event.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <charconv>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace frontmcp::cluster {

namespace net = boost::asio;
using session::Session;
using session::SessionState;
using session::StoredEvent;

namespace {

/// Orphan scanner batch sizes: dead nodes per pass, sessions per node per pass, and
/// passes per tick (a tick claims at most kScanNodes * kScanBatch * kScanPasses).
constexpr int kScanNodes = 16;
constexpr int kScanBatch = 128;
constexpr int kScanPasses = 64;
/// A replica waits this long for the owner to acknowledge a state change (see tell_owner).
constexpr std::chrono::milliseconds kStateAckWait{500};
/// How often acquire() re-reads the owner while waiting for a hand-off or a takeover.
constexpr std::chrono::milliseconds kAcquirePoll{25};
/// How often acquire() repeats its hand-off request to a live owner.
constexpr std::chrono::milliseconds kHandoffRepeat{250};
/// Replica objects (sessions served here but owned elsewhere) idle this long are dropped.
constexpr std::chrono::seconds kReplicaIdle{60};
/// Nodes per liveness probe (liveness.lua); a cluster larger than this is probed in part.
constexpr int kLivenessNodes = 256;
/// The longest a state write waits for an earlier write of the same session from this node
/// (each is bounded by kClaimAttempts Redis round trips).
constexpr std::chrono::seconds kWriteQueueWait{10};
/// Refused relay messages are logged at warning at most this often (all are counted).
constexpr std::chrono::seconds kRefusalLogInterval{10};
/// Messages for owned sessions held while this node's lease does not hold (deliver()).
/// Beyond it the oldest are dropped (counted): a node whose lease stays invalid that long
/// has lost its sessions or is about to hand them over.
constexpr std::size_t kDeferredDeliveries = 4'096;

std::int64_t now_ns() { return std::chrono::steady_clock::now().time_since_epoch().count(); }
std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error unavailable(const Error& e) {
  return Error{errc::kServerError, "Service Unavailable: session store unavailable (" + e.message + ")", {}};
}

Error claim_conflict(const std::string& sid) {
  return Error{errc::kServerError,
               "SessionClaimConflictError: session " + sid + " is being claimed by another node; retry the request",
               {}};
}

/// "<seq> <json>" -> StoredEvent.
bool parse_stored(std::string_view s, StoredEvent& out) {
  auto sp = s.find(' ');
  if (sp == std::string_view::npos) return false;
  std::uint64_t seq = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + sp, seq);
  if (ec != std::errc() || p != s.data() + sp) return false;
  out.seq = seq;
  out.data.assign(s.substr(sp + 1));
  return true;
}

/// A script found the session key holding another type than a hash (a `SET` by hand): the
/// record is as unreadable as one whose state does not parse.
bool wrong_type(const Error& e) { return e.message.find("WRONGTYPE") != std::string::npos; }

Result<SessionState> parse_state(std::string_view sid, std::string_view node, long long epoch, std::string_view json,
                                 long long rev = 0) {
  boost::system::error_code ec;
  auto v = json::parse(json, ec);
  if (ec || !v.is_object()) return Error::internal("corrupt session record " + std::string(sid));
  auto st = SessionState::from_json(v.get_object());
  if (!st) return st;
  st->id = std::string(sid);
  st->node_id = std::string(node);
  st->epoch = static_cast<std::uint64_t>(epoch);
  st->rev = static_cast<std::uint64_t>(rev);
  return st;
}

/// Copies every stream's events to Redis (write-behind, pipelined, fire and forget) for
/// replay on any node. A SIGKILL can lose the last few milliseconds of events (docs/ha.md).
class MirroredEventStore final : public session::EventStore {
 public:
  MirroredEventStore(session::EventLimits limits, Keys keys, std::chrono::milliseconds ttl, bool mirror,
                     std::string writer)
      : EventStore(limits),
        keys_(std::move(keys)),
        ttl_(std::to_string(ttl.count())),
        max_(std::to_string(limits.max_events)),
        mirror_(mirror),
        writer_(std::move(writer)) {}
  void set_client(redis::Client* c) { client_.store(c, std::memory_order_release); }

  void mirror(const std::string& stream_key, std::uint64_t seq, std::string_view data) override {
    auto* c = client_.load(std::memory_order_acquire);
    if (!mirror_ || !c) return;
    std::string key = keys_.events(stream_key);
    std::string item = std::to_string(seq);
    item += ' ';
    item += data;
    c->send({"RPUSH", key, std::move(item)});
    c->send({"LTRIM", key, "-" + max_, "-1"});
    c->send({"PEXPIRE", std::move(key), ttl_});
  }
  /// "<node> <boot>" under writer:{stream}: a replaying node follows the log only while
  /// that process lives (Cluster::writer_alive).
  void announce_writer(const std::string& stream_key) override {
    auto* c = client_.load(std::memory_order_acquire);
    if (!mirror_ || !c) return;
    c->send({"SET", keys_.writer(stream_key), writer_, "PX", ttl_});
  }

 private:
  Keys keys_;
  std::string ttl_;
  std::string max_;
  bool mirror_;
  std::string writer_;
  std::atomic<redis::Client*> client_{nullptr};
};

}  // namespace

struct Cluster::Impl : std::enable_shared_from_this<Impl> {
  Impl(const ServerOptions& o, std::string n, metrics::Metrics& m)
      : opt(o),
        metrics(m),
        node(std::move(n)),
        keys{o.ha.redis_key_prefix},
        boot(util::random_hex_id().substr(0, 16)),
        events(std::make_shared<MirroredEventStore>(session::event_limits(o.session), keys, o.session.idle_ttl,
                                                    o.session.resumability, node + " " + boot)),
        ttl_ms(std::to_string(o.session.idle_ttl.count())) {}

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
  std::function<void(const std::shared_ptr<Session>&, std::string)> legacy_handler;
  std::int64_t started_at_ms = wall_ms();

  std::atomic<std::int64_t> lease_until{0};  // the heartbeat lease (now_ns())
  /// The relay lease (now_ns()): this node's relay subscription was alive at a time T
  /// (a PING sent at T was answered), so no other node declares it dead before
  /// T + kRelayLease (liveness.lua); 0 while the subscription is down. Armed only by a
  /// heartbeat sent after the subscription came up (see on_relay_state and beat()).
  std::atomic<std::int64_t> relay_until{0};
  std::atomic<bool> relay_armed{false};
  std::atomic<std::int64_t> relay_up_since{0};  // now_ns() when the subscription last came up; 0: down
  std::atomic<std::int64_t> last_beat{0};  // now_ns() when the last successful heartbeat was sent
  std::atomic<bool> stopping{false};
  std::atomic<bool> beating{false};  // last heartbeat succeeded
  std::atomic<bool> scanning{false};

  mutable std::mutex mu;
  std::unordered_map<std::string, std::string> replica_owner;  // session -> owner last seen
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
  /// The relay subscription was alive at `sent_ns`: extend the relay lease (if armed).
  void relay_alive(std::int64_t sent_ns) {
    if (!relay_armed.load(std::memory_order_acquire)) return;
    auto lease = std::chrono::nanoseconds(kRelayLease).count();
    std::int64_t until = sent_ns + lease - lease_margin(kRelayLease);
    auto cur = relay_until.load(std::memory_order_acquire);
    while (cur < until && !relay_until.compare_exchange_weak(cur, until, std::memory_order_acq_rel)) {
    }
    flush_deferred();
  }

  // ---- delivery to the sessions this node owns --------------------------------------

  /// Sends `msg` on an owned session's standalone stream, but only while both leases hold:
  /// then no other node can have taken the session over. Otherwise (this node stalled, or
  /// Redis did) the message waits until a heartbeat has re-read the sessions and both
  /// leases hold again, and goes only to sessions still owned then; a session lost
  /// meanwhile gets it from its new owner (broadcasts reach every node) or not at all.
  /// Without this a node resumed from a stall past its TTL delivered relay messages that
  /// had queued up during the stall on a stream it had lost, under event ids the new owner
  /// was handing out too.
  void deliver(const std::shared_ptr<Session>& s, const json::value& msg) {
    if (serverless || (deferred_n.load(std::memory_order_acquire) == 0 && lease_valid())) {
      if (s->owned()) s->send_unsolicited(msg);
      return;
    }
    if (!s->owned()) return;
    {
      std::lock_guard lock(deferred_mu);
      if (deferred.size() >= kDeferredDeliveries) {
        delivered(false, "deferred (limit)", deferred.front().sid);
        deferred.pop_front();
      }
      deferred.push_back({s, s->id(), msg});
      deferred_n.store(deferred.size(), std::memory_order_release);
    }
    flush_deferred();
  }
  /// Delivers the deferred messages, in order, while both leases hold.
  void flush_deferred() {
    if (deferred_n.load(std::memory_order_acquire) == 0) return;
    std::lock_guard lock(deferred_mu);
    while (!deferred.empty() && lease_valid()) {
      auto d = std::move(deferred.front());
      deferred.pop_front();
      auto s = d.session.lock();
      if (s && s->owned()) {
        s->send_unsolicited(d.msg);
      } else {
        delivered(false, "deferred (no longer owned)", d.sid);
      }
    }
    deferred_n.store(deferred.size(), std::memory_order_release);
  }
  struct Deferred {
    std::weak_ptr<Session> session;
    std::string sid;
    json::value msg;
  };
  std::mutex deferred_mu;
  std::deque<Deferred> deferred;  // guarded by deferred_mu
  std::atomic<std::size_t> deferred_n{0};

  // ---- Redis state ------------------------------------------------------------------

  void on_client_state(bool up) {
    if (!up || stopping) return;
    // Redis came back (maybe empty): beat and restore this node's records at once.
    net::co_spawn(ex, restore_all(shared_from_this()), net::detached);
    poke_heartbeat();
  }

  /// The relay (re)subscribed. Messages published while it was down are lost (Pub/Sub keeps
  /// nothing): a "lost" (another node took a session over while this one stalled) or a
  /// replica's state change. Re-read the records of the sessions this node owns.
  ///
  /// The relay lease ends with the subscription: an owner that lost it may have been
  /// declared dead (liveness.lua), so it stops serving from memory at once. It is armed
  /// again by the first heartbeat sent after the subscription is back (poked here): that
  /// write changes the heartbeat, which liveness.lua requires to be unchanged before it
  /// declares a node dead, or it finds the key gone and makes this node re-read its
  /// sessions first.
  void on_relay_state(bool up) {
    if (!up) {
      relay_up_since.store(0, std::memory_order_release);
      relay_armed.store(false, std::memory_order_release);
      relay_until.store(0, std::memory_order_release);
      return;
    }
    relay_up_since.store(now_ns(), std::memory_order_release);
    if (stopping) return;
    net::co_spawn(ex, revalidate_owned(shared_from_this()), net::detached);
    poke_heartbeat();
  }

  static net::awaitable<void> revalidate_owned(std::shared_ptr<Impl> self) {
    for (const auto& s : self->sessions->all()) {
      if (!s->owned() || self->stopping) continue;
      auto r = co_await self->lookup(s->id());
      // Unreachable or missing (Redis restarted empty): restore_all and the request path decide.
      if (!r || reply_str(*r, 0) != "FOUND") continue;
      std::string owner(reply_str(*r, 1));
      if (owner != self->node) {
        self->fence(s->id(), "owned by " + owner + " now");
        continue;
      }
      if (static_cast<std::uint64_t>(reply_int(*r, 2)) != s->epoch()) {
        s->clear_validated();  // taken and given back meanwhile: the next request re-adopts it
        continue;
      }
      auto st = parse_state(s->id(), owner, reply_int(*r, 2), reply_str(*r, 3), reply_int(*r, 5));
      if (st) self->sessions->adopt(std::move(st).value(), true);  // merged: picks up lost replica changes
    }
  }

  void poke_heartbeat() {
    if (!strand) return;
    net::post(*strand, [self = shared_from_this()] {
      if (self->hb_timer) self->hb_timer->cancel();
    });
  }
  void poke_scanner() {
    if (!strand) return;
    net::post(*strand, [self = shared_from_this()] {
      if (self->scan_timer) self->scan_timer->cancel();
    });
  }

  static net::awaitable<void> restore_all(std::shared_ptr<Impl> self) {
    for (const auto& s : self->sessions->all()) {
      if (!s->owned() || self->stopping) continue;
      auto st = s->state();
      std::vector<std::string> r_keys{self->keys.session(s->id())};
      // Create only: a record that survived the restart (persistence) may hold changes this
      // node never saw (a replica's subscribe whose relay message was lost); it is re-read
      // (revalidate_owned) rather than overwritten.
      std::vector<std::string> r_args{self->keys.prefix, s->id(), std::to_string(st.epoch), json::serialize(st.to_json()),
                                      self->ttl_ms, self->node, "1", "create"};
      auto r = co_await self->scripts.save.run(*self->client, std::move(r_keys), std::move(r_args));
      if (r && reply_str(*r, 0) == "EXISTS" && reply_str(*r, 1) != self->node) {
        util::log().warn("session {}: owned by {} now; closing it here", s->id(), reply_str(*r, 1));
        self->sessions->remove(s->id());
      } else if (r && reply_str(*r, 0) == "EXISTS") {
        s->clear_validated();  // the next request re-reads it
      }
    }
  }

  // ---- heartbeat ----------------------------------------------------------------------

  net::awaitable<void> beat() {
    auto sent = now_ns();
    auto up_since = relay_up_since.load(std::memory_order_acquire);
    auto ttl = opt.ha.heartbeat_ttl;
    std::vector<std::string> r_keys{keys.heartbeat(node), keys.nodes()};
    std::vector<std::string> r_args{node, std::to_string(ttl.count()), std::to_string(started_at_ms),
                                    std::to_string(sessions->owned_count()),
                                    json::serialize(json::object{{"version", "0.1.0"}, {"boot", boot}})};
    auto r = co_await scripts.heartbeat.run(*client, std::move(r_keys), std::move(r_args));
    if (stopping) co_return;
    if (!r) {
      if (beating.exchange(false)) util::log().warn("heartbeat failed: {}", r.error().message);
      co_return;
    }
    if (reply_int(*r, 1) == 0 && last_beat.load(std::memory_order_relaxed) != 0) {
      // The key was gone: this node was declared dead (its subscription was missing, or
      // the key expired while it stalled) and its sessions may be someone else's now.
      // Re-read them before trusting any lease again.
      lease_until.store(0, std::memory_order_release);
      util::log().warn("heartbeat {} was gone (this node counted as dead); re-reading its sessions", keys.heartbeat(node));
      co_await revalidate_owned(shared_from_this());
      if (stopping) co_return;
    }
    // The key lives until at least sent + ttl (Redis ran SET PX after we sent it); keep
    // a margin for clock rate differences.
    lease_until.store(sent + std::chrono::nanoseconds(ttl).count() - lease_margin(ttl), std::memory_order_release);
    if (up_since != 0 && up_since <= sent && relay_up_since.load(std::memory_order_acquire) == up_since) {
      // Subscribed since before this heartbeat was sent and ever since: arm the relay lease.
      relay_armed.store(true, std::memory_order_release);
      relay_alive(sent);
    }
    last_beat.store(sent, std::memory_order_relaxed);
    flush_deferred();
    if (!beating.exchange(true)) util::log().info("heartbeat {} written (every {} ms, ttl {} ms)", keys.heartbeat(node),
                                                  opt.ha.heartbeat_interval.count(), ttl.count());
  }

  static net::awaitable<void> heartbeat_loop(std::shared_ptr<Impl> self) {
    while (!self->stopping) {
      co_await self->beat();
      boost::system::error_code ec;
      self->hb_timer->expires_after(self->opt.ha.heartbeat_interval);
      co_await self->hb_timer->async_wait(net::redirect_error(net::use_awaitable, ec));
    }
  }

  // ---- orphan scanner -----------------------------------------------------------------

  /// Every probe interval: liveness (nodes whose process died), then the orphans that are
  /// due (cheap: O(log N + due nodes)), so a dead node's sessions are claimed
  /// takeoverGracePeriodMs after it died plus at most one probe interval.
  static net::awaitable<void> scanner_loop(std::shared_ptr<Impl> self) {
    auto probe = std::min<std::chrono::milliseconds>(self->opt.ha.heartbeat_interval, kLivenessProbe);
    while (!self->stopping) {
      boost::system::error_code ec;
      self->scan_timer->expires_after(probe);
      co_await self->scan_timer->async_wait(net::redirect_error(net::use_awaitable, ec));
      if (self->stopping) break;
      co_await self->probe_liveness();
      if (self->lease_valid()) co_await self->scan();
      self->sweep_replicas();
    }
  }

  net::awaitable<void> probe_liveness() {
    std::vector<std::string> r_keys{keys.nodes(), keys.suspects()};
    std::vector<std::string> r_args{keys.prefix, std::to_string(kRelayLease.count()), std::to_string(kLivenessNodes)};
    auto r = co_await scripts.liveness.run(*client, std::move(r_keys), std::move(r_args));
    if (!r) {
      util::log().debug("liveness probe failed: {}", r.error().message);
      co_return;
    }
    for (const auto& n : r->elements) {
      util::log_event(spdlog::level::info, "declared a node dead: its relay subscription is gone",
                      {{"node", n.str}, {"by", node}});
    }
  }

  /// One scanner pass: O(dead nodes + their sessions), never KEYS.
  net::awaitable<void> scan() {
    for (int pass = 0; pass < kScanPasses && !stopping; ++pass) {
      std::vector<std::string> r_keys{keys.nodes()};
      std::vector<std::string> r_args{keys.prefix, std::to_string(opt.ha.takeover_grace_period.count()),
                                             std::to_string(kScanNodes), std::to_string(kScanBatch)};
      auto r = co_await scripts.orphans.run(*client, std::move(r_keys), std::move(r_args));
      if (!r) {
        util::log().debug("orphan scan failed: {}", r.error().message);
        co_return;
      }
      if (r->elements.empty()) co_return;
      std::size_t claimed_or_tried = 0;
      for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) {
        std::string dead = r->elements[i].str;
        std::vector<std::string> ids;
        for (const auto& e : r->elements[i + 1].elements) ids.push_back(e.str);
        claimed_or_tried += ids.size();
        co_await claim_batch(dead, ids);
      }
      if (claimed_or_tried == 0) co_return;
    }
  }

  net::awaitable<void> claim_batch(const std::string& dead, const std::vector<std::string>& ids) {
    std::vector<redis::Command> cmds;
    cmds.reserve(ids.size());
    for (const auto& sid : ids) {
      cmds.push_back(scripts.takeover.evalsha({keys.session(sid)}, {keys.prefix, sid, dead, node, ttl_ms, lost_message(sid, dead)}));
    }
    auto rs = co_await client->pipeline(cmds);
    if (!rs) co_return;
    for (std::size_t i = 0; i < ids.size() && i < rs->size(); ++i) {
      auto* reply = &(*rs)[i];
      redis::Reply again;
      if (reply->is_error() && reply->str.rfind("NOSCRIPT", 0) == 0) {
        std::vector<std::string> r2_keys{keys.session(ids[i])};
        std::vector<std::string> r2_args{keys.prefix, ids[i], dead, node, ttl_ms, lost_message(ids[i], dead)};
        auto r2 = co_await scripts.takeover.run(*client, std::move(r2_keys), std::move(r2_args));
        if (!r2) continue;
        again = std::move(r2).value();
        reply = &again;
      }
      if (reply_str(*reply, 0) != "OK") continue;
      auto st = parse_state(ids[i], node, reply_int(*reply, 1), reply_str(*reply, 2), reply_int(*reply, 3));
      if (!st) {
        auto dropped = co_await drop_corrupt(ids[i], std::move(st).error());
        if (!dropped) util::log().warn("session {}: record not removed ({})", ids[i], dropped.error().message);
        continue;
      }
      auto s = co_await adopt_owned(std::move(st).value());
      if (s) s->set_announce_owner();
      metrics.takeover(metrics::Takeover::scanner);
      metrics.orphans_claimed.inc();
      auto epoch_str = std::to_string(s ? s->epoch() : 0);
      util::log_event(spdlog::level::info, "claimed an orphaned session (scanner)",
                      {{"session", ids[i]}, {"from", dead}, {"epoch", epoch_str}});
      if (opt.ha.on_session_claimed) {
        try {
          opt.ha.on_session_claimed(ids[i], dead);
        } catch (const std::exception& e) {
          util::log().error("on_session_claimed threw: {}", e.what());
        }
      }
    }
  }

  void sweep_replicas() {
    auto cutoff = std::chrono::steady_clock::now() - kReplicaIdle;
    for (const auto& s : sessions->all()) {
      if (s->owned() || s->busy() || s->last_activity() > cutoff) continue;
      sessions->remove(s->id());
      std::lock_guard lock(mu);
      replica_owner.erase(s->id());
    }
  }

  // ---- sessions -----------------------------------------------------------------------

  /// Makes the local object of a session this node now owns, with its standalone
  /// stream's events from the shared log (so ids continue and Last-Event-ID replays).
  /// The history is in place before the session counts as owned here: a GET that finds it
  /// owned starts from the stream's last event, so it must not see the history arrive after.
  net::awaitable<std::shared_ptr<Session>> adopt_owned(SessionState st) {
    std::string sid = st.id;
    std::vector<StoredEvent> history;
    if (opt.session.resumability) {
      auto evs = co_await read_events(sid + "/0", 0);
      if (evs) history = std::move(evs).value();
    }
    auto s = sessions->adopt(std::move(st), false);
    s->standalone()->reopen();
    s->standalone()->preload(std::move(history));
    s->set_owned(true);
    {
      std::lock_guard lock(mu);
      replica_owner.erase(sid);
    }
    co_return s;
  }

  net::awaitable<Result<std::vector<StoredEvent>>> read_events(std::string stream_key, std::uint64_t after) {
    redis::Command cmd{"LRANGE", keys.events(stream_key), "0", "-1"};
    auto r = co_await client->command(std::move(cmd));
    if (!r) co_return std::move(r).error();
    std::vector<StoredEvent> out;
    for (const auto& e : r->elements) {
      StoredEvent ev;
      if (parse_stored(e.str, ev) && ev.seq > after) out.push_back(std::move(ev));
    }
    co_return out;
  }

  void fence(const std::string& sid, std::string_view why) {
    if (sessions->remove(sid)) util::log().warn("session {}: {}; stopped serving it here", sid, why);
  }

  /// lookup.lua for one session (also slides its idle TTL): {"MISSING"} or
  /// {"FOUND", nodeId, epoch, state, alive}.
  net::awaitable<Result<redis::Reply>> lookup(std::string sid) {  // by value: a coroutine parameter
    std::vector<std::string> r_keys{keys.session(sid)};
    std::vector<std::string> r_args{keys.prefix, node, ttl_ms};
    co_return co_await scripts.lookup.run(*client, std::move(r_keys), std::move(r_args));
  }

  /// remove.lua, then the owner (if another node) drops the session before this returns.
  /// False: there was no record.
  net::awaitable<Result<bool>> remove_record(std::string sid) {
    sessions->remove(sid);
    std::vector<std::string> r_keys{keys.session(sid), keys.events(sid + "/0")};
    std::vector<std::string> r_args{keys.prefix, sid};
    auto r = co_await scripts.remove.run(*client, r_keys, std::move(r_args));
    if (!r && wrong_type(r.error())) {
      // Not a hash: no owner to tell, nothing to tidy but the keys themselves.
      redis::Command cmd{"DEL", r_keys[0], r_keys[1]};
      auto del = co_await client->command(std::move(cmd));
      if (!del) co_return unavailable(del.error());
      co_return true;
    }
    if (!r) co_return unavailable(r.error());
    if (r->type != redis::Reply::Type::string) co_return false;
    // The owner stops serving the session and closes its streams before the client is
    // answered (a lost message or a stalled owner: its next revalidation).
    if (r->str != node) {
      json::object drop{{"t", "drop"}, {"s", sid}};
      co_await ask_owner(r->str, std::move(drop));
    }
    co_return true;
  }

  /// A session record that does not parse (written by hand, by a newer incompatible node,
  /// or damaged) would answer 503 forever and never fail over. It cannot become readable
  /// again, so it is logged, counted and removed like a DELETE; the request is answered
  /// 404 and the client initializes a new session (docs/ha.md "Corrupt records").
  net::awaitable<Result<Resolution>> drop_corrupt(std::string sid, Error why) {
    metrics.session_records_corrupt.inc();
    util::log_event(spdlog::level::err, "session record does not parse: removed; its client must initialize again",
                    {{"session", sid}, {"error", why.message}});
    auto r = co_await remove_record(sid);
    if (!r) co_return std::move(r).error();
    co_return Resolution{};
  }

  /// Serverless: every request reads the record; nobody owns a session, nobody takes one over.
  net::awaitable<Result<Resolution>> resolve_serverless(std::string sid) {
    if (!client->connected()) co_return unavailable(Error{errc::kServerError, "redis: not connected", {}});
    auto r = co_await lookup(sid);
    if (!r && wrong_type(r.error())) co_return co_await drop_corrupt(std::move(sid), std::move(r).error());
    if (!r) co_return unavailable(r.error());
    if (reply_str(*r, 0) != "FOUND") {
      sessions->remove(sid);
      co_return Resolution{};
    }
    auto st = parse_state(sid, std::string(reply_str(*r, 1)), reply_int(*r, 2), reply_str(*r, 3), reply_int(*r, 5));
    if (!st) co_return co_await drop_corrupt(std::move(sid), std::move(st).error());
    co_return Resolution{sessions->adopt(std::move(st).value(), false), false};
  }

  net::awaitable<Result<Resolution>> resolve(std::string sid) {
    if (serverless) co_return co_await resolve_serverless(std::move(sid));
    auto local = sessions->find(sid);
    if (local && local->owned() && lease_valid() &&
        now_ns() - local->validated_at() < std::chrono::nanoseconds(kRevalidateInterval).count()) {
      bool announce = local->take_announce_owner();
      co_return Resolution{std::move(local), announce};
    }
    if (!client->connected()) co_return unavailable(Error{errc::kServerError, "redis: not connected", {}});
    for (int attempt = 0; attempt < kClaimAttempts; ++attempt) {
      auto r = co_await lookup(sid);
      if (!r && wrong_type(r.error())) co_return co_await drop_corrupt(std::move(sid), std::move(r).error());
      if (!r) co_return unavailable(r.error());
      if (reply_str(*r, 0) != "FOUND") {
        if (local) fence(sid, "its record is gone (deleted or expired)");
        co_return Resolution{};
      }
      std::string owner(reply_str(*r, 1));
      long long epoch = reply_int(*r, 2);
      bool alive = reply_int(*r, 4) == 1;
      auto st = parse_state(sid, owner, epoch, reply_str(*r, 3), reply_int(*r, 5));
      if (!st) co_return co_await drop_corrupt(std::move(sid), std::move(st).error());
      if (owner == node) {
        // The record names this node right now, so this request may be served even without
        // a lease (the fast path above also needs one to serve from memory later).
        if (local && local->owned() && local->epoch() == static_cast<std::uint64_t>(epoch)) {
          // Take in the record's state (merged with changes not written yet; adopt() marks it
          // validated): a replica's change whose relay message was lost reaches the owner
          // this way, within kRevalidateInterval.
          local = sessions->adopt(std::move(st).value(), true);
          bool announce = local->take_announce_owner();
          co_return Resolution{std::move(local), announce};
        }
        // Ours in Redis but not (or not as owner) in memory: a restart with the same id.
        auto adopted = co_await adopt_owned(std::move(st).value());
        co_return Resolution{std::move(adopted), false};
      }
      if (alive) {
        // Owned here until now and the new owner is alive: a hand-off. Stop holding the
        // stream; requests running here go on as a replica's.
        if (local && local->owned()) demote(local, owner);
        {
          std::lock_guard lock(mu);
          replica_owner[sid] = owner;
        }
        co_return Resolution{sessions->adopt(std::move(st).value(), false), false};
      }
      if (local && local->owned()) fence(sid, "owned by " + owner + " now");
      // The owner is dead: take the session over (the script re-checks all of it).
      std::vector<std::string> t_keys{keys.session(sid)};
      std::vector<std::string> t_args{keys.prefix, sid, owner, node, ttl_ms, lost_message(sid, owner)};
      auto t = co_await scripts.takeover.run(*client, std::move(t_keys), std::move(t_args));
      if (!t) co_return unavailable(t.error());
      auto verdict = reply_str(*t, 0);
      if (verdict == "OK") {
        auto claimed = parse_state(sid, node, reply_int(*t, 1), reply_str(*t, 2), reply_int(*t, 3));
        if (!claimed) co_return co_await drop_corrupt(std::move(sid), std::move(claimed).error());
        metrics.takeover(metrics::Takeover::request);
        auto epoch_str = std::to_string(reply_int(*t, 1));
        util::log_event(spdlog::level::info, "took over a session from a dead node (request path)",
                        {{"session", sid}, {"from", owner}, {"epoch", epoch_str}});
        auto adopted = co_await adopt_owned(std::move(claimed).value());
        co_return Resolution{std::move(adopted), true};
      }
      if (verdict == "MISSING") co_return Resolution{};
      // CONFLICT (someone else won) or ALIVE (it came back): read again and continue.
      util::log().debug("session {}: takeover from {} lost ({}); re-reading", sid, owner, verdict);
    }
    co_return claim_conflict(sid);
  }

  /// Stops holding the session's standalone stream; requests running here go on as a
  /// replica's (a hand-off, or a write that found a newer owner).
  void demote(const std::shared_ptr<Session>& s, const std::string& owner) {
    if (s->owned()) {
      s->set_owned(false);
      s->standalone()->finish();
    }
    std::lock_guard lock(mu);
    replica_owner[s->id()] = owner;
  }

  /// Writes of one session from this node go one at a time (a write based on the revision
  /// another one of them just replaced would only be refused): a request whose change an
  /// earlier write already covered returns when that write (and its owner acknowledgement)
  /// is done, without a write of its own.
  net::awaitable<Status> save(std::shared_ptr<Session> s, bool create) {
    auto waker = std::make_shared<util::Waker>(co_await net::this_coro::executor);
    auto deadline = util::Waker::Clock::now() + kWriteQueueWait;
    for (;;) {
      if (!create && !s->has_unsaved_changes()) co_return Ok{};
      if (s->try_begin_write(waker)) break;
      if (util::Waker::Clock::now() >= deadline) {
        co_return unavailable(Error{errc::kServerError, "another write of this session is still in flight", {}});
      }
      co_await waker->wait_until(deadline);
    }
    struct EndWrite {
      Session& s;
      ~EndWrite() { s.end_write(); }
    } end_write{*s};
    co_return co_await save_now(s, create);  // a copy: end_write needs the session after it
  }

  /// A write found the record corrupt (and drop_corrupt removed it): the session is gone.
  static Status corrupt_on_save(const Result<Resolution>& dropped) {
    if (!dropped) return dropped.error();
    return Error{errc::kSessionNotFound, "Session not found", {}};
  }

  net::awaitable<Status> save_now(std::shared_ptr<Session> s, bool create) {
    for (int attempt = 0; attempt < kClaimAttempts; ++attempt) {
      auto [st, covers] = s->snapshot_for_save();
      std::vector<std::string> r_keys{keys.session(s->id())};
      // Based on the revision last read or written here (compare-and-set): a full state
      // never overwrites a change another node made since.
      std::vector<std::string> r_args{keys.prefix, s->id(), std::to_string(st.epoch), json::serialize(st.to_json()),
                                      ttl_ms, create ? node : std::string(), serverless ? "0" : "1", "",
                                      create ? std::string() : std::to_string(st.rev)};
      auto r = co_await scripts.save.run(*client, std::move(r_keys), std::move(r_args));
      if (!r) co_return unavailable(r.error());
      auto verdict = reply_str(*r, 0);
      if (verdict == "CHANGED") {
        // Same owner and epoch, but another node (a replica) wrote since this node read:
        // apply this node's changes to that state and write again.
        auto fresh = parse_state(s->id(), reply_str(*r, 1), reply_int(*r, 2), reply_str(*r, 3), reply_int(*r, 4));
        if (!fresh) co_return corrupt_on_save(co_await drop_corrupt(s->id(), std::move(fresh).error()));
        s->merge_changes(std::move(fresh).value());
        util::log().debug("session {}: write based on an older revision; merged and retrying", s->id());
        continue;
      }
      if (verdict == "OK") {
        auto rev = static_cast<std::uint64_t>(reply_int(*r, 2));
        s->mark_saved(covers, st, rev);
        if (serverless) {
          s->set_owned(false);  // any instance serves it from the record
          co_return Ok{};
        }
        if (!s->owned()) {
          // A replica changed the state (setLevel, subscribe): the owner applies it too.
          if (auto owner = owner_of(s->id()); !owner.empty()) co_await tell_owner(s, owner, st.epoch, rev, st.to_json());
        }
        co_return Ok{};
      }
      if (verdict == "MISSING") {
        fence(s->id(), "its record is gone");
        co_return Error{errc::kSessionNotFound, "Session not found", {}};
      }
      // STALE: the session changed owner since this node read it (a hand-off while the
      // request ran, or a takeover). Re-read it and apply this request's changes on top
      // of the current state, under the current epoch.
      auto l = co_await lookup(s->id());
      if (!l) co_return unavailable(l.error());
      if (reply_str(*l, 0) != "FOUND") {
        fence(s->id(), "its record is gone");
        co_return Error{errc::kSessionNotFound, "Session not found", {}};
      }
      std::string owner(reply_str(*l, 1));
      auto fresh = parse_state(s->id(), owner, reply_int(*l, 2), reply_str(*l, 3), reply_int(*l, 5));
      if (!fresh) co_return corrupt_on_save(co_await drop_corrupt(s->id(), std::move(fresh).error()));
      if (owner != node) demote(s, owner);
      s->merge_changes(std::move(fresh).value());
      util::log().debug("session {}: write raced with an owner change (now {}); retrying", s->id(), owner);
    }
    co_return claim_conflict(s->id());
  }

  // ---- relay --------------------------------------------------------------------------

  /// A relay message as published on `channel`: signed with the relay secret (RelayAuth).
  std::string seal(const std::string& channel, const json::object& m) const {
    return auth.seal(channel, json::serialize(m), RelayAuth::wall_clock_ms());
  }
  /// takeover.lua publishes it to the old owner (fencing a stalled one).
  std::string lost_message(const std::string& sid, const std::string& old_owner) const {
    return seal(keys.notify(old_owner), json::object{{"t", "lost"}, {"s", sid}, {"by", node}});
  }
  void publish(const std::string& node_id, const json::object& m) { publish_on(keys.notify(node_id), m); }
  void broadcast(const json::object& m) { publish_on(keys.broadcast(), m); }
  void publish_on(std::string channel, const json::object& m) {
    metrics.relay_published.inc();
    auto wire = seal(channel, m);
    client->send({"PUBLISH", std::move(channel), std::move(wire)});
  }
  /// A relayed message refused before it was acted on: counted
  /// (frontmcp_relay_refused_total{reason}), logged at warning at most once per
  /// kRefusalLogInterval (an attacker must not be able to flood the log), else at debug.
  void refused(metrics::RelayRefusal why, std::string_view channel) {
    metrics.relay_refused(why);
    auto now = now_ns();
    auto last = last_refusal_log.load(std::memory_order_relaxed);
    bool loud = now - last >= std::chrono::nanoseconds(kRefusalLogInterval).count() &&
                last_refusal_log.compare_exchange_strong(last, now, std::memory_order_relaxed);
    util::log_event(loud ? spdlog::level::warn : spdlog::level::debug, "relay: message refused",
                    {{"reason", metrics::name_of(why)}, {"channel", channel}});
  }
  std::atomic<std::int64_t> last_refusal_log{0};
  /// Counts a relayed message that was (or was not) delivered here.
  void delivered(bool yes, std::string_view type = {}, std::string_view sid = {}) {
    if (yes) {
      metrics.relay_delivered.inc();
      return;
    }
    metrics.relay_dropped.inc();
    util::log_event(spdlog::level::debug, "relay: message dropped", {{"type", type}, {"session", sid}});
  }

  void on_message(std::string_view channel, std::string_view wire) {
    auto opened = auth.open(channel, wire, RelayAuth::wall_clock_ms());
    if (!opened) {
      refused(*opened.refusal, channel);
      return;
    }
    boost::system::error_code ec;
    auto v = json::parse(opened.payload, ec);
    if (ec || !v.is_object()) {
      refused(metrics::RelayRefusal::malformed, channel);
      return;
    }
    auto& m = v.get_object();
    auto type = m.contains("t") && m.at("t").is_string() ? std::string_view(m.at("t").get_string()) : "";
    std::string sid = m.contains("s") && m.at("s").is_string() ? std::string(m.at("s").get_string()) : "";
    std::string origin = m.contains("o") && m.at("o").is_string() ? std::string(m.at("o").get_string()) : "";
    if (type == "msg") {
      auto s = sessions->find(sid);
      bool ok = s && s->owned() && m.contains("m");
      if (ok) deliver(s, m.at("m"));
      delivered(ok, type, sid);
    } else if (type == "sub") {
      // Broadcast: a node without subscribers of the URI has nothing to deliver (not a drop).
      if (origin == node || !m.contains("u") || !m.at("u").is_string() || !m.contains("m")) return;
      for (const auto& s : sessions->subscribers(m.at("u").get_string())) {
        if (s->owned()) {
          deliver(s, m.at("m"));
          delivered(true);
        }
      }
    } else if (type == "all") {
      if (origin == node || !m.contains("m")) return;
      for (const auto& s : sessions->all()) {
        if (s->owned() && s->initialized()) {
          deliver(s, m.at("m"));
          delivered(true);
        }
      }
    } else if (type == "resp") {
      if (!m.contains("r") || !m.at("r").is_string()) {
        delivered(false, type, sid);
        return;
      }
      std::string rid(m.at("r").get_string());
      if (auto call = take_ack(rid)) {  // an owner acknowledged (ask_owner)
        call->complete(json::value(true));
        delivered(true);
        return;
      }
      auto s = sessions->find(sid);
      if (!s) {
        delivered(false, type, sid);
        return;
      }
      if (m.contains("err") && m.at("err").is_object()) {
        const auto& e = m.at("err").get_object();
        Error err{e.contains("code") && e.at("code").is_int64() ? static_cast<int>(e.at("code").get_int64())
                                                                 : errc::kInternalError,
                  e.contains("message") && e.at("message").is_string() ? std::string(e.at("message").get_string()) : "",
                  e.contains("data") ? e.at("data") : json::value()};
        delivered(s->resolve_pending(rid, std::move(err)), type, sid);
      } else {
        delivered(s->resolve_pending(rid, m.contains("ok") ? m.at("ok") : json::value()), type, sid);
      }
    } else if (type == "state") {
      apply_replica_state(sid, m);
      // The replica waits for this before it answers its client (see save()): acknowledge
      // whether or not it applied (a stale one changes nothing; the record has it anyway).
      acknowledge(sid, m);
    } else if (type == "lost") {
      fence(sid, "taken over by " + (m.contains("by") && m.at("by").is_string() ? std::string(m.at("by").get_string()) : "?"));
    } else if (type == "drop") {
      // DELETE on another node: it answers its client once this is acknowledged.
      sessions->remove(sid);
      acknowledge(sid, m);
    } else if (type == "handoff") {
      if (!m.contains("to") || !m.at("to").is_string()) return;
      net::co_spawn(ex, handoff(shared_from_this(), sid, std::string(m.at("to").get_string())), net::detached);
    } else if (type == "owned") {
      // handoff.lua: the live owner gave this node a session (it asked, in acquire()):
      // adopt it now rather than at acquire()'s next poll.
      auto s = sessions->find(sid);
      if (!s || s->owned()) return;
      net::co_spawn(ex, adopt_given(shared_from_this(), sid), net::detached);
      delivered(true);
    } else if (type == "left") {
      poke_scanner();
    } else if (type == "legacy") {
      auto s = sessions->find(sid);
      if (!s || !s->owned() || !m.contains("b") || !m.at("b").is_string() || !legacy_handler) {
        delivered(false, type, sid);
        return;
      }
      legacy_handler(s, std::string(m.at("b").get_string()));
      delivered(true);
    } else {
      // A newer node's message type, or garbage: counted, never acted on.
      refused(metrics::RelayRefusal::unknown_type, channel);
    }
  }

  static net::awaitable<void> adopt_given(std::shared_ptr<Impl> self, std::string sid) {
    auto r = co_await self->resolve(sid);
    if (!r) util::log().debug("session {}: adopting a handed-off session failed: {}", sid, r.error().message);
  }

  /// A replica changed a session's state (subscriptions, log level): the owner applies it.
  void apply_replica_state(const std::string& sid, const json::object& m) {
    auto s = sessions->find(sid);
    if (!s || !s->owned() || !m.contains("st") || !m.at("st").is_object()) return;
    auto e = m.contains("e") && m.at("e").is_number() ? m.at("e").to_number<std::uint64_t>() : 0;
    if (e != s->epoch()) return;
    auto st = SessionState::from_json(m.at("st").get_object());
    if (!st) return;
    st->node_id = node;
    st->epoch = e;
    st->rev = m.contains("v") && m.at("v").is_number() ? m.at("v").to_number<std::uint64_t>() : 0;
    sessions->adopt(std::move(st).value(), true);
  }

  /// Sends a replica's state change to the owner and waits until the owner has applied it:
  /// a client told "subscribed" must get the next update, even when its next request
  /// reaches the owner before Pub/Sub would have.
  net::awaitable<void> tell_owner(std::shared_ptr<Session> s, std::string owner, std::uint64_t epoch, std::uint64_t rev,
                                  json::object st) {
    // (Named: g++ 12 cannot keep an initializer list across co_await.)
    json::object msg{{"t", "state"}, {"s", s->id()}, {"e", epoch}, {"v", rev}, {"st", std::move(st)}};
    co_await ask_owner(std::move(owner), std::move(msg));
  }

  /// Publishes `msg` to `owner` with a reply id ("r": "<random>@<this node>") and waits at
  /// most kStateAckWait for the owner's acknowledgement (acknowledge()). False on timeout
  /// (the owner stalled or died; what it would have done, its next revalidation does).
  net::awaitable<bool> ask_owner(std::string owner, json::object msg) {
    auto waker = std::make_shared<util::Waker>(co_await net::this_coro::executor);
    auto call = std::make_shared<session::PendingCall>(waker);
    std::string rid = util::random_hex_id() + "@" + node;
    {
      std::lock_guard lock(mu);
      acks.emplace(rid, call);
    }
    std::string sid = msg.contains("s") && msg.at("s").is_string() ? std::string(msg.at("s").get_string()) : "";
    std::string type = msg.contains("t") && msg.at("t").is_string() ? std::string(msg.at("t").get_string()) : "";
    msg["r"] = rid;
    publish(owner, std::move(msg));
    auto ack = co_await call->wait_until(util::Waker::Clock::now() + kStateAckWait);
    take_ack(rid);
    if (!ack) {
      util::log_event(spdlog::level::debug, "relay: the owner did not acknowledge in time",
                      {{"type", type}, {"session", sid}, {"owner", owner}});
    }
    co_return ack.has_value();
  }
  /// The waiting ask_owner() call of reply id `rid` (removed), or nullptr.
  std::shared_ptr<session::PendingCall> take_ack(const std::string& rid) {
    std::lock_guard lock(mu);
    auto it = acks.find(rid);
    if (it == acks.end()) return nullptr;
    auto call = std::move(it->second);
    acks.erase(it);
    return call;
  }
  /// Answers an ask_owner() message (one that carries "r": "<id>@<node>").
  void acknowledge(const std::string& sid, const json::object& m) {
    if (!m.contains("r") || !m.at("r").is_string()) return;
    std::string rid(m.at("r").get_string());
    if (auto at = rid.rfind('@'); at != std::string::npos && rid.substr(at + 1) != node) {
      publish(rid.substr(at + 1), json::object{{"t", "resp"}, {"s", sid}, {"r", rid}, {"ok", true}});
    }
  }

  /// The live owner gives a session to the node where its client's GET stream arrived.
  /// Also when the session is not in memory here: a node restarted under the same id owns
  /// its sessions in Redis before any request made it load them (handoff.lua checks that
  /// this node is the owner, atomically).
  static net::awaitable<void> handoff(std::shared_ptr<Impl> self, std::string sid, std::string to) {
    if (to == self->node) co_return;
    auto s = self->sessions->find(sid);
    std::vector<std::string> r_keys{self->keys.session(sid)};
    std::vector<std::string> r_args{self->keys.prefix, sid, self->node, to, self->ttl_ms,
                                    self->seal(self->keys.notify(to), json::object{{"t", "owned"}, {"s", sid}, {"from", self->node}})};
    auto r = co_await self->scripts.handoff.run(*self->client, std::move(r_keys), std::move(r_args));
    if (!r || reply_str(*r, 0) != "OK") co_return;
    // Stay a replica: requests running here go on; the standalone stream moves.
    if (s) {
      self->demote(s, to);
    } else {
      std::lock_guard lock(self->mu);
      self->replica_owner[sid] = to;
    }
    util::log().info("handed session {} to {} (epoch {})", sid, to, reply_int(*r, 1));
  }
};

// ---- the message bus of distributed mode ------------------------------------------------

namespace {
class ClusterBus final : public session::MessageBus {
 public:
  ClusterBus(std::shared_ptr<Cluster::Impl> impl, session::SessionManager& sessions)
      : impl_(std::move(impl)), sessions_(sessions) {}

  bool to_session(const std::string& session_id, const json::value& msg) override {
    auto s = sessions_.find(session_id);
    if (s && s->owned()) {
      impl_->deliver(s, msg);
      return true;
    }
    std::string owner = impl_->owner_of(session_id);
    if (owner.empty() || !impl_->client) {
      impl_->delivered(false, "to_session (owner unknown)", session_id);
      return false;
    }
    impl_->publish(owner, json::object{{"t", "msg"}, {"s", session_id}, {"m", msg}});
    return true;
  }
  void to_subscribers(std::string_view uri, const json::value& msg) override {
    for (const auto& s : sessions_.subscribers(uri)) impl_->deliver(s, msg);
    if (impl_->client) impl_->broadcast(json::object{{"t", "sub"}, {"u", uri}, {"m", msg}, {"o", impl_->node}});
  }
  void to_all(const json::value& msg) override {
    for (const auto& s : sessions_.all()) {
      if (s->initialized()) impl_->deliver(s, msg);
    }
    if (impl_->client) impl_->broadcast(json::object{{"t", "all"}, {"m", msg}, {"o", impl_->node}});
  }
  bool client_response(const std::string& session_id, const std::string& request_id,
                       Result<json::value> answer) override {
    if (auto s = sessions_.find(session_id); s && s->resolve_pending(request_id, answer)) return true;
    // Ids of server->client requests end with "@<nodeId>" of the node that waits.
    auto at = request_id.find('@');
    if (at == std::string::npos || !impl_->client) return false;
    std::string waiting = request_id.substr(at + 1);
    if (waiting == impl_->node) return false;
    json::object m{{"t", "resp"}, {"s", session_id}, {"r", request_id}};
    if (answer) {
      m["ok"] = std::move(answer).value();
    } else {
      const auto& e = answer.error();
      m["err"] = json::object{{"code", e.code}, {"message", e.message}, {"data", e.data}};
    }
    impl_->publish(waiting, m);
    return true;
  }

 private:
  std::shared_ptr<Cluster::Impl> impl_;
  session::SessionManager& sessions_;
};

/// co_spawn(use_future) needs a default-constructible result.
net::awaitable<std::optional<Result<redis::Reply>>> run_optional(const Script* script, redis::Client* client,
                                                                 std::vector<std::string> keys,
                                                                 std::vector<std::string> args) {
  co_return co_await script->run(*client, std::move(keys), std::move(args));
}

/// From a thread that is not one of the I/O threads (shutdown).
Result<redis::Reply> run_blocking(net::any_io_executor ex, const Script& script, redis::Client& client,
                                  std::vector<std::string> keys, std::vector<std::string> args) {
  auto fut = net::co_spawn(ex, run_optional(&script, &client, std::move(keys), std::move(args)), net::use_future);
  return *fut.get();
}
}  // namespace

// ---- Cluster ----------------------------------------------------------------------------

Cluster::Cluster(const ServerOptions& options, std::string node_id, metrics::Metrics& metrics)
    : impl_(std::make_shared<Impl>(options, std::move(node_id), metrics)) {}

Cluster::~Cluster() { stop(); }

std::shared_ptr<session::EventStore> Cluster::event_store() const { return impl_->events; }

std::unique_ptr<session::MessageBus> Cluster::make_bus(session::SessionManager& sessions) {
  return std::make_unique<ClusterBus>(impl_, sessions);
}

const std::string& Cluster::node_id() const noexcept { return impl_->node; }

void Cluster::start(session::SessionManager& sessions, net::any_io_executor ex) {
  auto& im = *impl_;
  im.sessions = &sessions;
  im.ex = ex;
  im.legacy_handler = legacy_handler;
  im.strand.emplace(net::make_strand(ex));
  im.hb_timer = std::make_unique<net::steady_timer>(*im.strand);
  im.scan_timer = std::make_unique<net::steady_timer>(*im.strand);
  auto cfg = redis::Config::from_url(im.opt.ha.redis_url);
  if (!cfg) throw std::runtime_error("HaConfigurationError: " + cfg.error().message);
  redis::Config client_cfg = *cfg;
  client_cfg.on_command = [m = &im.metrics](std::chrono::nanoseconds elapsed, redis::Config::Outcome outcome) {
    if (outcome != redis::Config::Outcome::ok) m->redis_errors.inc();
    if (outcome != redis::Config::Outcome::failed) m->redis_command_duration.observe(elapsed);
  };
  im.client = std::make_unique<redis::Client>(ex, std::move(client_cfg));
  im.events->set_client(im.client.get());
  std::weak_ptr<Impl> weak = impl_;
  if (im.serverless) {
    im.client->start();
    return;
  }
  im.client->start([weak](bool up) {
    if (auto self = weak.lock()) self->on_client_state(up);
  });
  redis::Config sub_cfg = *cfg;
  sub_cfg.ping_interval = kRelayPing;
  sub_cfg.on_alive = [weak](std::chrono::steady_clock::time_point sent) {
    if (auto self = weak.lock()) self->relay_alive(sent.time_since_epoch().count());
  };
  im.sub = std::make_unique<redis::Subscriber>(
      ex, std::move(sub_cfg), std::vector<std::string>{im.keys.notify(im.node), im.keys.broadcast()},
      [weak](std::string_view ch, std::string_view payload) {
        if (auto self = weak.lock()) self->on_message(ch, payload);
      },
      [weak](bool up) {
        if (auto self = weak.lock()) self->on_relay_state(up);
      });
  im.sub->start();
  net::co_spawn(*im.strand, Impl::heartbeat_loop(impl_), net::detached);
  net::co_spawn(*im.strand, Impl::scanner_loop(impl_), net::detached);
}

bool Cluster::wait_ready(std::chrono::milliseconds wait) {
  auto& im = *impl_;
  auto deadline = std::chrono::steady_clock::now() + wait;
  // Startup only (not a request path): poll until the first heartbeat and subscription.
  while (!ready() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (ready()) {
    util::log().info("{} mode: node {} on redis {} (prefix {})", to_string(im.opt.mode), im.node,
                     im.client->config().redacted(), im.keys.prefix);
    return true;
  }
  util::log().warn("{} mode: redis {} not ready yet ({}); retrying in the background", to_string(im.opt.mode),
                   im.client->config().redacted(), probes().failing());
  return false;
}

void Cluster::leave() {
  auto& im = *impl_;
  if (!im.client || im.stopping.exchange(true) || im.serverless) return;
  im.lease_until.store(0);
  im.poke_heartbeat();
  im.poke_scanner();
  auto r = run_blocking(im.ex, im.scripts.leave, *im.client, {im.keys.heartbeat(im.node), im.keys.nodes()},
                        {im.node, std::to_string(im.opt.ha.takeover_grace_period.count()), im.keys.broadcast(), im.keys.prefix,
                         im.seal(im.keys.broadcast(), json::object{{"t", "left"}, {"n", im.node}})});
  if (r) {
    util::log().info("left the cluster: heartbeat deleted, {} sessions handed off", r->integer);
  } else {
    util::log().warn("could not leave the cluster cleanly ({}); sessions move after the heartbeat TTL",
                     r.error().message);
  }
}

void Cluster::stop() {
  auto& im = *impl_;
  im.stopping = true;
  im.poke_heartbeat();
  im.poke_scanner();
  if (im.sub) im.sub->stop();
  if (im.client) im.client->stop();
}

void Cluster::release_io() {
  auto& im = *impl_;
  stop();
  im.events->set_client(nullptr);
  im.hb_timer.reset();
  im.scan_timer.reset();
  im.sub.reset();
  im.client.reset();
  // Executors too: a strand's implementation refers to its context's service.
  im.strand.reset();
  im.ex = {};
  im.legacy_handler = nullptr;
  legacy_handler = nullptr;
}

Cluster::Probes Cluster::probes() const {
  auto& im = *impl_;
  Probes p;
  if (!im.client || !im.client->connected()) {
    p.redis = "redis unreachable";
    if (im.client && !im.client->last_error().empty()) p.redis += ": " + im.client->last_error();
  }
  if (im.serverless) return p;  // no relay, no heartbeat
  if (!im.sub || !im.sub->subscribed()) p.relay = "relay not subscribed";
  if (now_ns() >= im.lease_until.load(std::memory_order_acquire)) {
    p.heartbeat = "no recent heartbeat";
  } else if (!im.lease_valid()) {
    p.heartbeat = "relay lease expired (the relay subscription was not proven alive recently)";
  }
  return p;
}

bool Cluster::serverless() const noexcept { return impl_->serverless; }

double Cluster::heartbeat_age_seconds() const {
  auto last = impl_->last_beat.load(std::memory_order_relaxed);
  if (last == 0) return -1;
  return static_cast<double>(now_ns() - last) / 1e9;
}

net::awaitable<Result<Resolution>> Cluster::resolve(std::string session_id) {
  return impl_->resolve(std::move(session_id));
}

net::awaitable<Status> Cluster::create(std::shared_ptr<Session> s) { return impl_->save(std::move(s), true); }

net::awaitable<Status> Cluster::persist(std::shared_ptr<Session> s) { return impl_->save(std::move(s), false); }

net::awaitable<Result<bool>> Cluster::remove(std::string session_id) {
  return impl_->remove_record(std::move(session_id));
}

net::awaitable<Result<int>> Cluster::writer_alive(std::string stream_key) {
  auto& im = *impl_;
  std::vector<std::string> r_keys{im.keys.writer(stream_key)};
  std::vector<std::string> r_args{im.keys.prefix};
  auto r = co_await im.scripts.writer.run(*im.client, std::move(r_keys), std::move(r_args));
  if (!r) co_return unavailable(r.error());
  co_return static_cast<int>(r->integer);
}

net::awaitable<Result<std::vector<StoredEvent>>> Cluster::read_events(std::string stream_key, std::uint64_t after_seq) {
  auto r = co_await impl_->read_events(std::move(stream_key), after_seq);
  if (!r) co_return unavailable(r.error());
  co_return r;
}

net::awaitable<bool> Cluster::acquire(std::shared_ptr<Session> s, std::chrono::milliseconds wait) {
  auto& im = *impl_;
  auto deadline = std::chrono::steady_clock::now() + wait;
  auto last_ask = std::chrono::steady_clock::time_point{};
  net::steady_timer timer(co_await net::this_coro::executor);
  while (std::chrono::steady_clock::now() < deadline && !im.stopping) {
    auto r = co_await im.resolve(s->id());
    if (!r || !r->session) co_return false;
    if (r->session->owned()) co_return true;
    std::string owner = owner_of(s->id());
    if (!owner.empty() && std::chrono::steady_clock::now() - last_ask >= kHandoffRepeat) {
      im.publish(owner, json::object{{"t", "handoff"}, {"s", s->id()}, {"to", im.node}});
      last_ask = std::chrono::steady_clock::now();
    }
    boost::system::error_code ec;
    timer.expires_after(kAcquirePoll);
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
  co_return false;
}

net::awaitable<Status> Cluster::relay_legacy(std::string session_id, std::string owner, std::string body) {
  auto& im = *impl_;
  auto channel = im.keys.notify(owner);
  auto wire = im.seal(channel, json::object{{"t", "legacy"}, {"s", session_id}, {"b", body}});
  redis::Command cmd{"PUBLISH", std::move(channel), std::move(wire)};
  auto r = co_await im.client->command(std::move(cmd));
  if (!r) co_return unavailable(r.error());
  if (r->integer == 0) co_return Error{errc::kSessionNotFound, "Session not found", {}};
  co_return Ok{};
}

std::string Cluster::owner_of(const std::string& session_id) const { return impl_->owner_of(session_id); }

std::string affinity_cookie(const std::string& node_id, std::chrono::milliseconds max_age, bool secure) {
  std::string c = "__frontmcp_node=" + node_id + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                  std::to_string(std::chrono::duration_cast<std::chrono::seconds>(max_age).count());
  if (secure) c += "; Secure";
  return c;
}

}  // namespace frontmcp::cluster
