// The event-log mirror: writing (MirroredEventStore, write-behind) and reading
// (Cluster::read_events, Cluster::writer_alive) the Redis copy of every stream's events.
#include "cluster/event_mirror.hpp"

#include <charconv>

#include "cluster/cluster_impl.hpp"

namespace frontmcp::cluster {

using session::StoredEvent;

namespace {

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

}  // namespace

MirroredEventStore::MirroredEventStore(session::EventLimits limits, Keys keys, std::chrono::milliseconds ttl,
                                       bool mirror, std::string writer)
    : EventStore(limits),
      keys_(std::move(keys)),
      ttl_(std::to_string(ttl.count())),
      max_(std::to_string(limits.max_events)),
      mirror_(mirror),
      writer_(std::move(writer)) {}

void MirroredEventStore::mirror(const std::string& stream_key, std::uint64_t seq, std::string_view data) {
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

void MirroredEventStore::announce_writer(const std::string& stream_key) {
  auto* c = client_.load(std::memory_order_acquire);
  if (!mirror_ || !c) return;
  c->send({"SET", keys_.writer(stream_key), writer_, "PX", ttl_});
}

net::awaitable<Outcome<std::vector<StoredEvent>>> Cluster::Impl::read_events(std::string stream_key,
                                                                             std::uint64_t after) {
  redis::Command cmd{"LRANGE", keys.events(stream_key), "0", "-1"};
  auto r = co_await client->command(std::move(cmd));
  if (!r) co_return unavailable(r.error());
  std::vector<StoredEvent> out;
  for (const auto& e : r->elements) {
    StoredEvent ev;
    if (parse_stored(e.str, ev) && ev.seq > after) out.push_back(std::move(ev));
  }
  co_return out;
}

// ---- Cluster ----------------------------------------------------------------------------

std::shared_ptr<session::EventStore> Cluster::event_store() const {
  return impl_->events;
}

net::awaitable<Outcome<int>> Cluster::writer_alive(std::string stream_key) {
  auto& im = *impl_;
  std::vector<std::string> r_keys{im.keys.writer(stream_key)};
  std::vector<std::string> r_args{im.keys.prefix};
  auto r = co_await im.scripts.writer.run(*im.client, std::move(r_keys), std::move(r_args));
  if (!r) co_return unavailable(r.error());
  co_return static_cast<int>(r->integer);
}

net::awaitable<Outcome<std::vector<StoredEvent>>> Cluster::read_events(std::string stream_key,
                                                                       std::uint64_t after_seq) {
  co_return co_await impl_->read_events(std::move(stream_key), after_seq);
}

}  // namespace frontmcp::cluster
