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
// Bounds (docs/operations.md "Memory per session"): a log keeps at most `max_events`
// events and `max_bytes` bytes of event data, and the logs of one session together at most
// their shared ByteBudget; beyond, the oldest are dropped (a client resuming from before
// them misses those events; read_after reports the gap). Two kinds of event are never
// dropped: the newest one, and events at or after the log's protection mark (a POST
// stream protects what its writer has not read yet, so an answer is never lost before it
// was sent; what a POST stream holds is bounded by its own requests, see SseStream).
// Thread-safety: EventLog is not synchronised (its SseStream locks it); ByteBudget and
// EventStore: all members, any thread.
#include <atomic>
#include <cstdint>
#include <frontmcp/options.hpp>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace frontmcp::session {

struct StoredEvent {
  std::uint64_t seq = 0;
  std::string data;  // the serialised JSON-RPC message
};

/// The event bytes of one session's logs together (each log adds and removes its own).
class ByteBudget {
 public:
  explicit ByteBudget(std::size_t max_bytes) : max_(max_bytes) {}
  void add(std::size_t n) noexcept { used_.fetch_add(n, std::memory_order_relaxed); }
  void sub(std::size_t n) noexcept { used_.fetch_sub(n, std::memory_order_relaxed); }
  bool over() const noexcept { return used_.load(std::memory_order_relaxed) > max_; }
  std::size_t used() const noexcept { return used_.load(std::memory_order_relaxed); }
  std::size_t max() const noexcept { return max_; }

 private:
  std::atomic<std::size_t> used_{0};
  std::size_t max_;
};

inline constexpr std::uint64_t kNothingProtected = std::numeric_limits<std::uint64_t>::max();

class EventLog {
 public:
  explicit EventLog(std::size_t max_events, std::size_t max_bytes = std::numeric_limits<std::size_t>::max(),
                    std::shared_ptr<ByteBudget> budget = nullptr)
      : max_(max_events == 0 ? 1 : max_events), max_bytes_(max_bytes), budget_(std::move(budget)) {}
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  /// False (and nothing kept) unless `seq` is greater than every sequence number so far.
  /// Then drops the oldest events beyond the bounds (see trim()).
  bool append(std::uint64_t seq, std::string data);
  /// Events with seq >= `seq` are never dropped (kNothingProtected: none is protected).
  /// Raising the mark trims at once.
  void protect_from(std::uint64_t seq);
  /// Events with seq > after_seq, oldest first, at most `max`. `gap` is set when events
  /// after `after_seq` were already dropped. Finds the cursor by sequence number (binary
  /// search), so a log with holes (copied from a trimmed shared log) reads correctly.
  std::vector<StoredEvent> read_after(std::uint64_t after_seq, std::size_t max, bool* gap = nullptr) const;
  std::size_t size() const noexcept { return events_.size() - head_; }
  /// Bytes of event data held.
  std::size_t bytes() const noexcept { return bytes_; }
  std::uint64_t last_seq() const noexcept { return size() == 0 ? dropped_through_ : events_.back().seq; }

 private:
  /// Drops the oldest events while a bound is exceeded, except the newest and protected ones.
  void trim();
  bool over() const noexcept { return size() > max_ || bytes_ > max_bytes_ || (budget_ && budget_->over()); }

  // Oldest first from head_ on. A vector rather than a deque: most streams hold one or
  // two events, and a deque allocates ~600 bytes up front.
  std::vector<StoredEvent> events_;
  std::size_t head_ = 0;
  std::size_t max_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::shared_ptr<ByteBudget> budget_;
  std::uint64_t protect_from_ = kNothingProtected;
  std::uint64_t dropped_through_ = 0;  // highest sequence number dropped (0: none)
};

/// The bounds of every stream's log (SessionOptions: max_events_per_stream,
/// max_event_bytes_per_stream, max_event_bytes_per_session).
struct EventLimits {
  std::size_t max_events = 1'000;
  std::size_t max_bytes_per_stream = std::numeric_limits<std::size_t>::max();
  std::size_t max_bytes_per_session = std::numeric_limits<std::size_t>::max();
  /// POST streams a session keeps (in use, or ended and kept for resumption).
  std::size_t max_streams = std::numeric_limits<std::size_t>::max();
};

class EventStore {
 public:
  explicit EventStore(EventLimits limits) : limits_(limits) {}
  explicit EventStore(std::size_t max_events_per_stream) : limits_{max_events_per_stream} {}
  virtual ~EventStore() = default;

  const EventLimits& limits() const noexcept { return limits_; }
  std::size_t max_events_per_stream() const noexcept { return limits_.max_events; }
  /// A stream appended an event: keep a copy where other nodes can read it (write-behind).
  virtual void mirror(const std::string& /*stream_key*/, std::uint64_t /*seq*/, std::string_view /*data*/) {}
  /// A stream this node writes became resumable (its client got an event id): record who
  /// writes it, so a node that replays it knows when nobody will write to it any more.
  virtual void announce_writer(const std::string& /*stream_key*/) {}

 private:
  EventLimits limits_;
};

/// The limits SessionOptions sets.
inline EventLimits event_limits(const SessionOptions& o) {
  return {o.max_events_per_stream, o.max_event_bytes_per_stream, o.max_event_bytes_per_session,
          o.max_streams_per_session};
}

/// Standalone mode: events live in memory only.
class MemoryEventStore final : public EventStore {
 public:
  using EventStore::EventStore;
};

}  // namespace frontmcp::session
