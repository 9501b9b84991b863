#include "util/async_event.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace frontmcp::util {

void Waker::notify() {
  notified_.store(true, std::memory_order_release);
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->timer_.cancel(); });
}

boost::asio::awaitable<bool> Waker::wait_until(Clock::time_point deadline) {
  if (notified_.exchange(false, std::memory_order_acq_rel)) co_return true;
  timer_.expires_at(deadline);
  boost::system::error_code ec;
  co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  // Cancelled by a notify(), or a notify() came with the deadline: either way, woken.
  bool woken = notified_.exchange(false, std::memory_order_acq_rel);
  co_return woken || ec == boost::asio::error::operation_aborted;
}

}  // namespace frontmcp::util
