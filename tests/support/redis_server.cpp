#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace frontmcp::test {

namespace {

using Clock = std::chrono::steady_clock;

/// The absolute path of redis-server (resolved before fork: only exec in the child).
std::string find_redis_server() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / "redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  throw std::runtime_error("RedisServer: redis-server not found on PATH (apt-get install redis-server)");
}

int connect_loopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// True when something on `port` answers an inline PING with any RESP reply ("+PONG", or
/// "-NOAUTH" when a password is required: the server is up either way).
bool answers_ping(std::uint16_t port) {
  int fd = connect_loopback(port);
  if (fd < 0) return false;
  bool ok = false;
  static constexpr char kPing[] = "PING\r\n";
  if (::send(fd, kPing, sizeof kPing - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof kPing - 1)) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 500) == 1) {
      char buf[64];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      ok = n > 0 && (buf[0] == '+' || buf[0] == '-');
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

std::uint16_t RedisServer::free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("RedisServer: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("RedisServer: cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

RedisServer::RedisServer(std::vector<std::string> extra_args) : extra_args_(std::move(extra_args)) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "frontmcp-redis-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("RedisServer: mkdtemp failed");
  dir_ = tmpl;
  // A random port may be taken between free_port() and redis-server's bind: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    if (launch()) return;
  }
  std::string log = log_tail();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  throw std::runtime_error("RedisServer: redis-server did not start:\n" + log);
}

RedisServer::~RedisServer() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string RedisServer::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_);
}

bool RedisServer::launch() {
  const std::string exe = find_redis_server();
  const std::string log = (dir_ / "redis.log").string();
  std::vector<std::string> args = {
      exe,  "--port", std::to_string(port_), "--bind",    "127.0.0.1", "--save",      "",  "--appendonly",
      "no", "--dir",  dir_.string(),         "--logfile", log,         "--daemonize", "no"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("RedisServer: fork failed");
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec. The server dies with the test.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;

  const auto deadline = Clock::now() + kStartTimeout;
  while (Clock::now() < deadline) {
    if (answers_ping(port_)) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling interval
  }
  stop();
  throw std::runtime_error("RedisServer: no answer to PING within " + std::to_string(kStartTimeout.count()) + " s:\n" +
                           log_tail());
}

void RedisServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

void RedisServer::restart() {
  stop();
  if (!launch())
    throw std::runtime_error("RedisServer: restart on port " + std::to_string(port_) + " failed:\n" + log_tail());
}

void RedisServer::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

std::string RedisServer::log_tail() const {
  std::ifstream in(dir_ / "redis.log");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  constexpr std::size_t kTail = 4000;
  return text.size() > kTail ? text.substr(text.size() - kTail) : text;
}

}  // namespace frontmcp::test
