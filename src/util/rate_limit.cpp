#include "util/rate_limit.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <cmath>
#include <cstdio>

namespace frontmcp::util {

namespace {

using Seconds = std::chrono::duration<double>;

/// A wait of `seconds`, rounded up to a whole nanosecond (never 0 for a refusal).
std::chrono::nanoseconds wait_of(double seconds) noexcept {
  constexpr double kMaxSeconds = 1e9;  // ~31 years: a per_second near 0 must not overflow
  auto ns = std::ceil(std::min(seconds, kMaxSeconds) * 1e9);
  return std::chrono::nanoseconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(ns)));
}

}  // namespace

double burst_of(const RateLimit& limit) noexcept {
  if (limit.burst > 0) return limit.burst;
  return std::max(1.0, std::ceil(limit.per_second));
}

double TokenBucket::refilled(const RateLimit& limit, RateClock::time_point now) const noexcept {
  double elapsed = now > last_ ? std::chrono::duration_cast<Seconds>(now - last_).count() : 0.0;
  return std::min(burst_of(limit), tokens_ + elapsed * limit.per_second);
}

RateDecision TokenBucket::take(const RateLimit& limit, RateClock::time_point now) noexcept {
  tokens_ = refilled(limit, now);
  last_ = std::max(last_, now);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return {};
  }
  return {false, wait_of((1.0 - tokens_) / limit.per_second)};
}

bool TokenBucket::full_at(const RateLimit& limit, RateClock::time_point now) const noexcept {
  return refilled(limit, now) >= burst_of(limit);
}

// ------------------------------------------------------------------ KeyedRateLimiter

struct KeyedRateLimiter::Shard {
  struct Entry {
    std::string key;
    RateLimit limit;  // the key's, for full_at when evicting
    TokenBucket bucket;
  };
  std::mutex mu;
  /// Most recently used first; list nodes never move, so `index` keys view their strings.
  std::list<Entry> lru;
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index;
};

KeyedRateLimiter::KeyedRateLimiter(std::size_t max_keys, Now now)
    : per_shard_(std::max<std::size_t>(1, (max_keys + kShards - 1) / kShards)),
      now_(now ? std::move(now) : Now([] { return RateClock::now(); })),
      shards_(std::make_unique<Shard[]>(kShards)) {}

KeyedRateLimiter::~KeyedRateLimiter() = default;

RateDecision KeyedRateLimiter::take(std::string_view key, const RateLimit& limit) {
  if (!limit.enabled()) return {};
  return take(key, limit, now_());
}

RateDecision KeyedRateLimiter::take(std::string_view key, const RateLimit& limit, RateClock::time_point now) {
  if (!limit.enabled()) return {};
  auto& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  if (auto it = shard.index.find(key); it != shard.index.end()) {
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);  // now the most recent
    auto& e = *it->second;
    e.limit = limit;
    return e.bucket.take(limit, now);
  }
  // Forget a few idle buckets (lossless), then make room if the shard is still full.
  for (std::size_t i = 0; i < kEvictPerTake && !shard.lru.empty(); ++i) {
    auto& oldest = shard.lru.back();
    if (!oldest.bucket.full_at(oldest.limit, now)) break;
    shard.index.erase(oldest.key);
    shard.lru.pop_back();
  }
  if (shard.lru.size() >= per_shard_) {
    shard.index.erase(shard.lru.back().key);
    shard.lru.pop_back();
  }
  shard.lru.push_front(Shard::Entry{std::string(key), limit, TokenBucket(limit, now)});
  auto& e = shard.lru.front();
  shard.index.emplace(e.key, shard.lru.begin());
  return e.bucket.take(limit, now);
}

std::size_t KeyedRateLimiter::size() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].lru.size();
  }
  return n;
}

// ------------------------------------------------------------------------ texts

std::int64_t retry_after_seconds(std::chrono::nanoseconds wait) noexcept {
  constexpr std::int64_t kNsPerSecond = 1'000'000'000;
  std::int64_t ns = std::max<std::int64_t>(0, wait.count());
  return std::max<std::int64_t>(1, (ns + kNsPerSecond - 1) / kNsPerSecond);
}

std::string seconds_text(std::chrono::nanoseconds wait) {
  constexpr std::int64_t kNsPerTenth = 100'000'000;
  std::int64_t tenths =
      std::max<std::int64_t>(1, (std::max<std::int64_t>(0, wait.count()) + kNsPerTenth - 1) / kNsPerTenth);
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

std::string describe(const RateLimit& limit, std::string_view what) {
  char rate[32];
  std::snprintf(rate, sizeof rate, "%g", limit.per_second);
  char burst[32];
  std::snprintf(burst, sizeof burst, "%g", burst_of(limit));
  return "at most " + std::string(rate) + " " + std::string(what) + " per second (burst " + burst + ")";
}

std::string address_key_text(std::string_view key) {
  if (key.size() == 7 && key.substr(0, 3) == "a:4") {
    boost::asio::ip::address_v4::bytes_type b{};
    std::copy(key.begin() + 3, key.end(), b.begin());
    return boost::asio::ip::address_v4(b).to_string();
  }
  if (key.size() == 11 && key.substr(0, 3) == "a:6") {
    boost::asio::ip::address_v6::bytes_type b{};
    std::copy(key.begin() + 3, key.end(), b.begin());
    return boost::asio::ip::address_v6(b).to_string() + "/64";
  }
  return "?";
}

}  // namespace frontmcp::util
