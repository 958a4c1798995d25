// The Hub's delivery side as a driver sees it: a whole write batch popped at once, the dirty list
// naming each connection once, and joiners of an unchanged process sharing its encoded snapshot
// without ever getting a stale one.
#include <algorithm>
#include <cstddef>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "progress/codec.hpp"
#include "progress/hub.hpp"
#include "hub_test_support.hpp"
#include "test_clock.hpp"

namespace progress {
namespace {

using namespace test;  // hub_test_support.hpp

Seq seq_of(const SharedText& text) {
  auto frame = decode_server_frame(*text);
  EXPECT_TRUE(frame.ok()) << *text;
  if (!frame.ok()) return 0;
  if (const auto* event = std::get_if<ProgressEvent>(&frame.value())) return event->seq;
  if (const auto* snapshot = std::get_if<Snapshot>(&frame.value())) return snapshot->seq;
  ADD_FAILURE() << "neither progress nor snapshot: " << *text;
  return 0;
}

TEST(HubDelivery, BatchPopTakesFramesInOrderUpToTheFrameLimit) {
  Hub hub({}, at(0), 1);
  ASSERT_TRUE(hub.publish(update("job", 0), at(0)).ok());
  ConnId c = hub.open(target("/ws/progress/job"), at(0));
  drain(hub, c);  // hello, snapshot
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(hub.publish(update("job", i), at(i)).ok());

  std::vector<SharedText> batch;
  EXPECT_EQ(hub.poll_outgoing(c, batch, 3, 1 << 20), 3u);
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(seq_of(batch[0]), 2u);
  EXPECT_EQ(seq_of(batch[2]), 4u);
  EXPECT_GT(hub.queued_bytes(c), 0u);

  // Appends after what `out` already holds; the rest of the queue comes out once.
  EXPECT_EQ(hub.poll_outgoing(c, batch, 64, 1 << 20), 2u);
  ASSERT_EQ(batch.size(), 5u);
  EXPECT_EQ(seq_of(batch[4]), 6u);
  EXPECT_EQ(hub.queued_bytes(c), 0u);
  EXPECT_EQ(hub.poll_outgoing(c, batch, 64, 1 << 20), 0u);
  EXPECT_EQ(hub.poll_outgoing(ConnId{9999}, batch, 64, 1 << 20), 0u);  // unknown connection
}

TEST(HubDelivery, BatchPopStopsOnceTheByteLimitIsReached) {
  Hub hub({}, at(0), 1);
  ASSERT_TRUE(hub.publish(update("job", 0), at(0)).ok());
  ConnId c = hub.open(target("/ws/progress/job"), at(0));
  drain(hub, c);
  for (int i = 1; i <= 4; ++i) ASSERT_TRUE(hub.publish(update("job", i), at(i)).ok());
  const std::size_t all = hub.queued_bytes(c);

  std::vector<SharedText> batch;
  // One byte: the first frame crosses the limit and nothing follows it.
  EXPECT_EQ(hub.poll_outgoing(c, batch, 64, 1), 1u);
  EXPECT_EQ(hub.queued_bytes(c), all - batch[0]->size());
  // Exactly two frames' bytes: stops after the second.
  std::vector<SharedText> rest;
  ASSERT_TRUE(hub.publish(update("job", 5), at(5)).ok());
  const std::size_t before = hub.queued_bytes(c);
  auto peek = hub.poll_outgoing(c);
  ASSERT_TRUE(peek.has_value());
  const std::size_t limit = (*peek)->size() * 2;
  EXPECT_EQ(hub.poll_outgoing(c, rest, 64, limit), 2u);
  EXPECT_EQ(hub.queued_bytes(c), before - (*peek)->size() - rest[0]->size() - rest[1]->size());
}

TEST(HubDelivery, FramesOfOneConnectionStayInOrderAcrossManyPartialPops) {
  // A reader that never empties its queue: the queue's storage is recycled underneath, the order
  // and the count of frames must not change.
  Hub hub({}, at(0), 1);
  ASSERT_TRUE(hub.publish(update("job", 0), at(0)).ok());
  ConnId c = hub.open(target("/ws/progress/job"), at(0));
  drain(hub, c);
  Seq expected = 2;
  int percent = 0;
  std::vector<SharedText> batch;
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 3; ++i) {
      percent = std::min(percent + 1, 99);
      ASSERT_TRUE(hub.publish(update("job", percent), at(round)).ok());
    }
    batch.clear();
    hub.poll_outgoing(c, batch, 2, 1 << 20);  // takes 2 of every 3: the queue keeps growing
    for (const auto& text : batch) EXPECT_EQ(seq_of(text), expected++);
  }
  while (auto text = hub.poll_outgoing(c)) EXPECT_EQ(seq_of(*text), expected++);
  EXPECT_EQ(expected, Seq{2 + 600});
  EXPECT_EQ(hub.queued_bytes(c), 0u);
}

