// mcp_load: closed-loop load generator for MCP Streamable HTTP servers.
//
// Modes
//   (default)          C clients, each with its own keep-alive connection and its own session
//                      (initialized before measurement), loop POST tools/call echo for W s of
//                      warm-up then D s of measurement; prints requests, errors, throughput and
//                      latency percentiles.
//   --protocol modern  the same loop in MCP 2026-07-28's stateless generation: no initialize,
//                      no session; every tools/call carries the headers MCP-Protocol-Version,
//                      Mcp-Method and Mcp-Name and the per-request params._meta envelope
//                      (protocolVersion, clientCapabilities). Connections are opened before
//                      measurement. (--protocol session, the default, is the 2025-11-25 wire.)
//   --idle-sessions N  creates N initialized sessions over min(C, N) connections, closes the
//                      connections, optionally holds --hold-s seconds, exits.
//   --sse-streams N    creates N sessions, opens one GET SSE stream per session (one connection
//                      each) and holds them open until SIGINT/SIGTERM or --hold-s seconds. Prints
//                      "mcp_load: ready ..." once every stream is open.
//
// Every network operation has a deadline (--timeout-s); every loop is bounded by time or count.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using net::awaitable;
using net::use_awaitable;

namespace {

constexpr const char* kProtocolVersion = "2025-11-25";
constexpr const char* kModernProtocolVersion = "2026-07-28";
// What a 2026-07-28 tools/call of the echo tool carries besides the session-less basics: the
// standard request headers (they must equal the body's method and params.name) ...
constexpr const char* kModernEchoHeaders =
    "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: echo\r\n";
// ... and the required per-request _meta fields (appended to params).
constexpr const char* kModernMeta =
    R"(,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}})";

enum class Protocol { session, modern };

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "3000";
  std::string target = "/mcp";
  unsigned threads = 1;
  unsigned clients = 1;
  double duration_s = 10;
  double warmup_s = 2;
  double timeout_s = 10;
  double hold_s = -1;  // -1: mode default
  std::size_t idle_sessions = 0;
  std::size_t sse_streams = 0;
  unsigned connect_concurrency = 64;
  bool json = false;
  Protocol protocol = Protocol::session;
  /// Load mode: initialize each session here (another node of a cluster) and send the
  /// calls to --url, so every call is served by a node that does not own the session.
  std::string init_url;
};

[[noreturn]] void usage(const char* msg) {
  if (msg) std::cerr << "mcp_load: " << msg << "\n";
  std::cerr << "usage: mcp_load --url http://HOST:PORT/PATH [--threads T] [--clients C]\n"
               "                [--duration-s D] [--warmup-s W] [--timeout-s S] [--json]\n"
               "                [--idle-sessions N | --sse-streams N] [--hold-s H]\n"
               "                [--connect-concurrency K] [--init-url URL]\n"
               "                [--protocol session|modern]\n";
  std::exit(2);
}

double parse_double(const char* s, const char* name) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s, &end);
  if (errno || end == s || *end || v < 0) usage((std::string("bad value for ") + name).c_str());
  return v;
}

std::uint64_t parse_uint(const char* s, const char* name) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-') usage((std::string("bad value for ") + name).c_str());
  return v;
}

void parse_url(const std::string& url, Options& o) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) usage("--url must start with http://");
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  o.target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos) {
    o.host = hostport;
    o.port = "80";
  } else {
    o.host = hostport.substr(0, colon);
    o.port = hostport.substr(colon + 1);
  }
  if (o.host.empty() || o.port.empty()) usage("bad --url");
}

