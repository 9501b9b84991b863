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
