#pragma once
// EventStore: the events of every SSE stream, by stream key and sequence number, so a
// client that reconnects with Last-Event-ID gets what it missed. Live delivery reads from
// it too, so replay and live traffic can never disagree.
//
// Event id on the wire: "<streamIndex>_<seq>"; the stream key is
// "<sessionId>/<streamIndex>", so any node that knows the session (from Mcp-Session-Id)
// can resolve it.
//
// Failure: the in-memory store cannot fail; it keeps at most `max_events_per_stream`
// events per stream and drops the oldest (a client resuming from before them misses
// those events; read_after reports the gap). Thread-safety: all members, any thread.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace frontmcp::session {

struct StoredEvent {
  std::uint64_t seq = 0;
  std::string data;  // the serialised JSON-RPC message
};

class EventStore {
 public:
  virtual ~EventStore() = default;
  virtual void append(const std::string& stream_key, std::uint64_t seq, std::string data) = 0;
  /// Events with seq > after_seq, oldest first, at most `max`. `gap` is set when events
  /// after `after_seq` were already dropped.
  virtual std::vector<StoredEvent> read_after(const std::string& stream_key, std::uint64_t after_seq,
                                              std::size_t max, bool* gap = nullptr) = 0;
  virtual void remove_stream(const std::string& stream_key) = 0;
  /// An event that is already in the shared log (copied from it after a takeover): kept
  /// locally, not written back.
  virtual void restore(const std::string& stream_key, std::uint64_t seq, std::string data) {
    append(stream_key, seq, std::move(data));
  }
};

class MemoryEventStore final : public EventStore {
 public:
  explicit MemoryEventStore(std::size_t max_events_per_stream) : max_(max_events_per_stream) {}
  void append(const std::string& stream_key, std::uint64_t seq, std::string data) override;
  std::vector<StoredEvent> read_after(const std::string& stream_key, std::uint64_t after_seq,
                                      std::size_t max, bool* gap = nullptr) override;
  void remove_stream(const std::string& stream_key) override;
  std::size_t stream_count() const;

 private:
  /// A stream's events, oldest first from `head` on. A vector rather than a deque: most
  /// streams hold one or two events, and a deque allocates ~600 bytes up front.
  struct Log {
    std::vector<StoredEvent> events;
    std::size_t head = 0;
    std::size_t size() const { return events.size() - head; }
  };
  std::size_t max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Log> streams_;
};

}  // namespace frontmcp::session
