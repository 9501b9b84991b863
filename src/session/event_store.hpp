#pragma once
// The events of SSE streams, so a client that reconnects with Last-Event-ID gets what it
// missed. Live delivery reads from the same log, so replay and live traffic can never
// disagree.
//
// EventLog: one stream's events, owned by its SseStream (never shared by key: a session
// re-created on this node after it was fenced gets new streams with logs of their own,
// whatever an old stream object that is still alive holds). Sequence numbers only grow;
// an append that does not is refused.
// EventStore: what else happens to a stream's events: standalone mode keeps them in memory
// only; distributed mode copies them to Redis (write-behind) so any node can replay them.
//
// Event id on the wire: "<streamIndex>_<seq>"; the stream key is
// "<sessionId>/<streamIndex>", so any node that knows the session (from Mcp-Session-Id)
// can resolve it.
//
// Failure: the in-memory log cannot fail; it keeps at most `max_events_per_stream` events
// and drops the oldest (a client resuming from before them misses those events; read_after
// reports the gap). Thread-safety: EventLog is not synchronised (its SseStream locks it);
// EventStore: all members, any thread.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace frontmcp::session {

struct StoredEvent {
  std::uint64_t seq = 0;
  std::string data;  // the serialised JSON-RPC message
};

class EventLog {
 public:
  explicit EventLog(std::size_t max_events) : max_(max_events == 0 ? 1 : max_events) {}
  /// False (and nothing kept) unless `seq` is greater than every sequence number so far.
  bool append(std::uint64_t seq, std::string data);
  /// Events with seq > after_seq, oldest first, at most `max`. `gap` is set when events
  /// after `after_seq` were already dropped. Finds the cursor by sequence number (binary
  /// search), so a log with holes (copied from a trimmed shared log) reads correctly.
  std::vector<StoredEvent> read_after(std::uint64_t after_seq, std::size_t max, bool* gap = nullptr) const;
  std::size_t size() const noexcept { return events_.size() - head_; }
  std::uint64_t last_seq() const noexcept { return size() == 0 ? dropped_through_ : events_.back().seq; }

 private:
  // Oldest first from head_ on. A vector rather than a deque: most streams hold one or
  // two events, and a deque allocates ~600 bytes up front.
  std::vector<StoredEvent> events_;
  std::size_t head_ = 0;
  std::size_t max_;
  std::uint64_t dropped_through_ = 0;  // highest sequence number dropped (0: none)
};

class EventStore {
 public:
  explicit EventStore(std::size_t max_events_per_stream) : max_(max_events_per_stream) {}
  virtual ~EventStore() = default;
  std::size_t max_events_per_stream() const noexcept { return max_; }
  /// A stream appended an event: keep a copy where other nodes can read it (write-behind).
  virtual void mirror(const std::string& /*stream_key*/, std::uint64_t /*seq*/, std::string_view /*data*/) {}
  /// A stream this node writes became resumable (its client got an event id): record who
  /// writes it, so a node that replays it knows when nobody will write to it any more.
  virtual void announce_writer(const std::string& /*stream_key*/) {}

 private:
  std::size_t max_;
};

/// Standalone mode: events live in memory only.
class MemoryEventStore final : public EventStore {
 public:
  using EventStore::EventStore;
};

}  // namespace frontmcp::session
