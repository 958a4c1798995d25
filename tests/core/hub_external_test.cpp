// The Hub with records kept in a shared store (records_are_external), driven as the Redis engine
// drives it. The "store" here is a ProcessRecord the test applies publishes to, as the engine does
// before its compare-and-set, and every change goes through the stored forms.
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "progress/codec.hpp"
#include "progress/hub.hpp"
#include "progress/shared_record.hpp"
#include "progress/target.hpp"
#include "hub_test_support.hpp"
#include "test_clock.hpp"

namespace progress {
namespace {

using namespace test;  // hub_test_support.hpp

constexpr Millis kStart = 1'000'000;

HubConfig external_config() {
  HubConfig config;
  config.records_are_external = true;
  config.pending_timeout_ms = 5000;
  return config;
}

// The driver's store requests of one kind; the others are drained unseen.
template <class Request>
std::vector<Request> requests(Hub& hub) {
  std::vector<Request> out;
  for (auto& request : hub.poll_store_requests()) {
    if (auto* wanted = std::get_if<Request>(&request)) out.push_back(std::move(*wanted));
  }
  return out;
}

// One writer's view of the store: applies a publish and returns the change every node hears.
struct Store {
  ProcessRecord record{"job", "e1", kStart, 0};
  SharedChange publish(std::optional<double> percent, std::optional<std::string> stage = std::nullopt,
                 std::optional<State> state = std::nullopt, Millis now = kStart) {
    Publish p;
    p.process_id = "job";
    p.percent = percent;
    p.stage = std::move(stage);
    p.state = state;
    auto applied = record.apply(p, now);
    EXPECT_TRUE(applied.ok());
    // Round-trip through the stored text, as a change crosses Redis.
    auto change = decode_change(encode_change(record, applied.value().get()), 256);
    EXPECT_TRUE(change.ok());
    return std::move(change.value());
  }
};

TEST(HubExternal, SubscriberWaitsForTheLoadThenGetsTheStoredSnapshot) {
  Hub hub(external_config(), at(kStart), 1);
  Store store;
  store.publish(10, "upload");
  store.publish(20);
  const ConnId conn = hub.open(target("/ws/progress/job"), at(kStart));
  ASSERT_EQ(drain(hub, conn).size(), 1u);  // hello only: the record may exist elsewhere
  const auto changes = requests<InterestChange>(hub);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].process_id, "job");
  EXPECT_TRUE(changes[0].watch);

  hub.ingest_record("job", store.record, at(kStart));
  const auto frames = drain(hub, conn);
  ASSERT_EQ(frames.size(), 1u);
  const auto* snapshot = std::get_if<Snapshot>(&frames[0]);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->seq, 2u);
  EXPECT_EQ(snapshot->epoch, "e1");
  EXPECT_EQ(snapshot->stage, "upload");
}

TEST(HubExternal, UnknownProcessIsPendingUntilAnotherNodeCreatesIt) {
  Hub hub(external_config(), at(kStart), 1);
  const ConnId conn = hub.open(target("/ws/progress/job"), at(kStart));
  drain(hub, conn);
  hub.ingest_record("job", std::nullopt, at(kStart));
  auto frames = drain(hub, conn);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Pending>(frames[0]));

  Store store;
  hub.ingest_change(store.publish(5, "upload"), at(kStart + 10));
  frames = drain(hub, conn);
  ASSERT_EQ(frames.size(), 1u);
  const auto* snapshot = std::get_if<Snapshot>(&frames[0]);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->seq, 1u);
}

TEST(HubExternal, PendingStillTimesOutLocallyAndStopsFollowing) {
  Hub hub(external_config(), at(kStart), 1);
  const ConnId conn = hub.open(target("/ws/progress/job"), at(kStart));
  hub.ingest_record("job", std::nullopt, at(kStart));
  drain(hub, conn);
  requests<InterestChange>(hub);
  hub.handle_timeout(at(kStart + 5000));
  const auto frames = drain(hub, conn);
  ASSERT_EQ(frames.size(), 1u);
  const auto* error = std::get_if<Error>(&frames[0]);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->code, ErrorCode::not_found);
  const auto changes = requests<InterestChange>(hub);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_FALSE(changes[0].watch);
}

