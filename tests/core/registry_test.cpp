// What the registry owes each subscriber: pending, snapshot or replay; who gets each event; the
// bounds; and the timers (pending timeout, lease, retention).
#include <algorithm>

#include <gtest/gtest.h>

#include "progress/registry.hpp"
#include "test_clock.hpp"

namespace progress {
namespace {

Publish update(const std::string& id, std::optional<double> percent,
               std::optional<State> state = std::nullopt) {
  Publish p;
  p.process_id = id;
  p.percent = percent;
  p.state = state;
  return p;
}

// By value: callers pass the temporary Result straight in.
template <class T>
T as(const Result<SubscribeReply>& reply) {
  EXPECT_TRUE(reply.ok());
  EXPECT_TRUE(std::holds_alternative<T>(reply.value()));
  return std::get<T>(reply.value());
}

std::vector<SubscriberId> sorted(std::vector<SubscriberId> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(Registry, UnknownIdIsPendingUntilTheFirstPublishThenASnapshot) {
  Registry registry({}, 1);
  EXPECT_EQ(as<PendingReply>(registry.subscribe(7, "job", std::nullopt, std::nullopt, at(0))).process_id, "job");
  EXPECT_EQ(registry.pending_count(), 1u);
  auto fanout = registry.publish(update("job", 5), at(10));
  ASSERT_TRUE(fanout.ok());
  EXPECT_EQ(fanout.value().subscribers, nullptr);  // nobody was live yet
  EXPECT_EQ(fanout.value().activated, (std::vector<SubscriberId>{7}));
  ASSERT_TRUE(fanout.value().snapshot.has_value());
  EXPECT_EQ(fanout.value().snapshot->seq, 1u);
  EXPECT_EQ(registry.pending_count(), 0u);

  auto next = registry.publish(update("job", 6), at(11));
  ASSERT_TRUE(next.ok());
  ASSERT_NE(next.value().subscribers, nullptr);
  EXPECT_EQ(*next.value().subscribers, (std::vector<SubscriberId>{7}));
  EXPECT_TRUE(next.value().activated.empty());
}

TEST(Registry, CreateAnswersWaitingSubscribersWithSeqZero) {
  Registry registry({}, 1);
  ASSERT_TRUE(registry.subscribe(1, "job", std::nullopt, std::nullopt, at(0)).ok());
  auto created = registry.create(std::string("job"), at(5));
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created.value().created);
  EXPECT_EQ(created.value().snapshot.seq, 0u);
  EXPECT_EQ(created.value().activated, (std::vector<SubscriberId>{1}));
  auto again = registry.create(std::string("job"), at(6));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again.value().created);
  EXPECT_EQ(again.value().snapshot, created.value().snapshot);
}

TEST(Registry, ResumeReplaysWithMatchingEpochElseSnapshot) {
  Registry registry({}, 1);
  for (int i = 1; i <= 4; ++i) ASSERT_TRUE(registry.publish(update("job", i * 10), at(i)).ok());
  const std::string epoch = registry.find("job")->epoch();
  const auto replay = as<ReplayReply>(registry.subscribe(1, "job", 2, epoch, at(5)));
  ASSERT_EQ(replay.events.size(), 2u);
  EXPECT_EQ(replay.events[0]->event.seq, 3u);
  EXPECT_EQ(as<ReplayReply>(registry.subscribe(2, "job", 2, std::nullopt, at(5))).events.size(), 2u);
  EXPECT_EQ(as<SnapshotReply>(registry.subscribe(3, "job", 2, std::string("other"), at(5))).record->seq(), 4u);
  EXPECT_EQ(as<SnapshotReply>(registry.subscribe(4, "job", 9, epoch, at(5))).record->seq(), 4u);
  EXPECT_EQ(as<SnapshotReply>(registry.subscribe(5, "job", std::nullopt, std::nullopt, at(5))).record->seq(), 4u);
}

TEST(Registry, SubscribingTwiceKeepsOneRegistration) {
  Registry registry({}, 1);
  ASSERT_TRUE(registry.publish(update("job", 1), at(0)).ok());
  ASSERT_TRUE(registry.subscribe(1, "job", std::nullopt, std::nullopt, at(0)).ok());
  ASSERT_TRUE(registry.subscribe(1, "job", std::nullopt, std::nullopt, at(0)).ok());
  EXPECT_EQ(registry.subscription_count(), 1u);
  auto fanout = registry.publish(update("job", 2), at(1));
  EXPECT_EQ(*fanout.value().subscribers, (std::vector<SubscriberId>{1}));
}

TEST(Registry, RemovalKeepsTheOtherSubscribersOfABusyProcess) {
  Registry registry({}, 1);
  ASSERT_TRUE(registry.publish(update("job", 1), at(0)).ok());
  for (SubscriberId s = 1; s <= 6; ++s)
    ASSERT_TRUE(registry.subscribe(s, "job", std::nullopt, std::nullopt, at(0)).ok());
  registry.remove_subscriber(3);
  EXPECT_TRUE(registry.unsubscribe(1, "job"));
  EXPECT_FALSE(registry.unsubscribe(1, "job"));
  registry.remove_subscriber(6);
  auto fanout = registry.publish(update("job", 2), at(1));
  EXPECT_EQ(sorted(*fanout.value().subscribers), (std::vector<SubscriberId>{2, 4, 5}));
  EXPECT_EQ(registry.subscription_count(), 3u);
  EXPECT_EQ(registry.subscriptions_of(3), 0u);
}

TEST(Registry, BoundsAnswerRateLimitedAndUnavailable) {
  RegistryConfig config;
  config.max_subscriptions_per_connection = 2;
  config.max_subscriptions = 3;
  config.max_processes = 1;
  Registry registry(config, 1);
  ASSERT_TRUE(registry.subscribe(1, "a", std::nullopt, std::nullopt, at(0)).ok());
  ASSERT_TRUE(registry.subscribe(1, "b", std::nullopt, std::nullopt, at(0)).ok());
  auto third = registry.subscribe(1, "c", std::nullopt, std::nullopt, at(0));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, ErrorCode::rate_limited);
  EXPECT_TRUE(registry.subscribe(1, "a", std::nullopt, std::nullopt, at(0)).ok());  // re-evaluation is free
  ASSERT_TRUE(registry.subscribe(2, "a", std::nullopt, std::nullopt, at(0)).ok());
  auto total = registry.subscribe(3, "a", std::nullopt, std::nullopt, at(0));
  ASSERT_FALSE(total.ok());
  EXPECT_EQ(total.error().code, ErrorCode::unavailable);

