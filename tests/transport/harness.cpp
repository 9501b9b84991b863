#include "harness.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <frontmcp/definitions.hpp>

#include "transport/transports.hpp"

namespace frontmcp::test {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {

/// The coroutine tool, a free function (g++ 12: no captures in coroutine lambdas).
/// Asks the client's model (sampling): a server->client request in a session, a round of a
/// multi-round-trip request on a stateless one.
Task<Result<ToolResult>> ask_model(Context& ctx, const json::object&) {
  json::object params{{"messages", json::array{}}, {"maxTokens", 10}};
  auto r = co_await ctx.create_message("answer", std::move(params));
  if (!r) co_return std::move(r).error();
  co_return ToolResult::text("model said: " + json::serialize(r->at("content")));
}

Task<Result<ToolResult>> log_then_answer(Context& ctx, std::atomic<int>* runs) {
  runs->fetch_add(1);
  ctx.log(LogLevel::info, "working");
  co_return ToolResult::text("logged");
}

ServerOptions loopback(ServerOptions o) {
  o.http.host = "127.0.0.1";
  o.http.port = 0;  // the kernel picks a free port
  o.threads = 1;
  return o;
}

}  // namespace

InProcessServer::InProcessServer(ServerSetup setup)
    : options(loopback(std::move(setup.options))),
      events(std::make_shared<session::MemoryEventStore>(session::event_limits(options.session))),
      sessions(options.session.max_sessions, events, "node-test", options.session.max_listen_streams),
      bus(setup.bus ? setup.bus(sessions) : std::make_unique<session::LocalMessageBus>(sessions)),
      directory(setup.directory ? setup.directory(sessions) : std::make_unique<session::LocalDirectory>(sessions)),
      dispatcher(registry, sessions, *bus, *directory, options, "node-test", metrics),
      deps{options, sessions, *directory, *bus, events, dispatcher, metrics, sessions_rejected, draining},
      site{options.http, metrics, counters, draining} {
  Tool echo;
  echo.name = kEcho;
  echo.handler = [runs = &echo_runs_](Context& ctx, const json::object& args) {
    runs->fetch_add(1);
    if (auto* log = args.if_contains("log"); log && log->is_bool() && log->get_bool()) {
      ctx.log(LogLevel::info, "echoing");
    }
    auto* text = args.if_contains("text");
    return ToolResult::text(text && text->is_string() ? std::string(text->get_string()) : std::string());
  };
  registry.add_tool(std::move(echo));
  Tool slow;
  slow.name = kLogThenAnswer;
  slow.handler = [runs = &log_runs_](Context& ctx, const json::object&) { return log_then_answer(ctx, runs); };
  registry.add_tool(std::move(slow));
  Tool ask;
  ask.name = kAskModel;
  ask.handler = ask_model;
  registry.add_tool(std::move(ask));

  site.io_threads = 1;
  site.probes_host_checked = true;
  transport::mount(site, deps);
  http_ = std::make_unique<http::HttpServer>(site, ioc_);
  http_->start();
  work_.emplace(ioc_.get_executor());
  thread_ = std::thread([this] { ioc_.run(); });
}

InProcessServer::~InProcessServer() {
  // As Server::stop does: the sessions and listen streams end first (their streams finish, and no stream keeps
  // a waker of a connection past the io_context), then the thread stops.
  for (const auto& s : sessions.all()) sessions.remove(s->id());
  sessions.listeners().complete_all(dispatcher.listen_result_meta());
  work_.reset();
  ioc_.stop();
  thread_.join();
}

int InProcessServer::runs(std::string_view tool) const {
  return tool == kEcho ? echo_runs_.load() : log_runs_.load();
}

// ------------------------------------------------------------------------ Response

std::string Response::header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : std::string(it->value());
}

json::value Response::as_json() const {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << body;
  return ec ? json::value() : v;
}

std::int64_t Response::error_code() const {
  auto v = as_json();
  if (!v.is_object()) return 0;
  auto* e = v.get_object().if_contains("error");
  if (!e || !e->is_object()) return 0;
  auto* c = e->get_object().if_contains("code");
  return c && c->is_int64() ? c->get_int64() : 0;
}

