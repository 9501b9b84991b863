#include "session/directory.hpp"

namespace frontmcp::session {

std::string_view to_string(Fault f) noexcept {
  switch (f) {
    case Fault::not_found:
      return "not_found";
    case Fault::unavailable:
      return "unavailable";
    case Fault::conflict:
      return "conflict";
    case Fault::stale:
      return "stale";
  }
  return "unavailable";
}

Error to_error(const Failure& f) {
  return Error{f.fault == Fault::not_found ? errc::kSessionNotFound : errc::kServerError, f.message, {}};
}

Task<Outcome<Found>> LocalDirectory::resolve(std::string_view session_id, Asker) {
  co_return Found{sessions_.find(session_id), {}};
}

Task<Outcome<std::vector<HeaderField>>> LocalDirectory::create(std::shared_ptr<Session>, Asker) {
  co_return std::vector<HeaderField>{};
}

Task<Done> LocalDirectory::commit(std::shared_ptr<Session>) {
  co_return Ok{};
}

Task<Outcome<bool>> LocalDirectory::remove(std::string session_id) {
  co_return sessions_.remove(session_id);
}

Task<Outcome<Found>> LocalDirectory::acquire_stream(std::shared_ptr<Session> s, Asker) {
  co_return Found{std::move(s), {}};
}

Task<Outcome<std::vector<StoredEvent>>> LocalDirectory::read_stream(std::string, std::uint64_t) {
  co_return std::vector<StoredEvent>{};
}

Task<Outcome<int>> LocalDirectory::stream_writer_alive(std::string) {
  co_return -1;
}

Task<Outcome<SessionDirectory::LegacyRoute>> LocalDirectory::route_legacy(std::string session_id) {
  co_return LegacyRoute{sessions_.find(session_id), true};
}

Task<Done> LocalDirectory::forward_legacy(std::string, std::string) {
  co_return Failure{Fault::not_found, "Session not found"};  // every stream is here: never called
}

}  // namespace frontmcp::session
