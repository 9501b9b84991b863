#include "session/event_store.hpp"

namespace frontmcp::session {

void MemoryEventStore::append(const std::string& stream_key, std::uint64_t seq, std::string data) {
  std::lock_guard lock(mu_);
  auto& log = streams_[stream_key];
  log.events.push_back({seq, std::move(data)});
  if (log.size() > max_) {
    ++log.head;
    // Compact once the dropped prefix is as long as what is kept: amortised O(1).
    if (log.head >= max_) {
      log.events.erase(log.events.begin(), log.events.begin() + static_cast<std::ptrdiff_t>(log.head));
      log.head = 0;
    }
  }
}

std::vector<StoredEvent> MemoryEventStore::read_after(const std::string& stream_key, std::uint64_t after_seq,
                                                      std::size_t max, bool* gap) {
  std::vector<StoredEvent> out;
  if (gap) *gap = false;
  std::lock_guard lock(mu_);
  auto it = streams_.find(stream_key);
  if (it == streams_.end() || it->second.size() == 0) return out;
  const auto& log = it->second;
  std::uint64_t first = log.events[log.head].seq;
  if (gap && first > after_seq + 1) *gap = true;
  // Sequence numbers are dense and increasing: jump to the first event after after_seq.
  std::size_t start = log.head;
  if (after_seq >= first) start += static_cast<std::size_t>(after_seq - first + 1);
  for (std::size_t i = start; i < log.events.size() && out.size() < max; ++i) out.push_back(log.events[i]);
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
