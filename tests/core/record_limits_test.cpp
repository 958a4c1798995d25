// Issue 20: generated ids come from the source the driver hands in, a history stays under its byte
// bound and the registry's global budget, unchanged `message`/`data` are shared between events, and
// a record with neither lease nor publish ends failed/stalled after the idle timeout.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "progress/registry.hpp"
#include "test_clock.hpp"

namespace progress {
namespace {

Publish limits_update(const std::string& id, double percent) {
  Publish p;
  p.process_id = id;
  p.percent = percent;
  return p;
}

// A `data` object of `keys` entries, each a 40-byte string: large in memory, under kMaxDataBytes.
Json wide_data(int keys, int salt) {
  Json data = Json::object();
  for (int i = 0; i < keys; ++i) data["k" + std::to_string(i)] = std::string(40, static_cast<char>('a' + (i + salt) % 26));
  return data;
}

Publish wide_update(const std::string& id, double percent, int salt) {
  Publish p = limits_update(id, percent);
  p.message = std::string(1000, 'm') + std::to_string(salt);
  p.data = wide_data(60, salt);
  return p;
}

TEST(RecordLimits, GeneratedIdsComeFromTheSourceGiven) {
  RegistryConfig config;
  std::vector<std::string> handed;
  config.process_ids = [&handed] {
    handed.push_back("given-" + std::to_string(handed.size()));
    return handed.back();
  };
  Registry registry(config, 1);
  auto first = registry.create(std::nullopt, at(0));
  auto second = registry.create(std::nullopt, at(0));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first.value().snapshot.process_id, "given-0");
  EXPECT_EQ(second.value().snapshot.process_id, "given-1");
  EXPECT_EQ(handed.size(), 2u);
  ASSERT_TRUE(registry.create(std::string("named"), at(0)).ok());
  EXPECT_EQ(handed.size(), 2u);  // a named create draws nothing
}

TEST(RecordLimits, AnIdSourceGivingNoValidIdAnswersUnavailable) {
  RegistryConfig config;
  config.process_ids = [] { return std::string(); };
  Registry registry(config, 1);
  auto created = registry.create(std::nullopt, at(0));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::unavailable);
  EXPECT_EQ(registry.process_count(), 0u);
}

TEST(RecordLimits, HistoryStaysUnderItsByteBoundAndAnOlderResumeGetsTheSnapshot) {
  RegistryConfig config;
  config.history = 1000;
  config.history_bytes = 64 * 1024;
  Registry registry(config, 1);
  for (int i = 1; i <= 200; ++i) ASSERT_TRUE(registry.publish(wide_update("job", i / 4.0, i), at(i)).ok());
  const ProcessRecord* record = registry.find("job");
  ASSERT_NE(record, nullptr);
  EXPECT_LE(record->history_bytes(), config.history_bytes);
  EXPECT_GT(record->history_size(), 1u);
  EXPECT_LT(record->history_size(), 200u);
  EXPECT_EQ(registry.history_bytes(), record->history_bytes());
  ASSERT_TRUE(registry.subscribe(1, "job", Seq{1}, std::nullopt, at(300)).ok());
  EXPECT_TRUE(std::holds_alternative<SnapshotReply>(
      registry.subscribe(2, "job", Seq{1}, std::nullopt, at(300)).value()));
  const auto recent = registry.subscribe(3, "job", Seq{199}, std::nullopt, at(300));
  ASSERT_TRUE(std::holds_alternative<ReplayReply>(recent.value()));
  EXPECT_EQ(std::get<ReplayReply>(recent.value()).events.size(), 1u);
}

TEST(RecordLimits, UnchangedMessageAndDataAreSharedNotCopied) {
  ProcessRecord record("job", "e1", 0, 256);
  ASSERT_TRUE(record.apply(wide_update("job", 0, 0), 1).ok());
  const std::size_t first = record.history_bytes();
  for (int i = 2; i <= 256; ++i) ASSERT_TRUE(record.apply(limits_update("job", i / 4.0), i).ok());
  const auto events = record.events_after(0);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 256u);
  EXPECT_TRUE(events->back()->event.data.shares(events->front()->event.data));
  EXPECT_TRUE(events->back()->event.message.shares(events->front()->event.message));
  // Each percent-only event costs a small fraction of the first one, which holds the values.
  EXPECT_LT((record.history_bytes() - first) / 255, first / 20);
  EXPECT_EQ(events->back()->event.data, wide_data(60, 0));
}

TEST(RecordLimits, ForgettingTheEventThatHeldSharedDataChargesTheNextOne) {
  ProcessRecord record("job", "e1", 0, 3);
  ASSERT_TRUE(record.apply(wide_update("job", 1, 0), 1).ok());
  for (int i = 2; i <= 5; ++i) ASSERT_TRUE(record.apply(limits_update("job", i), i).ok());
  const auto events = record.events_after(2);
  ASSERT_TRUE(events.has_value());
  std::size_t expected = 0;
  const RecordedEvent* previous = nullptr;
  for (const auto& recorded : *events) {
    expected += event_bytes(*recorded, previous);
    previous = recorded.get();
  }
  EXPECT_EQ(record.history_bytes(), expected);
  EXPECT_GT(event_bytes(*events->front(), nullptr), 1000u);  // it now holds the message alone
}

