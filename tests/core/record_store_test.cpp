// Durability as the core sees it: which changes must be committed before they are sent, the
// stored spelling of a record, and the restore rule (epochs after clean and unclean stops, leases
// and retention that ran out while the hub was down).
#include <gtest/gtest.h>

#include "progress/codec.hpp"
#include "progress/hub.hpp"
#include "progress/record_store.hpp"
#include "progress/registry.hpp"
#include "progress/target.hpp"
#include "hub_test_support.hpp"
#include "test_clock.hpp"

namespace progress {
namespace {

using namespace test;  // hub_test_support.hpp

HubConfig durable_config() {
  HubConfig config;
  config.record_changes = true;
  config.retention_ms = 60'000;
  return config;
}

std::vector<RecordChange> changes(Hub& hub) {
  std::vector<RecordChange> out;
  hub.poll_changes(out);
  return out;
}

// The frames a fresh /ws/progress/{id}?after_seq=..&epoch=.. subscriber gets after `hello`.
std::vector<ServerFrame> resume(Hub& hub, const std::string& id, Seq after_seq, const std::string& epoch,
                                Millis now) {
  Target target{Endpoint::progress, id, after_seq, epoch, std::nullopt};
  const ConnId conn = hub.open(target, at(now));
  auto frames = drain(hub, conn);
  EXPECT_FALSE(frames.empty());
  if (!frames.empty()) frames.erase(frames.begin());  // hello
  return frames;
}

// One hub's records as a store would hold them after taking every change.
std::vector<StoredRecord> stored_records(Hub& hub) {
  std::vector<StoredRecord> records;
  for (auto& change : changes(hub)) {
    if (change.record) records.push_back(*change.record);
  }
  return records;
}

TEST(RecordChanges, CreationStageChangesAndTerminalStatesAreDurableProgressIsWrittenBehind) {
  Hub hub(durable_config(), at(0), 1);
  ASSERT_TRUE(hub.create_process(std::string("job"), at(1)).ok());
  auto created = changes(hub);
  ASSERT_EQ(created.size(), 1u);
  EXPECT_TRUE(created[0].durable);
  ASSERT_TRUE(created[0].record.has_value());
  EXPECT_EQ(created[0].record->snapshot.seq, 0u);

  ASSERT_TRUE(hub.publish(update("job", 10, "extract"), at(2)).ok());
  auto staged = changes(hub);
  ASSERT_EQ(staged.size(), 1u);
  EXPECT_TRUE(staged[0].durable);

  ASSERT_TRUE(hub.publish(update("job", 20), at(3)).ok());
  ASSERT_TRUE(hub.publish(update("job", 30), at(4)).ok());
  auto progress = changes(hub);
  ASSERT_EQ(progress.size(), 1u);  // one entry per record, the newest state
  EXPECT_FALSE(progress[0].durable);
  EXPECT_EQ(progress[0].record->snapshot.seq, 3u);
  EXPECT_EQ(progress[0].record->snapshot.percent, 30);

  ASSERT_TRUE(hub.publish(update("job", 40), at(5)).ok());
  ASSERT_TRUE(hub.publish(update("job", std::nullopt, std::nullopt, State::completed), at(6)).ok());
  auto done = changes(hub);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].durable);  // a write-behind change folded into a durable one is durable
  EXPECT_EQ(done[0].record->snapshot.state, State::completed);
  EXPECT_EQ(done[0].record->finished_at, 6);
  EXPECT_TRUE(changes(hub).empty());
}

TEST(RecordChanges, FirstPublishToAnUnknownIdIsDurableAndRefusedPublishesChangeNothing) {
  Hub hub(durable_config(), at(0), 1);
  ASSERT_TRUE(hub.publish(update("job", 50), at(1)).ok());
  auto first = changes(hub);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(first[0].durable);
  EXPECT_FALSE(hub.publish(update("job", 10), at(2)).ok());  // percent backwards
  EXPECT_TRUE(changes(hub).empty());
}

TEST(RecordChanges, NothingIsRecordedWithoutAStore) {
  Hub hub(HubConfig{}, at(0), 1);
  ASSERT_TRUE(hub.publish(update("job", 50, "a"), at(1)).ok());
  EXPECT_TRUE(changes(hub).empty());
}

TEST(RecordChanges, LeaseExpiryIsDurableAndRetentionRemovesTheRecord) {
  Hub hub(durable_config(), at(0), 1);
  Publish leased = update("job", 5);
  leased.lease_ms = 1000;
  ASSERT_TRUE(hub.publish(leased, at(0)).ok());
  changes(hub);
  hub.handle_timeout(at(1000));
  auto stalled = changes(hub);
  ASSERT_EQ(stalled.size(), 1u);
  EXPECT_TRUE(stalled[0].durable);
  EXPECT_EQ(stalled[0].record->snapshot.state, State::failed);
  EXPECT_EQ(stalled[0].record->snapshot.error.value()["code"], "stalled");

  hub.handle_timeout(at(1000 + 60'000));
  auto removed = changes(hub);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].process_id, "job");
  EXPECT_FALSE(removed[0].record.has_value());
}

