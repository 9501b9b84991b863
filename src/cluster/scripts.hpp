#pragma once
// The Lua scripts of distributed mode (src/cluster/lua/*.lua, embedded at build time;
// each file states its KEYS/ARGV/return contract at the top). Run with EVALSHA; on
// NOSCRIPT (Redis restarted or flushed its script cache) the script is sent once with
// EVAL, which caches it again.
#include <string>
#include <string_view>
#include <vector>

#include "redis/redis.hpp"

namespace frontmcp::cluster {

/// A script that failed: Redis unreachable (kind none), or its error reply's kind.
struct ScriptError : Error {
  redis::ErrorKind kind = redis::ErrorKind::none;
};

class Script {
 public:
  Script(std::string name, std::string_view source);
  const std::string& name() const noexcept { return name_; }
  const std::string& sha() const noexcept { return sha_; }
  const std::string& source() const noexcept { return source_; }

  redis::Command evalsha(const std::vector<std::string>& keys, const std::vector<std::string>& args) const;
  redis::Command eval(const std::vector<std::string>& keys, const std::vector<std::string>& args) const;
  /// EVALSHA, then EVAL on NOSCRIPT. A Redis error reply becomes a ScriptError of its kind.
  boost::asio::awaitable<Result<redis::Reply, ScriptError>> run(redis::Client& client, std::vector<std::string> keys,
                                                                std::vector<std::string> args) const;

 private:
  std::string name_, source_, sha_;
};

/// The embedded source of src/cluster/lua/<name>.lua (empty if unknown).
std::string_view lua_source(std::string_view name);

struct Scripts {
  Script takeover{"takeover", lua_source("takeover")};
  Script handoff{"handoff", lua_source("handoff")};
  Script lookup{"lookup", lua_source("lookup")};
  Script save{"save", lua_source("save")};
  Script heartbeat{"heartbeat", lua_source("heartbeat")};
  Script leave{"leave", lua_source("leave")};
  Script orphans{"orphans", lua_source("orphans")};
  Script remove{"remove", lua_source("remove")};
  Script liveness{"liveness", lua_source("liveness")};
  Script writer{"writer", lua_source("writer")};
};

/// Every key of distributed mode, under one prefix (redisKeyPrefix, default "mcp:ha:").
struct Keys {
  std::string prefix;
  std::string session(std::string_view sid) const { return cat("session:", sid); }
  /// One stream's event log (a list of "<seq> <json>"), stream key "<sid>/<index>".
  std::string events(std::string_view stream_key) const { return cat("events:", stream_key); }
  /// Who writes a stream: "<node> <boot>" (set when a client first gets an event id of it).
  std::string writer(std::string_view stream_key) const { return cat("writer:", stream_key); }
  std::string heartbeat(std::string_view node) const { return cat("heartbeat:", node); }
  std::string node_sessions(std::string_view node) const { return prefix + "node:" + std::string(node) + ":sessions"; }
  std::string nodes() const { return prefix + "nodes"; }
  /// Nodes whose relay subscription was seen missing (liveness.lua).
  std::string suspects() const { return prefix + "suspects"; }
  std::string notify(std::string_view node) const { return cat("notify:", node); }
  std::string broadcast() const { return prefix + "broadcast"; }

 private:
  std::string cat(std::string_view a, std::string_view b) const {
    std::string k;
    k.reserve(prefix.size() + a.size() + b.size());
    k += prefix;
    k += a;
    k += b;
    return k;
  }
};

/// Reply helpers.
std::string_view reply_str(const redis::Reply& r, std::size_t i);
long long reply_int(const redis::Reply& r, std::size_t i);

}  // namespace frontmcp::cluster
