#pragma once
// Cross-thread wake-ups for coroutines, without locks held across awaits.
//
// Waker: a coroutine on executor E waits for "something changed"; any thread may call
// notify(). Level-triggered: a notify() that finds no wait pending (the waiter is busy,
// say writing to a socket) is remembered, and the next wait returns at once. A wait that
// starts after the state it checks changed therefore cannot miss it, whatever the waiter
// did in between; the posted cancel wakes a wait already pending. E must be a strand or a
// single-threaded context (the cancel and the wait run on it).
//
// A waiter may see a wake-up with nothing new (a notify meant for an earlier wait): it
// re-checks its condition and waits again.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

namespace frontmcp::util {

class Waker : public std::enable_shared_from_this<Waker> {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Waker(boost::asio::any_io_executor ex) : timer_(std::move(ex)) {}
  /// Any thread. Wakes the current wait, or the next one if none is pending.
  void notify();
  /// Owner's executor only. True when woken by notify() (now, or since the last wait
  /// returned), false at the deadline. One waiter at a time.
  boost::asio::awaitable<bool> wait_until(Clock::time_point deadline);
  boost::asio::awaitable<bool> wait_for(Clock::duration timeout) { return wait_until(Clock::now() + timeout); }

 private:
  std::atomic<bool> notified_{false};
  boost::asio::steady_timer timer_;
};

}  // namespace frontmcp::util