Options parse_args(int argc, char** argv) {
  Options o;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) usage((a + " needs a value").c_str());
      return argv[++i];
    };
    if (a == "--url") {
      parse_url(next(), o);
      have_url = true;
    } else if (a == "--threads") {
      o.threads = static_cast<unsigned>(std::clamp<std::uint64_t>(parse_uint(next(), "--threads"), 1, 256));
    } else if (a == "--clients") {
      o.clients = static_cast<unsigned>(std::clamp<std::uint64_t>(parse_uint(next(), "--clients"), 1, 100000));
    } else if (a == "--duration-s") {
      o.duration_s = parse_double(next(), "--duration-s");
    } else if (a == "--warmup-s") {
      o.warmup_s = parse_double(next(), "--warmup-s");
    } else if (a == "--timeout-s") {
      o.timeout_s = std::max(0.001, parse_double(next(), "--timeout-s"));
    } else if (a == "--hold-s") {
      o.hold_s = parse_double(next(), "--hold-s");
    } else if (a == "--idle-sessions") {
      o.idle_sessions = parse_uint(next(), "--idle-sessions");
    } else if (a == "--sse-streams") {
      o.sse_streams = parse_uint(next(), "--sse-streams");
    } else if (a == "--connect-concurrency") {
      o.connect_concurrency =
          static_cast<unsigned>(std::clamp<std::uint64_t>(parse_uint(next(), "--connect-concurrency"), 1, 4096));
    } else if (a == "--init-url") {
      o.init_url = next();
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--protocol") {
      std::string p = next();
      if (p == "session") {
        o.protocol = Protocol::session;
      } else if (p == "modern") {
        o.protocol = Protocol::modern;
      } else {
        usage("--protocol is session or modern");
      }
    } else if (a == "-h" || a == "--help") {
      usage(nullptr);
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (!have_url) usage("--url is required");
  if (o.idle_sessions && o.sse_streams) usage("--idle-sessions and --sse-streams are exclusive");
  if (o.protocol == Protocol::modern && (o.idle_sessions || o.sse_streams || !o.init_url.empty())) {
    usage("--protocol modern has no sessions: not with --idle-sessions, --sse-streams or --init-url");
  }
  if (o.hold_s < 0) o.hold_s = o.sse_streams ? 60 : 0;
  return o;
}

std::chrono::nanoseconds secs(double s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s));
}

void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// ---------------------------------------------------------------------------------------------
// One HTTP/1.1 keep-alive connection with an MCP session.

struct Conn {
  const Options& opt;
  tcp::resolver::results_type endpoints;
  beast::tcp_stream stream;
  beast::flat_buffer buf;
  std::string session_id;
  bool connected = false;
  std::string last_error;

  Conn(net::io_context& io, const Options& o, tcp::resolver::results_type eps)
      : opt(o), endpoints(std::move(eps)), stream(io) {}

  void close() {
    beast::error_code ec;
    if (connected) {
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      stream.socket().close(ec);
    }
    connected = false;
    buf.clear();
  }

  awaitable<bool> connect() {
    close();
    beast::error_code ec;
    stream.expires_after(secs(opt.timeout_s));
    co_await stream.async_connect(endpoints, net::redirect_error(use_awaitable, ec));
    if (ec) {
      last_error = "connect: " + ec.message();
      co_return false;
    }
    stream.socket().set_option(tcp::no_delay(true), ec);
    connected = true;
    co_return true;
  }

  // The request bytes, formatted by hand: cheaper than Beast's serializer, so the generator
  // spends its CPU on the round trip rather than on building requests.
  // extra_headers: complete header lines ("Name: value\r\n..."), or nullptr.
  std::string make_post(const std::string& body, const char* extra_headers = nullptr) const {
    std::string w;
    w.reserve(320 + session_id.size() + body.size());
    w += "POST ";
    w += opt.target;
    w += " HTTP/1.1\r\nHost: ";
    w += opt.host;
    w += ':';
    w += opt.port;
    w += "\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n";
    if (!session_id.empty()) {
      w += "Mcp-Session-Id: ";
      w += session_id;
      w += "\r\nMCP-Protocol-Version: ";
      w += kProtocolVersion;
      w += "\r\n";
    }
    if (extra_headers) w += extra_headers;
    w += "Content-Length: ";
    w += std::to_string(body.size());
    w += "\r\n\r\n";
    w += body;
    return w;
  }

