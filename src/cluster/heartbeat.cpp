// The heartbeat and the two leases under which this node serves its sessions from memory
// (docs/ha.md "Lease", "Liveness"), and what it does when Redis or the relay subscription
// comes back: restore its records, re-read the sessions it owns.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include "cluster/cluster_impl.hpp"
#include "util/log.hpp"

namespace frontmcp::cluster {

/// The relay subscription was alive at `sent_ns`: extend the relay lease (if armed).
void Cluster::Impl::relay_alive(std::int64_t sent_ns) {
  if (!relay_armed.load(std::memory_order_acquire)) return;
  auto lease = std::chrono::nanoseconds(kRelayLease).count();
  std::int64_t until = sent_ns + lease - lease_margin(kRelayLease);
  auto cur = relay_until.load(std::memory_order_acquire);
  while (cur < until && !relay_until.compare_exchange_weak(cur, until, std::memory_order_acq_rel)) {
  }
  flush_deferred();
}

void Cluster::Impl::on_client_state(bool up) {
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
void Cluster::Impl::on_relay_state(bool up) {
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

net::awaitable<void> Cluster::Impl::revalidate_owned(std::shared_ptr<Impl> self) {
  for (const auto& s : self->sessions->all()) {
    if (!owns(*s) || self->stopping) continue;
    auto r = co_await self->lookup(s->id());
    // Unreachable or missing (Redis restarted empty): restore_all and the request path decide.
    if (!r || reply_str(*r, 0) != "FOUND") continue;
    std::string owner(reply_str(*r, 1));
    if (owner != self->node) {
      self->fence(s->id(), "owned by " + owner + " now");
      continue;
    }
    if (static_cast<std::uint64_t>(reply_int(*r, 2)) != epoch_of(*s)) {
      placement(*s).clear_validated();  // taken and given back meanwhile: the next request re-adopts it
      continue;
    }
    auto st = parse_state(s->id(), owner, reply_int(*r, 2), reply_str(*r, 3), reply_int(*r, 5));
    if (st) adopt(*self->sessions, std::move(st).value(), true);  // merged: picks up lost replica changes
  }
}

void Cluster::Impl::poke_heartbeat() {
  if (!strand) return;
  net::post(*strand, [self = shared_from_this()] {
    if (self->hb_timer) self->hb_timer->cancel();
  });
}

net::awaitable<void> Cluster::Impl::restore_all(std::shared_ptr<Impl> self) {
  for (const auto& s : self->sessions->all()) {
    if (!owns(*s) || self->stopping) continue;
    auto st = s->state();
    std::vector<std::string> r_keys{self->keys.session(s->id())};
    // Create only: a record that survived the restart (persistence) may hold changes this
    // node never saw (a replica's subscribe whose relay message was lost); it is re-read
    // (revalidate_owned) rather than overwritten.
    std::vector<std::string> r_args{self->keys.prefix,
                                    s->id(),
                                    std::to_string(st.epoch),
                                    json::serialize(st.to_json()),
                                    self->ttl_ms,
                                    self->node,
                                    "1",
                                    "create"};
    auto r = co_await self->scripts.save.run(*self->client, std::move(r_keys), std::move(r_args));
    if (r && reply_str(*r, 0) == "EXISTS" && reply_str(*r, 1) != self->node) {
      util::log().warn("session {}: owned by {} now; closing it here", s->id(), reply_str(*r, 1));
      self->sessions->remove(s->id());
    } else if (r && reply_str(*r, 0) == "EXISTS") {
      placement(*s).clear_validated();  // the next request re-reads it
    }
  }
}

net::awaitable<void> Cluster::Impl::beat() {
  auto sent = now_ns();
  auto up_since = relay_up_since.load(std::memory_order_acquire);
  auto ttl = opt.ha.heartbeat_ttl;
  std::vector<std::string> r_keys{keys.heartbeat(node), keys.nodes()};
  std::vector<std::string> r_args{node, std::to_string(ttl.count()), std::to_string(started_at_ms),
                                  std::to_string(owned_count(*sessions)),
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
    util::log().warn("heartbeat {} was gone (this node counted as dead); re-reading its sessions",
                     keys.heartbeat(node));
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
  if (!beating.exchange(true))
    util::log().info("heartbeat {} written (every {} ms, ttl {} ms)", keys.heartbeat(node),
                     opt.ha.heartbeat_interval.count(), ttl.count());
}

net::awaitable<void> Cluster::Impl::heartbeat_loop(std::shared_ptr<Impl> self) {
  while (!self->stopping) {
    co_await self->beat();
    boost::system::error_code ec;
    self->hb_timer->expires_after(self->opt.ha.heartbeat_interval);
    co_await self->hb_timer->async_wait(net::redirect_error(net::use_awaitable, ec));
  }
}

}  // namespace frontmcp::cluster
