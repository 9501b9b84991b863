// redis::Client and redis::Subscriber against a real redis-server (tests/support): replies,
// pipelining, concurrency, AUTH / ACL / SELECT, Pub/Sub, and failures on purpose —
// restart, SIGSTOP (timeouts), stop and destruction with commands in flight, TLS.
// Every wait is bounded; conditions are polled, never slept on.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "redis/redis.hpp"
#include "support/io_threads.hpp"
#include "support/redis_server.hpp"

namespace frontmcp::redis {
namespace {

using namespace std::chrono_literals;
namespace net = boost::asio;
using test::IoThreads;
using test::RedisServer;
using test::run_on;
using test::wait_until;
using Clock = std::chrono::steady_clock;

/// Builds a Command outside coroutines (g++ 12 mishandles braced string literals there).
template <class... Args>
Command cmd(Args&&... args) {
  Command c;
  (c.emplace_back(std::forward<Args>(args)), ...);
  return c;
}

Config config_for(const std::string& url) {
  auto cfg = Config::from_url(url);
  if (!cfg) throw std::runtime_error(cfg.error().message);
  cfg->reconnect_min = 20ms;
  cfg->reconnect_max = 200ms;
  cfg->connect_timeout = 1s;
  return std::move(cfg).value();
}

/// A started client that is connected (or the test fails).
struct Connected {
  Connected(IoThreads& io, Config cfg) : client(io.executor(), std::move(cfg)) {
    client.start([this](bool up) { (up ? ups : downs).fetch_add(1); });
    if (!wait_until([this] { return client.connected(); }))
      throw std::runtime_error("not connected: " + client.last_error());
  }
  // Declared before the client: its callbacks use them until it is destroyed.
  std::atomic<int> ups{0};
  std::atomic<int> downs{0};
  Client client;
};

Result<Reply> run(IoThreads& io, Client& client, Command c, std::chrono::milliseconds limit = 10s) {
  return run_on(io.executor(), client.command(std::move(c)), limit);
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// --- replies --------------------------------------------------------------------------

TEST(RedisClient, SetGetIncrAndNil) {
  RedisServer server;
  IoThreads io;
  Connected c(io, config_for(server.url()));

  auto set = run(io, c.client, cmd("SET", "greeting", "hello"));
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->type, Reply::Type::status);
  EXPECT_EQ(set->str, "OK");

  auto get = run(io, c.client, cmd("GET", "greeting"));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->type, Reply::Type::string);
  EXPECT_EQ(get->str, "hello");

  auto incr = run(io, c.client, cmd("INCR", "n"));
  ASSERT_TRUE(incr);
  EXPECT_EQ(incr->type, Reply::Type::integer);
  EXPECT_EQ(incr->integer, 1);

  auto missing = run(io, c.client, cmd("GET", "missing"));
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->is_nil());
}

TEST(RedisClient, ArrayRepliesIncludingNilsAndNesting) {
  RedisServer server;
  IoThreads io;
  Connected c(io, config_for(server.url()));

  ASSERT_TRUE(run(io, c.client, cmd("RPUSH", "list", "a", "b", "c")));
  auto range = run(io, c.client, cmd("LRANGE", "list", "0", "-1"));
  ASSERT_TRUE(range);
  ASSERT_EQ(range->type, Reply::Type::array);
  ASSERT_EQ(range->elements.size(), 3u);
  EXPECT_EQ(range->elements[2].str, "c");

  auto mget = run(io, c.client, cmd("MGET", "nope", "list"));  // a nil and a WRONGTYPE-free nil
  ASSERT_TRUE(mget);
  ASSERT_EQ(mget->elements.size(), 2u);
  EXPECT_TRUE(mget->elements[0].is_nil());

  auto nested = run(io, c.client, cmd("EVAL", "return {1, {2, 'x'}, redis.status_reply('FINE')}", "0"));
  ASSERT_TRUE(nested);
  ASSERT_EQ(nested->elements.size(), 3u);
  EXPECT_EQ(nested->elements[0].integer, 1);
  ASSERT_EQ(nested->elements[1].elements.size(), 2u);
  EXPECT_EQ(nested->elements[1].elements[1].str, "x");
  EXPECT_EQ(nested->elements[2].type, Reply::Type::status);
  EXPECT_EQ(nested->elements[2].str, "FINE");
}

