// The Redis session directory (docs/ha.md "Ownership", "Scripts"): which node owns a
// session and at which epoch. Resolving a request's session (lookup.lua, takeover.lua
// when the owner is dead), writing its state (save.lua, fenced and compare-and-set),
// removing it (remove.lua), adopting a session this node now owns, fencing and demoting
// one it lost, and the hand-off of a live session to the node its GET stream reached.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "cluster/cluster_impl.hpp"
#include "util/log.hpp"

namespace frontmcp::cluster {

using session::Session;
using session::SessionState;
using session::StoredEvent;

namespace {

/// How often acquire() re-reads the owner while waiting for a hand-off or a takeover.
constexpr std::chrono::milliseconds kAcquirePoll{25};
/// How often acquire() repeats its hand-off request to a live owner.
constexpr std::chrono::milliseconds kHandoffRepeat{250};
/// The longest a state write waits for an earlier write of the same session from this node
/// (each is bounded by kClaimAttempts Redis round trips).
constexpr std::chrono::seconds kWriteQueueWait{10};

/// A write found the record corrupt (and drop_corrupt removed it): the session is gone.
Done corrupt_on_save(const Outcome<Resolution>& dropped) {
  if (!dropped) return dropped.error();
  return not_found();
}

}  // namespace

Result<SessionState> parse_state(std::string_view sid, std::string_view node, long long epoch, std::string_view json,
                                 long long rev) {
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

/// Makes the local object of a session this node now owns, with its standalone
/// stream's events from the shared log (so ids continue and Last-Event-ID replays).
/// The history is in place before the session counts as owned here: a GET that finds it
/// owned starts from the stream's last event, so it must not see the history arrive after.
net::awaitable<std::shared_ptr<Session>> Cluster::Impl::adopt_owned(SessionState st) {
  std::string sid = st.id;
  std::vector<StoredEvent> history;
  if (opt.session.resumability) {
    auto evs = co_await read_events(sid + "/0", 0);
    if (evs) history = std::move(evs).value();
  }
  auto s = adopt(*sessions, std::move(st), false);
  s->standalone()->reopen();
  s->standalone()->preload(std::move(history));
  placement(*s).set_owned(true);
  {
    std::lock_guard lock(mu);
    replica_owner.erase(sid);
  }
  co_return s;
}

void Cluster::Impl::fence(const std::string& sid, std::string_view why) {
  if (sessions->remove(sid)) util::log().warn("session {}: {}; stopped serving it here", sid, why);
}

/// lookup.lua for one session (also slides its idle TTL): {"MISSING"} or
/// {"FOUND", nodeId, epoch, state, alive}.
net::awaitable<Result<redis::Reply, ScriptError>> Cluster::Impl::lookup(
    std::string sid) {  // by value: a coroutine parameter
  std::vector<std::string> r_keys{keys.session(sid)};
  std::vector<std::string> r_args{keys.prefix, node, ttl_ms};
  co_return co_await scripts.lookup.run(*client, std::move(r_keys), std::move(r_args));
}

/// remove.lua, then the owner (if another node) drops the session before this returns.
/// False: there was no record.
net::awaitable<Outcome<bool>> Cluster::Impl::remove_record(std::string sid) {
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
    relay::Message drop = relay::Drop{sid, {}};
    co_await ask_owner(r->str, std::move(drop));
  }
  co_return true;
}

/// A session record that does not parse (written by hand, by a newer incompatible node,
/// or damaged) would answer 503 forever and never fail over. It cannot become readable
/// again, so it is logged, counted and removed like a DELETE; the request is answered
/// 404 and the client initializes a new session (docs/ha.md "Corrupt records").
net::awaitable<Outcome<Resolution>> Cluster::Impl::drop_corrupt(std::string sid, Error why) {
  metrics.session_records_corrupt.inc();
  util::log_event(spdlog::level::err, "session record does not parse: removed; its client must initialize again",
                  {{"session", sid}, {"error", why.message}});
  auto r = co_await remove_record(sid);
  if (!r) co_return std::move(r).error();
  co_return Resolution{};
}

/// Serverless: every request reads the record; nobody owns a session, nobody takes one over.
net::awaitable<Outcome<Resolution>> Cluster::Impl::resolve_serverless(std::string sid) {
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
  co_return Resolution{adopt(*sessions, std::move(st).value(), false), false};
}

std::optional<Resolution> Cluster::Impl::resolve_from_memory(std::string_view sid) {
  if (serverless) return std::nullopt;
  auto local = sessions->find(sid);
  if (local && owns(*local) && lease_valid() &&
      now_ns() - placement(*local).validated_at() < std::chrono::nanoseconds(kRevalidateInterval).count()) {
    bool announce = placement(*local).take_announce_owner();
    return Resolution{std::move(local), announce};
  }
  return std::nullopt;
}

net::awaitable<Outcome<Resolution>> Cluster::Impl::resolve(std::string sid) {
  if (serverless) co_return co_await resolve_serverless(std::move(sid));
  if (auto fast = resolve_from_memory(sid)) co_return std::move(*fast);
  auto local = sessions->find(sid);
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
      if (local && owns(*local) && epoch_of(*local) == static_cast<std::uint64_t>(epoch)) {
        // Take in the record's state (merged with changes not written yet; adopt() marks it
        // validated): a replica's change whose relay message was lost reaches the owner
        // this way, within kRevalidateInterval.
        local = adopt(*sessions, std::move(st).value(), true);
        bool announce = placement(*local).take_announce_owner();
        co_return Resolution{std::move(local), announce};
      }
      // Ours in Redis but not (or not as owner) in memory: a restart with the same id.
      auto adopted = co_await adopt_owned(std::move(st).value());
      co_return Resolution{std::move(adopted), false};
    }
    if (alive) {
      // Owned here until now and the new owner is alive: a hand-off. Stop holding the
      // stream; requests running here go on as a replica's.
      if (local && owns(*local)) demote(local, owner);
      {
        std::lock_guard lock(mu);
        replica_owner[sid] = owner;
      }
      co_return Resolution{adopt(*sessions, std::move(st).value(), false), false};
    }
    if (local && owns(*local)) fence(sid, "owned by " + owner + " now");
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
void Cluster::Impl::demote(const std::shared_ptr<Session>& s, const std::string& owner) {
  if (auto& p = placement(*s); p.owned()) {
    p.set_owned(false);
    s->standalone()->finish();
  }
  std::lock_guard lock(mu);
  replica_owner[s->id()] = owner;
}

/// Writes of one session from this node go one at a time (a write based on the revision
/// another one of them just replaced would only be refused): a request whose change an
/// earlier write already covered returns when that write (and its owner acknowledgement)
/// is done, without a write of its own.
net::awaitable<Done> Cluster::Impl::save(std::shared_ptr<Session> s, bool create) {
  auto& p = placement(*s);
  auto waker = std::make_shared<util::Waker>(co_await net::this_coro::executor);
  auto deadline = util::Waker::Clock::now() + kWriteQueueWait;
  for (;;) {
    if (!create && !p.has_unsaved_changes(*s)) co_return Ok{};
    if (p.try_begin_write(waker)) break;
    if (util::Waker::Clock::now() >= deadline) {
      co_return unavailable(Error{errc::kServerError, "another write of this session is still in flight", {}});
    }
    co_await waker->wait_until(deadline);
  }
  struct EndWrite {
    Placement& p;
    ~EndWrite() { p.end_write(); }
  } end_write{p};
  co_return co_await save_now(s, create);  // a copy: end_write needs the session (its placement) after it
}

net::awaitable<Done> Cluster::Impl::save_now(std::shared_ptr<Session> s, bool create) {
  auto& p = placement(*s);
  for (int attempt = 0; attempt < kClaimAttempts; ++attempt) {
    auto [st, covers] = p.snapshot_for_save(*s);
    std::vector<std::string> r_keys{keys.session(s->id())};
    // Based on the revision last read or written here (compare-and-set): a full state
    // never overwrites a change another node made since.
    std::vector<std::string> r_args{keys.prefix,
                                    s->id(),
                                    std::to_string(st.epoch),
                                    json::serialize(st.to_json()),
                                    ttl_ms,
                                    create ? node : std::string(),
                                    serverless ? "0" : "1",
                                    "",
                                    create ? std::string() : std::to_string(st.rev)};
    auto r = co_await scripts.save.run(*client, std::move(r_keys), std::move(r_args));
    if (!r) co_return unavailable(r.error());
    auto verdict = reply_str(*r, 0);
    if (verdict == "CHANGED") {
      // Same owner and epoch, but another node (a replica) wrote since this node read:
      // apply this node's changes to that state and write again.
      auto fresh = parse_state(s->id(), reply_str(*r, 1), reply_int(*r, 2), reply_str(*r, 3), reply_int(*r, 4));
      if (!fresh) co_return corrupt_on_save(co_await drop_corrupt(s->id(), std::move(fresh).error()));
      p.merge(*s, std::move(fresh).value());
      util::log().debug("session {}: write based on an older revision; merged and retrying", s->id());
      continue;
    }
    if (verdict == "OK") {
      auto rev = static_cast<std::uint64_t>(reply_int(*r, 2));
      p.mark_saved(covers, st, rev);
      if (serverless) {
        p.set_owned(false);  // any instance serves it from the record
        co_return Ok{};
      }
      if (!p.owned()) {
        // A replica changed the state (setLevel, subscribe): the owner applies it too.
        if (auto owner = owner_of(s->id()); !owner.empty()) co_await tell_owner(s, owner, st.epoch, rev, st.to_json());
      }
      co_return Ok{};
    }
    if (verdict == "MISSING") {
      fence(s->id(), "its record is gone");
      co_return not_found();
    }
    // STALE: the session changed owner since this node read it (a hand-off while the
    // request ran, or a takeover). Re-read it and apply this request's changes on top
    // of the current state, under the current epoch.
    auto l = co_await lookup(s->id());
    if (!l) co_return unavailable(l.error());
    if (reply_str(*l, 0) != "FOUND") {
      fence(s->id(), "its record is gone");
      co_return not_found();
    }
    std::string owner(reply_str(*l, 1));
    auto fresh = parse_state(s->id(), owner, reply_int(*l, 2), reply_str(*l, 3), reply_int(*l, 5));
    if (!fresh) co_return corrupt_on_save(co_await drop_corrupt(s->id(), std::move(fresh).error()));
    if (owner != node) demote(s, owner);
    p.merge(*s, std::move(fresh).value());
    util::log().debug("session {}: write raced with an owner change (now {}); retrying", s->id(), owner);
  }
  co_return claim_conflict(s->id());
}

/// The live owner gives a session to the node where its client's GET stream arrived.
/// Also when the session is not in memory here: a node restarted under the same id owns
/// its sessions in Redis before any request made it load them (handoff.lua checks that
/// this node is the owner, atomically).
net::awaitable<void> Cluster::Impl::handoff(std::shared_ptr<Impl> self, std::string sid, std::string to) {
  if (to == self->node) co_return;
  auto s = self->sessions->find(sid);
  std::vector<std::string> r_keys{self->keys.session(sid)};
  std::vector<std::string> r_args{self->keys.prefix, sid,
                                  self->node,        to,
                                  self->ttl_ms,      self->seal(self->keys.notify(to), relay::Owned{sid, self->node})};
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

/// handoff.lua told this node it owns `sid` now ("owned"): adopt it at once.
net::awaitable<void> Cluster::Impl::adopt_given(std::shared_ptr<Impl> self, std::string sid) {
  auto r = co_await self->resolve(sid);
  if (!r) util::log().debug("session {}: adopting a handed-off session failed: {}", sid, r.error().message);
}

// ---- Cluster ----------------------------------------------------------------------------

std::optional<Resolution> Cluster::resolve_from_memory(std::string_view session_id) {
  return impl_->resolve_from_memory(session_id);
}

net::awaitable<Outcome<Resolution>> Cluster::resolve(std::string session_id) {
  return impl_->resolve(std::move(session_id));
}

net::awaitable<Done> Cluster::create(std::shared_ptr<Session> s) {
  return impl_->save(std::move(s), true);
}

net::awaitable<Done> Cluster::persist(std::shared_ptr<Session> s) {
  return impl_->save(std::move(s), false);
}

net::awaitable<Outcome<bool>> Cluster::remove(std::string session_id) {
  return impl_->remove_record(std::move(session_id));
}

net::awaitable<bool> Cluster::acquire(std::shared_ptr<Session> s, std::chrono::milliseconds wait) {
  auto& im = *impl_;
  auto deadline = std::chrono::steady_clock::now() + wait;
  auto last_ask = std::chrono::steady_clock::time_point{};
  net::steady_timer timer(co_await net::this_coro::executor);
  while (std::chrono::steady_clock::now() < deadline && !im.stopping) {
    auto r = co_await im.resolve(s->id());
    if (!r || !r->session) co_return false;
    if (owns(*r->session)) co_return true;
    std::string owner = owner_of(s->id());
    if (!owner.empty() && std::chrono::steady_clock::now() - last_ask >= kHandoffRepeat) {
      im.publish(owner, relay::Handoff{s->id(), im.node});
      last_ask = std::chrono::steady_clock::now();
    }
    boost::system::error_code ec;
    timer.expires_after(kAcquirePoll);
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
  co_return false;
}

std::string Cluster::owner_of(const std::string& session_id) const {
  return impl_->owner_of(session_id);
}

}  // namespace frontmcp::cluster