TEST(StoredRecordCodec, RoundTripsEveryField) {
  Hub hub(durable_config(), at(0), 1);
  Publish p = update("job", 40, "analysis");
  p.message = "page 4";
  p.data = Json{{"pages", 10}};
  p.result = Json{{"early", true}};  // kept although the snapshot shows it only when terminal
  p.lease_ms = 5000;
  ASSERT_TRUE(hub.publish(update("job", 10, "extract"), at(1)).ok());
  ASSERT_TRUE(hub.publish(p, at(2)).ok());
  auto records = stored_records(hub);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].lease_deadline, 5002);
  auto decoded = decode_stored(encode_stored(records[0]));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded.value(), records[0]);
  EXPECT_EQ(decoded.value().snapshot.stages.size(), 2u);
  EXPECT_EQ(decoded.value().result, (Json{{"early", true}}));
}

TEST(StoredRecordCodec, RefusesWhatIsNotAStoredRecord) {
  for (const char* text : {"", "not json", "[]", "{}", R"({"snapshot":{"type":"progress"}})",
                           R"({"snapshot":{"type":"snapshot","process_id":"a b"}})"}) {
    auto decoded = decode_stored(text);
    ASSERT_FALSE(decoded.ok()) << text;
    EXPECT_EQ(decoded.error().code, ErrorCode::bad_frame);
    EXPECT_FALSE(decoded.error().message.empty());
  }
  Hub hub(durable_config(), at(0), 1);
  ASSERT_TRUE(hub.publish(update("job", 1), at(1)).ok());
  Json bad = Json::parse(encode_stored(stored_records(hub).at(0)));
  bad["finished_at"] = 5;  // a running record cannot have finished
  EXPECT_FALSE(decode_stored(bad.dump()).ok());
  bad["finished_at"] = "soon";
  EXPECT_FALSE(decode_stored(bad.dump()).ok());
}

struct Stopped {
  std::vector<StoredRecord> records;
  std::string running_epoch;
  std::string done_epoch;
};

// A hub with a running record at seq 3 (stage "analysis", 40 %) and a completed one, as stored.
Stopped run_and_store() {
  Hub hub(durable_config(), at(0), 1);
  EXPECT_TRUE(hub.publish(update("running", 10, "extract"), at(1)).ok());
  EXPECT_TRUE(hub.publish(update("running", 20, "analysis"), at(2)).ok());
  EXPECT_TRUE(hub.publish(update("running", 40), at(3)).ok());
  EXPECT_TRUE(hub.publish(update("done", 50, "only"), at(4)).ok());
  EXPECT_TRUE(hub.publish(update("done", std::nullopt, std::nullopt, State::completed), at(5)).ok());
  return Stopped{stored_records(hub), hub.snapshot("running")->epoch, hub.snapshot("done")->epoch};
}

TEST(Restore, AfterACleanShutdownRecordsKeepEpochAndSeqAndAnUpToDateClientResumesWithoutASnapshot) {
  Stopped stopped = run_and_store();
  Hub hub(durable_config(), at(100), 2);
  const RestoreSummary summary = hub.restore(stopped.records, true, at(100));
  EXPECT_EQ(summary.restored, 2u);
  EXPECT_EQ(summary.new_epochs, 0u);
  EXPECT_TRUE(changes(hub).empty());  // nothing new to write

  const auto running = hub.snapshot("running").value();
  EXPECT_EQ(running.epoch, stopped.running_epoch);
  EXPECT_EQ(running.seq, 3u);
  EXPECT_EQ(running.stage, "analysis");
  EXPECT_EQ(running.percent, 40);
  EXPECT_EQ(running.stages.size(), 2u);

  EXPECT_TRUE(resume(hub, "running", 3, stopped.running_epoch, 100).empty());  // up to date
  auto behind = resume(hub, "running", 1, stopped.running_epoch, 100);  // no history: the snapshot
  ASSERT_EQ(behind.size(), 1u);
  EXPECT_EQ(std::get<Snapshot>(behind[0]).seq, 3u);

  auto next = hub.publish(update("running", 60), at(101));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next.value().seq, 4u);
}