TEST(HubExternal, NextEventIsDeliveredDuplicateIgnoredGapGivesSnapshot) {
  Hub hub(external_config(), at(kStart), 1);
  Store store;
  store.publish(10);
  const ConnId conn = hub.open(target("/ws/progress/job"), at(kStart));
  hub.ingest_record("job", store.record, at(kStart));
  drain(hub, conn);

  const SharedChange second = store.publish(20);
  hub.ingest_change(second, at(kStart + 1));
  hub.ingest_change(second, at(kStart + 1));  // heard twice (a reload raced the channel)
  auto frames = drain(hub, conn);
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<ProgressEvent>(frames[0]));
  EXPECT_EQ(std::get<ProgressEvent>(frames[0]).seq, 2u);

  store.publish(30);  // missed (the channel dropped it)
  hub.ingest_change(store.publish(40), at(kStart + 2));
  frames = drain(hub, conn);
  ASSERT_EQ(frames.size(), 1u);
  const auto* snapshot = std::get_if<Snapshot>(&frames[0]);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->seq, 4u);
  EXPECT_EQ(snapshot->percent, 40);
}

TEST(HubExternal, ResumeReplaysTheLoadedHistory) {
  Hub hub(external_config(), at(kStart), 1);
  Store store;
  std::vector<SharedEvent> history;
  for (double percent : {10.0, 20.0, 30.0, 40.0}) history.push_back(store.publish(percent).event);
  ProcessRecord loaded = store.record;
  loaded = decode_record(encode_record(store.record), 256).value();
  loaded.start_history(history);

  const ConnId conn = hub.open(target("/ws/progress/job?after_seq=2&epoch=e1"), at(kStart));
  hub.ingest_record("job", loaded, at(kStart));
  const auto frames = drain(hub, conn);
  ASSERT_EQ(frames.size(), 3u);  // hello, then seq 3 and 4
  EXPECT_EQ(std::get<ProgressEvent>(frames[1]).seq, 3u);
  EXPECT_EQ(std::get<ProgressEvent>(frames[2]).seq, 4u);
}

TEST(HubExternal, LoadArrivingAfterTheChannelEventStillReplays) {
  Hub hub(external_config(), at(kStart), 1);
  Store store;
  std::vector<SharedEvent> history;
  for (double percent : {10.0, 20.0, 30.0}) history.push_back(store.publish(percent).event);
  ProcessRecord loaded = decode_record(encode_record(store.record), 256).value();
  loaded.start_history(history);

  const ConnId conn = hub.open(target("/ws/progress/job?after_seq=1&epoch=e1"), at(kStart));
  hub.ingest_change(decode_change(encode_change(store.record, history.back().get()), 256).value(), at(kStart));
  hub.ingest_record("job", loaded, at(kStart));  // read after the channel delivered seq 3
  const auto frames = drain(hub, conn);
  ASSERT_EQ(frames.size(), 3u);  // hello, then seq 2 and 3: no snapshot fallback
  EXPECT_EQ(std::get<ProgressEvent>(frames[1]).seq, 2u);
  EXPECT_EQ(std::get<ProgressEvent>(frames[2]).seq, 3u);
}

