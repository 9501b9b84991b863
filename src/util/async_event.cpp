#include "util/async_event.hpp"

#include <boost/asio/post.hpp>

namespace frontmcp::util {

void Waker::notify() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->timer_.cancel(); });
}

}  // namespace frontmcp::util
