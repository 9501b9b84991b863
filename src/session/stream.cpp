#include "session/stream.hpp"

#include <boost/json/serialize.hpp>
#include <charconv>

namespace frontmcp::session {

SseStream::SseStream(std::string session_id, std::uint64_t index, std::shared_ptr<EventStore> store,
                     std::shared_ptr<ByteBudget> budget)
    : key_(std::move(session_id) + "/" + std::to_string(index)),
      index_(index),
      store_(std::move(store)),
      log_(store_->limits().max_events, store_->limits().max_bytes_per_stream, std::move(budget)) {
  if (index_ != 0) log_.protect_from(1);  // nothing read yet
}

void SseStream::push(const json::value& msg) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    // Appending under the lock keeps the mirror's order equal to the sequence order.
    std::string data = json::serialize(msg);
    store_->mirror(key_, ++seq_, data);
    log_.append(seq_, std::move(data));
    wake = wake_;
  }
  if (wake) wake();
}

void SseStream::preload(std::vector<StoredEvent> events) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    for (auto& e : events) {
      if (e.seq <= seq_) continue;
      seq_ = e.seq;
      log_.append(e.seq, std::move(e.data));  // already in the shared log: not mirrored
      wake = wake_;
    }
  }
  if (wake) wake();
}

void SseStream::announce_writer() {
  {
    std::lock_guard lock(mu_);
    if (std::exchange(announced_, true)) return;
  }
  store_->announce_writer(key_);
}

void SseStream::send(const json::value& msg) {
  non_responses_.fetch_add(1, std::memory_order_acq_rel);
  push(msg);
}

void SseStream::send_response(const json::value& msg) {
  push(msg);
  responses_.fetch_add(1, std::memory_order_acq_rel);
}

void SseStream::finish() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    finished_ = true;
    wake = wake_;
  }
  if (wake) wake();
}

void SseStream::reopen() {
  std::lock_guard lock(mu_);
  finished_ = false;
}

void SseStream::disconnect() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    disconnect_ = true;
    wake = wake_;
  }
  if (wake) wake();
}

bool SseStream::take_disconnect() {
  std::lock_guard lock(mu_);
  return std::exchange(disconnect_, false);
}

bool SseStream::disconnect_requested() const {
  std::lock_guard lock(mu_);
  return disconnect_;
}

bool SseStream::attach(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  if (wake_) return false;
  wake_ = std::move(wake);
  return true;
}

void SseStream::detach() {
  std::lock_guard lock(mu_);
  wake_ = nullptr;
}

bool SseStream::attached() const {
  std::lock_guard lock(mu_);
  return static_cast<bool>(wake_);
}

std::vector<StoredEvent> SseStream::read_after(std::uint64_t after_seq, std::size_t max, bool* gap) {
  std::lock_guard lock(mu_);
  auto out = log_.read_after(after_seq, max, gap);
  if (index_ != 0 && !out.empty() && out.back().seq > read_through_) {
    read_through_ = out.back().seq;
    log_.protect_from(read_through_ + 1);
  }
  return out;
}

std::size_t SseStream::log_bytes() const {
  std::lock_guard lock(mu_);
  return log_.bytes();
}

std::uint64_t SseStream::last_seq() const {
  std::lock_guard lock(mu_);
  return seq_;
}

bool SseStream::finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

bool parse_event_id(std::string_view id, std::uint64_t& index, std::uint64_t& seq) {
  auto us = id.find('_');
  if (us == std::string_view::npos) return false;
  auto a = id.substr(0, us), b = id.substr(us + 1);
  auto r1 = std::from_chars(a.data(), a.data() + a.size(), index);
  auto r2 = std::from_chars(b.data(), b.data() + b.size(), seq);
  return r1.ec == std::errc{} && r1.ptr == a.data() + a.size() && r2.ec == std::errc{} &&
         r2.ptr == b.data() + b.size() && !a.empty() && !b.empty();
}

}  // namespace frontmcp::session