  // Sends the request bytes and reads the whole response into res. On any I/O error the
  // connection is closed (the next call reconnects) and false is returned.
  awaitable<bool> roundtrip(const std::string& wire, http::response<http::string_body>& res) {
    if (!connected && !co_await connect()) co_return false;
    beast::error_code ec;
    stream.expires_after(secs(opt.timeout_s));
    co_await net::async_write(stream, net::buffer(wire), net::redirect_error(use_awaitable, ec));
    if (!ec) {
      stream.expires_after(secs(opt.timeout_s));
      co_await http::async_read(stream, buf, res, net::redirect_error(use_awaitable, ec));
    }
    if (ec) {
      last_error = "http: " + ec.message();
      close();
      co_return false;
    }
    if (!res.keep_alive()) close();
    co_return true;
  }

  // initialize + notifications/initialized on this connection; sets session_id.
  awaitable<bool> initialize() {
    session_id.clear();
    auto req =
        make_post(std::string(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":")") +
                  kProtocolVersion + R"(","capabilities":{},"clientInfo":{"name":"mcp_load","version":"0.1.0"}}})");
    http::response<http::string_body> res;
    if (!co_await roundtrip(req, res)) co_return false;
    auto sid = res.find("Mcp-Session-Id");
    if (res.result() != http::status::ok || sid == res.end() || sid->value().empty()) {
      last_error = "initialize: status " + std::to_string(res.result_int()) + " body " + res.body().substr(0, 200);
      co_return false;
    }
    session_id = std::string(sid->value());
    auto note = make_post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    http::response<http::string_body> res2;
    if (!co_await roundtrip(note, res2)) co_return false;
    if (res2.result() != http::status::accepted && res2.result() != http::status::ok) {
      last_error = "notifications/initialized: status " + std::to_string(res2.result_int());
      co_return false;
    }
    co_return true;
  }
};

// ---------------------------------------------------------------------------------------------
// Worker threads: one io_context per thread.

struct Worker {
  net::io_context io{1};
  std::thread thread;
};

struct Pool {
  std::vector<std::unique_ptr<Worker>> workers;
  explicit Pool(unsigned n) {
    for (unsigned i = 0; i < n; ++i) workers.push_back(std::make_unique<Worker>());
  }
  net::io_context& io(std::size_t i) { return workers[i % workers.size()]->io; }
  // Runs every io_context until it is out of work (each phase's coroutines finish by their
  // own deadlines), then restarts them for the next phase.
  void run_phase() {
    for (auto& w : workers) w->thread = std::thread([&io = w->io] { io.run(); });
    for (auto& w : workers) w->thread.join();
    for (auto& w : workers) w->io.restart();
  }
};