TEST(RecordLimits, TheGlobalBudgetTrimsTheOldestEventsOfAnyRecordFirst) {
  RegistryConfig config;
  config.history = 1000;
  config.history_bytes = 1024 * 1024;
  config.history_budget_bytes = 96 * 1024;
  Registry registry(config, 1);
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(registry.publish(wide_update("old", i, i), at(i)).ok());
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(registry.publish(wide_update("new", i, i), at(100 + i)).ok());
  const ProcessRecord* old_record = registry.find("old");
  const ProcessRecord* new_record = registry.find("new");
  EXPECT_LE(registry.history_bytes(), config.history_budget_bytes);
  EXPECT_EQ(registry.history_bytes(), old_record->history_bytes() + new_record->history_bytes());
  EXPECT_EQ(old_record->history_size(), 0u);  // every event of "old" is older than any of "new"
  EXPECT_GT(new_record->history_size(), 0u);
  EXPECT_TRUE(std::holds_alternative<SnapshotReply>(
      registry.subscribe(1, "old", Seq{19}, std::nullopt, at(200)).value()));
  // Publishing to the record the budget emptied is never refused.
  ASSERT_TRUE(registry.publish(limits_update("old", 30), at(201)).ok());
}

TEST(RecordLimits, AnIdleRunningRecordEndsFailedStalled) {
  RegistryConfig config;
  config.idle_timeout_ms = 100;
  Registry registry(config, 1);
  ASSERT_TRUE(registry.publish(limits_update("job", 10), at(1000)).ok());
  ASSERT_TRUE(registry.subscribe(7, "job", std::nullopt, std::nullopt, at(1000)).ok());
  ASSERT_TRUE(registry.publish(limits_update("job", 20), at(1050)).ok());  // a publish restarts the clock
  EXPECT_EQ(registry.next_deadline(), MonoMillis(1150));
  EXPECT_TRUE(registry.tick(at(1149)).stalled.empty());
  auto tick = registry.tick(at(1150));
  ASSERT_EQ(tick.stalled.size(), 1u);
  const ProgressEvent& failed = tick.stalled[0].event->event;
  EXPECT_EQ(failed.state, State::failed);
  EXPECT_EQ(failed.seq, 3u);
  EXPECT_EQ(failed.percent, 20);
  EXPECT_EQ(failed.error, (Json{{"code", "stalled"}, {"message", "no update for 100 ms"}}));
  EXPECT_EQ(*tick.stalled[0].subscribers, (std::vector<SubscriberId>{7}));
}

TEST(RecordLimits, APendingRecordIdlesOutToo) {
  RegistryConfig config;
  config.idle_timeout_ms = 100;
  Registry registry(config, 1);
  ASSERT_TRUE(registry.create(std::string("job"), at(0)).ok());
  auto tick = registry.tick(at(100));
  ASSERT_EQ(tick.stalled.size(), 1u);
  EXPECT_EQ(registry.find("job")->state(), State::failed);
}

TEST(RecordLimits, ALeasedRecordFollowsItsLeaseNotTheIdleTimeout) {
  RegistryConfig config;
  config.idle_timeout_ms = 100;
  Registry registry(config, 1);
  Publish leased = limits_update("job", 10);
  leased.lease_ms = 500;
  ASSERT_TRUE(registry.publish(std::move(leased), at(0)).ok());
  EXPECT_TRUE(registry.tick(at(499)).stalled.empty());
  EXPECT_EQ(registry.find("job")->state(), State::running);
  EXPECT_EQ(registry.tick(at(500)).stalled.size(), 1u);
}

TEST(RecordLimits, ARestoredRecordIdlesFromItsStoredUpdateTime) {
  RegistryConfig config;
  config.idle_timeout_ms = 100;
  Registry registry(config, 1);
  StoredRecord stored;
  stored.snapshot.process_id = "job";
  stored.snapshot.epoch = "e1";
  stored.snapshot.seq = 4;
  stored.snapshot.state = State::running;
  stored.snapshot.updated_at = 1000;
  ASSERT_EQ(registry.restore({stored}, true, at(5000)).restored, 1u);
  EXPECT_EQ(registry.next_deadline(), MonoMillis(1100));
  auto tick = registry.tick(at(5000));  // the hub was down past it: due at the first tick
  ASSERT_EQ(tick.stalled.size(), 1u);
  EXPECT_EQ(tick.stalled[0].event->event.seq, 5u);
}

TEST(RecordLimits, IdleTimeoutZeroNeverExpires) {
  RegistryConfig config;
  config.idle_timeout_ms = 0;
  Registry registry(config, 1);
  ASSERT_TRUE(registry.publish(limits_update("job", 10), at(0)).ok());
  EXPECT_FALSE(registry.next_deadline().has_value());
}

}  // namespace
}  // namespace progress
