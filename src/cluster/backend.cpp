// The cluster's side of the seams (docs/architecture.md "Seams"): the Redis session
// directory the transports talk to, and the SessionBackend that Server drives.
#include "core/backend.hpp"

#include <frontmcp/cluster.hpp>
#include <stdexcept>

#include "cluster/cluster.hpp"
#include "cluster/relay_auth.hpp"
#include "util/log.hpp"

namespace frontmcp::cluster {

namespace {

using session::Asker;
using session::Done;
using session::Failure;
using session::Fault;
using session::Found;
using session::HeaderField;
using session::Outcome;
using session::Session;
using session::StoredEvent;

/// The /readyz warning of a distributed node whose Pub/Sub relay is not signed.
constexpr std::string_view kRelayUnsignedWarning =
    "relay unsigned: set FRONTMCP_RELAY_SECRET (or relaySecret / --relay-secret-file)";

bool relay_unsigned(const ServerOptions& options) noexcept {
  return options.mode == DeploymentMode::distributed && options.ha.relay_secret.empty();
}

/// Sessions in Redis (Cluster): any node serves any session; the standalone stream lives
/// with the session's owner.
class RedisDirectory final : public session::SessionDirectory {
 public:
  RedisDirectory(Cluster& cluster, session::SessionManager& sessions, const ServerOptions& options, std::string node)
      : cluster_(cluster), sessions_(sessions), options_(options), node_(std::move(node)) {
    always_.emplace_back("X-FrontMCP-Machine-Id", node_);
  }

  Task<Outcome<Found>> resolve(std::string_view session_id, Asker asker) override {
    auto r = co_await cluster_.resolve(std::string(session_id));
    if (!r) co_return std::move(r).error();
    Found f{std::move(r->session), {}};
    // A new owner (takeover) re-pins the load balancer to itself.
    if (r->became_owner) f.headers = pin(asker);
    co_return f;
  }

  std::optional<Found> resolve_now(std::string_view session_id, Asker asker) override {
    auto r = cluster_.resolve_from_memory(session_id);
    if (!r) return std::nullopt;
    Found f{std::move(r->session), {}};
    if (r->became_owner) f.headers = pin(asker);
    return f;
  }

  Task<Outcome<std::vector<HeaderField>>> create(std::shared_ptr<Session> s, Asker asker) override {
    auto st = co_await cluster_.create(std::move(s));
    if (!st) co_return std::move(st).error();
    co_return pin(asker);
  }

  Task<Done> commit(std::shared_ptr<Session> s) override { co_return co_await cluster_.persist(std::move(s)); }
  bool needs_commit(const Session& s) const override { return has_unsaved_changes(s); }

  Task<Outcome<bool>> remove(std::string session_id) override {
    co_return co_await cluster_.remove(std::move(session_id));
  }

  bool holds_stream(const Session& s) const override { return owns(s); }

  Task<Outcome<Found>> acquire_stream(std::shared_ptr<Session> s, Asker asker) override {
    if (owns(*s)) co_return Found{std::move(s), {}};
    // The standalone stream lives with the owner: take the session over (hand-off from a
    // live owner, or takeover once a dead owner's heartbeat expired). Bounded: a dead owner
    // is declared dead within kStreamMoveWait; a stalled one keeps the session while its
    // heartbeat lives, and the client hears 503 + Retry-After.
    auto wait = std::min<std::chrono::milliseconds>(options_.ha.heartbeat_ttl + options_.ha.takeover_grace_period,
                                                    kStreamMoveWait);
    if (!co_await cluster_.acquire(s, wait)) co_return Found{};
    auto owned = sessions_.find(s->id());
    co_return Found{owned ? std::move(owned) : std::move(s), pin(asker)};
  }

  Task<Outcome<std::vector<StoredEvent>>> read_stream(std::string stream_key, std::uint64_t after_seq) override {
    co_return co_await cluster_.read_events(std::move(stream_key), after_seq);
  }
  Task<Outcome<int>> stream_writer_alive(std::string stream_key) override {
    co_return co_await cluster_.writer_alive(std::move(stream_key));
  }
  bool shares_streams() const noexcept override { return true; }

  Task<Outcome<LegacyRoute>> route_legacy(std::string sid) override {
    auto local = sessions_.find(sid);
    if (local && owns(*local)) co_return LegacyRoute{std::move(local), true};
    auto r = co_await cluster_.resolve(sid);
    if (!r) co_return std::move(r).error();
    if (!r->session) co_return LegacyRoute{};
    if (!owns(*r->session)) co_return LegacyRoute{std::move(r->session), false};
    // Owned here only now (taken over): its owner died with the stream, and a legacy
    // session cannot outlive its stream.
    auto removed = co_await cluster_.remove(sid);
    if (!removed) util::log().debug("legacy SSE session {}: record not removed ({})", sid, removed.error().message);
    co_return LegacyRoute{};
  }

  Task<Done> forward_legacy(std::string session_id, std::string body) override {
    auto owner = cluster_.owner_of(session_id);
    co_return co_await cluster_.relay_legacy(std::move(session_id), std::move(owner), std::move(body));
  }

  const std::vector<HeaderField>& response_headers() const noexcept override { return always_; }
  bool serves_while_draining() const noexcept override { return true; }