TEST(HubDelivery, TakeDirtyNamesEachConnectionOnceAndNotAfterItClosed) {
  Hub hub({}, at(0), 1);
  ASSERT_TRUE(hub.publish(update("job", 0), at(0)).ok());
  ConnId a = hub.open(target("/ws/progress/job"), at(0));
  ConnId b = hub.open(target("/ws/progress/job"), at(0));
  ConnId gone = hub.open(target("/ws/progress/job"), at(0));
  static_cast<void>(hub.poll_dirty());
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(hub.publish(update("job", i), at(i)).ok());
  hub.on_closed(gone);

  std::vector<ConnId> dirty{42};  // appended after what the caller holds
  hub.poll_dirty(dirty);
  std::vector<ConnId> sorted(dirty.begin() + 1, dirty.end());
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(dirty.front(), ConnId{42});
  EXPECT_EQ(sorted, (std::vector<ConnId>{a, b}));
  EXPECT_TRUE(hub.poll_dirty().empty());

  // Listed again after new output, also when its earlier frames were never popped.
  ASSERT_TRUE(hub.publish(update("job", 11), at(11)).ok());
  auto again = hub.poll_dirty();
  std::sort(again.begin(), again.end());
  EXPECT_EQ(again, (std::vector<ConnId>{a, b}));
}

TEST(HubDelivery, TakeDirtyNamesProducersBeforeSubscribers) {
  // A producer with a window of unacknowledged publishes waits for its acks: written first, they let
  // it send the next publishes while the same turn's fan-out is still being written.
  Hub hub({}, at(0), 1);
  ASSERT_TRUE(hub.publish(update("job", 0), at(0)).ok());
  ConnId a = hub.open(target("/ws/progress/job"), at(0));
  ConnId b = hub.open(target("/ws/progress/job"), at(0));
  ConnId producer = hub.open(target("/ws/publish"), at(0));
  drain(hub, producer);  // hello
  static_cast<void>(hub.poll_dirty());
  hub.on_text(producer, R"({"type":"publish","id":"p1","process_id":"job","percent":5})", at(1));

  const auto dirty = hub.poll_dirty();
  ASSERT_EQ(dirty.size(), 3u);
  EXPECT_EQ(dirty.front(), producer);
  std::vector<ConnId> rest(dirty.begin() + 1, dirty.end());
  std::sort(rest.begin(), rest.end());
  EXPECT_EQ(rest, (std::vector<ConnId>{a, b}));
  const auto acked = drain(hub, producer);
  ASSERT_EQ(acked.size(), 1u);
  EXPECT_EQ(std::get<Ack>(acked[0]).seq, 2u);
}

TEST(HubDelivery, JoinersOfAnUnchangedProcessShareOneEncodedSnapshot) {
  Hub hub({}, at(0), 1);
  ASSERT_TRUE(hub.publish(update("job", 10), at(0)).ok());
  ConnId a = hub.open(target("/ws/progress/job"), at(1));
  ConnId b = hub.open(target("/ws/progress/job"), at(2));
  std::vector<SharedText> from_a;
  std::vector<SharedText> from_b;
  hub.poll_outgoing(a, from_a, 64, 1 << 20);
  hub.poll_outgoing(b, from_b, 64, 1 << 20);
  ASSERT_EQ(from_a.size(), 2u);  // hello, snapshot
  ASSERT_EQ(from_b.size(), 2u);
  EXPECT_EQ(from_a[1].get(), from_b[1].get());  // one string, not two encodes
  EXPECT_EQ(from_a[0].get(), from_b[0].get());  // hello too
}

TEST(HubDelivery, AJoinerAfterAChangeGetsTheNewSnapshotNotACachedOne) {
  Hub hub({}, at(0), 1);
  ASSERT_TRUE(hub.publish(update("job", 10), at(0)).ok());
  ConnId first = hub.open(target("/ws/progress/job"), at(1));
  drain(hub, first);
  ASSERT_TRUE(hub.publish(update("job", 20), at(2)).ok());
  ConnId second = hub.open(target("/ws/progress/job"), at(3));
  auto frames = drain(hub, second);
  ASSERT_EQ(frames.size(), 2u);
  const auto* snapshot = std::get_if<Snapshot>(&frames[1]);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->seq, 2u);
  EXPECT_EQ(snapshot->percent, 20);

  // Finished, then expired and created again under the same id: a new epoch, never the old text.
  HubConfig config;
  config.retention_ms = 10;
  Hub short_lived(config, at(0), 7);
  ASSERT_TRUE(short_lived.publish(update("job", 100, std::nullopt, State::completed), at(0)).ok());
  ConnId early = short_lived.open(target("/ws/progress/job"), at(1));
  auto early_frames = drain(short_lived, early);
  ASSERT_EQ(early_frames.size(), 2u);
  const auto* old_snapshot = std::get_if<Snapshot>(&early_frames[1]);
  ASSERT_NE(old_snapshot, nullptr);
  short_lived.on_closed(early);
  short_lived.handle_timeout(at(1000));
  ASSERT_TRUE(short_lived.publish(update("job", 5), at(1001)).ok());
  ConnId late = short_lived.open(target("/ws/progress/job"), at(1002));
  auto late_frames = drain(short_lived, late);
  ASSERT_EQ(late_frames.size(), 2u);
  const auto* new_snapshot = std::get_if<Snapshot>(&late_frames[1]);
  ASSERT_NE(new_snapshot, nullptr);
  EXPECT_EQ(new_snapshot->state, State::running);
  EXPECT_EQ(new_snapshot->percent, 5);
  EXPECT_NE(new_snapshot->epoch, old_snapshot->epoch);
}

}  // namespace
}  // namespace progress
