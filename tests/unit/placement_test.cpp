// cluster::Placement (src/cluster/placement.hpp): ownership and write bookkeeping of a
// session beside the session object, adopting a session read from the store, and the
// session hooks of a cluster node. No Redis: pure bookkeeping.
#include "cluster/placement.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cluster/cluster.hpp"
#include "session/session.hpp"
#include "session/session_manager.hpp"
#include "util/async_event.hpp"

namespace {

using namespace frontmcp;
using namespace frontmcp::session;
using frontmcp::cluster::Placement;
using frontmcp::cluster::placement;

std::vector<std::string> ids(const std::vector<std::shared_ptr<Session>>& list) {
  std::vector<std::string> out;
  for (const auto& s : list) out.push_back(s->id());
  return out;
}

SessionState state_of(std::string id, std::set<std::string, std::less<>> subs = {}) {
  SessionState st;
  st.id = std::move(id);
  st.initialized = true;
  st.protocol_version = "2025-06-18";
  st.node_id = "node-b";
  st.epoch = 3;
  st.subscriptions = std::move(subs);
  return st;
}

/// A session manager of node "node-a", set up as Cluster::configure does.
class PlacementTest : public ::testing::Test {
 protected:
  PlacementTest() { mgr.set_hooks(cluster::session_hooks("node-a")); }
  std::shared_ptr<MemoryEventStore> events = std::make_shared<MemoryEventStore>(100);
  SessionManager mgr{3, events, "node-a"};
  /// A session created on this node (create() picks its id).
  std::shared_ptr<Session> make() { return mgr.create(TransportKind::streamable_http); }
};

TEST_F(PlacementTest, ASessionWithoutPlacementCountsAsOwned) {
  SessionState st;
  st.id = "plain";
  Session s(st, events);
  EXPECT_EQ(Placement::of(s), nullptr);
  EXPECT_TRUE(cluster::owns(s));
  EXPECT_THROW(placement(s), std::logic_error);
}

TEST_F(PlacementTest, AdoptCreatesOwnedAndReplicaObjectsBeyondTheLimit) {
  for (int i = 0; i < 3; ++i) ASSERT_NE(mgr.create(TransportKind::streamable_http), nullptr);
  ASSERT_EQ(mgr.create(TransportKind::streamable_http), nullptr);  // full
  auto owned = cluster::adopt(mgr, state_of("x", {"test://a"}), true);
  auto replica = cluster::adopt(mgr, state_of("y"), false);
  EXPECT_TRUE(cluster::owns(*owned));
  EXPECT_FALSE(cluster::owns(*replica));
  EXPECT_EQ(cluster::epoch_of(*owned), 3u);
  EXPECT_EQ(mgr.find("x"), owned);
  EXPECT_EQ(mgr.size(), 5u);
  EXPECT_EQ(cluster::owned_count(mgr), 4u);
  EXPECT_EQ(ids(mgr.subscribers("test://a")), std::vector<std::string>{"x"});
  EXPECT_FALSE(cluster::has_unsaved_changes(*owned));  // state read from the store is not a change
  EXPECT_NE(placement(*owned).validated_at(), 0);
}

TEST_F(PlacementTest, AdoptRefreshesTheExistingObjectAndItsSubscriptions) {
  auto first = cluster::adopt(mgr, state_of("x", {"test://a", "test://b"}), false);
  auto st = state_of("x", {"test://b", "test://c"});
  st.epoch = 4;
  st.log_level = LogLevel::debug;
  auto again = cluster::adopt(mgr, st, true);
  EXPECT_EQ(again, first);  // same object: requests running on it keep their pending calls
  EXPECT_TRUE(cluster::owns(*again));
  EXPECT_EQ(cluster::epoch_of(*again), 4u);
  EXPECT_EQ(again->log_level(), LogLevel::debug);
  EXPECT_TRUE(mgr.subscribers("test://a").empty());
  EXPECT_EQ(ids(mgr.subscribers("test://b")), std::vector<std::string>{"x"});
  EXPECT_EQ(ids(mgr.subscribers("test://c")), std::vector<std::string>{"x"});
}

TEST_F(PlacementTest, AdoptKeepsChangesNotWrittenYet) {
  auto s = cluster::adopt(mgr, state_of("x"), true);
  s->update([](SessionState& x) { x.subscriptions.insert("test://mine"); });  // a request running here
  auto st = state_of("x", {"test://theirs"});
  cluster::adopt(mgr, st, true);  // a re-read of the record (a replica's change)
  EXPECT_EQ(s->state().subscriptions, (std::set<std::string, std::less<>>{"test://mine", "test://theirs"}));
  EXPECT_TRUE(cluster::has_unsaved_changes(*s)) << "the merge does not write the local change";
}

TEST_F(PlacementTest, RequestIdsNameTheNodeAndStreamsStartAtRandom) {
  auto a = mgr.create(TransportKind::streamable_http);
  auto b = mgr.create(TransportKind::streamable_http);
  EXPECT_EQ(a->next_request_id(), "s1@node-a");
  EXPECT_EQ(a->next_request_id(), "s2@node-a");
  auto sa = a->open_stream();
  auto sb = b->open_stream();
  EXPECT_GT(sa->index(), 1u);
  EXPECT_NE(sa->index(), sb->index());
  EXPECT_EQ(a->open_stream()->index(), sa->index() + 1);
  EXPECT_NE(Placement::of(*a), nullptr);
  EXPECT_TRUE(cluster::owns(*a)) << "a session created here is owned here";
}

TEST_F(PlacementTest, ChangesStayUnsavedUntilAWriteCoversThem) {
  auto s = make();
  auto& p = placement(*s);
  EXPECT_FALSE(p.has_unsaved_changes(*s));
  s->update([](SessionState& st) { st.log_level = LogLevel::info; });
  auto covers1 = p.snapshot_for_save(*s).second;
  s->update([](SessionState& st) { st.subscriptions.insert("test://a"); });  // a concurrent request
  EXPECT_TRUE(p.has_unsaved_changes(*s));
  p.mark_saved(covers1);  // the first write does not cover the second change
  EXPECT_TRUE(p.has_unsaved_changes(*s));
  p.mark_saved(p.snapshot_for_save(*s).second);
  EXPECT_FALSE(p.has_unsaved_changes(*s));
  p.mark_saved(covers1);  // a late, older write completion changes nothing
  EXPECT_FALSE(p.has_unsaved_changes(*s));
  p.merge(*s, state_of("other-id"));
  EXPECT_FALSE(p.has_unsaved_changes(*s)) << "a state read from the store is not a change";
  EXPECT_EQ(s->state().id, s->id());  // the id never changes
  EXPECT_EQ(p.base().id, s->id());
}

TEST_F(PlacementTest, AMergeWithAnOlderReadKeepsChangesAlreadyWritten) {
  // Two requests of one session lose a write race to a hand-off; both re-read the record
  // (without their change) before either writes again. The second merge must still
  // carry the change, although the first one has been written meanwhile.
  auto s = make();
  auto& p = placement(*s);
  s->update([](SessionState& st) { st.subscriptions.insert("test://a"); });
  auto fresh = state_of(s->id());  // the record as both re-reads saw it: no subscription
  fresh.epoch = 1;
  auto first = p.merge(*s, fresh);
  EXPECT_EQ(first.subscriptions.count("test://a"), 1u);
  p.mark_saved(p.snapshot_for_save(*s).second);  // the first retry is written
  auto second = p.merge(*s, fresh);
  EXPECT_EQ(second.subscriptions.count("test://a"), 1u);
  EXPECT_EQ(second.epoch, 1u);
}

// A successful write becomes the merge base (at its revision) unless the base was
// replaced meanwhile.
TEST_F(PlacementTest, AWriteMovesTheBaseOnlyIfNothingReplacedIt) {
  SessionState st;
  st.id = "s";
  st.rev = 4;
  auto s = cluster::adopt(mgr, st, true);
  auto& p = placement(*s);
  s->update([](SessionState& x) { x.subscriptions.emplace("a"); });
  auto [snap, covers] = p.snapshot_for_save(*s);
  EXPECT_EQ(snap.rev, 4u) << "based on the revision read";
  p.mark_saved(covers, snap, 5);
  EXPECT_EQ(p.base().rev, 5u);
  EXPECT_EQ(p.base().subscriptions.count("a"), 1u);
  auto [snap2, covers2] = p.snapshot_for_save(*s);
  SessionState fresh;
  fresh.rev = 9;
  p.merge(*s, fresh);  // a concurrent re-read replaced the base
  p.mark_saved(covers2, snap2, 6);
  EXPECT_EQ(p.base().rev, 9u) << "a late write completion does not move a newer base";
}

// One state write per session at a time from a node; the others wait and are all woken
// when it ends.
TEST(PlacementWriteGate, OneWriterAtATimeAndEveryWaiterIsWoken) {
  boost::asio::io_context io;
  Placement p{SessionState{}};
  auto w1 = std::make_shared<util::Waker>(io.get_executor());
  auto w2 = std::make_shared<util::Waker>(io.get_executor());
  auto w3 = std::make_shared<util::Waker>(io.get_executor());
  EXPECT_TRUE(p.try_begin_write(w1));
  EXPECT_FALSE(p.try_begin_write(w2));
  EXPECT_FALSE(p.try_begin_write(w3));
  p.end_write();
  // Both waiters were notified (level-triggered: their next wait returns at once).
  bool woke2 = false, woke3 = false;
  boost::asio::co_spawn(
      io,
      [](auto w, bool& r) -> boost::asio::awaitable<void> { r = co_await w->wait_for(std::chrono::seconds(5)); }(w2,
                                                                                                                 woke2),
      boost::asio::detached);
  boost::asio::co_spawn(
      io,
      [](auto w, bool& r) -> boost::asio::awaitable<void> { r = co_await w->wait_for(std::chrono::seconds(5)); }(w3,
                                                                                                                 woke3),
      boost::asio::detached);
  io.run_for(std::chrono::seconds(2));
  EXPECT_TRUE(woke2);
  EXPECT_TRUE(woke3);
  EXPECT_TRUE(p.try_begin_write(w2)) << "free again";
}

TEST(PlacementRole, AnnounceIsTakenOnceAndValidationCanBeCleared) {
  Placement p{SessionState{}};
  EXPECT_TRUE(p.owned());
  p.set_owned(false);
  EXPECT_FALSE(p.owned());
  EXPECT_FALSE(p.take_announce_owner());
  p.set_announce_owner();
  EXPECT_TRUE(p.take_announce_owner());
  EXPECT_FALSE(p.take_announce_owner());
  EXPECT_EQ(p.validated_at(), 0);
  p.set_validated_now();
  EXPECT_NE(p.validated_at(), 0);
  p.clear_validated();
  EXPECT_EQ(p.validated_at(), 0);
}

}  // namespace
