// EventLog: one stream's event log with bounded history.
#include "session/event_store.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using frontmcp::session::EventLog;
using frontmcp::session::StoredEvent;

std::vector<std::uint64_t> seqs(const std::vector<StoredEvent>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events) out.push_back(e.seq);
  return out;
}

void fill(EventLog& log, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t s = from; s <= to; ++s) log.append(s, "e" + std::to_string(s));
}

TEST(EventLog, ReadAfterZeroReturnsEverythingInOrder) {
  EventLog log(100);
  fill(log, 1, 5);
  bool gap = true;
  auto events = log.read_after(0, 100, &gap);
  EXPECT_EQ(seqs(events), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_FALSE(gap);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].data, "e1");
  EXPECT_EQ(events[4].data, "e5");
}

TEST(EventLog, ReadAfterSkipsWhatWasSeen) {
  EventLog log(100);
  fill(log, 1, 5);
  EXPECT_EQ(seqs(log.read_after(3, 100)), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(seqs(log.read_after(4, 100)), (std::vector<std::uint64_t>{5}));
  EXPECT_TRUE(log.read_after(5, 100).empty());
  EXPECT_TRUE(log.read_after(500, 100).empty());
}

TEST(EventLog, ReadAfterHonoursMax) {
  EventLog log(100);
  fill(log, 1, 5);
  EXPECT_EQ(seqs(log.read_after(0, 2)), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(seqs(log.read_after(2, 2)), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_TRUE(log.read_after(0, 0).empty());
}

TEST(EventLog, EmptyLogIsEmptyWithoutGap) {
  EventLog log(100);
  bool gap = true;
  EXPECT_TRUE(log.read_after(0, 100, &gap).empty());
  EXPECT_FALSE(gap);
  EXPECT_EQ(log.last_seq(), 0u);
}

TEST(EventLog, EvictsOldestBeyondMax) {
  EventLog log(3);
  fill(log, 1, 5);
  bool gap = false;
  auto events = log.read_after(0, 100, &gap);
  EXPECT_EQ(seqs(events), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_TRUE(gap) << "events 1 and 2 were dropped";
  EXPECT_EQ(log.size(), 3u);
}

TEST(EventLog, GapOnlyWhenSomethingAfterTheCursorWasDropped) {
  EventLog log(3);
  fill(log, 1, 5);  // keeps 3, 4, 5
  bool gap = true;
  EXPECT_EQ(seqs(log.read_after(2, 100, &gap)), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_FALSE(gap) << "the client saw 1..2; nothing it needs is missing";
  gap = false;
  EXPECT_EQ(seqs(log.read_after(1, 100, &gap)), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_TRUE(gap) << "event 2 is missing";
  gap = true;
  EXPECT_EQ(seqs(log.read_after(4, 100, &gap)), (std::vector<std::uint64_t>{5}));
  EXPECT_FALSE(gap);
}

TEST(EventLog, GapPointerIsOptional) {
  EventLog log(1);
  fill(log, 1, 3);
  EXPECT_EQ(seqs(log.read_after(0, 100)), (std::vector<std::uint64_t>{3}));
}

// Issue 10 (1): a log that received the same history twice (a session re-adopted while an
// old stream of it was alive) was read by position and replayed 0_49 0_1 0_2 ... forever.
TEST(EventLog, RefusesSequenceNumbersThatDoNotGrow) {
  EventLog log(100);
  fill(log, 1, 49);
  for (std::uint64_t s = 1; s <= 49; ++s) EXPECT_FALSE(log.append(s, "again"));
  EXPECT_FALSE(log.append(49, "same"));
  EXPECT_EQ(log.size(), 49u);
  EXPECT_TRUE(log.read_after(49, 100).empty()) << "nothing after the last event";
  EXPECT_TRUE(log.append(50, "e50"));
  EXPECT_EQ(seqs(log.read_after(49, 100)), (std::vector<std::uint64_t>{50}));
}

TEST(EventLog, ReadsByNumberWhenTheLogHasHoles) {
  EventLog log(100);
  for (std::uint64_t s : {3, 4, 9, 10, 20}) log.append(s, "e" + std::to_string(s));
  EXPECT_EQ(seqs(log.read_after(0, 100)), (std::vector<std::uint64_t>{3, 4, 9, 10, 20}));
  EXPECT_EQ(seqs(log.read_after(4, 100)), (std::vector<std::uint64_t>{9, 10, 20}));
  EXPECT_EQ(seqs(log.read_after(5, 100)), (std::vector<std::uint64_t>{9, 10, 20}));
  EXPECT_EQ(seqs(log.read_after(10, 1)), (std::vector<std::uint64_t>{20}));
  EXPECT_TRUE(log.read_after(20, 100).empty());
}

TEST(EventLog, SequenceNumbersKeepGrowingAfterEviction) {
  EventLog log(2);
  fill(log, 1, 4);  // keeps 3, 4
  EXPECT_FALSE(log.append(2, "old")) << "a number below the dropped ones is refused too";
  EXPECT_EQ(log.last_seq(), 4u);
}

}  // namespace

// ------------------------------------------------------------------ bounds by bytes (issue 11)

namespace limits {

using frontmcp::session::ByteBudget;
using frontmcp::session::kNothingProtected;

std::string bytes(std::size_t n, char c = 'x') {
  return std::string(n, c);
}

TEST(EventLogBytes, DropsTheOldestBeyondTheByteBound) {
  EventLog log(1000, 100);
  for (std::uint64_t s = 1; s <= 10; ++s) log.append(s, bytes(30));
  EXPECT_LE(log.bytes(), 100u);
  EXPECT_EQ(seqs(log.read_after(0, 100)), (std::vector<std::uint64_t>{8, 9, 10}));
  bool gap = false;
  log.read_after(5, 100, &gap);
  EXPECT_TRUE(gap);
}

TEST(EventLogBytes, KeepsTheNewestEventEvenWhenItAloneExceedsTheBound) {
  EventLog log(1000, 100);
  log.append(1, bytes(10));
  log.append(2, bytes(500));
  EXPECT_EQ(seqs(log.read_after(0, 100)), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(log.bytes(), 500u);
  log.append(3, bytes(10));  // now the big one is the oldest: it goes
  EXPECT_EQ(seqs(log.read_after(0, 100)), (std::vector<std::uint64_t>{3}));
  EXPECT_EQ(log.bytes(), 10u);
}

TEST(EventLogBytes, NeverDropsProtectedEventsAndTrimsWhenTheMarkRises) {
  EventLog log(3, 1000);
  log.protect_from(1);  // nothing read yet
  fill(log, 1, 10);
  EXPECT_EQ(log.size(), 10u) << "unread events of a POST stream stay beyond the count bound";
  log.protect_from(9);  // a writer read 1..8: the count bound applies to those
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(seqs(log.read_after(0, 100)), (std::vector<std::uint64_t>{8, 9, 10}));
  log.protect_from(kNothingProtected);
  fill(log, 11, 12);
  EXPECT_EQ(seqs(log.read_after(0, 100)), (std::vector<std::uint64_t>{10, 11, 12}));
}

TEST(EventLogBytes, ASharedBudgetBoundsSeveralLogsTogether) {
  auto budget = std::make_shared<ByteBudget>(250);
  {
    EventLog a(1000, 1000, budget), b(1000, 1000, budget);
    for (std::uint64_t s = 1; s <= 5; ++s) a.append(s, bytes(40));  // 200
    EXPECT_EQ(budget->used(), 200u);
    for (std::uint64_t s = 1; s <= 5; ++s) b.append(s, bytes(40));  // over: b drops its own oldest
    EXPECT_LE(budget->used(), 250u);
    EXPECT_EQ(a.size(), 5u);
    EXPECT_EQ(b.size(), 1u);
    EXPECT_EQ(budget->used(), a.bytes() + b.bytes());
  }
  EXPECT_EQ(budget->used(), 0u) << "a log gives its bytes back when it goes";
}

}  // namespace limits