  ASSERT_TRUE(registry.publish(update("a", 1), at(0)).ok());
  auto second = registry.publish(update("b", 1), at(0));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::unavailable);
  EXPECT_EQ(second.error().message, "process limit reached");
  EXPECT_FALSE(registry.create(std::nullopt, at(0)).ok());
  EXPECT_EQ(registry.process_count(), 1u);
}

TEST(Registry, RefusedFirstPublishLeavesNoRecord) {
  Registry registry({}, 1);
  auto refused = registry.publish(update("job", std::nullopt, State::pending), at(0));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(registry.find("job"), nullptr);
  EXPECT_EQ(registry.process_count(), 0u);
}

TEST(Registry, PendingSubscriptionTimesOutAsNotFound) {
  RegistryConfig config;
  config.pending_timeout_ms = 100;
  Registry registry(config, 1);
  ASSERT_TRUE(registry.subscribe(1, "ghost", std::nullopt, std::nullopt, at(1000)).ok());
  EXPECT_EQ(registry.next_deadline(), MonoMillis(1100));
  EXPECT_TRUE(registry.tick(at(1099)).not_found.empty());
  auto tick = registry.tick(at(1100));
  ASSERT_EQ(tick.not_found.size(), 1u);
  EXPECT_EQ(tick.not_found[0].subscriber, 1u);
  EXPECT_EQ(tick.not_found[0].process_id, "ghost");
  EXPECT_EQ(registry.subscription_count(), 0u);
  EXPECT_EQ(registry.pending_count(), 0u);
  EXPECT_FALSE(registry.next_deadline().has_value());
}

TEST(Registry, LeaseExpiryFansOutAFailedEvent) {
  Registry registry({}, 1);
  Publish leased = update("job", 10);
  leased.lease_ms = 50;
  ASSERT_TRUE(registry.publish(std::move(leased), at(0)).ok());
  ASSERT_TRUE(registry.subscribe(9, "job", std::nullopt, std::nullopt, at(0)).ok());
  EXPECT_EQ(registry.next_deadline(), MonoMillis(50));
  auto tick = registry.tick(at(50));
  ASSERT_EQ(tick.stalled.size(), 1u);
  EXPECT_EQ(tick.stalled[0].event->event.state, State::failed);
  EXPECT_EQ(*tick.stalled[0].subscribers, (std::vector<SubscriberId>{9}));
}

TEST(Registry, FinishedRecordsAreForgottenAfterRetentionAndComeBackWithANewEpoch) {
  RegistryConfig config;
  config.retention_ms = 1000;
  Registry registry(config, 1);
  ASSERT_TRUE(registry.publish(update("job", std::nullopt, State::completed), at(0)).ok());
  ASSERT_TRUE(registry.subscribe(4, "job", std::nullopt, std::nullopt, at(10)).ok());
  const std::string old_epoch = registry.find("job")->epoch();
  EXPECT_EQ(registry.tick(at(999)).forgotten, 0u);
  EXPECT_EQ(registry.tick(at(1000)).forgotten, 1u);
  EXPECT_EQ(registry.find("job"), nullptr);
  EXPECT_EQ(registry.subscription_count(), 1u);  // the listener waits for a new record
  auto again = registry.publish(update("job", 1), at(2000));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value().activated, (std::vector<SubscriberId>{4}));
  EXPECT_NE(registry.find("job")->epoch(), old_epoch);
}

TEST(Registry, EpochsAreDeterministicPerSeedAndDistinctPerRecord) {
  Registry a({}, 42);
  Registry b({}, 42);
  ASSERT_TRUE(a.publish(update("x", 1), at(0)).ok());
  ASSERT_TRUE(a.publish(update("y", 1), at(0)).ok());
  ASSERT_TRUE(b.publish(update("x", 1), at(0)).ok());
  EXPECT_EQ(a.find("x")->epoch(), b.find("x")->epoch());
  EXPECT_NE(a.find("x")->epoch(), a.find("y")->epoch());
  EXPECT_EQ(a.find("x")->epoch().size(), 8u);
  EXPECT_EQ(a.find("x")->epoch().find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace progress