TEST(HubExternal, PublishFramesBecomeRequestsAnsweredByTheDriver) {
  Hub hub(external_config(), at(kStart), 1);
  const ConnId producer = hub.open(target("/ws/publish"), at(kStart));
  drain(hub, producer);
  hub.on_text(producer, R"({"type":"publish","id":"a","process_id":"job","percent":10})", at(kStart));
  hub.on_text(producer, R"({"type":"publish","id":"b","process_id":"job","percent":5})", at(kStart));
  EXPECT_TRUE(drain(hub, producer).empty());  // nothing applied locally
  const auto writes = requests<PublishRequest>(hub);
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(writes[0].publish.percent, 10);

  hub.complete_publish(writes[0], Ack{"a", "job", 1});
  hub.complete_publish(writes[1], Error{ErrorCode::invalid_update, "percent 5 is below the current 10",
                                        std::string("job"), std::string("b")});
  const auto frames = drain(hub, producer);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(std::get<Ack>(frames[0]).seq, 1u);
  EXPECT_EQ(std::get<Error>(frames[1]).code, ErrorCode::invalid_update);
  EXPECT_EQ(std::get<Error>(frames[1]).id, "b");
  EXPECT_EQ(hub.stats().publishes, 1u);
}

TEST(HubExternal, HttpWritesAreRefusedHereBecauseTheDriverOwnsThem) {
  Hub hub(external_config(), at(kStart), 1);
  Publish p;
  p.process_id = "job";
  EXPECT_EQ(hub.publish(p, at(kStart)).error().code, ErrorCode::unavailable);
  EXPECT_EQ(hub.create_process(std::string("job"), at(kStart)).error().code, ErrorCode::unavailable);
}

TEST(HubExternal, LastSubscriberLeavingStopsFollowingAndDropsTheMirror) {
  Hub hub(external_config(), at(kStart), 1);
  Store store;
  store.publish(10);
  const ConnId a = hub.open(target("/ws/progress/job"), at(kStart));
  const ConnId b = hub.open(target("/ws/progress/job"), at(kStart));
  EXPECT_EQ(requests<InterestChange>(hub).size(), 1u);  // one watch for both
  hub.ingest_record("job", store.record, at(kStart));
  EXPECT_TRUE(hub.snapshot("job").has_value());
  hub.on_closed(a);
  EXPECT_TRUE(requests<InterestChange>(hub).empty());
  hub.on_closed(b);
  const auto changes = requests<InterestChange>(hub);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_FALSE(changes[0].watch);
  EXPECT_FALSE(hub.snapshot("job").has_value());
  hub.ingest_change(store.publish(20), at(kStart));  // late news about an unwatched process
  EXPECT_FALSE(hub.snapshot("job").has_value());
}

TEST(HubExternal, RecreatedRecordUnderANewEpochReplacesTheMirror) {
  Hub hub(external_config(), at(kStart), 1);
  Store store;
  store.publish(100, std::nullopt, State::completed);
  const ConnId conn = hub.open(target("/ws/progress/job"), at(kStart));
  hub.ingest_record("job", store.record, at(kStart));
  drain(hub, conn);

  Store recreated;
  recreated.record = ProcessRecord("job", "e2", kStart + 10, 0);
  hub.ingest_change(recreated.publish(1), at(kStart + 10));
  const auto frames = drain(hub, conn);
  ASSERT_EQ(frames.size(), 1u);
  const auto* snapshot = std::get_if<Snapshot>(&frames[0]);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->epoch, "e2");
  EXPECT_EQ(snapshot->state, State::running);
}

TEST(SharedRecord, RoundTripKeepsWhatASnapshotHides) {
  ProcessRecord record("job", "e1", kStart, 0);
  Publish p;
  p.process_id = "job";
  p.error = Json("kept until the end");
  p.lease_ms = 500;
  ASSERT_TRUE(record.apply(p, kStart).ok());
  auto back = decode_record(encode_record(record), 0);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value().lease_deadline(), kStart + 500);
  Publish fail;
  fail.process_id = "job";
  fail.state = State::failed;
  auto event = back.value().apply(fail, kStart + 1);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event.value()->event.error, Json("kept until the end"));
  EXPECT_FALSE(decode_record(R"({"snapshot":3})", 0).ok());
  EXPECT_FALSE(decode_change("not json", 0).ok());
}

}  // namespace
}  // namespace progress
