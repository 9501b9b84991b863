#include "session/event_store.hpp"

#include <algorithm>

namespace frontmcp::session {

bool EventLog::append(std::uint64_t seq, std::string data) {
  if (seq <= last_seq()) return false;
  events_.push_back({seq, std::move(data)});
  if (size() > max_) {
    dropped_through_ = events_[head_].seq;
    ++head_;
    // Compact once the dropped prefix is as long as what is kept: amortised O(1).
    if (head_ >= max_) {
      events_.erase(events_.begin(), events_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  return true;
}

std::vector<StoredEvent> EventLog::read_after(std::uint64_t after_seq, std::size_t max, bool* gap) const {
  std::vector<StoredEvent> out;
  if (gap) *gap = false;
  if (size() == 0) return out;
  auto begin = events_.begin() + static_cast<std::ptrdiff_t>(head_);
  // Something after the cursor was dropped: the cursor is older than the last dropped event.
  if (gap && after_seq < dropped_through_) *gap = true;
  auto it = std::upper_bound(begin, events_.end(), after_seq,
                             [](std::uint64_t s, const StoredEvent& e) { return s < e.seq; });
  for (; it != events_.end() && out.size() < max; ++it) out.push_back(*it);
  return out;
}

}  // namespace frontmcp::session
