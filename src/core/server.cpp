#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <csignal>
#include <frontmcp/server.hpp>
#include <iostream>
#include <mutex>
#include <thread>

#include "core/server_core.hpp"
#include "http/http_server.hpp"
#include "transport/stdio.hpp"
#include "transport/transports.hpp"
#include "util/log.hpp"

namespace frontmcp {

namespace net = boost::asio;

namespace {
/// How often stop() checks whether open connections have finished while draining.
constexpr std::chrono::milliseconds kDrainPoll{20};
/// How long start() waits for the session backend (distributed mode: the first heartbeat)
/// before it serves anyway (not ready until then).
constexpr std::chrono::milliseconds kBackendStartWait{3'000};
}  // namespace

namespace {
void mask_stop_signals(int how) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(how, &set, nullptr);
}
}  // namespace

void block_stop_signals() {
  mask_stop_signals(SIG_BLOCK);
}
void unblock_stop_signals() {
  mask_stop_signals(SIG_UNBLOCK);
}

struct Server::Impl {
  Impl(ServerOptions opts, std::string node) : core(std::move(opts), std::move(node)) {}

  core::ServerCore core;
  net::io_context ioc;
  /// What the HTTP server serves (built by start()).
  std::optional<http::Site> site;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::unique_ptr<http::HttpServer> http;
  std::vector<std::thread> threads;
  std::unique_ptr<net::steady_timer> sweeper;
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> started{false};  // read by add_* / remove_* from any thread
  bool stopped = false;
  bool signalled = false;

  unsigned thread_count() const {
    unsigned n = core.options.threads ? core.options.threads : std::thread::hardware_concurrency();
    return n ? n : 1;
  }

  http::Site make_site() {
    http::Site s{core.options.http, core.metrics, core.http_counters, core.draining};
    s.io_threads = thread_count();
    s.dns_rebinding_protection = core.dns_rebinding_protection;
    s.probes_host_checked = core.probes_host_checked;
    transport::mount(s, core.deps);
    s.readiness = [this] {
      auto r = core.readiness();
      return std::pair<bool, std::string>(r.ready, std::move(r.body));
    };
    s.metrics_text = [this] { return core.render_metrics(); };
    return s;
  }

  void start_threads() {
    work.emplace(ioc.get_executor());
    for (unsigned i = 0; i < thread_count(); ++i) threads.emplace_back([this] { ioc.run(); });
  }

  void schedule_sweep() {
    sweeper->expires_after(session::SessionManager::sweep_interval(core.options.session.idle_ttl));
    sweeper->async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      if (auto n = core.sessions.sweep_idle(core.options.session.idle_ttl))
        util::log().info("expired {} idle sessions", n);
      schedule_sweep();
    });
  }
};

Server::Server(ServerOptions options) {
  std::string node = core::resolve_node_id(options);
  impl_ = std::make_unique<Impl>(std::move(options), std::move(node));
}

Server::~Server() {
  stop(std::chrono::milliseconds{0});
}

void Server::add_tool(Tool tool) {
  impl_->core.registry.add_tool(std::move(tool));
  if (impl_->started) impl_->core.dispatcher.list_changed(registry::ListKind::tools);
}
void Server::add_resource(Resource resource) {
  impl_->core.registry.add_resource(std::move(resource));
  if (impl_->started) impl_->core.dispatcher.list_changed(registry::ListKind::resources);
}
void Server::add_resource_template(ResourceTemplate t) {
  impl_->core.registry.add_template(std::move(t));
  if (impl_->started) impl_->core.dispatcher.list_changed(registry::ListKind::resources);
}
void Server::add_prompt(Prompt prompt) {
  impl_->core.registry.add_prompt(std::move(prompt));
  if (impl_->started) impl_->core.dispatcher.list_changed(registry::ListKind::prompts);
}
void Server::set_completion_handler(CompletionHandler handler) {
  impl_->core.registry.set_completion(std::move(handler));
}
bool Server::remove_tool(std::string_view name) {
  bool r = impl_->core.registry.remove_tool(name);
  if (r && impl_->started) impl_->core.dispatcher.list_changed(registry::ListKind::tools);
  return r;
}
bool Server::remove_resource(std::string_view uri) {
  bool r = impl_->core.registry.remove_resource(uri);
  if (r && impl_->started) impl_->core.dispatcher.list_changed(registry::ListKind::resources);
  return r;
}
bool Server::remove_prompt(std::string_view name) {
  bool r = impl_->core.registry.remove_prompt(name);
  if (r && impl_->started) impl_->core.dispatcher.list_changed(registry::ListKind::prompts);
  return r;
}
void Server::notify_resource_updated(std::string_view uri) {
  impl_->core.dispatcher.resource_updated(uri);
}
void Server::notify_list_changed(ListKind kind) {
  impl_->core.dispatcher.list_changed(registry::list_kind(kind));
}

