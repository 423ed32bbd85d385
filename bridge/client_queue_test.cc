#include "bridge/client_queue.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace physics::bridge {
namespace {

// A frame whose bytes are `text`, about `symbol` ("" for none) on `stream`.
FramePtr Frame(std::string text, std::string symbol = "", StreamId stream = kStateStream) {
  auto f = std::make_shared<OutFrame>();
  f->storage = std::move(text);
  f->symbol = std::move(symbol);
  f->stream = stream;
  return f;
}

// Frames "a", "b", ... about SPY, QQQ, ... packed into one batch.
std::vector<FramePtr> Packed(std::vector<std::pair<std::string, std::string>> texts_and_symbols) {
  std::vector<FramePtr> frames;
  for (auto& [text, symbol] : texts_and_symbols) frames.push_back(Frame(text, symbol));
  return PackFrames(frames);
}

std::vector<std::string> Written(ClientQueue& q) {
  std::vector<std::string> out;
  for (const iovec& b : q.BeginWrite()) out.emplace_back(static_cast<const char*>(b.iov_base), b.iov_len);
  q.EndWrite([](const ClientQueue::Entry&) {});
  return out;
}

TEST(ClientQueue, WritesEverythingQueuedInOneBatchInOrder) {
  ClientQueue q(8);
  q.PushData(Frame("a", "SPY"), true);
  q.PushControl(Frame("pong"));
  q.PushData(Frame("b", "QQQ"), true);
  EXPECT_EQ(Written(q), (std::vector<std::string>{"a", "pong", "b"}));
  EXPECT_FALSE(q.has_pending());
}

TEST(ClientQueue, WhenFullReplacesTheOlderMessageOfTheSameSymbol) {
  ClientQueue q(2);
  EXPECT_EQ(q.PushData(Frame("spy1", "SPY"), true), ClientQueue::PushResult::kQueued);
  EXPECT_EQ(q.PushData(Frame("qqq1", "QQQ"), true), ClientQueue::PushResult::kQueued);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.PushData(Frame("spy2", "SPY"), true), ClientQueue::PushResult::kConflated);
  EXPECT_EQ(q.PushData(Frame("iwm1", "IWM"), true), ClientQueue::PushResult::kDropped);
  EXPECT_EQ(Written(q), (std::vector<std::string>{"spy2", "qqq1"}));
}

TEST(ClientQueue, ConflatesOnlyTheSameStreamAndNeverFramesWithoutASymbol) {
  ClientQueue q(2);
  q.PushData(Frame("spy1", "SPY"), true);
  q.PushData(Frame("note1"), true);
  EXPECT_EQ(q.PushData(Frame("spy-other-channel", "SPY", 1), true), ClientQueue::PushResult::kDropped);
  EXPECT_EQ(q.PushData(Frame("note2"), true), ClientQueue::PushResult::kDropped);
  EXPECT_EQ(Written(q), (std::vector<std::string>{"spy1", "note1"}));
}

TEST(ClientQueue, ControlFramesAreNeverDroppedNorCountedAgainstDepth) {
  ClientQueue q(1);
  q.PushData(Frame("a", "SPY"), true);
  q.PushControl(Frame("c1"));
  q.PushControl(Frame("c2"));
  EXPECT_EQ(q.PushData(Frame("b"), true), ClientQueue::PushResult::kDropped);
  EXPECT_EQ(q.pending_frames(), 3u);
  EXPECT_EQ(Written(q), (std::vector<std::string>{"a", "c1", "c2"}));
}

TEST(ClientQueue, FramesInFlightAreNotConflatedAndNewOnesWaitForTheNextBatch) {
  ClientQueue q(1);
  q.PushData(Frame("spy1", "SPY"), true);
  const std::span<iovec> buffers = q.BeginWrite();
  EXPECT_EQ(buffers.size(), 1u);
  EXPECT_TRUE(q.writing());
  EXPECT_EQ(q.PushData(Frame("spy2", "SPY"), true), ClientQueue::PushResult::kQueued);
  EXPECT_EQ(q.PushData(Frame("spy3", "SPY"), true), ClientQueue::PushResult::kConflated);
  int visited = 0;
  q.EndWrite([&](const ClientQueue::Entry& e) {
    ++visited;
    EXPECT_TRUE(e.data && e.live);
  });
  EXPECT_EQ(visited, 1);
  EXPECT_EQ(Written(q), (std::vector<std::string>{"spy3"}));
}

TEST(ClientQueue, UnboundedPushesAreKeptBeyondDepth) {
  ClientQueue q(1);
  q.PushData(Frame("s1", "SPY"), false, /*bounded=*/false);
  q.PushData(Frame("s2", "QQQ"), false, /*bounded=*/false);
  EXPECT_EQ(q.PushData(Frame("s1b", "SPY"), true), ClientQueue::PushResult::kConflated);
  EXPECT_EQ(Written(q), (std::vector<std::string>{"s1b", "s2"}));
}