TEST(RedisClient, ErrorReplyIsAReplyNotAFailedCall) {
  RedisServer server;
  IoThreads io;
  Connected c(io, config_for(server.url()));

  auto noscript = run(io, c.client, cmd("EVALSHA", "0123456789012345678901234567890123456789", "0"));
  ASSERT_TRUE(noscript) << noscript.error().message;
  EXPECT_TRUE(noscript->is_error());
  EXPECT_TRUE(noscript->str.starts_with("NOSCRIPT")) << noscript->str;

  ASSERT_TRUE(run(io, c.client, cmd("SET", "s", "x")));
  auto wrongtype = run(io, c.client, cmd("LPUSH", "s", "y"));
  ASSERT_TRUE(wrongtype);
  EXPECT_TRUE(wrongtype->str.starts_with("WRONGTYPE")) << wrongtype->str;

  // The connection is still fine afterwards.
  auto ping = run(io, c.client, cmd("PING"));
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->str, "PONG");
}

TEST(RedisClient, ValuesAreBinarySafe) {
  RedisServer server;
  IoThreads io;
  Connected c(io, config_for(server.url()));

  std::string value("\0\r\n*1\r\n$-1\r\n", 12);
  value += std::string(100'000, 'z');  // larger than one read
  ASSERT_TRUE(run(io, c.client, cmd("SET", "bin", value)));
  auto get = run(io, c.client, cmd("GET", "bin"));
  ASSERT_TRUE(get);
  EXPECT_EQ(get->str, value);
}

// --- pipelining and concurrency ---------------------------------------------------------

TEST(RedisClient, PipelineOfManyCommandsAnswersInOrder) {
  RedisServer server;
  IoThreads io;
  Connected c(io, config_for(server.url()));

  constexpr int kCount = 2000;
  std::vector<Command> sets, gets;
  for (int i = 0; i < kCount; ++i) {
    sets.push_back(cmd("SET", "k" + std::to_string(i), "v" + std::to_string(i)));
    gets.push_back(cmd("GET", "k" + std::to_string(i)));
  }
  auto set_replies = run_on(io.executor(), c.client.pipeline(std::move(sets)));
  ASSERT_TRUE(set_replies) << set_replies.error().message;
  ASSERT_EQ(set_replies->size(), std::size_t(kCount));
  auto get_replies = run_on(io.executor(), c.client.pipeline(std::move(gets)));
  ASSERT_TRUE(get_replies);
  ASSERT_EQ(get_replies->size(), std::size_t(kCount));
  for (int i = 0; i < kCount; ++i) EXPECT_EQ((*get_replies)[i].str, "v" + std::to_string(i));

  auto empty = run_on(io.executor(), c.client.pipeline({}));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

struct CallerReport {
  int failures = 0;
  int out_of_order = 0;
  int resumed_elsewhere = 0;
};

/// One caller: `n` INCRs one after the other; each answer must be larger than the last
/// (replies are matched in order) and must resume the caller on its own io_context.
net::awaitable<CallerReport> incr_many(Client& client, net::io_context& home, int n) {
  CallerReport report;
  long long last = 0;
  const Command incr = cmd("INCR", "counter");
  for (int i = 0; i < n; ++i) {
    auto r = co_await client.command(incr);
    if (!home.get_executor().running_in_this_thread()) ++report.resumed_elsewhere;
    if (!r || r->type != Reply::Type::integer) {
      ++report.failures;
      continue;
    }
    if (r->integer <= last) ++report.out_of_order;
    last = r->integer;
  }
  co_return report;
}

/// `callers` concurrent incr_many on `io`; returns their reports.
std::vector<std::future<CallerReport>> spawn_callers(Client& client, net::io_context& home, int callers, int n) {
  std::vector<std::future<CallerReport>> futures;
  for (int i = 0; i < callers; ++i) futures.push_back(test::start_on(home.get_executor(), incr_many(client, home, n)));
  return futures;
}

TEST(RedisClient, ConcurrentCallersOnTwoThreadsAreResumedOnTheirOwnExecutors) {
  RedisServer server;
  IoThreads io;  // the client's
  Connected c(io, config_for(server.url()));
  IoThreads caller_a(1), caller_b(1);

  constexpr int kCallers = 4, kEach = 250;
  auto a = spawn_callers(c.client, caller_a.context(), kCallers, kEach);
  auto b = spawn_callers(c.client, caller_b.context(), kCallers, kEach);
  for (auto* futures : {&a, &b}) {
    for (auto& f : *futures) {
      ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
      CallerReport r = f.get();
      EXPECT_EQ(r.failures, 0);
      EXPECT_EQ(r.out_of_order, 0);
      EXPECT_EQ(r.resumed_elsewhere, 0);
    }
  }
  auto total = run(io, c.client, cmd("GET", "counter"));
  ASSERT_TRUE(total);
  EXPECT_EQ(total->str, std::to_string(2 * kCallers * kEach));
}

TEST(RedisClient, SendIsFireAndForgetButOrdered) {
  RedisServer server;
  IoThreads io;
  Connected c(io, config_for(server.url()));

  for (int i = 0; i < 100; ++i) c.client.send(cmd("RPUSH", "sent", std::to_string(i)));
  // Commands of one thread keep their order, so this LLEN runs after every RPUSH.
  auto len = run(io, c.client, cmd("LLEN", "sent"));
  ASSERT_TRUE(len);
  EXPECT_EQ(len->integer, 100);
}

// --- AUTH and SELECT ---------------------------------------------------------------------

TEST(RedisClient, AuthenticatesWithAPassword) {
  RedisServer server({"--requirepass", "pa ss"});
  IoThreads io;
  Connected c(io, config_for("redis://:pa%20ss@127.0.0.1:" + std::to_string(server.port())));
  auto ping = run(io, c.client, cmd("PING"));
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->str, "PONG");
}

TEST(RedisClient, AuthenticatesAsAnAclUser) {
  RedisServer server({"--user", "default", "off", "--user", "alice", "on", ">alicepw", "~*", "&*", "+@all"});
  IoThreads io;
  Connected c(io, config_for("redis://alice:alicepw@127.0.0.1:" + std::to_string(server.port())));
  auto who = run(io, c.client, cmd("ACL", "WHOAMI"));
  ASSERT_TRUE(who);
  EXPECT_EQ(who->str, "alice");
}

TEST(RedisClient, WrongPasswordNeverConnectsAndSaysWhy) {
  RedisServer server({"--requirepass", "right"});
  IoThreads io;
  Client client(io.executor(), config_for("redis://:wrong@127.0.0.1:" + std::to_string(server.port())));
  std::atomic<int> ups{0};
  client.start([&](bool up) { ups += up ? 1 : 0; });
  ASSERT_TRUE(wait_until([&] { return contains(client.last_error(), "AUTH failed"); })) << client.last_error();
  EXPECT_TRUE(contains(client.last_error(), "WRONGPASS")) << client.last_error();
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(ups.load(), 0);
  auto r = run(io, client, cmd("PING"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::kServerError);
  EXPECT_EQ(r.error().message, "redis: not connected");
}

TEST(RedisClient, SelectsTheConfiguredDatabase) {
  RedisServer server;
  IoThreads io;
  Connected db3(io, config_for(server.url() + "/3"));
  Connected db0(io, config_for(server.url()));

  ASSERT_TRUE(run(io, db3.client, cmd("SET", "where", "three")));
  auto in0 = run(io, db0.client, cmd("GET", "where"));
  ASSERT_TRUE(in0);
  EXPECT_TRUE(in0->is_nil());
  auto in3 = run(io, db3.client, cmd("GET", "where"));
  ASSERT_TRUE(in3);
  EXPECT_EQ(in3->str, "three");
}

TEST(RedisClient, BadDatabaseNeverConnects) {
  RedisServer server({"--databases", "4"});
  IoThreads io;
  Client client(io.executor(), config_for(server.url() + "/9"));
  client.start();
  ASSERT_TRUE(wait_until([&] { return contains(client.last_error(), "SELECT failed"); })) << client.last_error();
  EXPECT_FALSE(client.connected());
}

// --- failures ----------------------------------------------------------------------------

TEST(RedisClient, FailsImmediatelyWhenNotConnected) {
  IoThreads io;
  Client idle(io.executor(), config_for("redis://127.0.0.1:1"));
  auto before_start = run(io, idle, cmd("PING"), 1s);
  ASSERT_FALSE(before_start);
  EXPECT_EQ(before_start.error().message, "redis: not connected");

  idle.start();  // nothing listens on port 1
  ASSERT_TRUE(wait_until([&] { return contains(idle.last_error(), "cannot connect"); })) << idle.last_error();
  const auto t0 = Clock::now();
  auto r = run(io, idle, cmd("PING"), 1s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "redis: not connected");
  EXPECT_LT(Clock::now() - t0, 500ms);
}

TEST(RedisClient, ReconnectsAfterTheServerRestarts) {
  RedisServer server;
  IoThreads io;
  Connected c(io, config_for(server.url()));
  ASSERT_TRUE(run(io, c.client, cmd("SET", "before", "1")));

  server.stop();
  ASSERT_TRUE(wait_until([&] { return !c.client.connected(); }));
  EXPECT_TRUE(wait_until([&] { return c.downs.load() == 1; }));
  const auto t0 = Clock::now();
  auto down = run(io, c.client, cmd("PING"), 2s);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().message, "redis: not connected");
  EXPECT_LT(Clock::now() - t0, 500ms) << "commands must fail fast while disconnected";
  EXPECT_FALSE(c.client.last_error().empty());

  server.restart();
  ASSERT_TRUE(wait_until([&] { return c.client.connected(); })) << c.client.last_error();
  auto after = run(io, c.client, cmd("SET", "after", "2"));
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->str, "OK");
  EXPECT_TRUE(wait_until([&] { return c.ups.load() == 2; }));
  EXPECT_EQ(c.downs.load(), 1);
}

