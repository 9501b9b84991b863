// Token buckets and the keyed limiter: refill, burst, retry-after, idle eviction, the key
// cap. Time is passed in (no sleeps).
#include "util/rate_limit.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace {

using frontmcp::RateLimit;
using namespace frontmcp::util;
using namespace std::chrono_literals;

const RateClock::time_point kT0{};

TEST(TokenBucket, StartsFullAndAllowsTheBurstAtOnce) {
  RateLimit limit{1, 2};
  TokenBucket b(limit, kT0);
  EXPECT_TRUE(b.take(limit, kT0).allowed);
  EXPECT_TRUE(b.take(limit, kT0).allowed);
  auto third = b.take(limit, kT0);
  EXPECT_FALSE(third.allowed);
  EXPECT_EQ(third.retry_after, 1s);  // one token back after 1/rate
}

TEST(TokenBucket, RefillsAtTheRateAndSaysHowLongToWait) {
  RateLimit limit{10, 20};
  TokenBucket b(limit, kT0);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(b.take(limit, kT0).allowed) << i;
  auto refused = b.take(limit, kT0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 100ms);
  // 60 ms later: 0.6 token, so 40 ms more.
  refused = b.take(limit, kT0 + 60ms);
  EXPECT_FALSE(refused.allowed);
  EXPECT_NEAR(std::chrono::duration<double>(refused.retry_after).count(), 0.04, 1e-6);
  EXPECT_TRUE(b.take(limit, kT0 + 100ms).allowed);
  EXPECT_FALSE(b.take(limit, kT0 + 100ms).allowed);
  // A long pause refills to the burst, never beyond.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(b.take(limit, kT0 + 1h).allowed) << i;
  EXPECT_FALSE(b.take(limit, kT0 + 1h).allowed);
}

TEST(TokenBucket, FractionalRatesAndTheDefaultBurst) {
  RateLimit slow{0.5, 0};  // burst 0: max(1, ceil(rate)) = 1
  EXPECT_EQ(burst_of(slow), 1.0);
  EXPECT_EQ(burst_of(RateLimit{2.5, 0}), 3.0);
  TokenBucket b(slow, kT0);
  EXPECT_TRUE(b.take(slow, kT0).allowed);
  auto refused = b.take(slow, kT0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 2s);
  EXPECT_TRUE(b.take(slow, kT0 + 2s).allowed);
}

TEST(TokenBucket, AClockGoingBackwardsCountsAsNoTime) {
  RateLimit limit{1, 1};
  TokenBucket b(limit, kT0 + 10s);
  EXPECT_TRUE(b.take(limit, kT0 + 10s).allowed);
  EXPECT_FALSE(b.take(limit, kT0 + 9s).allowed);   // read earlier on another thread
  EXPECT_FALSE(b.take(limit, kT0 + 10s).allowed);  // the last time stayed at 10 s
  EXPECT_TRUE(b.take(limit, kT0 + 11s).allowed);
}

TEST(TokenBucket, FullAtSaysWhenForgettingItChangesNothing) {
  RateLimit limit{10, 5};
  TokenBucket b(limit, kT0);
  EXPECT_TRUE(b.full_at(limit, kT0));
  ASSERT_TRUE(b.take(limit, kT0).allowed);
  EXPECT_FALSE(b.full_at(limit, kT0 + 99ms));
  EXPECT_TRUE(b.full_at(limit, kT0 + 100ms));
}

TEST(RateLimitText, RetryAfterIsWholeSecondsRoundedUpAtLeastOne) {
  EXPECT_EQ(retry_after_seconds(0ns), 1);
  EXPECT_EQ(retry_after_seconds(1ns), 1);
  EXPECT_EQ(retry_after_seconds(400ms), 1);
  EXPECT_EQ(retry_after_seconds(1s), 1);
  EXPECT_EQ(retry_after_seconds(1s + 1ns), 2);
  EXPECT_EQ(retry_after_seconds(2500ms), 3);
}

TEST(RateLimitText, SecondsAndLimitsForMessages) {
  EXPECT_EQ(seconds_text(1ns), "0.1");
  EXPECT_EQ(seconds_text(400ms), "0.4");
  EXPECT_EQ(seconds_text(401ms), "0.5");
  EXPECT_EQ(seconds_text(2s), "2.0");
  EXPECT_EQ(describe(RateLimit{10, 20}, "calls"), "at most 10 calls per second (burst 20)");
  EXPECT_EQ(describe(RateLimit{0.5, 0}, "requests"), "at most 0.5 requests per second (burst 1)");
}