 private:
  /// The affinity cookie (none in serverless mode: no node to stick to).
  std::vector<HeaderField> pin(Asker asker) const {
    if (options_.mode == DeploymentMode::serverless) return {};
    return {HeaderField{"Set-Cookie", affinity_cookie(node_, options_.session.idle_ttl, asker.secure)}};
  }

  Cluster& cluster_;
  session::SessionManager& sessions_;
  const ServerOptions& options_;
  std::string node_;
  std::vector<HeaderField> always_;
};

class ClusterBackend final : public SessionBackend {
 public:
  ClusterBackend(const ServerOptions& options, std::string node, metrics::Metrics& metrics)
      : options_(options), node_(node), cluster_(options, std::move(node), metrics) {}

  std::shared_ptr<session::EventStore> event_store() override { return cluster_.event_store(); }
  void prepare(session::SessionManager& sessions) override { cluster_.configure(sessions); }
  std::unique_ptr<session::MessageBus> make_bus(session::SessionManager& sessions) override {
    return cluster_.make_bus(sessions);
  }
  std::unique_ptr<session::SessionDirectory> make_directory(session::SessionManager& sessions) override {
    return std::make_unique<RedisDirectory>(cluster_, sessions, options_, node_);
  }

  void start(session::SessionManager& sessions, boost::asio::any_io_executor ex, LegacyBodyHandler legacy) override {
    cluster_.legacy_handler = std::move(legacy);
    cluster_.start(sessions, std::move(ex));
  }
  void wait_ready(std::chrono::milliseconds wait) override { cluster_.wait_ready(wait); }
  void leave() override { cluster_.leave(); }
  void stop() override { cluster_.stop(); }
  void release_io() override { cluster_.release_io(); }

  std::vector<std::pair<std::string, std::string>> probes() const override {
    auto p = cluster_.probes();
    std::vector<std::pair<std::string, std::string>> out;
    out.emplace_back("redis", p.redis);
    if (!cluster_.serverless()) {
      out.emplace_back("relay", p.relay);
      out.emplace_back("heartbeat", p.heartbeat);
    }
    return out;
  }
  std::vector<std::string> warnings() const override {
    if (relay_unsigned(options_)) return {std::string(kRelayUnsignedWarning)};
    return {};
  }
  void collect(metrics::Families& out) const override {
    if (cluster_.serverless()) return;
    metrics::metric(out, "frontmcp_heartbeat_age_seconds",
                    "Seconds since this node's last successful heartbeat write (-1 before the first).",
                    prometheus::MetricType::Gauge, cluster_.heartbeat_age_seconds());
  }

 private:
  const ServerOptions& options_;
  std::string node_;
  Cluster cluster_;
};

class ClusterBackendFactory final : public SessionBackendFactory {
 public:
  void validate(const ServerOptions& o) const override {
    const auto& ha = o.ha;
    if (o.mode == DeploymentMode::distributed) {
      if (ha.redis_url.empty()) {
        throw std::runtime_error(
            "HaConfigurationError: distributed mode needs Redis: set ServerOptions::ha.redis_url "
            "(frontmcp-server: --redis redis://HOST:PORT or FRONTMCP_REDIS_URL)");
      }
      if (ha.heartbeat_ttl <= ha.heartbeat_interval) {
        throw std::runtime_error("HaConfigurationError: heartbeatTtlMs (" + std::to_string(ha.heartbeat_ttl.count()) +
                                 ") must be greater than heartbeatIntervalMs (" +
                                 std::to_string(ha.heartbeat_interval.count()) + ")");
      }
    }
    // A relay secret that is set is checked in every mode (it is meant to be used).
    if (auto problem = RelayAuth::check_secrets(ha.relay_secret, ha.relay_previous_secret); !problem.empty()) {
      throw std::runtime_error("HaConfigurationError: " + problem);
    }
  }
  bool wanted(const ServerOptions& o) const override {
    return o.mode == DeploymentMode::distributed || (o.mode == DeploymentMode::serverless && !o.ha.redis_url.empty());
  }
  void announce(const ServerOptions& o) const override {
    if (!relay_unsigned(o)) return;
    util::log().warn(
        "relay unsigned: no relay secret is set, so messages between nodes (Redis Pub/Sub on {}notify:* and "
        "{}broadcast) are neither signed nor checked. Anyone who can PUBLISH on this Redis can inject messages into "
        "any session of this cluster: send server->client requests (sampling, elicitation) to a client's stream, run "
        "tool calls inside a session, move sessions to other nodes. Set the same secret of at least {} random bytes "
        "on every node: FRONTMCP_RELAY_SECRET, --relay-secret-file FILE, or relaySecret in the config file "
        "(library: ServerOptions::ha.relay_secret); e.g. `openssl rand -hex 32`. See docs/security.md.",
        o.ha.redis_key_prefix, o.ha.redis_key_prefix, kRelaySecretMinBytes);
  }
  std::unique_ptr<SessionBackend> create(const ServerOptions& o, std::string node,
                                         metrics::Metrics& metrics) const override {
    return std::make_unique<ClusterBackend>(o, std::move(node), metrics);
  }
};

}  // namespace

std::shared_ptr<const SessionBackendFactory> backend() {
  static const auto factory = std::make_shared<const ClusterBackendFactory>();
  return factory;
}

}  // namespace frontmcp::cluster