TEST(Restore, AfterAnUncleanStopRunningRecordsGetANewEpochAndSeqContinuesTerminalOnesKeepTheirs) {
  Stopped stopped = run_and_store();
  Hub hub(durable_config(), at(100), 2);
  const RestoreSummary summary = hub.restore(stopped.records, false, at(100));
  EXPECT_EQ(summary.restored, 2u);
  EXPECT_EQ(summary.new_epochs, 1u);

  const auto running = hub.snapshot("running").value();
  EXPECT_NE(running.epoch, stopped.running_epoch);
  EXPECT_EQ(running.seq, 3u);
  const auto done = hub.snapshot("done").value();
  EXPECT_EQ(done.epoch, stopped.done_epoch);
  EXPECT_EQ(done.state, State::completed);

  auto renewed = changes(hub);  // the new epoch is written back at once
  ASSERT_EQ(renewed.size(), 1u);
  EXPECT_EQ(renewed[0].process_id, "running");
  EXPECT_TRUE(renewed[0].durable);
  EXPECT_EQ(renewed[0].record->snapshot.epoch, running.epoch);

  // A client that saw seq 5 of the old epoch (events lost with the crash) gets the snapshot.
  auto frames = resume(hub, "running", 5, stopped.running_epoch, 100);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(std::get<Snapshot>(frames[0]).epoch, running.epoch);
  EXPECT_EQ(std::get<Snapshot>(frames[0]).seq, 3u);
  // A client of the finished record resumes as if nothing happened.
  EXPECT_TRUE(resume(hub, "done", 2, stopped.done_epoch, 100).empty());

  auto next = hub.publish(update("running", 45), at(101));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next.value().seq, 4u);
  EXPECT_EQ(hub.publish(update("done", 100), at(101)).error().code, ErrorCode::process_finished);
}

TEST(Restore, ALeaseThatRanOutWhileTheHubWasDownFailsTheProcessOnTheFirstTick) {
  Hub before(durable_config(), at(0), 1);
  Publish leased = update("job", 30, "work");
  leased.lease_ms = 1000;
  ASSERT_TRUE(before.publish(leased, at(10)).ok());
  auto records = stored_records(before);

  Hub hub(durable_config(), at(5000), 2);
  hub.restore(records, true, at(5000));
  ASSERT_TRUE(hub.poll_timeout().has_value());
  EXPECT_LE(*hub.poll_timeout(), mono(5000));  // due already
  const ConnId conn =
      hub.open(Target{Endpoint::progress, "job", std::nullopt, std::nullopt, std::nullopt}, at(5000));
  drain(hub, conn);
  hub.handle_timeout(at(5000));
  auto frames = drain(hub, conn);
  ASSERT_EQ(frames.size(), 1u);
  const auto& failed = std::get<ProgressEvent>(frames[0]);
  EXPECT_EQ(failed.state, State::failed);
  EXPECT_EQ(failed.error.value()["code"], "stalled");
  EXPECT_EQ(failed.seq, 2u);
  auto stalled = changes(hub);
  ASSERT_EQ(stalled.size(), 1u);
  EXPECT_TRUE(stalled[0].durable);
}

TEST(Restore, RetentionContinuesFromTheStoredFinishTime) {
  Stopped stopped = run_and_store();  // "done" finished at 5; retention 60 s
  Hub hub(durable_config(), at(100), 2);
  hub.restore(stopped.records, true, at(100));
  hub.handle_timeout(at(60'004));
  EXPECT_TRUE(hub.snapshot("done").has_value());
  hub.handle_timeout(at(60'005));
  EXPECT_FALSE(hub.snapshot("done").has_value());
  auto removed = changes(hub);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].process_id, "done");
  EXPECT_FALSE(removed[0].record.has_value());
  EXPECT_TRUE(hub.snapshot("running").has_value());
}

TEST(Restore, SkipsDuplicatesInvalidIdsAndRecordsOverTheProcessLimit) {
  Stopped stopped = run_and_store();
  std::vector<StoredRecord> records = stopped.records;
  records.push_back(stopped.records[0]);
  StoredRecord invalid = stopped.records[0];
  invalid.snapshot.process_id = "no spaces";
  records.push_back(invalid);
  HubConfig config = durable_config();
  config.max_processes = 1;
  Hub hub(config, at(100), 2);
  const RestoreSummary summary = hub.restore(records, true, at(100));
  EXPECT_EQ(summary.restored, 1u);
  EXPECT_EQ(summary.skipped, 3u);
}

TEST(StoreUnavailable, PublishesAndCreationsAreRefusedUntilTheStoreRecovers) {
  Hub hub(durable_config(), at(0), 1);
  hub.set_unavailable("the store cannot write: disk full");
  Publish p = update("job", 5);
  p.id = "p1";
  auto refused = hub.publish(p, at(1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::unavailable);
  EXPECT_EQ(refused.error().id, "p1");
  EXPECT_EQ(hub.create_process(std::string("job"), at(1)).error().code, ErrorCode::unavailable);

  const ConnId producer =
      hub.open(Target{Endpoint::publish, "", std::nullopt, std::nullopt, std::nullopt}, at(1));
  drain(hub, producer);
  hub.on_text(producer, R"({"type":"publish","id":"w1","process_id":"job","percent":5})", at(1));
  auto frames = drain(hub, producer);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(std::get<Error>(frames[0]).code, ErrorCode::unavailable);
  EXPECT_FALSE(hub.snapshot("job").has_value());
  EXPECT_TRUE(changes(hub).empty());

  hub.set_unavailable(std::nullopt);
  EXPECT_TRUE(hub.publish(p, at(2)).ok());
}

}  // namespace
}  // namespace progress