TEST(RedisClient, TimesOutWhileTheServerIsStoppedAndRecoversAfter) {
  RedisServer server;
  IoThreads io;
  Config cfg = config_for(server.url());
  cfg.command_timeout = 300ms;
  Connected c(io, cfg);

  server.pause();
  const auto t0 = Clock::now();
  auto r = run(io, c.client, cmd("PING"), 5s);
  const auto took = Clock::now() - t0;
  server.resume();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::kServerError);
  EXPECT_TRUE(r.error().message.starts_with("redis: timeout")) << r.error().message;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 1500ms);

  // The connection was reset; a new one serves commands again.
  EXPECT_TRUE(wait_until([&] {
    auto ping = run(io, c.client, cmd("PING"), 5s);
    return ping && ping->str == "PONG";
  }));
  EXPECT_GE(c.downs.load(), 1);
}

TEST(RedisClient, ConnectTimeoutIsHonoured) {
  // A stopped server still completes the TCP handshake (the kernel's backlog), but AUTH
  // is never answered.
  RedisServer server({"--requirepass", "pw"});
  server.pause();
  IoThreads io;
  Config cfg = config_for("redis://:pw@127.0.0.1:" + std::to_string(server.port()));
  cfg.connect_timeout = 200ms;
  Client client(io.executor(), cfg);
  client.start();
  EXPECT_TRUE(wait_until([&] { return contains(client.last_error(), "connect timeout"); }, 3s)) << client.last_error();
  EXPECT_FALSE(client.connected());
  server.resume();
  EXPECT_TRUE(wait_until([&] { return client.connected(); })) << client.last_error();
}

