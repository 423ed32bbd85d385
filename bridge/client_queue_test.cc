#include "bridge/client_queue.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace physics::bridge {
namespace {

FramePtr Frame(std::string text) {
  auto f = std::make_shared<OutFrame>();
  f->storage = std::move(text);
  return f;
}

std::vector<std::string> Written(ClientQueue& q) {
  std::vector<std::string> out;
  for (const iovec& b : q.BeginWrite()) out.emplace_back(static_cast<const char*>(b.iov_base), b.iov_len);
  q.EndWrite([](const ClientQueue::Entry&) {});
  return out;
}

TEST(ClientQueue, WritesEverythingQueuedInOneBatchInOrder) {
  ClientQueue q(8);
  q.PushData(Frame("a"), 1, true);
  q.PushControl(Frame("pong"));
  q.PushData(Frame("b"), 2, true);
  EXPECT_EQ(Written(q), (std::vector<std::string>{"a", "pong", "b"}));
  EXPECT_FALSE(q.has_pending());
}

TEST(ClientQueue, WhenFullReplacesTheOlderMessageOfTheSameSymbol) {
  ClientQueue q(2);
  EXPECT_EQ(q.PushData(Frame("spy1"), 1, true), ClientQueue::PushResult::kQueued);
  EXPECT_EQ(q.PushData(Frame("qqq1"), 2, true), ClientQueue::PushResult::kQueued);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.PushData(Frame("spy2"), 1, true), ClientQueue::PushResult::kConflated);
  EXPECT_EQ(q.PushData(Frame("iwm1"), 3, true), ClientQueue::PushResult::kDropped);
  EXPECT_EQ(Written(q), (std::vector<std::string>{"spy2", "qqq1"}));
}

TEST(ClientQueue, ControlFramesAreNeverDroppedNorCountedAgainstDepth) {
  ClientQueue q(1);
  q.PushData(Frame("a"), 1, true);
  q.PushControl(Frame("c1"));
  q.PushControl(Frame("c2"));
  EXPECT_EQ(q.PushData(Frame("b"), kNoConflation, true), ClientQueue::PushResult::kDropped);
  EXPECT_EQ(Written(q), (std::vector<std::string>{"a", "c1", "c2"}));
}

TEST(ClientQueue, FramesInFlightAreNotConflatedAndNewOnesWaitForTheNextBatch) {
  ClientQueue q(1);
  q.PushData(Frame("spy1"), 1, true);
  const std::span<iovec> buffers = q.BeginWrite();
  EXPECT_EQ(buffers.size(), 1u);
  EXPECT_TRUE(q.writing());
  EXPECT_EQ(q.PushData(Frame("spy2"), 1, true), ClientQueue::PushResult::kQueued);
  EXPECT_EQ(q.PushData(Frame("spy3"), 1, true), ClientQueue::PushResult::kConflated);
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
  q.PushData(Frame("s1"), 1, false, /*bounded=*/false);
  q.PushData(Frame("s2"), 2, false, /*bounded=*/false);
  EXPECT_EQ(q.PushData(Frame("s1b"), 1, true), ClientQueue::PushResult::kConflated);
  EXPECT_EQ(Written(q), (std::vector<std::string>{"s1b", "s2"}));
}

TEST(ClientQueue, DropPendingDataKeepsControlFrames) {
  ClientQueue q(4);
  q.PushData(Frame("a"), 1, true);
  q.PushControl(Frame("close"));
  q.DropPendingData();
  EXPECT_EQ(Written(q), (std::vector<std::string>{"close"}));
}

TEST(ClientQueue, FramesPackedBackToBackGoOutAsOneBuffer) {
  const std::vector<FramePtr> packed = PackFrames(std::vector<FramePtr>{Frame("aa"), Frame("bb"), Frame("cc")});
  ClientQueue q(8);
  q.PushData(packed[0], 1, true);
  q.PushData(packed[1], 2, true);
  q.PushControl(Frame("pong"));
  q.PushData(packed[2], 3, true);
  EXPECT_EQ(Written(q), (std::vector<std::string>{"aabb", "pong", "cc"}));
  // Conflation puts a frame of another batch in the middle: three buffers.
  ClientQueue full(3);
  for (size_t i = 0; i < 3; ++i) full.PushData(packed[i], i + 1, true);
  EXPECT_EQ(full.PushData(Frame("BB"), 2, true), ClientQueue::PushResult::kConflated);
  EXPECT_EQ(Written(full), (std::vector<std::string>{"aa", "BB", "cc"}));
}

TEST(ClientQueue, KeepsQueuedFramesAliveUntilWrittenThenLetsThemGo) {
  std::vector<FramePtr> packed = PackFrames(std::vector<FramePtr>{Frame("aa"), Frame("bb")});
  const std::weak_ptr<const OutFrame> batch = packed[0];
  FramePtr replacement = Frame("AA");
  const std::weak_ptr<const OutFrame> single = replacement;
  ClientQueue q(2);
  q.PushData(packed[0], 1, true);
  q.PushData(packed[1], 2, true);
  EXPECT_EQ(q.PushData(replacement, 1, true), ClientQueue::PushResult::kConflated);
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
