#pragma once
// SessionStore: where session state lives so that any node can continue a session.
// Standalone: in memory (this process only). Distributed: Redis (src/cluster).
//
// Failure: every call returns a Result; a store that cannot answer returns an Error with
// code kServerError, which the HTTP layer turns into 503 + Retry-After (never a 404).
// save() rejects a write whose epoch is older than the stored one (fencing), with
// kServerError and message "stale epoch". Thread-safety: all members, any thread.
#include "session/session_state.hpp"

#include <frontmcp/context.hpp>

#include <mutex>
#include <optional>
#include <unordered_map>

namespace frontmcp::session {

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  virtual Task<Result<std::optional<SessionState>>> load(std::string id) = 0;
  virtual Task<Status> save(SessionState state) = 0;
  virtual Task<Status> remove(std::string id) = 0;
};

class MemorySessionStore final : public SessionStore {
 public:
  Task<Result<std::optional<SessionState>>> load(std::string id) override;
  Task<Status> save(SessionState state) override;
  Task<Status> remove(std::string id) override;
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, SessionState> sessions_;
};

}  // namespace frontmcp::session