TEST(RedisClient, StopFailsCommandsInFlightAndLaterOnesAtOnce) {
  RedisServer server;
  IoThreads io;
  Config cfg = config_for(server.url());
  cfg.command_timeout = 10s;
  Connected c(io, cfg);

  server.pause();
  auto in_flight = test::start_on(io.executor(), c.client.command(cmd("PING")));
  c.client.stop();
  ASSERT_EQ(in_flight.wait_for(2s), std::future_status::ready);
  auto r = in_flight.get();
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "stopped")) << r.error().message;
  EXPECT_FALSE(c.client.connected());
  auto later = run(io, c.client, cmd("PING"), 1s);
  ASSERT_FALSE(later);
  server.resume();
  c.client.stop();  // idempotent
  EXPECT_EQ(c.downs.load(), 0) << "no callbacks after stop()";
}

TEST(RedisClient, DestroyedWithACommandInFlight) {
  RedisServer server;
  IoThreads io;
  Config cfg = config_for(server.url());
  cfg.command_timeout = 10s;
  auto client = std::make_unique<Client>(io.executor(), cfg);
  client->start();
  ASSERT_TRUE(wait_until([&] { return client->connected(); }));

  server.pause();
  auto in_flight = test::start_on(io.executor(), client->command(cmd("PING")));
  auto pipeline = test::start_on(io.executor(), client->pipeline({cmd("PING"), cmd("PING")}));
  client.reset();
  ASSERT_EQ(in_flight.wait_for(2s), std::future_status::ready);
  EXPECT_FALSE(in_flight.get());
  ASSERT_EQ(pipeline.wait_for(2s), std::future_status::ready);
  EXPECT_FALSE(pipeline.get());
  server.resume();
}

