// The message bus of distributed mode (session::MessageBus): a message for a session, the
// subscribers of a URI, or every session goes to the sessions this node owns and, over the
// relay, to the other nodes. Delivery to an owned session waits while this node's leases
// do not hold (deliver()).
#include "cluster/cluster_impl.hpp"

namespace frontmcp::cluster {

using session::Session;

namespace {

/// Messages for owned sessions held while this node's lease does not hold (deliver()).
/// Beyond it the oldest are dropped (counted): a node whose lease stays invalid that long
/// has lost its sessions or is about to hand them over.
constexpr std::size_t kDeferredDeliveries = 4'096;

}  // namespace

/// Sends `msg` on an owned session's standalone stream, but only while both leases hold:
/// then no other node can have taken the session over. Otherwise (this node stalled, or
/// Redis did) the message waits until a heartbeat has re-read the sessions and both
/// leases hold again, and goes only to sessions still owned then; a session lost
/// meanwhile gets it from its new owner (broadcasts reach every node) or not at all.
/// Without this a node resumed from a stall past its TTL delivered relay messages that
/// had queued up during the stall on a stream it had lost, under event ids the new owner
/// was handing out too.
void Cluster::Impl::deliver(const std::shared_ptr<Session>& s, const json::value& msg, std::string_view relayed) {
  bool owned = owns(*s);
  if (!owned || serverless || (deferred_n.load(std::memory_order_acquire) == 0 && lease_valid())) {
    if (owned) s->send_unsolicited(msg);
    if (!relayed.empty()) delivered(owned, relayed, s->id());
    return;
  }
  {
    std::lock_guard lock(deferred_mu);
    if (deferred.size() >= kDeferredDeliveries) {
      drop_deferred(deferred.front(), "deferred (limit)");
      deferred.pop_front();
    }
    deferred.push_back({s, s->id(), msg, std::string(relayed)});
    deferred_n.store(deferred.size(), std::memory_order_release);
  }
  flush_deferred();
}

/// Delivers the deferred messages, in order, while both leases hold.
void Cluster::Impl::flush_deferred() {
  if (deferred_n.load(std::memory_order_acquire) == 0) return;
  std::lock_guard lock(deferred_mu);
  while (!deferred.empty() && lease_valid()) {
    auto d = std::move(deferred.front());
    deferred.pop_front();
    auto s = d.session.lock();
    if (s && owns(*s)) {
      s->send_unsolicited(d.msg);
      if (!d.relayed.empty()) delivered(true);
    } else {
      drop_deferred(d, "deferred (no longer owned)");
    }
  }
  deferred_n.store(deferred.size(), std::memory_order_release);
}

void Cluster::Impl::drop_deferred(const Deferred& d, std::string_view why) {
  if (!d.relayed.empty()) {
    delivered(false, d.relayed, d.sid);
  } else {
    util::log_event(spdlog::level::debug, "message dropped", {{"why", why}, {"session", d.sid}});
  }
}

namespace {

class ClusterBus final : public session::MessageBus {
 public:
  ClusterBus(std::shared_ptr<Cluster::Impl> impl, session::SessionManager& sessions)
      : impl_(std::move(impl)), sessions_(sessions) {}

  bool to_session(const std::string& session_id, const json::value& msg) override {
    auto s = sessions_.find(session_id);
    if (s && owns(*s)) {
      impl_->deliver(s, msg);
      return true;
    }
    std::string owner = impl_->owner_of(session_id);
    if (owner.empty() || !impl_->client) {
      impl_->delivered(false, "to_session (owner unknown)", session_id);
      return false;
    }
    impl_->publish(owner, relay::Msg{session_id, msg});
    return true;
  }
  void to_subscribers(std::string_view uri, const json::value& msg) override {
    for (const auto& s : sessions_.subscribers(uri)) impl_->deliver(s, msg);
    // Listen streams are not sessions: no lease to wait for (and a Redis outage loses only
    // the other nodes' share of the message).
    sessions_.listeners().to_subscribers(uri, msg);
    if (impl_->client) impl_->broadcast(relay::Sub{std::string(uri), msg, impl_->node});
  }
  void to_all(const json::value& msg) override {
    for (const auto& s : sessions_.all()) {
      if (s->initialized()) impl_->deliver(s, msg);
    }
    sessions_.listeners().to_all(msg);
    if (impl_->client) impl_->broadcast(relay::All{msg, impl_->node});
  }
  bool client_response(const std::string& session_id, const std::string& request_id,
                       Result<json::value> answer) override {
    if (auto s = sessions_.find(session_id); s && s->resolve_pending(request_id, answer)) return true;
    // Ids of server->client requests end with "@<nodeId>" of the node that waits.
    auto at = request_id.find('@');
    if (at == std::string::npos || !impl_->client) return false;
    std::string waiting = request_id.substr(at + 1);
    if (waiting == impl_->node) return false;
    impl_->publish(waiting, relay::Resp{session_id, request_id, std::move(answer)});
    return true;
  }

 private:
  std::shared_ptr<Cluster::Impl> impl_;
  session::SessionManager& sessions_;
};

}  // namespace

std::unique_ptr<session::MessageBus> Cluster::make_bus(session::SessionManager& sessions) {
  return std::make_unique<ClusterBus>(impl_, sessions);
}

}  // namespace frontmcp::cluster
