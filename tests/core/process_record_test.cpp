// The record rules (R1..R8 in process_record.hpp), one behaviour a test.
#include <gtest/gtest.h>

#include "progress/process_record.hpp"

namespace progress {
namespace {

Publish record_update(std::optional<double> percent = std::nullopt, std::optional<State> state = std::nullopt,
                      std::optional<std::string> stage = std::nullopt) {
  Publish p;
  p.process_id = "job";
  p.percent = percent;
  p.state = state;
  p.stage = std::move(stage);
  return p;
}

TEST(ProcessRecord, StartsPendingAtSeqZeroWithoutHistory) {
  ProcessRecord record("job", "abcd0123", 1000, 8);
  Snapshot s = record.snapshot();
  EXPECT_EQ(s.seq, 0u);
  EXPECT_EQ(s.state, State::pending);
  EXPECT_EQ(s.stage, "");
  EXPECT_TRUE(s.stages.empty());
  EXPECT_EQ(s.updated_at, 1000);
  EXPECT_EQ(record.events_after(0)->size(), 0u);
}

TEST(ProcessRecord, PublishWithoutStateMovesPendingToRunningAndCountsSeq) {
  ProcessRecord record("job", "e", 0, 8);
  auto first = record.apply(record_update(10), 5);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value()->event.seq, 1u);
  EXPECT_EQ(first.value()->event.state, State::running);
  EXPECT_EQ(first.value()->event.ts, 5);
  auto second = record.apply(record_update(), 6);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.value()->event.seq, 2u);
  EXPECT_EQ(second.value()->event.percent, 10);  // absent percent keeps the current one
}

TEST(ProcessRecord, RefusesDecreasingPercentWithoutChangingTheRecord) {
  ProcessRecord record("job", "e", 0, 8);
  ASSERT_TRUE(record.apply(record_update(55), 1).ok());
  auto refused = record.apply(record_update(40), 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_update);
  EXPECT_EQ(refused.error().message, "percent 40 is below the current 55");
  EXPECT_EQ(refused.error().process_id, "job");
  EXPECT_EQ(record.seq(), 1u);
  EXPECT_EQ(record.snapshot().percent, 55);

  auto fractional = record.apply(record_update(12.5), 3);
  ASSERT_FALSE(fractional.ok());
  EXPECT_EQ(fractional.error().message, "percent 12.5 is below the current 55");
}

TEST(ProcessRecord, ErrorsAnswerThePublishId) {
  ProcessRecord record("job", "e", 0, 8);
  Publish p = record_update(std::nullopt, State::pending);
  p.id = "req-7";
  auto refused = record.apply(p, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_update);
  EXPECT_EQ(refused.error().id, "req-7");
}

TEST(ProcessRecord, CompletedIsFinalAndSetsHundred) {
  ProcessRecord record("job", "e", 0, 8);
  ASSERT_TRUE(record.apply(record_update(30), 1).ok());
  Publish done = record_update(std::nullopt, State::completed);
  done.result = Json{{"pages", 3}};
  auto event = record.apply(done, 2);
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event.value()->event.percent, 100);
  EXPECT_EQ(event.value()->event.result, (Json{{"pages", 3}}));
  EXPECT_TRUE(record.finished());
  EXPECT_EQ(record.finished_at(), 2);
  EXPECT_EQ(record.snapshot().result, (Json{{"pages", 3}}));

  auto late = record.apply(record_update(100), 3);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::process_finished);
  EXPECT_EQ(record.seq(), 2u);
}

TEST(ProcessRecord, AbsentFieldsKeepTheirValues) {
  ProcessRecord record("job", "e", 0, 8);
  Publish first = record_update(10, std::nullopt, "analysis");
  first.message = "reading";
  first.data = Json{{"pages", 4}};
  ASSERT_TRUE(record.apply(first, 1).ok());
  auto second = record.apply(record_update(20), 2);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.value()->event.stage, "analysis");
  EXPECT_EQ(second.value()->event.message, "reading");
  EXPECT_EQ(second.value()->event.data, (Json{{"pages", 4}}));
}