/// Waits for a reply that never comes (BLPOP on a key nobody pushes), keeping `keep` alive
/// meanwhile: a stand-in for a cluster coroutine that owns its node's state.
net::awaitable<void> wait_forever(Client& client, std::shared_ptr<int> keep, Command blpop) {
  auto reply = co_await client.command(std::move(blpop));
  (void)reply;
  (void)keep;
}

// A node stopped while Redis held a command (seen in e2e.chaos under LeakSanitizer): the
// I/O threads end with the command still waiting for its reply. Its coroutine is owned by
// the command, and owns the client's state, so without abandon() the coroutine, what it
// owns and the client leak together.
TEST(RedisClient, AbandonAfterTheThreadsStoppedReleasesTheCoroutinesWaitingForAReply) {
  RedisServer server;
  IoThreads observer_io;
  Connected observer(observer_io, config_for(server.url()));
  auto owned = std::make_shared<int>(0);
  std::weak_ptr<int> watch = owned;
  {
    net::io_context ioc;
    auto work = net::make_work_guard(ioc);
    std::thread thread([&ioc] { ioc.run(); });
    Config cfg = config_for(server.url());
    cfg.command_timeout = 60s;
    auto client = std::make_unique<Client>(ioc.get_executor(), cfg);
    client->start();
    ASSERT_TRUE(wait_until([&] { return client->connected(); }));
    net::co_spawn(ioc, wait_forever(*client, std::move(owned), cmd("BLPOP", "frontmcp:test:never", "0")),
                  net::detached);
    // Redis has the command (so it waits in the client's queue of sent commands).
    ASSERT_TRUE(wait_until([&] {
      auto list = run_on(observer_io.executor(), observer.client.command(cmd("CLIENT", "LIST")));
      return list && list->str.find("cmd=blpop") != std::string::npos;
    }));
    ioc.stop();
    thread.join();
    EXPECT_FALSE(watch.expired()) << "the waiting coroutine is alive until the client lets it go";
    client->abandon();
    client.reset();
  }  // the io_context goes: Asio unwinds an abandoned coroutine through its executor
  EXPECT_TRUE(watch.expired()) << "the coroutine waiting for the reply was destroyed";
}

/// Shared by the callers of the chaos test.
struct Traffic {
  std::atomic<bool> done{false};
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::atomic<int> resumed_elsewhere{0};
};

/// Issues commands (every tenth a pipeline) until told to stop, whatever happens to Redis.
net::awaitable<int> hammer(Client& client, net::io_context& home, Traffic& traffic) {
  const Command incr = cmd("INCR", "chaos");
  const std::vector<Command> batch(5, incr);
  net::steady_timer pace(home);
  int calls = 0;
  while (!traffic.done.load()) {
    bool ok = false;
    if (++calls % 10 == 0) {
      auto replies = co_await client.pipeline(batch);
      ok = replies && replies->size() == batch.size();
    } else {
      auto reply = co_await client.command(incr);
      ok = reply && reply->type == Reply::Type::integer;
    }
    if (!home.get_executor().running_in_this_thread()) ++traffic.resumed_elsewhere;
    if (ok) {
      ++traffic.ok;
    } else {
      ++traffic.failed;
      pace.expires_after(1ms);  // failures are immediate while down: do not spin
      co_await pace.async_wait(net::use_awaitable);
    }
  }
  co_return calls;
}

TEST(RedisClient, EveryCallEndsWhileTheServerIsKilledAndRestartedUnderLoad) {
  RedisServer server;
  IoThreads io;
  Connected c(io, config_for(server.url()));
  IoThreads callers(2);
  Traffic traffic;
  std::vector<std::future<int>> running;
  for (int i = 0; i < 4; ++i)
    running.push_back(test::start_on(callers.executor(), hammer(c.client, callers.context(), traffic)));

  ASSERT_TRUE(wait_until([&] { return traffic.ok.load() > 200; }));
  server.stop();
  ASSERT_TRUE(wait_until([&] { return !c.client.connected() && traffic.failed.load() > 0; }));
  server.restart();
  ASSERT_TRUE(wait_until([&] { return c.client.connected(); })) << c.client.last_error();
  const int ok_before = traffic.ok.load();
  EXPECT_TRUE(wait_until([&] { return traffic.ok.load() > ok_before + 200; }));
  traffic.done = true;
  for (auto& f : running) {
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready) << "a call never ended";
    EXPECT_GT(f.get(), 0);
  }
  EXPECT_EQ(traffic.resumed_elsewhere.load(), 0);
  EXPECT_TRUE(wait_until([&] { return c.ups.load() == 2; }));
  EXPECT_EQ(c.downs.load(), 1);
}