std::vector<json::value> Response::sse_messages() const {
  std::vector<json::value> out;
  std::string data, event;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    auto nl = body.find('\n', pos);
    std::string_view line(body.data() + pos, (nl == std::string::npos ? body.size() : nl) - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {  // the end of an event
      if (!data.empty() && (event.empty() || event == "message")) {
        boost::system::error_code ec;
        auto v = json::parse(data, ec);
        EXPECT_FALSE(ec) << "SSE data is not JSON: " << data;
        if (!ec) out.push_back(std::move(v));
      }
      data.clear();
      event.clear();
    } else if (line.starts_with("event:")) {
      event = line.substr(line.starts_with("event: ") ? 7 : 6);
    } else if (line.starts_with("data:")) {
      auto d = line.substr(5);
      if (!d.empty() && d.front() == ' ') d.remove_prefix(1);
      if (!data.empty()) data += '\n';
      data += d;
    }
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out;
}

// ---------------------------------------------------------------------- Connection

Connection::Connection(std::uint16_t port) : stream_(ioc_), port_(port) {
  tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
  bool ok =
      run([this, ep](auto done) { stream_.async_connect(ep, [done](boost::system::error_code ec) { done(ec); }); });
  EXPECT_TRUE(ok) << "cannot connect to 127.0.0.1:" << port;
}

bool Connection::run(std::function<void(std::function<void(boost::system::error_code)>)> start) {
  boost::system::error_code result = net::error::timed_out;
  bool finished = false;
  stream_.expires_after(kIoLimit);
  start([&](boost::system::error_code ec) {
    result = ec;
    finished = true;
  });
  ioc_.restart();
  ioc_.run();  // bounded: the stream's expiry cancels the operation
  return finished && !result;
}

bool Connection::send(bhttp::verb verb, const std::string& target, std::string body, const Fields& fields) {
  auto req = std::make_shared<bhttp::request<bhttp::string_body>>(verb, target, 11);
  req->set(bhttp::field::host, "127.0.0.1:" + std::to_string(port_));
  for (const auto& [k, v] : fields) req->set(k, v);
  req->body() = std::move(body);
  req->prepare_payload();
  return run([this, req](auto done) {
    bhttp::async_write(stream_, *req, [done](boost::system::error_code ec, std::size_t) { done(ec); });
  });
}

namespace {
Response from(const bhttp::response<bhttp::string_body>& r) {
  return Response{static_cast<int>(r.result_int()), r.base(), r.body()};
}
}  // namespace

Response Connection::read() {
  parser_.emplace();
  parser_->body_limit(boost::none);
  if (!run([this](auto done) {
        bhttp::async_read(stream_, buffer_, *parser_, [done](boost::system::error_code ec, std::size_t) { done(ec); });
      })) {
    return {};
  }
  return from(parser_->get());
}

Response Connection::read_head() {
  parser_.emplace();
  parser_->body_limit(boost::none);
  if (!run([this](auto done) {
        bhttp::async_read_header(stream_, buffer_, *parser_,
                                 [done](boost::system::error_code ec, std::size_t) { done(ec); });
      })) {
    return {};
  }
  return from(parser_->get());
}

namespace {
std::size_t occurrences(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (auto pos = hay.find(needle); pos != std::string_view::npos; pos = hay.find(needle, pos + needle.size())) ++n;
  return n;
}
}  // namespace

std::string Connection::read_until(std::string_view needle, std::size_t times) {
  if (!parser_) return {};
  const auto deadline = std::chrono::steady_clock::now() + kIoLimit;
  while (occurrences(parser_->get().body(), needle) < times) {
    if (parser_->is_done() || std::chrono::steady_clock::now() >= deadline) return {};
    if (!run([this](auto done) {
          bhttp::async_read_some(stream_, buffer_, *parser_,
                                 [done](boost::system::error_code ec, std::size_t) { done(ec); });
        })) {
      return {};
    }
  }
  return parser_->get().body();
}

std::string Connection::read_to_end() {
  if (!parser_) return {};
  const auto deadline = std::chrono::steady_clock::now() + kIoLimit;
  while (!parser_->is_done()) {
    if (std::chrono::steady_clock::now() >= deadline) return {};
    if (!run([this](auto done) {
          bhttp::async_read_some(stream_, buffer_, *parser_,
                                 [done](boost::system::error_code ec, std::size_t) { done(ec); });
        })) {
      return {};
    }
  }
  return parser_->get().body();
}

void Connection::close() {
  boost::system::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
}

// ------------------------------------------------------------------------- helpers

Response request(std::uint16_t port, bhttp::verb verb, const std::string& target, std::string body,
                 const Fields& fields) {
  Connection c(port);
  if (!c.send(verb, target, std::move(body), fields)) return {};
  return c.read();
}

std::string rpc(std::int64_t id, std::string_view method, json::object params) {
  json::object o{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.empty()) o["params"] = std::move(params);
  return json::serialize(o);
}

std::string notification(std::string_view method, json::object params) {
  json::object o{{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.empty()) o["params"] = std::move(params);
  return json::serialize(o);
}

std::string call(std::int64_t id, std::string_view tool, json::object args) {
  return rpc(id, "tools/call", json::object{{"name", tool}, {"arguments", std::move(args)}});
}

Fields mcp_fields(const std::string& session, Fields more) {
  Fields f{{"Accept", "application/json, text/event-stream"}, {"Content-Type", "application/json"}};
  if (!session.empty()) f.emplace_back("Mcp-Session-Id", session);
  for (auto& m : more) f.push_back(std::move(m));
  return f;
}

Response post_mcp(std::uint16_t port, const std::string& session, std::string body, Fields more) {
  return request(port, bhttp::verb::post, "/mcp", std::move(body), mcp_fields(session, std::move(more)));
}

json::object modern_meta(json::object more) {
  json::object meta{{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                    {"io.modelcontextprotocol/clientCapabilities", json::object{}},
                    {"io.modelcontextprotocol/clientInfo", json::object{{"name", "t"}, {"version", "1"}}}};
  for (auto& [k, v] : more) meta[k] = v;
  return meta;
}

Fields modern_fields(std::string_view method, std::string name, Fields more) {
  Fields f{{"MCP-Protocol-Version", "2026-07-28"}, {"Mcp-Method", std::string(method)}};
  if (!name.empty()) f.emplace_back("Mcp-Name", std::move(name));
  for (auto& m : more) f.push_back(std::move(m));
  return mcp_fields("", std::move(f));
}

Response initialize(std::uint16_t port, Fields more) {
  json::object params{{"protocolVersion", "2025-11-25"},
                      {"capabilities", json::object{}},
                      {"clientInfo", json::object{{"name", "transport-test"}, {"version", "1.0.0"}}}};
  return post_mcp(port, "", rpc(1, "initialize", std::move(params)), std::move(more));
}

}  // namespace frontmcp::test
