#pragma once
// ListenRegistry: the subscriptions/listen streams (MCP 2026-07-28) of this process. A
// listener is not a session: no session record, nothing in Redis, gone with its
// connection. The message bus feeds it (list changes and resource updates, whether made
// here or, through the relay, on another node); each listener gets only the kinds it asked
// for and the server honored, stamped with its subscription id (the listen request's id).
// Thread-safety: all members, any thread; the lock is never held while a stream is written.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "session/stream.hpp"

namespace frontmcp::session {

/// The _meta key that ties a listen stream's messages to their subscription.
inline constexpr std::string_view kMetaSubscriptionId = "io.modelcontextprotocol/subscriptionId";
/// The first message of every listen stream.
inline constexpr std::string_view kListenAcknowledged = "notifications/subscriptions/acknowledged";

/// What a listener receives: the subset of its request's `notifications` the server honors
/// (the acknowledgement repeats it).
struct ListenFilter {
  bool tools = false;                   // notifications/tools/list_changed
  bool prompts = false;                 // notifications/prompts/list_changed
  bool resources = false;               // notifications/resources/list_changed
  std::vector<std::string> uris;        // notifications/resources/updated of these URIs
  bool resource_subscriptions = false;  // `uris` was honored (even if empty)

  /// Nothing to deliver, ever: the stream is acknowledged and closed at once.
  bool empty() const noexcept { return !tools && !prompts && !resources && uris.empty(); }
  /// The acknowledgement's `notifications` object.
  json::object to_json() const;
  /// Whether a message of `method` (a list change) is for this listener.
  bool wants(std::string_view method) const noexcept;
};

class ListenRegistry {
 public:
  /// Events a listen stream keeps for its writer; beyond it the oldest go (a client that
  /// reads nothing cannot make the server keep more).
  static constexpr std::size_t kBacklogEvents = 256;
  static constexpr std::size_t kBacklogBytes = 256 * 1024;

  struct Listener {
    json::value id;  // the listen request's id: the subscription id
    ListenFilter filter;
    std::shared_ptr<SseStream> stream;
  };

  explicit ListenRegistry(std::size_t max_listeners);

  /// A new listener whose stream holds the acknowledgement already (so it is the first
  /// frame whatever is delivered next); nullptr when max_listeners are open.
  std::shared_ptr<Listener> open(json::value id, ListenFilter filter);
  /// The client went away: removed, its stream finished. Idempotent.
  void close(const std::shared_ptr<Listener>& l);
  /// Ends a listener gracefully: its stream gets the listen request's result
  /// (resultType "complete", the subscription id and `meta` in _meta), then finishes.
  void complete(const std::shared_ptr<Listener>& l, const json::object& meta);
  /// complete() of every listener (server shutdown).
  void complete_all(const json::object& meta);

  /// A list change (notifications/{tools,prompts,resources}/list_changed) to every
  /// listener that asked for its kind; anything else reaches nobody.
  void to_all(const json::value& msg);
  /// notifications/resources/updated of `uri` to every listener subscribed to it.
  void to_subscribers(std::string_view uri, const json::value& msg);

  std::size_t size() const;

 private:
  std::vector<std::shared_ptr<Listener>> matching(std::string_view method, std::string_view uri) const;
  std::shared_ptr<Listener> take(const Listener* l);

  std::size_t max_;
  std::shared_ptr<EventStore> store_;
  mutable std::mutex mu_;
  std::unordered_map<const Listener*, std::shared_ptr<Listener>> listeners_;
};

/// `msg` stamped for a subscription: params._meta[kMetaSubscriptionId] = id (other fields
/// kept).
json::value stamped(const json::value& msg, const json::value& id);

}  // namespace frontmcp::session
