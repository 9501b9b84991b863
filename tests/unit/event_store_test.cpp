// MemoryEventStore: per-stream event log with bounded history.
#include "session/event_store.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using frontmcp::session::MemoryEventStore;
using frontmcp::session::StoredEvent;

std::vector<std::uint64_t> seqs(const std::vector<StoredEvent>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events) out.push_back(e.seq);
  return out;
}

void fill(MemoryEventStore& store, const std::string& key, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t s = from; s <= to; ++s) store.append(key, s, "e" + std::to_string(s));
}

TEST(MemoryEventStore, ReadAfterZeroReturnsEverythingInOrder) {
  MemoryEventStore store(100);
  fill(store, "s/1", 1, 5);
  bool gap = true;
  auto events = store.read_after("s/1", 0, 100, &gap);
  EXPECT_EQ(seqs(events), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_FALSE(gap);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].data, "e1");
  EXPECT_EQ(events[4].data, "e5");
}

TEST(MemoryEventStore, ReadAfterSkipsWhatWasSeen) {
  MemoryEventStore store(100);
  fill(store, "s/1", 1, 5);
  EXPECT_EQ(seqs(store.read_after("s/1", 3, 100)), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(seqs(store.read_after("s/1", 4, 100)), (std::vector<std::uint64_t>{5}));
  EXPECT_TRUE(store.read_after("s/1", 5, 100).empty());
  EXPECT_TRUE(store.read_after("s/1", 500, 100).empty());
}

TEST(MemoryEventStore, ReadAfterHonoursMax) {
  MemoryEventStore store(100);
  fill(store, "s/1", 1, 5);
  EXPECT_EQ(seqs(store.read_after("s/1", 0, 2)), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(seqs(store.read_after("s/1", 2, 2)), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_TRUE(store.read_after("s/1", 0, 0).empty());
}

TEST(MemoryEventStore, StreamsAreIndependent) {
  MemoryEventStore store(100);
  fill(store, "a/0", 1, 3);
  fill(store, "b/0", 1, 1);
  EXPECT_EQ(store.read_after("a/0", 0, 100).size(), 3u);
  EXPECT_EQ(store.read_after("b/0", 0, 100).size(), 1u);
  EXPECT_EQ(store.stream_count(), 2u);
}

TEST(MemoryEventStore, UnknownStreamIsEmptyWithoutGap) {
  MemoryEventStore store(100);
  bool gap = true;
  EXPECT_TRUE(store.read_after("nope/1", 0, 100, &gap).empty());
  EXPECT_FALSE(gap);
}

TEST(MemoryEventStore, EvictsOldestBeyondMax) {
  MemoryEventStore store(3);
  fill(store, "s/1", 1, 5);
  bool gap = false;
  auto events = store.read_after("s/1", 0, 100, &gap);
  EXPECT_EQ(seqs(events), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_TRUE(gap) << "events 1 and 2 were dropped";
}

TEST(MemoryEventStore, GapOnlyWhenSomethingAfterTheCursorWasDropped) {
  MemoryEventStore store(3);
  fill(store, "s/1", 1, 5);  // keeps 3, 4, 5
  bool gap = true;
  EXPECT_EQ(seqs(store.read_after("s/1", 2, 100, &gap)), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_FALSE(gap) << "the client saw 1..2; nothing it needs is missing";
  gap = false;
  EXPECT_EQ(seqs(store.read_after("s/1", 1, 100, &gap)), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_TRUE(gap) << "event 2 is missing";
  gap = true;
  EXPECT_EQ(seqs(store.read_after("s/1", 4, 100, &gap)), (std::vector<std::uint64_t>{5}));
  EXPECT_FALSE(gap);
}

TEST(MemoryEventStore, GapPointerIsOptional) {
  MemoryEventStore store(1);
  fill(store, "s/1", 1, 3);
  EXPECT_EQ(seqs(store.read_after("s/1", 0, 100)), (std::vector<std::uint64_t>{3}));
}

TEST(MemoryEventStore, RemoveStream) {
  MemoryEventStore store(10);
  fill(store, "s/1", 1, 2);
  fill(store, "s/2", 1, 2);
  store.remove_stream("s/1");
  EXPECT_TRUE(store.read_after("s/1", 0, 100).empty());
  EXPECT_EQ(store.read_after("s/2", 0, 100).size(), 2u);
  EXPECT_EQ(store.stream_count(), 1u);
  store.remove_stream("never-existed");
  EXPECT_EQ(store.stream_count(), 1u);
}

}  // namespace
