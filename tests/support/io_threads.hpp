#pragma once
// Driving coroutines from a test thread: an io_context run by background threads, a
// bounded wait for one awaitable's result, and polling a condition with a deadline.
// Header-only; link frontmcp (Asio is compiled there).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace frontmcp::test {

/// An io_context run by `threads` threads while the object lives. The destructor lets
/// the remaining work finish (coroutines of stopped clients, at most kDrainTimeout), then
/// stops the context and joins. Declare it before the objects that use its executor.
class IoThreads {
 public:
  static constexpr std::chrono::seconds kDrainTimeout{5};

  explicit IoThreads(int threads = 2) : work_(boost::asio::make_work_guard(ioc_)) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  ~IoThreads() {
    work_.reset();
    const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
    while (!ioc_.stopped() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling interval
    }
    ioc_.stop();
    for (auto& t : threads_) t.join();
  }
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  boost::asio::io_context& context() noexcept { return ioc_; }
  boost::asio::any_io_executor executor() { return ioc_.get_executor(); }

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

namespace detail {
template <class T>
struct Outcome {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::optional<T> value;
  std::exception_ptr error;
};

/// A free function, not a lambda: g++ 12 miscompiles capturing lambda coroutines.
template <class T>
boost::asio::awaitable<void> store_outcome(boost::asio::awaitable<T> task, std::shared_ptr<Outcome<T>> out) {
  T value = co_await std::move(task);
  std::lock_guard lock(out->mutex);
  out->value.emplace(std::move(value));
}
}  // namespace detail

/// Runs `task` on `ex` and blocks the calling (test) thread until it finished, at most
/// `limit`. Throws std::runtime_error on timeout; rethrows what the task threw.
template <class T>
T run_on(boost::asio::any_io_executor ex, boost::asio::awaitable<T> task,
         std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto out = std::make_shared<detail::Outcome<T>>();
  boost::asio::co_spawn(ex, detail::store_outcome(std::move(task), out), [out](std::exception_ptr e) {
    std::lock_guard lock(out->mutex);
    out->error = e;
    out->done = true;
    out->cv.notify_all();
  });
  std::unique_lock lock(out->mutex);
  if (!out->cv.wait_for(lock, limit, [&] { return out->done; })) throw std::runtime_error("run_on: timed out");
  if (out->error) std::rethrow_exception(out->error);
  return std::move(*out->value);
}

namespace detail {
template <class T>
boost::asio::awaitable<void> fulfil(boost::asio::awaitable<T> task, std::shared_ptr<std::promise<T>> promise) {
  T value = co_await std::move(task);
  promise->set_value(std::move(value));
}
}  // namespace detail

/// Starts `task` on `ex` and returns its future at once (for "while this is in flight"
/// tests). Unlike co_spawn(..., use_future), works for types without a default
/// constructor (Result<T>).
template <class T>
std::future<T> start_on(boost::asio::any_io_executor ex, boost::asio::awaitable<T> task) {
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> future = promise->get_future();
  boost::asio::co_spawn(ex, detail::fulfil(std::move(task), promise), [promise](std::exception_ptr e) {
    if (e) promise->set_exception(e);
  });
  return future;
}

/// Polls `condition` until it holds or `limit` passes; returns its last value.
template <class Pred>
bool wait_until(Pred condition, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling interval
  }
  return true;
}

}  // namespace frontmcp::test
