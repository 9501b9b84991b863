// The orphan scanner (docs/ha.md "Failover"): every probe interval, the liveness probe
// (nodes whose process died), then the sessions of dead nodes past the grace period are
// claimed in batches (takeover.lua, pipelined), then idle replica objects are dropped.
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cluster/cluster_impl.hpp"
#include "util/log.hpp"

namespace frontmcp::cluster {

namespace {

/// Orphan scanner batch sizes: dead nodes per pass, sessions per node per pass, and
/// passes per tick (a tick claims at most kScanNodes * kScanBatch * kScanPasses).
constexpr int kScanNodes = 16;
constexpr int kScanBatch = 128;
constexpr int kScanPasses = 64;
/// Replica objects (sessions served here but owned elsewhere) idle this long are dropped.
constexpr std::chrono::seconds kReplicaIdle{60};
/// Nodes per liveness probe (liveness.lua); a cluster larger than this is probed in part.
constexpr int kLivenessNodes = 256;

}  // namespace

void Cluster::Impl::poke_scanner() {
  if (!strand) return;
  net::post(*strand, [self = shared_from_this()] {
    if (self->scan_timer) self->scan_timer->cancel();
  });
}

/// Every probe interval: liveness (nodes whose process died), then the orphans that are
/// due (cheap: O(log N + due nodes)), so a dead node's sessions are claimed
/// takeoverGracePeriodMs after it died plus at most one probe interval.
net::awaitable<void> Cluster::Impl::scanner_loop(std::shared_ptr<Impl> self) {
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

net::awaitable<void> Cluster::Impl::probe_liveness() {
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
net::awaitable<void> Cluster::Impl::scan() {
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

net::awaitable<void> Cluster::Impl::claim_batch(const std::string& dead, const std::vector<std::string>& ids) {
  std::vector<redis::Command> cmds;
  cmds.reserve(ids.size());
  for (const auto& sid : ids) {
    cmds.push_back(
        scripts.takeover.evalsha({keys.session(sid)}, {keys.prefix, sid, dead, node, ttl_ms, lost_message(sid, dead)}));
  }
  auto rs = co_await client->pipeline(cmds);
  if (!rs) co_return;
  for (std::size_t i = 0; i < ids.size() && i < rs->size(); ++i) {
    auto* reply = &(*rs)[i];
    redis::Reply again;
    if (reply->is_noscript()) {
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
    if (s) placement(*s).set_announce_owner();
    metrics.takeover(metrics::Takeover::scanner);
    metrics.orphans_claimed.inc();
    auto epoch_str = std::to_string(s ? epoch_of(*s) : 0);
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

void Cluster::Impl::sweep_replicas() {
  auto cutoff = std::chrono::steady_clock::now() - kReplicaIdle;
  for (const auto& s : sessions->all()) {
    if (owns(*s) || s->busy() || s->last_activity() > cutoff) continue;
    sessions->remove(s->id());
    std::lock_guard lock(mu);
    replica_owner.erase(s->id());
  }
}

}  // namespace frontmcp::cluster
