#include "session/session.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>

namespace frontmcp::session {

void PendingCall::complete(Result<json::value> r) {
  {
    std::lock_guard lock(mu_);
    if (result_) return;
    result_.emplace(std::move(r));
  }
  waker_->notify();
}

std::optional<Result<json::value>> PendingCall::take() {
  std::lock_guard lock(mu_);
  return std::exchange(result_, std::nullopt);
}

boost::asio::awaitable<std::optional<Result<json::value>>> PendingCall::wait_until(
    util::Waker::Clock::time_point deadline) {
  for (;;) {
    if (auto r = take()) co_return r;
    if (!co_await waker_->wait_until(deadline)) co_return take();  // it may have come with the deadline
  }
}

void InFlight::cancel(std::string reason) {
  cancelled.store(true, std::memory_order_release);
  std::shared_ptr<PendingCall> w;
  {
    std::lock_guard lock(mu);
    w = waiting_on;
  }
  if (w) w->complete(Error{errc::kServerError, "request cancelled: " + reason, {}});
}

Session::Session(SessionState state, std::shared_ptr<EventStore> events)
    : Session(std::move(state), std::move(events), Options{}) {}

Session::Session(SessionState state, std::shared_ptr<EventStore> events, Options options)
    : id_(state.id),
      transport_(state.transport),
      events_(std::move(events)),
      state_(std::move(state)),
      budget_(std::make_shared<ByteBudget>(events_->limits().max_bytes_per_session)),
      standalone_(std::make_shared<SseStream>(id_, 0, events_, budget_)),
      next_stream_(options.first_stream_index == 0 ? 1 : options.first_stream_index),
      request_id_suffix_(std::move(options.request_id_suffix)),
      attachment_(std::move(options.attachment)) {
  touch();
}

SessionState Session::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

bool Session::initialized() const {
  std::lock_guard lock(mu_);
  return state_.initialized;
}
std::string Session::protocol_version() const {
  std::lock_guard lock(mu_);
  return state_.protocol_version;
}
bool Session::belongs_to(std::string_view principal) const {
  std::lock_guard lock(mu_);
  return state_.principal == principal;
}
std::string Session::principal() const {
  std::lock_guard lock(mu_);
  return state_.principal;
}
std::optional<LogLevel> Session::log_level() const {
  std::lock_guard lock(mu_);
  return state_.log_level;
}

void Session::touch() noexcept {
  last_activity_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
}

std::chrono::steady_clock::time_point Session::last_activity() const noexcept {
  return std::chrono::steady_clock::time_point(
      std::chrono::steady_clock::duration(last_activity_ns_.load(std::memory_order_relaxed)));
}

std::shared_ptr<SseStream> Session::open_stream() {
  std::lock_guard lock(mu_);
  if (streams_.size() >= events_->limits().max_streams) {
    // Make room: the oldest stream that has ended (kept only so its client can resume).
    auto it = std::find_if(streams_.begin(), streams_.end(), [](const auto& e) { return e.second->finished(); });
    if (it == streams_.end()) return nullptr;  // all in use: the caller answers 429
    streams_.erase(it);
  }
  auto s = std::make_shared<SseStream>(id_, next_stream_++, events_, budget_);
  streams_.emplace(s->index(), s);
  return s;
}

std::shared_ptr<SseStream> Session::find_stream(std::uint64_t index) const {
  if (index == 0) return standalone_;
  std::lock_guard lock(mu_);
  auto it = streams_.find(index);
  return it == streams_.end() ? nullptr : it->second;
}

void Session::close_stream(std::uint64_t index) {
  std::lock_guard lock(mu_);
  streams_.erase(index);
}

void Session::send_unsolicited(const json::value& msg) {
  standalone_->send(msg);
}

std::string Session::next_request_id() {
  // Built in two steps: g++ 12 at -O3 warns falsely (-Wrestrict, GCC bug 105329) on
  // "literal" + std::string.
  std::string id = "s";
  id += std::to_string(next_request_id_.fetch_add(1, std::memory_order_relaxed) + 1);
  id += request_id_suffix_;
  return id;
}

bool Session::add_pending(const std::string& id, std::shared_ptr<PendingCall> call, std::size_t max) {
  std::lock_guard lock(mu_);
  if (pending_.size() >= max && pending_.count(id) == 0) return false;
  pending_[id] = std::move(call);
  return true;
}

void Session::remove_pending(const std::string& id) {
  std::lock_guard lock(mu_);
  pending_.erase(id);
}

bool Session::resolve_pending(const std::string& id, Result<json::value> r) {
  std::shared_ptr<PendingCall> call;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return false;
    call = it->second;
    pending_.erase(it);
  }
  call->complete(std::move(r));
  return true;
}

std::shared_ptr<InFlight> Session::begin_request(const std::string& id) {
  auto f = std::make_shared<InFlight>();
  std::lock_guard lock(mu_);
  inflight_[id] = f;
  return f;
}

void Session::end_request(const std::string& id) {
  std::lock_guard lock(mu_);
  inflight_.erase(id);
}

void Session::cancel_request(const std::string& id, std::string reason) {
  std::shared_ptr<InFlight> f;
  {
    std::lock_guard lock(mu_);
    auto it = inflight_.find(id);
    if (it == inflight_.end()) return;
    f = it->second;
  }
  f->cancel(std::move(reason));
}

bool Session::busy() const {
  if (standalone_->attached()) return true;
  std::lock_guard lock(mu_);
  if (!inflight_.empty()) return true;
  for (const auto& [i, s] : streams_) {
    if (s->attached()) return true;
  }
  return false;
}

void Session::close() {
  if (closed_.exchange(true)) return;
  std::map<std::uint64_t, std::shared_ptr<SseStream>> streams;
  std::unordered_map<std::string, std::shared_ptr<PendingCall>> pending;
  std::unordered_map<std::string, std::shared_ptr<InFlight>> inflight;
  {
    std::lock_guard lock(mu_);
    streams.swap(streams_);
    pending.swap(pending_);
    inflight.swap(inflight_);
  }
  standalone_->finish();
  for (auto& [i, s] : streams) s->finish();
  for (auto& [i, p] : pending) p->complete(Error{errc::kServerError, "session ended", {}});
  for (auto& [i, f] : inflight) f->cancel("session ended");
}

std::string id_key(const json::value& id) {
  if (id.is_string()) return std::string("s:") + std::string(id.get_string());
  return "n:" + json::serialize(id);
}

}  // namespace frontmcp::session