// The record's `data` is its last event's: it must hold without a history and on a reloaded record.
TEST(ProcessRecord, DataIsKeptWithoutHistoryAndAcrossAReload) {
  ProcessRecord record("job", "e", 0, 0);
  Publish first = record_update(10);
  first.data = Json{{"pages", 4}};
  ASSERT_TRUE(record.apply(std::move(first), 1).ok());
  auto second = record.apply(record_update(20), 2);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.value()->event.data, (Json{{"pages", 4}}));
  EXPECT_EQ(record.snapshot().data, (Json{{"pages", 4}}));

  ProcessRecord reloaded(record.stored(), "e2", 8);
  EXPECT_EQ(reloaded.snapshot().data, (Json{{"pages", 4}}));
  auto third = reloaded.apply(record_update(30), 4);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third.value()->event.data, (Json{{"pages", 4}}));
  Publish fourth = record_update(40);
  fourth.data = Json::object();
  ASSERT_TRUE(reloaded.apply(std::move(fourth), 5).ok());
  EXPECT_EQ(reloaded.snapshot().data, Json::object());
  EXPECT_EQ(third.value()->event.data, (Json{{"pages", 4}}));  // an event already sent never changes
}

TEST(ProcessRecord, StagesFormSpansClosedByTheNextStageAndTheEnd) {
  ProcessRecord record("job", "e", 0, 8);
  auto a = record.apply(record_update(0, std::nullopt, "upload_received"), 10);
  auto same = record.apply(record_update(5, std::nullopt, "upload_received"), 15);
  auto b = record.apply(record_update(10, std::nullopt, "analysis"), 20);
  ASSERT_TRUE(a.ok() && same.ok() && b.ok());
  EXPECT_TRUE(a.value()->stage_changed);
  EXPECT_FALSE(same.value()->stage_changed);
  EXPECT_TRUE(b.value()->stage_changed);
  std::vector<StageSpan> open{{"upload_received", 10, 20}, {"analysis", 20, std::nullopt}};
  EXPECT_EQ(record.snapshot().stages, open);
  ASSERT_TRUE(record.apply(record_update(std::nullopt, State::completed), 30).ok());
  std::vector<StageSpan> closed{{"upload_received", 10, 20}, {"analysis", 20, 30}};
  EXPECT_EQ(record.snapshot().stages, closed);
}

TEST(ProcessRecord, StageListIsBounded) {
  ProcessRecord record("job", "e", 0, 8);
  for (std::size_t i = 0; i < kMaxStageSpans; ++i) {
    ASSERT_TRUE(record.apply(record_update(std::nullopt, std::nullopt, "s" + std::to_string(i)), 1).ok());
  }
  auto refused = record.apply(record_update(std::nullopt, std::nullopt, "one-more"), 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_update);
  EXPECT_EQ(refused.error().message, "a process has at most 64 stages");
  EXPECT_TRUE(record.apply(record_update(50), 3).ok());  // the current stage goes on
}

TEST(ProcessRecord, LeaseIsReArmedByEveryPublishAndClearedByZero) {
  ProcessRecord record("job", "e", 0, 8);
  Publish leased = record_update(1);
  leased.lease_ms = 1000;
  ASSERT_TRUE(record.apply(leased, 0).ok());
  EXPECT_EQ(record.lease_deadline(), 1000);
  ASSERT_TRUE(record.apply(record_update(2), 800).ok());
  EXPECT_EQ(record.lease_deadline(), 1800);
  EXPECT_EQ(record.expire_lease(1799), nullptr);
  Publish cleared = record_update(3);
  cleared.lease_ms = 0;
  ASSERT_TRUE(record.apply(cleared, 900).ok());
  EXPECT_FALSE(record.lease_deadline().has_value());
  EXPECT_EQ(record.expire_lease(5000), nullptr);
}

