// The composition root of distributed mode: builds the shared state (Cluster::Impl),
// starts and stops its parts, and answers the readiness probes. What each part does is in
// its own file (cluster_impl.hpp has the map).
#include "cluster/cluster.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "cluster/cluster_impl.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"

namespace frontmcp::cluster {

Cluster::Impl::Impl(const ServerOptions& o, std::string n, metrics::Metrics& m)
    : opt(o),
      metrics(m),
      node(std::move(n)),
      keys{o.ha.redis_key_prefix},
      boot(util::random_hex_id().substr(0, 16)),
      events(std::make_shared<MirroredEventStore>(session::event_limits(o.session), keys, o.session.idle_ttl,
                                                  o.session.resumability, node + " " + boot)),
      ttl_ms(std::to_string(o.session.idle_ttl.count())) {}

namespace {

/// co_spawn(use_future) needs a default-constructible result.
net::awaitable<std::optional<Result<redis::Reply, ScriptError>>> run_optional(const Script* script,
                                                                              redis::Client* client,
                                                                              std::vector<std::string> keys,
                                                                              std::vector<std::string> args) {
  co_return co_await script->run(*client, std::move(keys), std::move(args));
}

/// From a thread that is not one of the I/O threads (shutdown).
Result<redis::Reply, ScriptError> run_blocking(net::any_io_executor ex, const Script& script, redis::Client& client,
                                               std::vector<std::string> keys, std::vector<std::string> args) {
  auto fut = net::co_spawn(ex, run_optional(&script, &client, std::move(keys), std::move(args)), net::use_future);
  return *fut.get();
}

}  // namespace

Cluster::Cluster(const ServerOptions& options, std::string node_id, metrics::Metrics& metrics)
    : impl_(std::make_shared<Impl>(options, std::move(node_id), metrics)) {}

Cluster::~Cluster() {
  stop();
}

const std::string& Cluster::node_id() const noexcept {
  return impl_->node;
}

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
  while (!ready() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
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
                        {im.node, std::to_string(im.opt.ha.takeover_grace_period.count()), im.keys.broadcast(),
                         im.keys.prefix, im.seal(im.keys.broadcast(), relay::Left{im.node})});
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
  // The I/O threads are joined: commands that never got their reply (Redis stalled while
  // the node stopped) are dropped, with the coroutines waiting for them.
  if (im.client) im.client->abandon();
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

bool Cluster::serverless() const noexcept {
  return impl_->serverless;
}

double Cluster::heartbeat_age_seconds() const {
  auto last = impl_->last_beat.load(std::memory_order_relaxed);
  if (last == 0) return -1;
  return static_cast<double>(now_ns() - last) / 1e9;
}

std::string affinity_cookie(const std::string& node_id, std::chrono::milliseconds max_age, bool secure) {
  std::string c = "__frontmcp_node=" + node_id + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                  std::to_string(std::chrono::duration_cast<std::chrono::seconds>(max_age).count());
  if (secure) c += "; Secure";
  return c;
}

}  // namespace frontmcp::cluster