// --- Pub/Sub -----------------------------------------------------------------------------

/// Messages received by a subscriber (on_message runs on the subscriber's strand).
struct Inbox {
  void add(std::string_view channel, std::string_view payload) {
    std::lock_guard lock(mutex);
    messages.emplace_back(channel, payload);
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
  bool has(const std::string& channel, const std::string& payload) {
    std::lock_guard lock(mutex);
    for (const auto& m : messages) {
      if (m.first == channel && m.second == payload) return true;
    }
    return false;
  }
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> messages;
};

TEST(RedisSubscriber, DeliversMessagesOfEverySubscribedChannel) {
  RedisServer server;
  IoThreads io;
  Connected pub(io, config_for(server.url()));
  Inbox inbox;
  std::atomic<int> ups{0};
  Subscriber sub(
      io.executor(), config_for(server.url()), {"alpha", "beta"},
      [&](std::string_view ch, std::string_view payload) { inbox.add(ch, payload); },
      [&](bool up) { ups += up ? 1 : 0; });
  EXPECT_FALSE(sub.subscribed());
  sub.start();
  ASSERT_TRUE(wait_until([&] { return sub.subscribed(); }));
  EXPECT_TRUE(wait_until([&] { return ups.load() == 1; }));  // on_state follows subscribed()

  auto receivers = run(io, pub.client, cmd("PUBLISH", "alpha", "one"));
  ASSERT_TRUE(receivers);
  EXPECT_EQ(receivers->integer, 1);
  ASSERT_TRUE(run(io, pub.client, cmd("PUBLISH", "beta", std::string("t\0wo", 4))));
  ASSERT_TRUE(run(io, pub.client, cmd("PUBLISH", "gamma", "not subscribed")));
  ASSERT_TRUE(wait_until([&] { return inbox.size() >= 2; }));
  EXPECT_TRUE(inbox.has("alpha", "one"));
  EXPECT_TRUE(inbox.has("beta", std::string("t\0wo", 4)));
  EXPECT_EQ(inbox.size(), 2u);
}

TEST(RedisSubscriber, ResubscribesAfterTheServerRestarts) {
  RedisServer server;
  IoThreads io;
  Connected pub(io, config_for(server.url()));
  Inbox inbox;
  std::atomic<int> downs{0};
  Subscriber sub(
      io.executor(), config_for(server.url()), {"events"},
      [&](std::string_view ch, std::string_view payload) { inbox.add(ch, payload); },
      [&](bool up) { downs += up ? 0 : 1; });
  sub.start();
  ASSERT_TRUE(wait_until([&] { return sub.subscribed(); }));

  server.stop();
  ASSERT_TRUE(wait_until([&] { return !sub.subscribed(); }));
  EXPECT_TRUE(wait_until([&] { return downs.load() == 1; }));
  server.restart();
  ASSERT_TRUE(wait_until([&] { return sub.subscribed() && pub.client.connected(); }));

  auto receivers = run(io, pub.client, cmd("PUBLISH", "events", "again"));
  ASSERT_TRUE(receivers) << receivers.error().message;
  EXPECT_EQ(receivers->integer, 1);
  EXPECT_TRUE(wait_until([&] { return inbox.has("events", "again"); }));
}

TEST(RedisSubscriber, NoticesADeadServerByPingAndRecovers) {
  RedisServer server;
  IoThreads io;
  Config cfg = config_for(server.url());
  cfg.ping_interval = 100ms;
  cfg.command_timeout = 300ms;
  Subscriber sub(io.executor(), cfg, {"events"}, [](std::string_view, std::string_view) {});
  sub.start();
  ASSERT_TRUE(wait_until([&] { return sub.subscribed(); }));

  server.pause();  // the connection stays open; only the missing PONG tells
  EXPECT_TRUE(wait_until([&] { return !sub.subscribed(); }, 3s));
  server.resume();
  EXPECT_TRUE(wait_until([&] { return sub.subscribed(); }));
}

TEST(RedisSubscriber, NoCallbacksAfterStop) {
  RedisServer server;
  IoThreads io;
  Connected pub(io, config_for(server.url()));
  Inbox inbox;
  std::atomic<int> state_calls{0};
  Subscriber sub(
      io.executor(), config_for(server.url()), {"events"},
      [&](std::string_view ch, std::string_view payload) { inbox.add(ch, payload); }, [&](bool) { ++state_calls; });
  sub.start();
  ASSERT_TRUE(wait_until([&] { return sub.subscribed() && state_calls.load() == 1; }));

  sub.stop();
  EXPECT_FALSE(sub.subscribed());
  // Publish until Redis reports no receiver: the subscriber's connection is gone.
  EXPECT_TRUE(wait_until([&] {
    auto r = run(io, pub.client, cmd("PUBLISH", "events", "late"));
    return r && r->integer == 0;
  }));
  EXPECT_EQ(inbox.size(), 0u);
  EXPECT_EQ(state_calls.load(), 1);
}

// --- TLS ---------------------------------------------------------------------------------

/// A self-signed certificate for localhost / 127.0.0.1 made with the openssl CLI, and a
/// redis-server listening for TLS on its own port (the plain port stays for readiness).
class RedisTls : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "frontmcp-tls-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    cert_ = (dir_ / "cert.pem").string();
    const std::string key = (dir_ / "key.pem").string();
    const std::string openssl =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
        " -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
        " -keyout " +
        key + " -out " + cert_ + " >/dev/null 2>&1";
    if (std::system(openssl.c_str()) != 0) GTEST_SKIP() << "the openssl CLI could not make a certificate";
    tls_port_ = RedisServer::free_port();
    try {
      server_ = std::make_unique<RedisServer>(
          std::vector<std::string>{"--tls-port", std::to_string(tls_port_), "--tls-cert-file", cert_, "--tls-key-file",
                                   key, "--tls-ca-cert-file", cert_, "--tls-auth-clients", "no"});
    } catch (const std::exception& e) {
      const std::string what = e.what();
      if (contains(what, "TLS") || contains(what, "tls")) GTEST_SKIP() << "redis-server without TLS support: " << what;
      throw;
    }
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::string url(const std::string& host, const std::string& query) const {
    return "rediss://" + host + ":" + std::to_string(tls_port_) + query;
  }

