#pragma once
// Token buckets (RateLimit, include/frontmcp/options.hpp) and a keyed limiter that holds one
// bucket per key in bounded memory. Used for the tools/call limit (key: tool and
// principal; protocol/dispatcher.cpp) and the HTTP request limit (key: principal or client
// address; http/router.cpp). docs/configuration.md "Rate limits" says why they look so.
//
// Time is a parameter (or an injected clock): the tests need no sleeps.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <frontmcp/options.hpp>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace frontmcp::util {

using RateClock = std::chrono::steady_clock;

/// What a limiter answered: allowed, or refused with the wait until one token is back.
struct RateDecision {
  bool allowed = true;
  /// 0 when allowed; else > 0.
  std::chrono::nanoseconds retry_after{0};
};

/// The bucket size a RateLimit means: its burst, or max(1, ceil(per_second)) when 0.
double burst_of(const RateLimit& limit) noexcept;

/// One bucket. Starts full. Not thread-safe (KeyedRateLimiter locks around it).
class TokenBucket {
 public:
  TokenBucket(const RateLimit& limit, RateClock::time_point now) noexcept : tokens_(burst_of(limit)), last_(now) {}

  /// Refills for the time since the last call, then takes one token if there is one.
  /// A `now` earlier than the last one (clocks read on other threads) counts as no time.
  RateDecision take(const RateLimit& limit, RateClock::time_point now) noexcept;
  /// True when the bucket would be full at `now`: it then behaves exactly like a new one,
  /// so forgetting it changes nothing (how idle buckets are evicted without loss).
  bool full_at(const RateLimit& limit, RateClock::time_point now) const noexcept;
  double tokens() const noexcept { return tokens_; }

 private:
  double refilled(const RateLimit& limit, RateClock::time_point now) const noexcept;

  double tokens_;
  RateClock::time_point last_;
};

/// One bucket per key, thread-safe, in bounded memory:
/// - keys are spread over kShards shards, each with its own mutex (the I/O threads rarely
///   contend), its buckets in least-recently-used order;
/// - each take() first forgets up to kEvictPerTake least recently used buckets that are
///   full (idle long enough to have refilled: lossless, see TokenBucket::full_at);
/// - a shard never holds more than its share of `max_keys`: a new key beyond that evicts
///   the least recently used bucket even if it is not full. Only then is a limit
///   forgotten early: a key that comes back gets a full bucket (fails open for the oldest
///   keys, never closed for new ones, so a flood of distinct keys can neither grow memory
///   nor lock out other clients).
class KeyedRateLimiter {
 public:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kEvictPerTake = 2;
  using Now = std::function<RateClock::time_point()>;

  /// `now` defaults to the steady clock; tests pass their own.
  explicit KeyedRateLimiter(std::size_t max_keys, Now now = {});
  ~KeyedRateLimiter();
  KeyedRateLimiter(const KeyedRateLimiter&) = delete;
  KeyedRateLimiter& operator=(const KeyedRateLimiter&) = delete;

  /// Takes one token of `key`'s bucket (a new, full one for a key not held), with
  /// `limit` (the same limit for a key each time; a limit with per_second 0 allows all
  /// and holds nothing).
  RateDecision take(std::string_view key, const RateLimit& limit);
  RateDecision take(std::string_view key, const RateLimit& limit, RateClock::time_point now);

  /// Buckets held, over all shards.
  std::size_t size() const;
  /// The most buckets held at once.
  std::size_t capacity() const noexcept { return per_shard_ * kShards; }

 private:
  struct Shard;
  std::size_t per_shard_;
  Now now_;
  std::unique_ptr<Shard[]> shards_;
};

/// A RateDecision's wait as a Retry-After value: whole seconds, rounded up, at least 1.
std::int64_t retry_after_seconds(std::chrono::nanoseconds wait) noexcept;

/// "at most 10 calls per second (burst 20)": how a refusal names its limit (`what`:
/// "calls", "requests").
std::string describe(const RateLimit& limit, std::string_view what);

/// A wait for a message, in seconds with one decimal, rounded up ("0.4", "2.0"; at least 0.1).
std::string seconds_text(std::chrono::nanoseconds wait);

/// A client address key (http::address_key: "a:" then '4' and 4 bytes, or '6' and the 8 of
/// a /64) as text for logs: "203.0.113.7", "2001:db8:1:2::/64"; anything else as "?".
std::string address_key_text(std::string_view key);

}  // namespace frontmcp::util
