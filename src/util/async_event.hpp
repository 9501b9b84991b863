#pragma once
// Cross-thread wake-ups for coroutines, without locks held across awaits.
//
// Waker: a coroutine on executor E waits for "something changed"; any thread may call
// notify(). The wait and the notify's cancel both run on E (which must be a strand or a
// single-threaded context), so a notify between "check the condition" and "start the
// wait" is never lost: the check and the start of the wait run in one handler, and the
// posted cancel runs after it.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace frontmcp::util {

class Waker : public std::enable_shared_from_this<Waker> {
 public:
  explicit Waker(boost::asio::any_io_executor ex) : timer_(std::move(ex)) {}
  /// Any thread. Wakes a current or the next wait.
  void notify();
  /// The timer to wait on (owner's executor only). A wait completes with
  /// operation_aborted after notify(), or without error at the deadline.
  boost::asio::steady_timer& timer() noexcept { return timer_; }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace frontmcp::util
