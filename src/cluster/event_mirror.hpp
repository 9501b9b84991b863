#pragma once
// The mirrored event log of distributed mode: every stream's events are kept in memory for
// live delivery (session::EventStore) and copied to Redis, write-behind, so any node can
// replay a stream (Last-Event-ID after a failover). The reading side (Cluster::read_events,
// Cluster::writer_alive) is in event_mirror.cpp too.
#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "cluster/scripts.hpp"
#include "session/event_store.hpp"

namespace frontmcp::cluster {

/// Copies every stream's events to Redis (write-behind, pipelined, fire and forget) for
/// replay on any node. A SIGKILL can lose the last few milliseconds of events (docs/ha.md).
class MirroredEventStore final : public session::EventStore {
 public:
  MirroredEventStore(session::EventLimits limits, Keys keys, std::chrono::milliseconds ttl, bool mirror,
                     std::string writer);
  void set_client(redis::Client* c) { client_.store(c, std::memory_order_release); }

  void mirror(const std::string& stream_key, std::uint64_t seq, std::string_view data) override;
  /// "<node> <boot>" under writer:{stream}: a replaying node follows the log only while
  /// that process lives (Cluster::writer_alive).
  void announce_writer(const std::string& stream_key) override;

 private:
  Keys keys_;
  std::string ttl_;
  std::string max_;
  bool mirror_;
  std::string writer_;
  std::atomic<redis::Client*> client_{nullptr};
};

}  // namespace frontmcp::cluster
