#include "session/event_store.hpp"

#include <algorithm>

namespace frontmcp::session {

EventLog::~EventLog() {
  if (budget_) budget_->sub(bytes_);
}

bool EventLog::append(std::uint64_t seq, std::string data) {
  if (seq <= last_seq()) return false;
  bytes_ += data.size();
  if (budget_) budget_->add(data.size());
  events_.push_back({seq, std::move(data)});
  trim();
  return true;
}

void EventLog::protect_from(std::uint64_t seq) {
  bool raised = seq > protect_from_;
  protect_from_ = seq;
  if (raised) trim();
}

void EventLog::trim() {
  while (size() > 1 && events_[head_].seq < protect_from_ && over()) {
    auto& e = events_[head_];
    dropped_through_ = e.seq;
    bytes_ -= e.data.size();
    if (budget_) budget_->sub(e.data.size());
    std::string().swap(e.data);  // the bytes go now, not at the next compaction
    ++head_;
  }
  // Compact once the dropped prefix is as long as what is kept: amortised O(1).
  if (head_ > 0 && head_ >= size()) {
    events_.erase(events_.begin(), events_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
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
