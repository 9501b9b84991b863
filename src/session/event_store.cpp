#include "session/event_store.hpp"

namespace frontmcp::session {

void MemoryEventStore::append(const std::string& stream_key, std::uint64_t seq, std::string data) {
  std::lock_guard lock(mu_);
  auto& q = streams_[stream_key];
  q.push_back({seq, std::move(data)});
  while (q.size() > max_) q.pop_front();
}

std::vector<StoredEvent> MemoryEventStore::read_after(const std::string& stream_key, std::uint64_t after_seq,
                                                      std::size_t max, bool* gap) {
  std::vector<StoredEvent> out;
  std::lock_guard lock(mu_);
  auto it = streams_.find(stream_key);
  if (gap) *gap = false;
  if (it == streams_.end()) return out;
  const auto& q = it->second;
  if (gap && !q.empty() && q.front().seq > after_seq + 1) *gap = true;
  // Sequence numbers are dense and increasing: jump to the first event after after_seq.
  std::size_t start = 0;
  if (!q.empty() && after_seq >= q.front().seq) start = static_cast<std::size_t>(after_seq - q.front().seq + 1);
  for (std::size_t i = start; i < q.size() && out.size() < max; ++i) out.push_back(q[i]);
  return out;
}

void MemoryEventStore::remove_stream(const std::string& stream_key) {
  std::lock_guard lock(mu_);
  streams_.erase(stream_key);
}

std::size_t MemoryEventStore::stream_count() const {
  std::lock_guard lock(mu_);
  return streams_.size();
}

}  // namespace frontmcp::session
