// The Pub/Sub relay (docs/ha.md "Relay"): publishing sealed messages to one node
// (`notify:{node}`) or to all (`broadcast`), receiving them (on_message: open, decode,
// one handler per type), and the request/acknowledgement pattern of ask_owner(). The
// messages themselves are in relay_message.hpp.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include "cluster/cluster_impl.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"

namespace frontmcp::cluster {

using session::Session;
using session::SessionState;

namespace {

/// A replica waits this long for the owner to acknowledge a state change (see tell_owner).
constexpr std::chrono::milliseconds kStateAckWait{500};
/// Refused relay messages are logged at warning at most this often (all are counted).

using Impl = Cluster::Impl;

// ---- one handler per message type (what a node does with a message it received) -------

void handle(Impl& im, relay::Msg& m) {
  auto s = im.sessions->find(m.sid);
  if (s && m.body) {
    im.deliver(s, *m.body, relay::name_of(relay::Type::msg));
  } else {
    im.delivered(false, relay::name_of(relay::Type::msg), m.sid);
  }
}

void handle(Impl& im, relay::Sub& m) {
  // Broadcast: a node without subscribers of the URI has nothing to deliver (not a drop).
  if (m.origin == im.node || !m.uri || !m.body) return;
  for (const auto& s : im.sessions->subscribers(*m.uri)) {
    if (owns(*s)) im.deliver(s, *m.body, relay::name_of(relay::Type::sub));
  }
  im.sessions->listeners().to_subscribers(*m.uri, *m.body);
}

void handle(Impl& im, relay::All& m) {
  if (m.origin == im.node || !m.body) return;
  for (const auto& s : im.sessions->all()) {
    if (owns(*s) && s->initialized()) im.deliver(s, *m.body, relay::name_of(relay::Type::all));
  }
  im.sessions->listeners().to_all(*m.body);
}

void handle(Impl& im, relay::Resp& m) {
  auto type = relay::name_of(relay::Type::resp);
  if (!m.request_id) {
    im.delivered(false, type, m.sid);
    return;
  }
  const std::string& rid = *m.request_id;
  if (auto call = im.take_ack(rid)) {  // an owner acknowledged (ask_owner)
    call->complete(json::value(true));
    im.delivered(true);
    return;
  }
  auto s = im.sessions->find(m.sid);
  if (!s) {
    im.delivered(false, type, m.sid);
    return;
  }
  im.delivered(s->resolve_pending(rid, std::move(m.answer)), type, m.sid);
}

void handle(Impl& im, relay::State& m) {
  im.apply_replica_state(m);
  // The replica waits for this before it answers its client (see save()): acknowledge
  // whether or not it applied (a stale one changes nothing; the record has it anyway).
  im.acknowledge(m.sid, m.reply_id);
}

void handle(Impl& im, relay::Lost& m) {
  im.fence(m.sid, "taken over by " + (m.by ? *m.by : std::string("?")));
}

void handle(Impl& im, relay::Drop& m) {
  // DELETE on another node: it answers its client once this is acknowledged.
  im.sessions->remove(m.sid);
  im.acknowledge(m.sid, m.reply_id);
}

void handle(Impl& im, relay::Handoff& m) {
  if (!m.to) return;
  net::co_spawn(im.ex, Impl::handoff(im.shared_from_this(), m.sid, *m.to), net::detached);
}

void handle(Impl& im, relay::Owned& m) {
  // handoff.lua: the live owner gave this node a session (it asked, in acquire()):
  // adopt it now rather than at acquire()'s next poll.
  auto s = im.sessions->find(m.sid);
  if (!s || owns(*s)) return;
  net::co_spawn(im.ex, Impl::adopt_given(im.shared_from_this(), m.sid), net::detached);
  im.delivered(true);
}

void handle(Impl& im, relay::Left&) {
  im.poke_scanner();
}

void handle(Impl& im, relay::Legacy& m) {
  auto s = im.sessions->find(m.sid);
  if (!s || !owns(*s) || !m.body || !im.legacy_handler) {
    im.delivered(false, relay::name_of(relay::Type::legacy), m.sid);
    return;
  }
  im.legacy_handler(s, std::move(*m.body));
  im.delivered(true);
}

/// The session a message is about ("" for sub, all, left).
std::string session_of(const relay::Message& m) {
  return std::visit(
      [](const auto& x) -> std::string {
        if constexpr (requires { x.sid; }) {
          return x.sid;
        } else {
          return {};
        }
      },
      m);
}

/// Sets the "r" of a message that asks for an acknowledgement (state, drop).
void set_reply_id(relay::Message& m, const std::string& rid) {
  std::visit(
      [&rid](auto& x) {
        if constexpr (requires { x.reply_id; }) x.reply_id = rid;
      },
      m);
}

}  // namespace

std::string Cluster::Impl::seal(const std::string& channel, relay::Message m) const {
  return auth.seal(channel, relay::serialize(std::move(m)), RelayAuth::wall_clock_ms());
}

std::string Cluster::Impl::lost_message(const std::string& sid, const std::string& old_owner) const {
  return seal(keys.notify(old_owner), relay::Lost{sid, node});
}

void Cluster::Impl::publish(const std::string& node_id, relay::Message m) {
  publish_on(keys.notify(node_id), std::move(m));
}

void Cluster::Impl::broadcast(relay::Message m) {
  publish_on(keys.broadcast(), std::move(m));
}

void Cluster::Impl::publish_on(std::string channel, relay::Message m) {
  metrics.relay_published.inc();
  auto wire = seal(channel, std::move(m));
  client->send({"PUBLISH", std::move(channel), std::move(wire)});
}

/// A relayed message refused before it was acted on: counted
/// (frontmcp_relay_refused_total{reason}), logged at warning at most once per
/// refusal_log (every 10 s: an attacker must not be able to flood the log), else at debug.
void Cluster::Impl::refused(metrics::RelayRefusal why, std::string_view channel) {
  metrics.relay_refused(why);
  util::log_event(refusal_log.allow() ? spdlog::level::warn : spdlog::level::debug, "relay: message refused",
                  {{"reason", metrics::name_of(why)}, {"channel", channel}});
}

void Cluster::Impl::delivered(bool yes, std::string_view type, std::string_view sid) {
  if (yes) {
    metrics.relay_delivered.inc();
    return;
  }
  metrics.relay_dropped.inc();
  util::log_event(spdlog::level::debug, "relay: message dropped", {{"type", type}, {"session", sid}});
}

/// Unsigned, forged, stale or malformed messages, and types this node does not know (a
/// newer node's, or garbage), are counted and never acted on.
void Cluster::Impl::on_message(std::string_view channel, std::string_view wire) {
  auto opened = auth.open(channel, wire, RelayAuth::wall_clock_ms());
  if (!opened) {
    refused(*opened.refusal, channel);
    return;
  }
  auto decoded = relay::decode(opened.payload);
  if (!decoded) {
    refused(decoded.refusal, channel);
    return;
  }
  std::visit([this](auto& m) { handle(*this, m); }, *decoded.message);
}

/// A replica changed a session's state (subscriptions, log level): the owner applies it.
void Cluster::Impl::apply_replica_state(const relay::State& m) {
  auto s = sessions->find(m.sid);
  if (!s || !owns(*s) || !m.state) return;
  if (m.epoch != epoch_of(*s)) return;
  auto st = SessionState::from_json(*m.state);
  if (!st) return;
  st->node_id = node;
  st->epoch = m.epoch;
  st->rev = m.rev;
  adopt(*sessions, std::move(st).value(), true);
}

/// Sends a replica's state change to the owner and waits until the owner has applied it:
/// a client told "subscribed" must get the next update, even when its next request
/// reaches the owner before Pub/Sub would have.
net::awaitable<void> Cluster::Impl::tell_owner(std::shared_ptr<Session> s, std::string owner, std::uint64_t epoch,
                                               std::uint64_t rev, json::object st) {
  // (Named: g++ 12 cannot keep an initializer list across co_await.)
  relay::Message msg = relay::State{s->id(), epoch, rev, std::move(st), {}};
  co_await ask_owner(std::move(owner), std::move(msg));
}

/// Publishes `msg` to `owner` with a reply id ("r": "<random>@<this node>") and waits at
/// most kStateAckWait for the owner's acknowledgement (acknowledge()). False on timeout
/// (the owner stalled or died; what it would have done, its next revalidation does).
net::awaitable<bool> Cluster::Impl::ask_owner(std::string owner, relay::Message msg) {
  auto waker = std::make_shared<util::Waker>(co_await net::this_coro::executor);
  auto call = std::make_shared<session::PendingCall>(waker);
  std::string rid = util::random_hex_id() + "@" + node;
  {
    std::lock_guard lock(mu);
    acks.emplace(rid, call);
  }
  std::string sid = session_of(msg);
  std::string type(relay::name_of(relay::type_of(msg)));
  set_reply_id(msg, rid);
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
std::shared_ptr<session::PendingCall> Cluster::Impl::take_ack(const std::string& rid) {
  std::lock_guard lock(mu);
  auto it = acks.find(rid);
  if (it == acks.end()) return nullptr;
  auto call = std::move(it->second);
  acks.erase(it);
  return call;
}

/// Answers an ask_owner() message (one whose "r" is "<id>@<node>"; "" asks for nothing).
void Cluster::Impl::acknowledge(const std::string& sid, const std::string& rid) {
  if (auto at = rid.rfind('@'); at != std::string::npos && rid.substr(at + 1) != node) {
    publish(rid.substr(at + 1), relay::Resp{sid, rid, json::value(true)});
  }
}

// ---- Cluster ----------------------------------------------------------------------------

net::awaitable<Done> Cluster::relay_legacy(std::string session_id, std::string owner, std::string body) {
  auto& im = *impl_;
  auto channel = im.keys.notify(owner);
  auto wire = im.seal(channel, relay::Legacy{session_id, std::move(body)});
  redis::Command cmd{"PUBLISH", std::move(channel), std::move(wire)};
  auto r = co_await im.client->command(std::move(cmd));
  if (!r) co_return unavailable(r.error());
  if (r->integer == 0) co_return not_found();
  co_return Ok{};
}

}  // namespace frontmcp::cluster
