// SseStream: one logical SSE stream of a session (sequence numbers, writer attach,
// finish/disconnect, event ids).
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "session/stream.hpp"

namespace {

namespace json = boost::json;
using namespace frontmcp::session;

json::value note(int n) {
  return json::object{{"jsonrpc", "2.0"}, {"method", "notifications/message"}, {"params", json::object{{"n", n}}}};
}

std::vector<std::uint64_t> seqs(const std::vector<StoredEvent>& events) {
  std::vector<std::uint64_t> out;
  for (const auto& e : events) out.push_back(e.seq);
  return out;
}

class SseStreamTest : public ::testing::Test {
 protected:
  std::shared_ptr<MemoryEventStore> store = std::make_shared<MemoryEventStore>(100);
};

TEST_F(SseStreamTest, KeyIndexAndEventIds) {
  SseStream s("sess", 3, store);
  EXPECT_EQ(s.key(), "sess/3");
  EXPECT_EQ(s.index(), 3u);
  EXPECT_EQ(s.event_id(7), "3_7");
  SseStream standalone("sess", 0, store);
  EXPECT_EQ(standalone.event_id(1), "0_1");
}

TEST_F(SseStreamTest, SequenceNumbersAreDenseFromOne) {
  SseStream s("sess", 1, store);
  EXPECT_EQ(s.last_seq(), 0u);
  s.send(note(1));
  s.send(note(2));
  s.send_response(note(3));
  EXPECT_EQ(s.last_seq(), 3u);
  auto events = s.read_after(0, 100);
  EXPECT_EQ(seqs(events), (std::vector<std::uint64_t>{1, 2, 3}));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(json::parse(events[0].data), note(1));
  EXPECT_EQ(json::parse(events[2].data), note(3));
}

TEST_F(SseStreamTest, ReadAfterResumesFromACursor) {
  SseStream s("sess", 1, store);
  for (int i = 1; i <= 4; ++i) s.send(note(i));
  auto rest = s.read_after(2, 100);
  EXPECT_EQ(seqs(rest), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(json::parse(rest[0].data), note(3));
  EXPECT_TRUE(s.read_after(4, 100).empty());
}

/// Records what a stream mirrors (distributed mode copies events to Redis).
class RecordingStore final : public EventStore {
 public:
  RecordingStore() : EventStore(100) {}
  void mirror(const std::string& key, std::uint64_t seq, std::string_view) override {
    mirrored.push_back(key + "#" + std::to_string(seq));
  }
  void announce_writer(const std::string& key) override { announced.push_back(key); }
  std::vector<std::string> mirrored, announced;
};

TEST(SseStreamMirror, SentEventsAreMirroredUnderTheStreamKeyPreloadedOnesAreNot) {
  auto rec = std::make_shared<RecordingStore>();
  SseStream s("sess", 2, rec);
  s.preload({{1, "a"}, {2, "b"}});
  s.send(note(3));
  EXPECT_EQ(rec->mirrored, (std::vector<std::string>{"sess/2#3"}));
  s.announce_writer();
  s.announce_writer();
  EXPECT_EQ(rec->announced, (std::vector<std::string>{"sess/2"})) << "announced once";
}

// Issue 10 (1): two stream objects with one key (a fenced session's old standalone stream
// still held by its writer, and the re-adopted session's new one) shared one log by key:
// the new one's history came after the old one's, and the old one's destructor erased it.
TEST_F(SseStreamTest, TwoStreamsWithOneKeyKeepSeparateLogs) {
  auto old_stream = std::make_unique<SseStream>("sess", 0, store);
  for (int i = 1; i <= 3; ++i) old_stream->send(note(i));
  SseStream fresh("sess", 0, store);
  fresh.preload({{1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}});
  EXPECT_EQ(seqs(fresh.read_after(3, 100)), (std::vector<std::uint64_t>{4}));
  old_stream.reset();
  EXPECT_EQ(seqs(fresh.read_after(0, 100)), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(fresh.read_after(4, 100).empty());
}

TEST_F(SseStreamTest, EvictionBeyondMaxEventsReportsGap) {
  auto small = std::make_shared<MemoryEventStore>(2);
  SseStream s("sess", 0, small);  // the standalone stream drops even unread events
  for (int i = 1; i <= 5; ++i) s.send(note(i));
  EXPECT_EQ(s.last_seq(), 5u);
  bool gap = false;
  EXPECT_EQ(seqs(s.read_after(0, 100, &gap)), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_TRUE(gap);
  gap = true;
  EXPECT_EQ(seqs(s.read_after(3, 100, &gap)), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_FALSE(gap);
}

TEST_F(SseStreamTest, APostStreamNeverDropsWhatItsWriterHasNotRead) {
  // Issue 11: a batch of 1,500 pings got 1,000 answers: the first 500 were evicted from the
  // 1,000-event log before the writer read them.
  auto small = std::make_shared<MemoryEventStore>(2);
  SseStream s("sess", 1, small);
  for (int i = 1; i <= 5; ++i) s.send_response(note(i));
  bool gap = true;
  EXPECT_EQ(seqs(s.read_after(0, 3, &gap)), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_FALSE(gap);
  // What was read may go now (the bound applies again), what was not stays.
  s.send_response(note(6));
  EXPECT_EQ(seqs(s.read_after(3, 100, &gap)), (std::vector<std::uint64_t>{4, 5, 6}));
  EXPECT_FALSE(gap);
  s.send_response(note(7));
  EXPECT_EQ(seqs(s.read_after(0, 100, &gap)), (std::vector<std::uint64_t>{6, 7})) << "read ones beyond the bound went";
}

TEST_F(SseStreamTest, FinishStopsFurtherPushes) {
  SseStream s("sess", 1, store);
  s.send(note(1));
  EXPECT_FALSE(s.finished());
  s.finish();
  EXPECT_TRUE(s.finished());
  s.send(note(2));
  s.send_response(note(3));
  EXPECT_EQ(s.last_seq(), 1u);
  EXPECT_EQ(seqs(s.read_after(0, 100)), (std::vector<std::uint64_t>{1}));
}

TEST_F(SseStreamTest, AttachRefusesASecondWriter) {
  SseStream s("sess", 1, store);
  EXPECT_FALSE(s.attached());
  EXPECT_TRUE(s.attach([] {}));
  EXPECT_TRUE(s.attached());
  EXPECT_FALSE(s.attach([] {}));
  s.detach();
  EXPECT_FALSE(s.attached());
  EXPECT_TRUE(s.attach([] {}));
}

TEST_F(SseStreamTest, SecondWriterDoesNotReplaceTheFirst) {
  SseStream s("sess", 1, store);
  int first = 0, second = 0;
  ASSERT_TRUE(s.attach([&] { ++first; }));
  ASSERT_FALSE(s.attach([&] { ++second; }));
  s.send(note(1));
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 0);
}

TEST_F(SseStreamTest, WakeIsCalledOnSendResponseFinishAndDisconnect) {
  SseStream s("sess", 1, store);
  int wakes = 0;
  ASSERT_TRUE(s.attach([&] { ++wakes; }));
  s.send(note(1));
  EXPECT_EQ(wakes, 1);
  s.send_response(note(2));
  EXPECT_EQ(wakes, 2);
  s.disconnect();
  EXPECT_EQ(wakes, 3);
  s.finish();
  EXPECT_EQ(wakes, 4);
  // Finished: neither another finish nor a send wakes the writer.
  s.finish();
  s.send(note(3));
  EXPECT_EQ(wakes, 4);
}

TEST_F(SseStreamTest, NoWakeAfterDetach) {
  SseStream s("sess", 1, store);
  int wakes = 0;
  ASSERT_TRUE(s.attach([&] { ++wakes; }));
  s.detach();
  s.send(note(1));
  s.finish();
  EXPECT_EQ(wakes, 0);
  // Events are still stored for a later writer.
  EXPECT_EQ(s.read_after(0, 100).size(), 1u);
}

TEST_F(SseStreamTest, DisconnectIsTakenOnce) {
  SseStream s("sess", 1, store);
  EXPECT_FALSE(s.disconnect_requested());
  EXPECT_FALSE(s.take_disconnect());
  s.disconnect();
  EXPECT_TRUE(s.disconnect_requested());
  EXPECT_TRUE(s.take_disconnect());
  EXPECT_FALSE(s.take_disconnect());
  EXPECT_FALSE(s.disconnect_requested());
  // Disconnecting does not end the logical stream.
  EXPECT_FALSE(s.finished());
  s.send(note(1));
  EXPECT_EQ(s.last_seq(), 1u);
}

TEST_F(SseStreamTest, OnlyResponsesKeepTheStreamJsonEligible) {
  SseStream s("sess", 1, store);
  EXPECT_FALSE(s.has_non_response());
  EXPECT_EQ(s.response_count(), 0u);
  s.send_response(note(1));
  EXPECT_FALSE(s.has_non_response());
  EXPECT_EQ(s.response_count(), 1u);
  s.send(note(2));
  EXPECT_TRUE(s.has_non_response());
  EXPECT_EQ(s.response_count(), 1u);
}

TEST_F(SseStreamTest, DisconnectCountsAsNonResponse) {
  SseStream s("sess", 1, store);
  s.disconnect();
  EXPECT_TRUE(s.has_non_response());
}

TEST_F(SseStreamTest, WorksThroughTheOutboundInterface) {
  auto s = std::make_shared<SseStream>("sess", 1, store);
  std::shared_ptr<Outbound> out = s;
  out->send(note(1));
  out->send_response(note(2));
  out->disconnect();
  EXPECT_EQ(s->last_seq(), 2u);
  EXPECT_TRUE(s->disconnect_requested());
}

// ---------------------------------------------------------------- parse_event_id

TEST(ParseEventId, Valid) {
  std::uint64_t index = 99, seq = 99;
  EXPECT_TRUE(parse_event_id("3_7", index, seq));
  EXPECT_EQ(index, 3u);
  EXPECT_EQ(seq, 7u);
  EXPECT_TRUE(parse_event_id("0_0", index, seq));
  EXPECT_EQ(index, 0u);
  EXPECT_EQ(seq, 0u);
  EXPECT_TRUE(parse_event_id("18446744073709551615_12345678901234", index, seq));
  EXPECT_EQ(index, 18446744073709551615ull);
  EXPECT_EQ(seq, 12345678901234ull);
}

TEST(ParseEventId, RoundTripsEventId) {
  auto store = std::make_shared<MemoryEventStore>(10);
  SseStream s("sess", 12, store);
  std::uint64_t index = 0, seq = 0;
  ASSERT_TRUE(parse_event_id(s.event_id(345), index, seq));
  EXPECT_EQ(index, 12u);
  EXPECT_EQ(seq, 345u);
}

TEST(ParseEventId, Invalid) {
  for (const char* id : {"",
                         "_",
                         "1_",
                         "_1",
                         "1",
                         "17",
                         "a_1",
                         "1_b",
                         "1_2_3",
                         "1__2",
                         "-1_2",
                         "1_-2",
                         "+1_2",
                         " 1_2",
                         "1_2 ",
                         "1 _2",
                         "0x1_2",
                         "18446744073709551616_1",
                         "1_18446744073709551616",
                         "1.5_2",
                         "1-2"}) {
    std::uint64_t index = 0, seq = 0;
    EXPECT_FALSE(parse_event_id(id, index, seq)) << '"' << id << '"';
  }
}

}  // namespace
