#pragma once
// SessionDirectory: the one seam between the protocol side (src/http, src/transport,
// src/protocol) and where sessions live. The transports ask it for a session by id, tell
// it about new and ended sessions, have it store what a request changed before the
// response goes out, and ask it for a session's standalone stream; they never know whether
// the answer came from this process's memory (LocalDirectory, below) or from a shared store
// with other nodes behind it (the Redis directory of src/cluster).
//
// Errors say what the caller does next (Fault), never how the store failed.
// Thread-safety: all members, any thread. Coroutines run on the caller's executor and
// never block it; each is bounded (a shared store answers within its command timeout).
#include <chrono>
#include <frontmcp/context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "session/session_manager.hpp"

namespace frontmcp::session {

/// What a caller does after a directory call failed.
enum class Fault {
  not_found,    ///< no such session (any more): answer 404, the client starts a new one
  unavailable,  ///< the store cannot answer now: 503 + Retry-After, the client retries
  conflict,     ///< nodes disagree on the session's owner, settling: 503 + Retry-After
  stale,        ///< this node lost the session while serving it: 503 + Retry-After
};
std::string_view to_string(Fault f) noexcept;

struct Failure {
  Fault fault = Fault::unavailable;
  std::string message;
  /// A retry of the same request may succeed (everything but not_found).
  bool retryable() const noexcept { return fault != Fault::not_found; }
};
/// A failure as a JSON-RPC error: -32001 (session not found) or -32000.
Error to_error(const Failure& f);

template <class T>
using Outcome = Result<T, Failure>;
using Done = Outcome<Ok>;

/// A response header the directory wants on the answer (affinity cookie).
using HeaderField = std::pair<std::string, std::string>;

struct Found {
  std::shared_ptr<Session> session;  ///< nullptr: no such session
  /// Headers for the response (the directory moved the session here: the affinity cookie
  /// re-pins the client's load balancer to this node).
  std::vector<HeaderField> headers;
};

/// Who asks: what the directory needs of the request to shape its headers.
struct Asker {
  bool secure = false;  ///< the client reached us over TLS (X-Forwarded-Proto: https)
};

class SessionDirectory {
 public:
  virtual ~SessionDirectory() = default;

  /// The session a request names. Found::session is nullptr for an unknown id.
  /// `session_id` must stay valid until the call completes (it is the request's header:
  /// the hot path builds no string for it).
  virtual Task<Outcome<Found>> resolve(std::string_view session_id, Asker asker) = 0;
  /// The same answer as resolve() when it needs no I/O (standalone: always; a shared store:
  /// a session this node owns and may serve from memory), else nullopt. The hot path then
  /// costs no coroutine.
  virtual std::optional<Found> resolve_now(std::string_view session_id, Asker asker) = 0;
  /// Registers a session that was just created here (initialize, GET /sse). Returns the
  /// response headers it implies. On failure the caller removes the session.
  virtual Task<Outcome<std::vector<HeaderField>>> create(std::shared_ptr<Session> s, Asker asker) = 0;
  /// Makes what requests changed in the session (log level, subscriptions) durable; done
  /// before the response that reports the change goes out. Cheap when nothing changed.
  virtual Task<Done> commit(std::shared_ptr<Session> s) = 0;
  /// Whether commit() has anything to do for `s` (false: skip it).
  virtual bool needs_commit(const Session& s) const = 0;
  /// Ends a session wherever it is served (DELETE, the end of a legacy stream). False when
  /// there was none.
  virtual Task<Outcome<bool>> remove(std::string session_id) = 0;

  /// Whether the session's standalone stream (GET stream, legacy /sse stream, the target of
  /// messages not tied to a request) is in this process.
  virtual bool holds_stream(const Session& s) const = 0;
  /// Brings the session's standalone stream here (GET on another node than the one that
  /// holds it), waiting as long as the directory's failover may take (bounded). The
  /// session to serve the stream from (it may be a new object), or nullptr when the stream
  /// could not be moved in time (the caller answers 503 + Retry-After). Returns at once
  /// when the stream is here already.
  virtual Task<Outcome<Found>> acquire_stream(std::shared_ptr<Session> s, Asker asker) = 0;

  /// A POST stream this process does not hold (written by another node, or by this node
  /// before a restart): its events after `after_seq`. Empty when nobody wrote any.
  virtual Task<Outcome<std::vector<StoredEvent>>> read_stream(std::string stream_key, std::uint64_t after_seq) = 0;
  /// Whether the writer of such a stream still runs: 1 yes, 0 no, -1 unknown.
  virtual Task<Outcome<int>> stream_writer_alive(std::string stream_key) = 0;
  /// Whether streams can be read here that this process does not hold (read_stream finds
  /// anything).
  virtual bool shares_streams() const noexcept = 0;

  /// Legacy HTTP+SSE, POST /message: the session and whether its /sse stream is in this
  /// process. A legacy session cannot outlive its stream: one whose stream died with its
  /// process is removed here and answered as unknown (session nullptr).
  struct LegacyRoute {
    std::shared_ptr<Session> session;  ///< nullptr: no such session
    bool here = true;                  ///< false: forward_legacy() the body
  };
  virtual Task<Outcome<LegacyRoute>> route_legacy(std::string session_id) = 0;
  /// Sends a POST /message body to the process that holds the session's /sse stream (its
  /// answers go out there).
  virtual Task<Done> forward_legacy(std::string session_id, std::string body) = 0;

  /// Headers every response carries (the node's identity behind a load balancer).
  virtual const std::vector<HeaderField>& response_headers() const noexcept = 0;
  /// Whether requests that arrive while this process drains may still be served (the
  /// sessions outlive the process), or must be refused with 503.
  virtual bool serves_while_draining() const noexcept = 0;
};

/// Standalone: the sessions of this process (SessionManager), nothing shared.
class LocalDirectory final : public SessionDirectory {
 public:
  explicit LocalDirectory(SessionManager& sessions) : sessions_(sessions) {}

  Task<Outcome<Found>> resolve(std::string_view session_id, Asker asker) override;
  std::optional<Found> resolve_now(std::string_view session_id, Asker) override {
    return Found{sessions_.find(session_id), {}};
  }
  Task<Outcome<std::vector<HeaderField>>> create(std::shared_ptr<Session> s, Asker asker) override;
  Task<Done> commit(std::shared_ptr<Session> s) override;
  bool needs_commit(const Session&) const override { return false; }
  Task<Outcome<bool>> remove(std::string session_id) override;
  bool holds_stream(const Session&) const override { return true; }
  Task<Outcome<Found>> acquire_stream(std::shared_ptr<Session> s, Asker asker) override;
  Task<Outcome<std::vector<StoredEvent>>> read_stream(std::string stream_key, std::uint64_t after_seq) override;
  Task<Outcome<int>> stream_writer_alive(std::string stream_key) override;
  bool shares_streams() const noexcept override { return false; }
  Task<Outcome<LegacyRoute>> route_legacy(std::string session_id) override;
  Task<Done> forward_legacy(std::string session_id, std::string body) override;
  const std::vector<HeaderField>& response_headers() const noexcept override { return none_; }
  bool serves_while_draining() const noexcept override { return false; }

 private:
  SessionManager& sessions_;
  std::vector<HeaderField> none_;
};

}  // namespace frontmcp::session
