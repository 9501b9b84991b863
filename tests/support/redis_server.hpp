#pragma once
// A real redis-server for tests: its own process on a free random loopback port, an own
// temporary directory, no persistence. The constructor returns once the server answers
// PING (bounded wait) and throws std::runtime_error (with the server's log) when it does
// not start; the destructor kills it and removes the directory.
//
// Chaos helpers for failure tests: stop() (SIGKILL), restart() (same port), pause()
// (SIGSTOP: connections stay open, nothing answers) and resume() (SIGCONT).
// Not thread-safe: use one RedisServer from one test thread.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace frontmcp::test {

class RedisServer {
 public:
  /// `extra_args` are appended to redis-server's command line, e.g.
  /// {"--requirepass", "secret"} or {"--user", "alice", "on", ">pw", "~*", "&*", "+@all"}.
  explicit RedisServer(std::vector<std::string> extra_args = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  /// The plain-TCP port (on 127.0.0.1).
  std::uint16_t port() const noexcept { return port_; }
  /// "redis://127.0.0.1:<port>" (no credentials).
  std::string url() const;
  /// The server's working directory (removed by the destructor); its log is redis.log.
  const std::filesystem::path& dir() const noexcept { return dir_; }
  bool running() const noexcept { return pid_ > 0; }

  /// Kills the server (SIGKILL) and reaps it. Idempotent.
  void stop();
  /// Starts it again on the same port, with the same arguments (data is lost), and
  /// waits until it answers.
  void restart();
  /// SIGSTOP / SIGCONT: the server keeps its connections but stops answering.
  void pause();
  void resume();

  /// A port that was free on 127.0.0.1 a moment ago (for extra listeners, e.g. --tls-port).
  static std::uint16_t free_port();
  /// How long the constructor and restart() wait for PING at most.
  static constexpr std::chrono::seconds kStartTimeout{10};

 private:
  /// Starts the process; false if it exited before answering (e.g. port taken).
  bool launch();
  std::string log_tail() const;

  std::vector<std::string> extra_args_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace frontmcp::test