  std::filesystem::path dir_;
  std::string cert_;
  std::uint16_t tls_port_ = 0;
  std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisTls, ConnectsAndVerifiesTheCertificate) {
  IoThreads io;
  // By IP address (certificate IP SAN) and by name (SNI, DNS SAN, resolver).
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    Connected c(io, config_for(url(host, "?ca=" + cert_)));
    auto set = run(io, c.client, cmd("SET", "secure", host));
    ASSERT_TRUE(set) << host << ": " << set.error().message;
    auto get = run(io, c.client, cmd("GET", "secure"));
    ASSERT_TRUE(get);
    EXPECT_EQ(get->str, host);
  }
}

TEST_F(RedisTls, RejectsAnUntrustedCertificate) {
  IoThreads io;
  Client client(io.executor(), config_for(url("127.0.0.1", "")));
  client.start();
  ASSERT_TRUE(wait_until([&] { return contains(client.last_error(), "TLS handshake"); })) << client.last_error();
  EXPECT_TRUE(contains(client.last_error(), "certificate verify failed")) << client.last_error();
  EXPECT_FALSE(client.connected());
}

TEST_F(RedisTls, VerifyFalseAcceptsAnyCertificate) {
  IoThreads io;
  Connected c(io, config_for(url("127.0.0.1", "?verify=false")));
  auto ping = run(io, c.client, cmd("PING"));
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->str, "PONG");
}

TEST_F(RedisTls, SubscriberOverTls) {
  IoThreads io;
  Connected pub(io, config_for(url("localhost", "?ca=" + cert_)));
  Inbox inbox;
  Subscriber sub(io.executor(), config_for(url("localhost", "?ca=" + cert_)), {"secure"},
                 [&](std::string_view ch, std::string_view payload) { inbox.add(ch, payload); });
  sub.start();
  ASSERT_TRUE(wait_until([&] { return sub.subscribed(); }));
  ASSERT_TRUE(run(io, pub.client, cmd("PUBLISH", "secure", "hello")));
  EXPECT_TRUE(wait_until([&] { return inbox.has("secure", "hello"); }));
}

}  // namespace
}  // namespace frontmcp::redis