const ServerOptions& Server::options() const noexcept {
  return impl_->core.options;
}

void Server::start() {
  auto& im = *impl_;
  if (im.started) return;
  if (const auto& factory = im.core.options.session_backend) {
    factory->validate(im.core.options);
    util::set_log_node(im.core.node_id);
    factory->announce(im.core.options);
  } else {
    util::set_log_node(im.core.node_id);
  }
  im.site.emplace(im.make_site());
  im.http = std::make_unique<http::HttpServer>(*im.site, im.ioc);
  im.http->start();  // throws on bind failure, before any thread starts
  if (auto& backend = im.core.backend) {
    // Throws on a bad Redis URL, before threads.
    backend->start(im.core.sessions, im.ioc.get_executor(),
                   transport::legacy_relay_handler(im.core.deps, im.ioc.get_executor()));
  }
  im.sweeper = std::make_unique<net::steady_timer>(im.ioc);
  im.schedule_sweep();
  im.start_threads();
  if (im.core.backend) im.core.backend->wait_ready(kBackendStartWait);
  im.started = true;
  im.core.ready = true;
  util::log().info("node {} serving MCP on http://{}:{}{} ({} mode, {} threads)", im.core.node_id,
                   im.core.options.http.host, im.http->port(), im.core.options.http.mcp_path,
                   to_string(im.core.options.mode), im.thread_count());
}

std::uint16_t Server::port() const {
  return impl_->http ? impl_->http->port() : 0;
}

void Server::wait() {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait(lock, [this] { return impl_->stopped; });
}

void Server::stop(std::chrono::milliseconds drain) {
  auto& im = *impl_;
  {
    std::lock_guard lock(im.mu);
    if (im.stopped || !im.started) {
      im.stopped = true;
      im.cv.notify_all();
      if (!im.started) return;
    }
  }
  if (im.threads.empty()) return;
  im.core.stopping = true;
  if (im.http && im.core.options.shutdown_delay.count() > 0) {
    util::log().info("shutting down: not ready; serving for {} ms more before draining",
                     im.core.options.shutdown_delay.count());
    std::this_thread::sleep_for(im.core.options.shutdown_delay);  // the I/O threads go on serving
  }
  im.core.draining = true;
  if (im.http) im.http->stop_accepting();
  if (im.sweeper) net::post(im.ioc, [&im] { im.sweeper->cancel(); });
  // Requests in flight get until the drain deadline to finish, each on the stream it
  // started on. A standalone stream (which may carry a request's notifications, or a
  // legacy session's answers) ends once its session has no request in flight; clients
  // see the retry hint and reconnect elsewhere.
  // Listen streams (MCP 2026-07-28) end at once with their request's result: the client
  // listens again, elsewhere. Every round, for those opened meanwhile.
  const auto listen_meta = im.core.dispatcher.listen_result_meta();
  auto deadline = std::chrono::steady_clock::now() + drain;
  for (;;) {
    im.core.sessions.listeners().complete_all(listen_meta);
    for (const auto& s : im.core.sessions.all()) {
      if (!s->serving()) s->standalone()->finish();
    }
    if (!im.http || im.http->drained() || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kDrainPoll);
  }
  // Distributed mode: delete the heartbeat and mark this node's sessions claimable now
  // (the other nodes are told and claim them at once, without waiting for the TTL).
  if (im.core.backend) im.core.backend->leave();
  for (const auto& s : im.core.sessions.all()) im.core.sessions.remove(s->id());
  if (im.core.backend) im.core.backend->stop();
  im.work.reset();
  im.ioc.stop();
  for (auto& t : im.threads) {
    if (t.joinable()) t.join();
  }
  im.threads.clear();
  if (im.core.backend) im.core.backend->release_io();  // before the io_context goes
  {
    std::lock_guard lock(im.mu);
    im.stopped = true;
  }
  im.cv.notify_all();
  util::log().info("node {} stopped", im.core.node_id);
}

int Server::run() {
  start();
  net::signal_set signals(impl_->ioc, SIGINT, SIGTERM);
  unblock_stop_signals();
  signals.async_wait([this](boost::system::error_code ec, int sig) {
    if (ec) return;
    util::log().info("signal {} received: draining", sig);
    std::lock_guard lock(impl_->mu);
    impl_->signalled = true;
    impl_->cv.notify_all();
  });
  {
    std::unique_lock lock(impl_->mu);
    impl_->cv.wait(lock, [this] { return impl_->signalled || impl_->stopped; });
  }
  // stop() joins the I/O threads, so it runs here, never on one of them.
  stop(impl_->core.options.drain_timeout);
  return 0;
}

int Server::run_stdio() {
  auto& im = *impl_;
  im.start_threads();
  im.started = true;
  int rc = transport::run_stdio(im.core.deps, im.ioc, /*stdin*/ 0, std::cout);
  stop(std::chrono::milliseconds{0});
  return rc;
}

}  // namespace frontmcp