TEST(KeyedRateLimiter, OneBucketPerKey) {
  KeyedRateLimiter l(100);
  RateLimit limit{1, 2};
  EXPECT_TRUE(l.take("a", limit, kT0).allowed);
  EXPECT_TRUE(l.take("a", limit, kT0).allowed);
  EXPECT_FALSE(l.take("a", limit, kT0).allowed);
  EXPECT_TRUE(l.take("b", limit, kT0).allowed);  // another key, its own bucket
  EXPECT_EQ(l.size(), 2u);
  EXPECT_TRUE(l.take("a", limit, kT0 + 1s).allowed);
}

TEST(KeyedRateLimiter, ADisabledLimitAllowsAllAndHoldsNothing) {
  KeyedRateLimiter l(100);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(l.take("k", RateLimit{0, 1}, kT0).allowed);
  EXPECT_EQ(l.size(), 0u);
}

TEST(KeyedRateLimiter, TheInjectedClockIsUsed) {
  auto now = kT0;
  KeyedRateLimiter l(100, [&now] { return now; });
  RateLimit limit{2, 1};
  EXPECT_TRUE(l.take("k", limit).allowed);
  auto refused = l.take("k", limit);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 500ms);
  now += 500ms;
  EXPECT_TRUE(l.take("k", limit).allowed);
}

TEST(KeyedRateLimiter, IdleBucketsAreForgottenWithoutChangingAnswers) {
  KeyedRateLimiter l(1'000);
  RateLimit limit{10, 10};  // full again 1 s after emptying
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(l.take("k" + std::to_string(i), limit, kT0).allowed);
  EXPECT_EQ(l.size(), 500u);
  // Much later, new keys: each take forgets up to kEvictPerTake full buckets of its shard.
  for (int i = 0; i < 2'000; ++i) ASSERT_TRUE(l.take("n" + std::to_string(i % 200), limit, kT0 + 10s).allowed);
  EXPECT_LT(l.size(), 500u);  // the idle ones went as new keys came
  // A key that was forgotten while idle starts full, as it would have been anyway.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(l.take("k1", limit, kT0 + 10s).allowed);
  EXPECT_FALSE(l.take("k1", limit, kT0 + 10s).allowed);
}

TEST(KeyedRateLimiter, AFloodOfDistinctKeysStaysWithinTheCap) {
  KeyedRateLimiter l(64);
  RateLimit limit{1, 1};
  for (int i = 0; i < 100'000; ++i) {
    // Every key empties its bucket and none is idle: only the cap evicts.
    ASSERT_TRUE(l.take("flood-" + std::to_string(i), limit, kT0).allowed);
  }
  EXPECT_LE(l.size(), l.capacity());
  EXPECT_LE(l.capacity(), 64u + KeyedRateLimiter::kShards);
  EXPECT_GE(l.size(), 32u);
}

TEST(KeyedRateLimiter, RecentlyUsedKeysSurviveTheCap) {
  KeyedRateLimiter l(KeyedRateLimiter::kShards * 4);  // 4 per shard
  RateLimit limit{1, 1};
  ASSERT_TRUE(l.take("hot", limit, kT0).allowed);
  for (int i = 0; i < 1'000; ++i) {
    ASSERT_FALSE(l.take("hot", limit, kT0).allowed);  // refreshed before each new key
    l.take("cold-" + std::to_string(i), limit, kT0);
  }
  EXPECT_FALSE(l.take("hot", limit, kT0).allowed);  // still limited: never evicted
}

TEST(KeyedRateLimiter, ManyThreadsShareTheBucketsExactly) {
  KeyedRateLimiter l(1'000);
  RateLimit limit{1, 1'000};
  constexpr int kThreads = 4;
  constexpr int kEach = 500;
  std::vector<int> allowed(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (l.take("shared", limit, kT0).allowed) ++allowed[t];
        l.take("own-" + std::to_string(t), limit, kT0);
      }
    });
  }
  for (auto& th : threads) th.join();
  int total = 0;
  for (int n : allowed) total += n;
  EXPECT_EQ(total, 1'000);  // the burst, exactly, of 2000 tries
  EXPECT_EQ(l.size(), 1u + kThreads);
}

}  // namespace
