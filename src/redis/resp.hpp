#pragma once
// RESP on the wire: requests are encoded by append_command (redis.hpp); replies are
// parsed by hiredis's incremental reader and converted into redis::Reply trees.
#include <cstddef>
#include <optional>

#include "redis/redis.hpp"

struct redisReader;

namespace frontmcp::redis::detail {

/// Incremental RESP2 reply parser (hiredis's redisReader). Feed it bytes as they arrive
/// and take complete replies out in order. Not thread-safe (one per connection).
/// hiredis 0.14 limits nesting to 7 levels; deeper replies are a protocol error.
class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  /// Appends received bytes. Fails only when the reader is already in error.
  Status feed(const char* data, std::size_t size);
  /// The next complete reply, std::nullopt when more bytes are needed, an Error on a
  /// protocol error (the connection must then be dropped).
  Result<std::optional<Reply>> next();

 private:
  redisReader* reader_;
};

}  // namespace frontmcp::redis::detail
