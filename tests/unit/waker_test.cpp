// util::Waker: level-triggered wake-ups (a notify that finds no wait pending is kept).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <optional>

#include "util/async_event.hpp"

namespace net = boost::asio;
using frontmcp::util::Waker;
using namespace std::chrono_literals;

namespace {
// Long enough that a missed wake-up shows as a failed result, not as a slow pass.
constexpr auto kLongWait = 5s;

net::awaitable<void> wait_once(std::shared_ptr<Waker> waker, Waker::Clock::duration timeout, std::optional<bool>* out) {
  *out = co_await waker->wait_for(timeout);
}

std::optional<bool> run_wait(net::io_context& ioc, const std::shared_ptr<Waker>& waker,
                             Waker::Clock::duration timeout) {
  std::optional<bool> result;
  net::co_spawn(ioc, wait_once(waker, timeout, &result), net::detached);
  ioc.run();
  ioc.restart();
  return result;
}
}  // namespace

TEST(Waker, ANotifyWithNoWaitPendingIsKeptForTheNextWait) {
  net::io_context ioc;
  auto waker = std::make_shared<Waker>(ioc.get_executor());
  waker->notify();  // the waiter is busy elsewhere (say, writing): nothing to cancel yet
  ioc.run();        // the posted cancel runs and finds no wait
  ioc.restart();
  auto started = Waker::Clock::now();
  auto r = run_wait(ioc, waker, kLongWait);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(*r) << "the earlier notify was lost";
  EXPECT_LT(Waker::Clock::now() - started, kLongWait / 2);
}

TEST(Waker, ANotifyIsConsumedByOneWait) {
  net::io_context ioc;
  auto waker = std::make_shared<Waker>(ioc.get_executor());
  waker->notify();
  EXPECT_EQ(run_wait(ioc, waker, kLongWait), std::optional<bool>(true));
  EXPECT_EQ(run_wait(ioc, waker, 1ms), std::optional<bool>(false)) << "one notify woke two waits";
}

TEST(Waker, AWaitWithoutNotifyEndsAtItsDeadline) {
  net::io_context ioc;
  auto waker = std::make_shared<Waker>(ioc.get_executor());
  EXPECT_EQ(run_wait(ioc, waker, 1ms), std::optional<bool>(false));
}

TEST(Waker, ANotifyWakesAPendingWait) {
  net::io_context ioc;
  auto waker = std::make_shared<Waker>(ioc.get_executor());
  std::optional<bool> result;
  auto started = Waker::Clock::now();
  net::co_spawn(ioc, wait_once(waker, kLongWait, &result), net::detached);
  // Runs after the coroutine above has started its wait (handlers run in post order).
  net::post(ioc, [waker] { waker->notify(); });
  ioc.run();
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  EXPECT_LT(Waker::Clock::now() - started, kLongWait / 2);
}