TEST(ProcessRecord, ExpiredLeaseFailsTheProcessAsStalled) {
  ProcessRecord record("job", "e", 0, 8);
  Publish leased = record_update(40, std::nullopt, "analysis");
  leased.lease_ms = 500;
  ASSERT_TRUE(record.apply(leased, 100).ok());
  auto stalled = record.expire_lease(600);
  ASSERT_NE(stalled, nullptr);
  EXPECT_EQ(stalled->event.seq, 2u);
  EXPECT_EQ(stalled->event.state, State::failed);
  EXPECT_EQ(stalled->event.percent, 40);
  EXPECT_EQ(stalled->event.error,
            (Json{{"code", "stalled"}, {"message", "no update within the lease of 500 ms"}}));
  EXPECT_TRUE(record.finished());
  EXPECT_EQ(record.snapshot().stages.back().ended_at, 600);
}

TEST(ProcessRecord, TerminalPublishClearsTheLease) {
  ProcessRecord record("job", "e", 0, 8);
  Publish leased = record_update(1);
  leased.lease_ms = 500;
  ASSERT_TRUE(record.apply(leased, 0).ok());
  ASSERT_TRUE(record.apply(record_update(std::nullopt, State::cancelled), 10).ok());
  EXPECT_FALSE(record.lease_deadline().has_value());
  EXPECT_EQ(record.expire_lease(10'000), nullptr);
  EXPECT_EQ(record.state(), State::cancelled);
}

TEST(ProcessRecord, HistoryIsBoundedAndSaysWhenItNoLongerReachesBack) {
  ProcessRecord record("job", "e", 0, 3);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(record.apply(record_update(i), i).ok());
  EXPECT_FALSE(record.events_after(0).has_value());
  EXPECT_FALSE(record.events_after(1).has_value());
  auto from2 = record.events_after(2);
  ASSERT_TRUE(from2.has_value());
  ASSERT_EQ(from2->size(), 3u);
  EXPECT_EQ(from2->front()->event.seq, 3u);
  EXPECT_EQ(from2->back()->event.seq, 5u);
  EXPECT_EQ(record.events_after(5)->size(), 0u);
  EXPECT_FALSE(record.events_after(6).has_value());  // ahead of the record
}

TEST(ProcessRecord, ZeroHistoryOnlyServesUpToDateClients) {
  ProcessRecord record("job", "e", 0, 0);
  ASSERT_TRUE(record.apply(record_update(1), 1).ok());
  ASSERT_TRUE(record.apply(record_update(2), 2).ok());
  EXPECT_FALSE(record.events_after(1).has_value());
  EXPECT_EQ(record.events_after(2)->size(), 0u);
}

TEST(ProcessRecord, AResumeReplaysTheEventItselfNotACopy) {
  ProcessRecord record("job", "e", 0, 8);
  Publish p = record_update(10);
  p.data = Json{{"pages", 4}};
  auto applied = record.apply(std::move(p), 1);
  ASSERT_TRUE(applied.ok());
  auto replay = record.events_after(0);
  ASSERT_TRUE(replay.has_value());
  ASSERT_EQ(replay->size(), 1u);
  EXPECT_EQ(replay->front(), applied.value());  // one event, shared by the fan-out and the history
  EXPECT_EQ(replay->front()->event.data, (Json{{"pages", 4}}));
  EXPECT_EQ(record.snapshot().data, (Json{{"pages", 4}}));
}

TEST(ProcessRecord, ARefusedUpdateIsLeftAsItWasForTheCallerToRetry) {
  ProcessRecord record("job", "e", 0, 8);
  ASSERT_TRUE(record.apply(record_update(50), 1).ok());
  Publish lower = record_update(40);
  lower.message = "reading";
  lower.data = Json{{"pages", 4}};
  ASSERT_FALSE(record.apply(std::move(lower), 2).ok());
  EXPECT_EQ(lower.message, "reading");
  EXPECT_EQ(lower.data, (Json{{"pages", 4}}));
  EXPECT_EQ(record.snapshot().data, Json::object());
}

}  // namespace
}  // namespace progress
