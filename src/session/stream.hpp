#pragma once
// Outbound: where the messages of a request go (its POST's SSE stream, a legacy /sse
// stream, stdout). SseStream: one logical SSE stream of a session. It outlives the HTTP
// connection that carries it, so a client can reconnect with Last-Event-ID and resume.
//
// Delivery: every event gets the next sequence number and is appended to the stream's own
// EventLog (and mirrored by the EventStore); a writer (the HTTP connection) reads from the
// log after its cursor. Ordering is the order of send() calls. Thread-safety: all members,
// any thread.
#include <atomic>
#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "session/event_store.hpp"

namespace frontmcp::session {

namespace json = boost::json;

class Outbound {
 public:
  virtual ~Outbound() = default;
  /// A notification or a server->client request.
  virtual void send(const json::value& msg) = 0;
  /// The response to a request that this outbound carries.
  virtual void send_response(const json::value& msg) = 0;
  /// Ends the HTTP response now carrying this outbound, without ending the logical
  /// stream: the client reconnects with Last-Event-ID and gets the rest (SEP-1699
  /// polling). A no-op where that makes no sense.
  virtual void disconnect() {}
};

class SseStream final : public Outbound {
 public:
  /// index 0 is a session's standalone (GET) stream; POST streams count from 1. The log is
  /// bounded by the store's EventLimits and by `budget` (the session's, shared by its
  /// streams). A POST stream never drops an event its writer has not read yet: its events
  /// are its own requests' responses and notifications, bounded by those requests (batch
  /// size, handlers); the standalone stream carries what others cause and drops the oldest
  /// even unread (its writer then reports the gap).
  SseStream(std::string session_id, std::uint64_t index, std::shared_ptr<EventStore> store,
            std::shared_ptr<ByteBudget> budget = nullptr);

  void send(const json::value& msg) override;
  void send_response(const json::value& msg) override;
  /// No more events will come; a writer ends the HTTP response after the last one.
  void finish();
  /// Distributed mode: the standalone stream of a session that this node owns again
  /// (after it handed it off): accepts events again, sequence numbers continue.
  void reopen();
  void disconnect() override;
  /// Writer side: true once after disconnect() was called.
  bool take_disconnect();

  /// Writer side. `wake` is called (from any thread) after each new event or finish().
  /// Only one writer at a time: attach() returns false while another is attached.
  bool attach(std::function<void()> wake);
  void detach();
  bool attached() const;

  /// Events this stream had on another node (read from the shared event log after a
  /// takeover): stored with their sequence numbers, which new events continue. Only
  /// before anything else was sent on this stream.
  void preload(std::vector<StoredEvent> events);
  /// Distributed mode: this node writes this stream and a client got an event id of it
  /// (EventStore::announce_writer, once).
  void announce_writer();

  /// Writer side (also moves a POST stream's protection past what was read).
  std::vector<StoredEvent> read_after(std::uint64_t after_seq, std::size_t max, bool* gap = nullptr);
  /// Bytes of event data this stream's log holds.
  std::size_t log_bytes() const;
  std::uint64_t last_seq() const;
  bool finished() const;
  /// True once anything other than a response was sent (decides JSON vs SSE).
  bool has_non_response() const { return non_responses_.load(std::memory_order_acquire) > 0 || disconnect_requested(); }
  bool disconnect_requested() const;
  std::size_t response_count() const { return responses_.load(std::memory_order_acquire); }

  const std::string& key() const noexcept { return key_; }
  std::uint64_t index() const noexcept { return index_; }
  std::string event_id(std::uint64_t seq) const { return std::to_string(index_) + "_" + std::to_string(seq); }

 private:
  void push(const json::value& msg);

  std::string key_;
  std::uint64_t index_;
  std::shared_ptr<EventStore> store_;
  mutable std::mutex mu_;
  EventLog log_;
  std::uint64_t seq_ = 0;
  std::uint64_t read_through_ = 0;  // the highest sequence number a writer has read
  bool announced_ = false;
  bool finished_ = false;
  bool disconnect_ = false;
  std::function<void()> wake_;
  std::atomic<std::size_t> non_responses_{0};
  std::atomic<std::size_t> responses_{0};
};

/// Parses "<index>_<seq>". False for anything else.
bool parse_event_id(std::string_view id, std::uint64_t& index, std::uint64_t& seq);

}  // namespace frontmcp::session