tcp::resolver::results_type resolve(const Options& o) {
  net::io_context io;
  tcp::resolver r(io);
  return r.resolve(o.host, o.port);
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Block SIGINT/SIGTERM in every thread (set before threads start) so the main thread can
// sigtimedwait for them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Waits up to hold_s seconds or until SIGINT/SIGTERM; returns the signal name or "timeout".
const char* hold(const sigset_t& set, double hold_s) {
  auto deadline = Clock::now() + secs(hold_s);
  while (true) {
    auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return "timeout";
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGINT) return "SIGINT";
    if (sig == SIGTERM) return "SIGTERM";
    if (sig < 0 && errno == EAGAIN) return "timeout";
    // EINTR: loop (bounded by the deadline)
  }
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Load mode.

struct LoadClient {
  std::unique_ptr<Conn> conn;
  std::unique_ptr<Conn> init_conn;  // --init-url: where the session is created
  std::size_t index = 0;
  bool ready = false;
  std::uint64_t requests = 0;  // completed inside the measurement window
  std::uint64_t errors = 0;    // inside the measurement window
  std::uint64_t warm_requests = 0;
  std::uint64_t warm_errors = 0;
  std::vector<std::uint64_t> lat_ns;
  std::string first_error;
};

awaitable<void> setup_client(LoadClient& c) {
  if (c.init_conn) {
    c.ready = co_await c.init_conn->initialize();
    if (!c.ready) {
      c.first_error = c.init_conn->last_error;
      co_return;
    }
    c.conn->session_id = c.init_conn->session_id;
    c.init_conn->close();
    co_return;
  }
  if (c.conn->opt.protocol == Protocol::modern) {
    // No handshake in the stateless generation: only the connection is opened beforehand.
    c.ready = co_await c.conn->connect();
  } else {
    c.ready = co_await c.conn->initialize();
  }
  if (!c.ready) c.first_error = c.conn->last_error;
}

awaitable<void> load_client(LoadClient& c, Clock::time_point warm_end, Clock::time_point end) {
  const bool modern = c.conn->opt.protocol == Protocol::modern;
  std::uint64_t n = 0;
  std::string text;
  while (Clock::now() < end) {
    ++n;
    text = "mcp_load client " + std::to_string(c.index) + " request " + std::to_string(n);
    std::string body = R"({"jsonrpc":"2.0","id":)" + std::to_string(n) +
                       R"(,"method":"tools/call","params":{"name":"echo","arguments":{"text":")" + text + R"("})";
    if (modern) body += kModernMeta;
    body += "}}";
    auto req = c.conn->make_post(body, modern ? kModernEchoHeaders : nullptr);
    http::response<http::string_body> res;
    auto t0 = Clock::now();
    bool io_ok = co_await c.conn->roundtrip(req, res);
    auto t1 = Clock::now();
    bool ok = io_ok && res.result() == http::status::ok && res.body().find(text) != std::string::npos;
    if (!ok && c.first_error.empty()) {
      c.first_error = io_ok ? "status " + std::to_string(res.result_int()) + " body " + res.body().substr(0, 200)
                            : c.conn->last_error;
    }
    if (t1 < warm_end) {
      ++c.warm_requests;
      if (!ok) ++c.warm_errors;
    } else if (t1 <= end) {
      ++c.requests;
      if (ok) {
        c.lat_ns.push_back(
            static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
      } else {
        ++c.errors;
      }
    }
    if (!io_ok) {
      // Back off briefly so a dead server does not turn this into a busy loop.
      net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(10));
      beast::error_code ec;
      co_await t.async_wait(net::redirect_error(use_awaitable, ec));
    }
  }
  c.conn->close();
}

double pct_us(const std::vector<std::uint64_t>& v, double q) {
  if (v.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return static_cast<double>(v[rank - 1]) / 1000.0;
}

int run_load(const Options& opt) {
  auto eps = resolve(opt);
  Options init_opt = opt;
  tcp::resolver::results_type init_eps;
  if (!opt.init_url.empty()) {
    parse_url(opt.init_url, init_opt);
    init_eps = resolve(init_opt);
  }
  Pool pool(opt.threads);
  std::vector<std::unique_ptr<LoadClient>> clients;
  for (unsigned i = 0; i < opt.clients; ++i) {
    auto c = std::make_unique<LoadClient>();
    c->index = i;
    c->conn = std::make_unique<Conn>(pool.io(i), opt, eps);
    if (!opt.init_url.empty()) c->init_conn = std::make_unique<Conn>(pool.io(i), init_opt, init_eps);
    clients.push_back(std::move(c));
  }
  // Phase 1: connect + initialize every client (bounded by --timeout-s per operation).
  auto setup_start = Clock::now();
  for (auto& c : clients) net::co_spawn(pool.io(c->index), setup_client(*c), net::detached);
  pool.run_phase();
  double setup_s = seconds_since(setup_start);
  std::size_t not_ready = 0;
  std::string setup_error;
  for (auto& c : clients) {
    if (!c->ready) {
      ++not_ready;
      if (setup_error.empty()) setup_error = c->first_error;
    }
  }
  if (not_ready) {
    std::cerr << "mcp_load: " << not_ready << " of " << clients.size()
              << " clients failed to initialize; first error: " << setup_error << "\n";
    return 1;
  }
  // Phase 2: warm-up + measurement.
  double cpu0 = cpu_seconds();
  auto start = Clock::now();
  auto warm_end = start + secs(opt.warmup_s);
  auto end = warm_end + secs(opt.duration_s);
  for (auto& c : clients) {
    c->lat_ns.reserve(1 << 14);
    net::co_spawn(pool.io(c->index), load_client(*c, warm_end, end), net::detached);
  }
  pool.run_phase();
  double wall_s = seconds_since(start);
  double cpu_s = cpu_seconds() - cpu0;

  std::uint64_t requests = 0, errors = 0, warm_requests = 0, warm_errors = 0;
  std::vector<std::uint64_t> all;
  std::string first_error;
  for (auto& c : clients) {
    requests += c->requests;
    errors += c->errors;
    warm_requests += c->warm_requests;
    warm_errors += c->warm_errors;
    all.insert(all.end(), c->lat_ns.begin(), c->lat_ns.end());
    if (first_error.empty()) first_error = c->first_error;
  }
  std::sort(all.begin(), all.end());
  double rps = opt.duration_s > 0 ? static_cast<double>(requests - errors) / opt.duration_s : 0;
  double p50 = pct_us(all, 0.50), p90 = pct_us(all, 0.90), p99 = pct_us(all, 0.99);
  double mx = all.empty() ? 0 : static_cast<double>(all.back()) / 1000.0;
  double mean = 0;
  for (auto v : all) mean += static_cast<double>(v);
  mean = all.empty() ? 0 : mean / static_cast<double>(all.size()) / 1000.0;

  // Requests the server handled before the clock: initialize + notifications/initialized.
  const unsigned setup_requests = opt.protocol == Protocol::modern ? 0 : 2 * opt.clients;
  if (opt.json) {
    std::printf(
        "{\"mode\":\"load\",\"protocol\":\"%s\",\"setup_requests\":%u,\"clients\":%u,\"threads\":%u,\"warmup_s\":%.3f,"
        "\"duration_s\":%.3f,"
        "\"setup_s\":%.3f,\"wall_s\":%.3f,\"load_cpu_s\":%.3f,\"requests\":%llu,\"errors\":%llu,\"warmup_requests\":%"
        "llu,"
        "\"warmup_errors\":%llu,\"throughput_rps\":%.1f,\"latency_us\":{\"mean\":%.1f,\"p50\":%.1f,"
        "\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f},\"first_error\":\"%s\"}\n",
        opt.protocol == Protocol::modern ? kModernProtocolVersion : kProtocolVersion, setup_requests, opt.clients,
        opt.threads, opt.warmup_s, opt.duration_s, setup_s, wall_s, cpu_s, static_cast<unsigned long long>(requests),
        static_cast<unsigned long long>(errors), static_cast<unsigned long long>(warm_requests),
        static_cast<unsigned long long>(warm_errors), rps, mean, p50, p90, p99, mx, json_escape(first_error).c_str());
  } else {
    std::printf("protocol %s  clients %u  threads %u  warmup %.1f s  duration %.1f s  (setup %.2f s)\n",
                opt.protocol == Protocol::modern ? kModernProtocolVersion : kProtocolVersion, opt.clients, opt.threads,
                opt.warmup_s, opt.duration_s, setup_s);
    std::printf("requests    %llu\nerrors      %llu  (warm-up: %llu of %llu)\n",
                static_cast<unsigned long long>(requests), static_cast<unsigned long long>(errors),
                static_cast<unsigned long long>(warm_errors), static_cast<unsigned long long>(warm_requests));
    std::printf("throughput  %.1f req/s  (load generator CPU %.2f s over %.2f s)\n", rps, cpu_s, wall_s);
    std::printf("latency us  mean %.1f  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", mean, p50, p90, p99, mx);
    if (!first_error.empty()) std::printf("first error: %s\n", first_error.c_str());
  }
  std::fflush(stdout);
  return errors == 0 ? 0 : 3;
}

// ---------------------------------------------------------------------------------------------
// Session-creation modes (--idle-sessions, --sse-streams).

struct Shared {
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> created{0};
  std::atomic<std::size_t> failed{0};
  std::mutex mu;
  std::string first_error;
  void error(const std::string& e) {
    failed.fetch_add(1);
    std::lock_guard lk(mu);
    if (first_error.empty()) first_error = e;
  }
};

// One connection creating sessions i = next++ < total, storing ids when ids != nullptr.
awaitable<void> create_sessions(std::unique_ptr<Conn> conn, Shared& sh, std::size_t total,
                                std::vector<std::string>* ids) {
  for (std::size_t i = sh.next.fetch_add(1); i < total; i = sh.next.fetch_add(1)) {
    if (co_await conn->initialize()) {
      if (ids) (*ids)[i] = conn->session_id;
      sh.created.fetch_add(1);
    } else {
      sh.error(conn->last_error);
    }
  }
  conn->close();
}

// An open SSE stream: its connection stays open (and is drained) until the hold ends.
struct SseStream {
  beast::tcp_stream stream;
  beast::flat_buffer buf;
  explicit SseStream(net::io_context& io) : stream(io) {}
};

struct SseShared {
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> closed_early{0};
  std::atomic<bool> holding{true};
  Shared errors;
};

awaitable<void> drain(SseStream& s, SseShared& sh) {
  char chunk[512];
  beast::error_code ec;
  s.stream.expires_never();
  // Bounded: ends when the connection is closed (by the server or by stop at hold end).
  while (!ec) {
    co_await s.stream.async_read_some(net::buffer(chunk), net::redirect_error(use_awaitable, ec));
  }
  if (sh.holding.load()) sh.closed_early.fetch_add(1);
}

awaitable<void> open_streams(net::io_context& io, const Options& opt, tcp::resolver::results_type eps,
                             const std::vector<std::string>& ids, std::vector<std::unique_ptr<SseStream>>& out,
                             SseShared& sh) {
  for (std::size_t i = sh.next.fetch_add(1); i < ids.size() && sh.holding.load(); i = sh.next.fetch_add(1)) {
    if (ids[i].empty()) continue;
    auto s = std::make_unique<SseStream>(io);
    beast::error_code ec;
    s->stream.expires_after(secs(opt.timeout_s));
    co_await s->stream.async_connect(eps, net::redirect_error(use_awaitable, ec));
    if (ec) {
      sh.errors.error("sse connect: " + ec.message());
      continue;
    }
    http::request<http::empty_body> req{http::verb::get, opt.target, 11};
    req.set(http::field::host, opt.host + ":" + opt.port);
    req.set(http::field::accept, "text/event-stream");
    req.set("Mcp-Session-Id", ids[i]);
    req.set("MCP-Protocol-Version", kProtocolVersion);
    s->stream.expires_after(secs(opt.timeout_s));
    co_await http::async_write(s->stream, req, net::redirect_error(use_awaitable, ec));
    http::response_parser<http::empty_body> parser;
    if (!ec) {
      s->stream.expires_after(secs(opt.timeout_s));
      co_await http::async_read_header(s->stream, s->buf, parser, net::redirect_error(use_awaitable, ec));
    }
    if (ec) {
      sh.errors.error("sse GET: " + ec.message());
      continue;
    }
    const auto& res = parser.get();
    auto ct = res.find(http::field::content_type);
    if (res.result() != http::status::ok || ct == res.end() ||
        ct->value().find("text/event-stream") == beast::string_view::npos) {
      sh.errors.error("sse GET: status " + std::to_string(res.result_int()));
      continue;
    }
    sh.open.fetch_add(1);
    net::co_spawn(io, drain(*s, sh), net::detached);
    out[i] = std::move(s);
  }
}

int run_sessions(const Options& opt, const sigset_t& sigs) {
  auto eps = resolve(opt);
  Pool pool(opt.threads);
  const bool sse = opt.sse_streams > 0;
  const std::size_t total = sse ? opt.sse_streams : opt.idle_sessions;
  const std::size_t conns = std::min<std::size_t>(std::max(1u, std::min(opt.clients, opt.connect_concurrency)), total);

  // Phase 1: create the sessions over `conns` keep-alive connections, then close them.
  Shared sh;
  std::vector<std::string> ids(sse ? total : 0);
  auto t0 = Clock::now();
  for (std::size_t k = 0; k < conns; ++k) {
    net::co_spawn(pool.io(k),
                  create_sessions(std::make_unique<Conn>(pool.io(k), opt, eps), sh, total, sse ? &ids : nullptr),
                  net::detached);
  }
  pool.run_phase();
  double create_s = seconds_since(t0);

  // Phase 2 (SSE): one GET stream per session, opened by `conns` openers, then held open.
  SseShared ssh;
  std::vector<std::unique_ptr<SseStream>> streams(sse ? total : 0);
  double open_s = 0;
  const char* why = "none";
  if (sse) {
    auto t1 = Clock::now();
    std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
    for (auto& w : pool.workers) guards.push_back(net::make_work_guard(w->io));
    for (auto& w : pool.workers) w->thread = std::thread([&io = w->io] { io.run(); });
    for (std::size_t k = 0; k < conns; ++k) {
      net::co_spawn(pool.io(k), open_streams(pool.io(k), opt, eps, ids, streams, ssh), net::detached);
    }
    // Wait (bounded) until every opener has taken and finished its share.
    auto deadline = Clock::now() + secs(opt.timeout_s + 5) + secs(static_cast<double>(total) * 0.01);
    while (Clock::now() < deadline &&
           ssh.open.load() + ssh.errors.failed.load() + (total - sh.created.load()) < total) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    open_s = seconds_since(t1);
    std::printf("mcp_load: ready sse_streams=%zu failed=%zu\n", ssh.open.load(), ssh.errors.failed.load());
    std::fflush(stdout);
    why = hold(sigs, opt.hold_s);
    ssh.holding = false;
    // Close every stream on its own thread, then let the io_contexts drain.
    for (std::size_t k = 0; k < pool.workers.size(); ++k) {
      net::post(pool.workers[k]->io, [&, k] {
        for (auto& s : streams) {
          if (s && &s->stream.get_executor().context() == &pool.workers[k]->io) {
            beast::error_code ec;
            s->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
            s->stream.socket().close(ec);
          }
        }
      });
    }
    guards.clear();
    for (auto& w : pool.workers) w->thread.join();
  } else {
    std::printf("mcp_load: ready idle_sessions=%zu failed=%zu\n", sh.created.load(), sh.failed.load());
    std::fflush(stdout);
    if (opt.hold_s > 0) why = hold(sigs, opt.hold_s);
  }

  std::string first_error = sh.first_error.empty() ? ssh.errors.first_error : sh.first_error;
  std::size_t failures = sh.failed.load() + ssh.errors.failed.load();
  if (opt.json) {
    std::printf(
        "{\"mode\":\"%s\",\"requested\":%zu,\"sessions_created\":%zu,\"session_errors\":%zu,"
        "\"create_s\":%.3f,\"sse_open\":%zu,\"sse_errors\":%zu,\"sse_closed_early\":%zu,\"open_s\":%.3f,"
        "\"hold_end\":\"%s\",\"first_error\":\"%s\"}\n",
        sse ? "sse-streams" : "idle-sessions", total, sh.created.load(), sh.failed.load(), create_s, ssh.open.load(),
        ssh.errors.failed.load(), ssh.closed_early.load(), open_s, why, json_escape(first_error).c_str());
  } else {
    std::printf("sessions created %zu of %zu in %.2f s (%zu errors)\n", sh.created.load(), total, create_s,
                sh.failed.load());
    if (sse) {
      std::printf("sse streams open %zu in %.2f s (%zu errors, %zu closed by the server during the hold)\n",
                  ssh.open.load(), open_s, ssh.errors.failed.load(), ssh.closed_early.load());
    }
    if (!first_error.empty()) std::printf("first error: %s\n", first_error.c_str());
  }
  std::fflush(stdout);
  return failures == 0 && ssh.closed_early.load() == 0 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse_args(argc, argv);
  raise_fd_limit();
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t sigs = block_stop_signals();
  try {
    if (opt.idle_sessions || opt.sse_streams) return run_sessions(opt, sigs);
    return run_load(opt);
  } catch (const std::exception& e) {
    std::cerr << "mcp_load: " << e.what() << "\n";
    return 1;
  }
}
