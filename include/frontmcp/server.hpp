#pragma once
// frontmcp::Server: an MCP server you fill with tools, resources and prompts, then run
// over Streamable HTTP (+ legacy HTTP+SSE) or stdio.
//
// Threads: add_* / remove_* / notify_* may be called from any thread, before or after
// start(). Handlers run on the server's I/O threads.
#include <chrono>
#include <cstdint>
#include <frontmcp/definitions.hpp>
#include <frontmcp/list_kind.hpp>
#include <frontmcp/options.hpp>
#include <frontmcp/typed.hpp>
#include <memory>
#include <string>
#include <string_view>

namespace frontmcp {

/// Blocks SIGINT and SIGTERM in the calling thread (threads it creates later inherit
/// that); Server::run() and run_stdio() unblock them once their handlers are in place.
void block_stop_signals();
void unblock_stop_signals();

class Server {
 public:
  explicit Server(ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Registration. A duplicate name/URI throws std::invalid_argument (a start-up bug), and
  /// so does a tool whose inputSchema breaks the rules of `x-mcp-header` (MCP 2026-07-28:
  /// a non-empty header-name token, unique case-insensitively, on a string, integer or
  /// boolean property reached through `properties` keys only; docs/protocol.md).
  /// After start(), clients with a session get notifications/*/list_changed.
  void add_tool(Tool tool);
  void add_resource(Resource resource);
  void add_resource_template(ResourceTemplate resource_template);
  void add_prompt(Prompt prompt);
  void set_completion_handler(CompletionHandler handler);
  /// Typed registration (<frontmcp/typed.hpp>, docs/authoring.md): Args is a struct
  /// described with BOOST_DESCRIBE_STRUCT; the schema, the parsing of the arguments and,
  /// for a struct result, outputSchema and structuredContent come from it.
  ///   server.add_tool<ForecastArgs>("forecast", "Weather forecast",
  ///                                 [](Context& ctx, const ForecastArgs& a) -> Forecast { ... });
  /// make_tool<Args> / make_prompt<Args> return the definition instead (to set a title,
  /// annotations ...).
  template <class Args, class F>
  void add_tool(std::string name, std::string description, F handler) {
    add_tool(make_tool<Args>(std::move(name), std::move(description), std::move(handler)));
  }
  template <class Args, class F>
  void add_prompt(std::string name, std::string description, F handler) {
    add_prompt(make_prompt<Args>(std::move(name), std::move(description), std::move(handler)));
  }
  bool remove_tool(std::string_view name);
  bool remove_resource(std::string_view uri);
  bool remove_prompt(std::string_view name);

  /// notifications/resources/updated to every session subscribed to `uri`.
  void notify_resource_updated(std::string_view uri);
  /// notifications/<kind>/list_changed to every session and every subscriptions/listen
  /// stream that asked for it, on every node. add_* / remove_* send it themselves; this is
  /// for lists that change without them (computed per user, filtered ...).
  void notify_list_changed(ListKind kind);

  /// Binds and starts the I/O threads. Throws std::runtime_error if the address cannot be
  /// bound (a start-up error).
  void start();
  /// The bound port (useful with port 0).
  std::uint16_t port() const;
  /// Blocks until stop() is called (from another thread or a signal handler).
  void wait();
  /// Stops accepting, closes streams with an SSE retry hint, finishes in-flight requests
  /// within `drain`, then stops the threads. Safe to call more than once.
  void stop(std::chrono::milliseconds drain = std::chrono::milliseconds{5000});

  /// start() + stop on SIGINT/SIGTERM + wait(). Returns the process exit code.
  /// A signal that arrives between start() and run() would take its default action;
  /// call block_stop_signals() first (before start(), so the I/O threads inherit it) to
  /// have such a signal wait for run() instead.
  int run();
  /// Serves one client over stdin/stdout (newline-delimited JSON-RPC) until EOF.
  int run_stdio();

  const ServerOptions& options() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace frontmcp
