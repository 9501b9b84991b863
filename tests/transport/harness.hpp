#pragma once
// In-process transport tests: the server side built from the core's parts (registry,
// SessionManager, bus, event store, Dispatcher, transport::Deps, an http::Site mounted with
// transport::mount, an HttpServer on 127.0.0.1:0 run by one thread), and a small Beast
// client that talks to it over loopback. No Redis, no child process.
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <frontmcp/options.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http/http_io.hpp"
#include "http/http_server.hpp"
#include "protocol/dispatcher.hpp"
#include "registry/registry.hpp"
#include "session/directory.hpp"
#include "session/event_store.hpp"
#include "session/message_bus.hpp"
#include "session/session_manager.hpp"
#include "transport/deps.hpp"

namespace frontmcp::test {

namespace json = boost::json;
namespace bhttp = boost::beast::http;

/// Every socket operation of the client must finish within this (a hung server fails the
/// test instead of blocking it; everything here answers in milliseconds).
inline constexpr std::chrono::seconds kIoLimit{5};

/// The tools every test server has (ToolsRun counts their runs):
///  - "echo" (a plain function): answers its "text"; with "log": true it first sends a
///    notifications/message (ctx.log);
///  - "log_then_answer" (a coroutine): sends a notifications/message, then answers.
inline constexpr const char* kEcho = "echo";
inline constexpr const char* kLogThenAnswer = "log_then_answer";
/// Asks for sampling under the key "answer" (Context::create_message).
inline constexpr const char* kAskModel = "ask_model";

/// What a test may replace of the standalone server before it starts.
struct ServerSetup {
  ServerOptions options = {};
  /// Default: session::LocalDirectory.
  std::function<std::unique_ptr<session::SessionDirectory>(session::SessionManager&)> directory = {};
  /// Default: session::LocalMessageBus.
  std::function<std::unique_ptr<session::MessageBus>(session::SessionManager&)> bus = {};
};

/// The server side, serving from construction until destruction. Members are declared in
/// the order they must be built; the io_context comes after everything its pending
/// coroutines refer to (they are destroyed with it) and the thread last.
class InProcessServer {
 public:
  explicit InProcessServer(ServerSetup setup = {});
  ~InProcessServer();
  InProcessServer(const InProcessServer&) = delete;
  InProcessServer& operator=(const InProcessServer&) = delete;

  std::uint16_t port() const { return http_->port(); }
  /// Run by the server's thread (transport::run_stdio posts its work here).
  boost::asio::io_context& io_context() noexcept { return ioc_; }
  /// Runs of each tool so far (read after the response that a run produced).
  int runs(std::string_view tool) const;

  ServerOptions options;
  metrics::Metrics metrics;
  registry::Registry registry{options.session.page_size};
  std::shared_ptr<session::MemoryEventStore> events;
  session::SessionManager sessions;
  std::unique_ptr<session::MessageBus> bus;
  std::unique_ptr<session::SessionDirectory> directory;
  protocol::Dispatcher dispatcher;
  http::Counters counters;
  std::atomic<std::uint64_t> sessions_rejected{0};
  std::atomic<bool> draining{false};
  transport::Deps deps;
  http::Site site;

 private:
  std::atomic<int> echo_runs_{0};
  std::atomic<int> log_runs_{0};
  boost::asio::io_context ioc_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::unique_ptr<http::HttpServer> http_;
  std::thread thread_;
};

/// A response as the client read it.
struct Response {
  int status = 0;
  bhttp::fields headers;
  std::string body;

  /// A header's value ("" when absent).
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const { return headers.find(name) != headers.end(); }
  /// The body as JSON (a test failure and null when it is not).
  json::value as_json() const;
  /// The JSON-RPC error code of a JSON error body (0 when there is none).
  std::int64_t error_code() const;
  /// The data of each SSE "message" event of the body that has data, in order, as JSON.
  std::vector<json::value> sse_messages() const;
};

/// One client connection over loopback. Each operation runs on the client's own
/// io_context and is bounded by kIoLimit (a timeout fails the test's assertions).
class Connection {
 public:
  explicit Connection(std::uint16_t port);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Writes a request (Host is added). False if the write failed.
  bool send(bhttp::verb verb, const std::string& target, std::string body,
            const std::vector<std::pair<std::string, std::string>>& fields);
  /// Reads a whole response (status 0 when none could be read).
  Response read();
  /// Reads a response's head only (streams); read_until() then reads its body.
  Response read_head();
  /// Reads more of the current response until its body contains `needle` (`times` times);
  /// returns the body read so far ("" on timeout or end of stream without it).
  std::string read_until(std::string_view needle, std::size_t times = 1);
  /// Reads the rest of the current response; its whole body ("" on timeout or error).
  std::string read_to_end();
  void close();

 private:
  bool run(std::function<void(std::function<void(boost::system::error_code)>)> start);
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
  std::uint16_t port_;
};

using Fields = std::vector<std::pair<std::string, std::string>>;

/// One request on a fresh connection, its whole response.
Response request(std::uint16_t port, bhttp::verb verb, const std::string& target, std::string body = {},
                 const Fields& fields = {});

/// A JSON-RPC request / notification, serialized.
std::string rpc(std::int64_t id, std::string_view method, json::object params = {});
std::string notification(std::string_view method, json::object params = {});
/// tools/call of `tool` with `args`.
std::string call(std::int64_t id, std::string_view tool, json::object args = {});

/// The headers of an MCP POST (Accept both, Content-Type JSON) plus Mcp-Session-Id when
/// `session` is not empty, plus `more`.
Fields mcp_fields(const std::string& session, Fields more = {});
/// POST /mcp with `body` for `session` ("" = no Mcp-Session-Id).
Response post_mcp(std::uint16_t port, const std::string& session, std::string body, Fields more = {});
/// POST /mcp initialize (with `more` headers); its response (the session id is its
/// Mcp-Session-Id).
Response initialize(std::uint16_t port, Fields more = {});

/// params._meta of an MCP 2026-07-28 request (protocol version, empty client capabilities,
/// a clientInfo), with `more` added or replacing.
json::object modern_meta(json::object more = {});
/// The headers of a modern POST of `method` (Mcp-Name when `name` is not empty), plus `more`.
Fields modern_fields(std::string_view method, std::string name = {}, Fields more = {});

}  // namespace frontmcp::test
