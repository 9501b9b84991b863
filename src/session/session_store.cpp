#include "session/session_store.hpp"

namespace frontmcp::session {

Task<Result<std::optional<SessionState>>> MemorySessionStore::load(std::string id) {
  std::optional<SessionState> out;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(id);
    if (it != sessions_.end()) out = it->second;
  }
  co_return out;
}

Task<Status> MemorySessionStore::save(SessionState state) {
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(state.id);
    if (it != sessions_.end() && it->second.epoch > state.epoch) {
      co_return Error{errc::kServerError, "stale epoch", {}};
    }
    std::string id = state.id;
    sessions_.insert_or_assign(std::move(id), std::move(state));
  }
  co_return Ok{};
}

Task<Status> MemorySessionStore::remove(std::string id) {
  {
    std::lock_guard lock(mu_);
    sessions_.erase(id);
  }
  co_return Ok{};
}

std::size_t MemorySessionStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace frontmcp::session