TEST(ClientQueue, DropPendingDataKeepsControlFrames) {
  ClientQueue q(4);
  q.PushData(Frame("a", "SPY"), true);
  q.PushRun(Packed({{"b", "QQQ"}, {"c", "IWM"}})[0], 2, true);
  q.PushControl(Frame("close"));
  q.DropPendingData();
  EXPECT_EQ(Written(q), (std::vector<std::string>{"close"}));
}

TEST(ClientQueue, FramesPackedBackToBackGoOutAsOneBuffer) {
  const std::vector<FramePtr> packed = Packed({{"aa", "SPY"}, {"bb", "QQQ"}, {"cc", "IWM"}});
  ClientQueue q(8);
  q.PushData(packed[0], true);
  q.PushData(packed[1], true);
  q.PushControl(Frame("pong"));
  q.PushData(packed[2], true);
  EXPECT_EQ(Written(q), (std::vector<std::string>{"aabb", "pong", "cc"}));
  // Conflation puts a frame of another batch in the middle: three buffers.
  ClientQueue full(3);
  for (size_t i = 0; i < 3; ++i) full.PushData(packed[i], true);
  EXPECT_EQ(full.PushData(Frame("BB", "QQQ"), true), ClientQueue::PushResult::kConflated);
  EXPECT_EQ(Written(full), (std::vector<std::string>{"aa", "BB", "cc"}));
}

TEST(ClientQueue, ARunIsOneEntryCountingEachOfItsFramesAgainstTheDepth) {
  const std::vector<FramePtr> packed = Packed({{"aa", "SPY"}, {"bb", "QQQ"}, {"cc", "IWM"}});
  ClientQueue q(4);
  EXPECT_TRUE(q.has_room(3));
  q.PushRun(packed[0], 3, true);
  EXPECT_TRUE(q.has_room(1));
  EXPECT_FALSE(q.has_room(2));
  EXPECT_EQ(q.pending_frames(), 3u);
  const std::span<iovec> buffers = q.BeginWrite();
  ASSERT_EQ(buffers.size(), 1u);
  EXPECT_EQ(std::string(static_cast<const char*>(buffers[0].iov_base), buffers[0].iov_len), "aabbcc");
  std::vector<uint32_t> counts;
  q.EndWrite([&](const ClientQueue::Entry& e) { counts.push_back(e.count); });
  EXPECT_EQ(counts, (std::vector<uint32_t>{3}));
}

TEST(ClientQueue, ConflationReplacesAFrameInsideARun) {
  const std::vector<FramePtr> packed = Packed({{"aa", "SPY"}, {"bb", "QQQ"}, {"cc", "IWM"}});
  ClientQueue q(3);
  q.PushRun(packed[0], 3, true);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.PushData(Frame("BB", "QQQ"), true), ClientQueue::PushResult::kConflated);
  EXPECT_EQ(q.PushData(Frame("CC", "IWM"), true), ClientQueue::PushResult::kConflated);
  EXPECT_EQ(q.PushData(Frame("AA", "SPY"), true), ClientQueue::PushResult::kConflated);
  EXPECT_EQ(q.PushData(Frame("dd", "DIA"), true), ClientQueue::PushResult::kDropped);
  EXPECT_EQ(q.pending_frames(), 3u);
  EXPECT_EQ(Written(q), (std::vector<std::string>{"AA", "BB", "CC"}));
}

TEST(ClientQueue, KeepsQueuedFramesAliveUntilWrittenThenLetsThemGo) {
  std::vector<FramePtr> packed = Packed({{"aa", "SPY"}, {"bb", "QQQ"}});
  const std::weak_ptr<const OutFrame> batch = packed[0];
  FramePtr replacement = Frame("AA", "SPY");
  const std::weak_ptr<const OutFrame> single = replacement;
  ClientQueue q(2);
  q.PushRun(packed[0], 2, true);
  EXPECT_EQ(q.PushData(replacement, true), ClientQueue::PushResult::kConflated);
  packed.clear();
  replacement.reset();
  EXPECT_FALSE(batch.expired());
  EXPECT_FALSE(single.expired());
  std::vector<std::string> written;
  for (const iovec& b : q.BeginWrite()) written.emplace_back(static_cast<const char*>(b.iov_base), b.iov_len);
  EXPECT_EQ(written, (std::vector<std::string>{"AA", "bb"}));
  EXPECT_FALSE(batch.expired());
  q.EndWrite([](const ClientQueue::Entry&) {});
  EXPECT_TRUE(batch.expired());
  EXPECT_TRUE(single.expired());
}

}  // namespace
}  // namespace physics::bridge
