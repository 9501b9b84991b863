#pragma once
// MessageBus: the one way out for everything that is not the response to the request
// being served — notifications not tied to a request, resource updates, list changes,
// and the client's answers to server->client requests. It reaches whichever node holds
// the session's stream; code above the transport never knows which.
//
// Standalone: LocalMessageBus delivers in-process. Distributed: the Redis relay
// (src/cluster, ClusterBus) publishes to the owning node's channel.
// Delivery: at-most-once; with resumability on, a message that reached a stream's event
// log is replayed to a client that reconnects with Last-Event-ID. Thread-safety: all
// members, any thread; none blocks.
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "session/session_manager.hpp"

namespace frontmcp::session {

class MessageBus {
 public:
  virtual ~MessageBus() = default;
  /// To the session's standalone stream. False if the session is unknown everywhere.
  virtual bool to_session(const std::string& session_id, const json::value& msg) = 0;
  /// To every session subscribed to `uri`, on every node.
  virtual void to_subscribers(std::string_view uri, const json::value& msg) = 0;
  /// To every initialized session, on every node (list_changed).
  virtual void to_all(const json::value& msg) = 0;
  /// A client's answer to a server->client request, to the node that waits for it.
  /// False if nobody waits for that id.
  virtual bool client_response(const std::string& session_id, const std::string& request_id,
                               Result<json::value> answer) = 0;
};

class LocalMessageBus final : public MessageBus {
 public:
  explicit LocalMessageBus(SessionManager& sessions) : sessions_(sessions) {}
  bool to_session(const std::string& session_id, const json::value& msg) override;
  void to_subscribers(std::string_view uri, const json::value& msg) override;
  void to_all(const json::value& msg) override;
  bool client_response(const std::string& session_id, const std::string& request_id,
                       Result<json::value> answer) override;

 private:
  SessionManager& sessions_;
};

}  // namespace frontmcp::session
