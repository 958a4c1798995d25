// Abuse limits and access in the core: the token bucket and its grace, the per-connection frame
// rate of ServerSession (rate_limited, then close 1008), and the subscription token check of
// HubConfig on both subscription forms. The token check here is a plain deterministic function
// (the parameter the server fills with its JWT verifier).
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "progress/codec.hpp"
#include "progress/hub.hpp"
#include "progress/rate_limit.hpp"
#include "progress/server_session.hpp"
#include "progress/target.hpp"
#include "hub_test_support.hpp"
#include "test_clock.hpp"

namespace progress {
namespace {

using namespace test;  // hub_test_support.hpp

template <class T>
std::size_t count_of(const std::vector<ServerFrame>& frames) {
  std::size_t n = 0;
  for (const auto& f : frames) n += std::holds_alternative<T>(f) ? 1 : 0;
  return n;
}

const Error* first_error(const std::vector<ServerFrame>& frames) {
  for (const auto& f : frames) {
    if (const auto* e = std::get_if<Error>(&f)) return e;
  }
  return nullptr;
}

TEST(TokenBucket, StartsFullThenRefillsAtTheRate) {
  TokenBucket bucket(100, 3, MonoMillis(1000));  // one token per 10 ms
  EXPECT_TRUE(bucket.try_take(MonoMillis(1000)));
  EXPECT_TRUE(bucket.try_take(MonoMillis(1000)));
  EXPECT_TRUE(bucket.try_take(MonoMillis(1000)));
  EXPECT_FALSE(bucket.try_take(MonoMillis(1000)));
  EXPECT_FALSE(bucket.try_take(MonoMillis(1009)));
  EXPECT_TRUE(bucket.try_take(MonoMillis(1010)));
  EXPECT_FALSE(bucket.try_take(MonoMillis(1010)));
}

TEST(TokenBucket, NeverHoldsMoreThanTheBurst) {
  TokenBucket bucket(100, 2, MonoMillis(0));
  EXPECT_DOUBLE_EQ(bucket.tokens(MonoMillis(1'000'000)), 2.0);
  EXPECT_TRUE(bucket.try_take(MonoMillis(1'000'000)));
  EXPECT_TRUE(bucket.try_take(MonoMillis(1'000'000)));
  EXPECT_FALSE(bucket.try_take(MonoMillis(1'000'000)));
}

TEST(TokenBucket, AClockGoingBackwardsRefillsNothing) {
  TokenBucket bucket(100, 1, MonoMillis(10'000));
  EXPECT_TRUE(bucket.try_take(MonoMillis(10'000)));
  EXPECT_FALSE(bucket.try_take(MonoMillis(5'000)));
  EXPECT_FALSE(bucket.try_take(MonoMillis(10'005)));  // the earlier time did not move the refill point back
  EXPECT_TRUE(bucket.try_take(MonoMillis(10'010)));
}

TEST(FrameRateLimit, RefusesWithinTheGraceThenCloses) {
  FrameRateLimit limit(1, 1, 2, MonoMillis(0));
  EXPECT_EQ(limit.on_frame(MonoMillis(0)), RateVerdict::admit);
  EXPECT_EQ(limit.on_frame(MonoMillis(1)), RateVerdict::refuse);
  EXPECT_EQ(limit.on_frame(MonoMillis(2)), RateVerdict::refuse);
  EXPECT_EQ(limit.on_frame(MonoMillis(3)), RateVerdict::close);
}

TEST(FrameRateLimit, RefusalsOutsideTheWindowStartAFreshCount) {
  FrameRateLimit limit(0.5, 1, 1, MonoMillis(0));  // one token per 2 s
  EXPECT_EQ(limit.on_frame(MonoMillis(0)), RateVerdict::admit);
  EXPECT_EQ(limit.on_frame(MonoMillis(100)), RateVerdict::refuse);
  EXPECT_EQ(limit.on_frame(MonoMillis(100 + FrameRateLimit::kRefusalWindowMs)), RateVerdict::refuse);
  EXPECT_EQ(limit.on_frame(MonoMillis(150 + FrameRateLimit::kRefusalWindowMs)), RateVerdict::close);
}

class RateTest : public ::testing::Test {
 protected:
  RateTest() {
    config_.max_frames_per_s = 10;
    config_.frame_burst = 2;
    config_.rate_limit_grace = 1;
  }
  HubConfig config_;
  SessionCounters counters_;
};

TEST_F(RateTest, OverTheRateTheFrameIsRefusedNotProcessed) {
  ServerSession session(Endpoint::progress_multi, config_, counters_, at(0));
  EXPECT_FALSE(session.on_text(R"({"type":"ping","ts":1})", at(0)).has_value());
  EXPECT_FALSE(session.on_text(R"({"type":"ping","ts":2})", at(0)).has_value());
  EXPECT_EQ(count_of<Pong>(drain(session)), 2u);

  EXPECT_FALSE(session.on_text(R"({"type":"subscribe","process_id":"job"})", at(0)).has_value());
  auto frames = drain(session);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(std::get<Error>(frames[0]).code, ErrorCode::rate_limited);
  EXPECT_FALSE(session.closing());
  EXPECT_EQ(counters_.errors[ErrorCode::rate_limited], 1u);

  // After one token's time (100 ms at 10/s) the client may go on.
  EXPECT_TRUE(session.on_text(R"({"type":"subscribe","process_id":"job"})", at(100)).has_value());
}

TEST_F(RateTest, StillOverAfterTheGraceClosesWith1008) {
  ServerSession session(Endpoint::progress, config_, counters_, at(0));
  for (int i = 0; i < 4; ++i) session.on_text(R"({"type":"ping"})", at(0));
  auto frames = drain(session);
  EXPECT_EQ(count_of<Pong>(frames), 2u);
  EXPECT_EQ(count_of<Error>(frames), 2u);
  auto close = session.poll_close();
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->code, 1008);
  EXPECT_EQ(close->reason, "rate limited");
  EXPECT_FALSE(session.on_text(R"({"type":"ping"})", at(10'000)).has_value());
}

TEST_F(RateTest, PublishConnectionsHaveTheirOwnLimitOffByDefault) {
  ServerSession session(Endpoint::publish, config_, counters_, at(0));
  for (int i = 0; i < 500; ++i) {
    EXPECT_TRUE(session.on_text(R"({"type":"publish","process_id":"job","percent":1})", at(0)).has_value());
  }
  EXPECT_FALSE(session.closing());

  config_.max_publish_frames_per_s = 1;
  ServerSession limited(Endpoint::publish, config_, counters_, at(0));
  EXPECT_TRUE(limited.on_text(R"({"type":"publish","process_id":"job","percent":1})", at(0)).has_value());
  EXPECT_TRUE(limited.on_text(R"({"type":"publish","process_id":"job","percent":2})", at(0)).has_value());
  EXPECT_FALSE(limited.on_text(R"({"type":"publish","process_id":"job","percent":3})", at(0)).has_value());
  EXPECT_EQ(std::get<Error>(drain(limited).at(0)).code, ErrorCode::rate_limited);
}

TEST_F(RateTest, ZeroTurnsTheLimitOff) {
  config_.max_frames_per_s = 0;
  ServerSession session(Endpoint::progress_multi, config_, counters_, at(0));
  for (int i = 0; i < 1000; ++i) session.on_text(R"({"type":"ping"})", at(0));
  auto frames = drain(session);
  EXPECT_EQ(count_of<Pong>(frames), 1000u);
  EXPECT_EQ(count_of<Error>(frames), 0u);
}

// The token for process P is "ok:P"; anything else is refused with a reason naming the problem.
std::optional<TokenRefusal> toy_check(std::string_view process_id, std::string_view token, Millis now) {
  if (token.empty()) return TokenRefusal{RefusalReason::missing, "no token"};
  if (now > 5000) return TokenRefusal{RefusalReason::expired, "token expired"};
  if (token != "ok:" + std::string(process_id)) {
    return TokenRefusal{RefusalReason::wrong_process, "token is for another process"};
  }
  return std::nullopt;
}

HubConfig checked_config() {
  HubConfig config;
  config.subscription_check = toy_check;
  return config;
}

TEST(SubscriptionToken, PathFormWithAWrongTokenGetsUnauthorizedNoDataAndClose1008) {
  Hub hub(checked_config(), at(0), 1);
  ASSERT_TRUE(hub.create_process(std::string("job-1"), at(0)).ok());
  const ConnId conn = hub.open(target("/ws/progress/job-1?token=ok:job-2"), at(10));
  auto frames = drain(hub, conn);
  EXPECT_EQ(count_of<Snapshot>(frames), 0u);
  const Error* error = first_error(frames);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->code, ErrorCode::unauthorized);
  EXPECT_EQ(error->process_id, "job-1");
  EXPECT_NE(error->message.find("another process"), std::string::npos) << error->message;
  EXPECT_EQ(error->reason, RefusalReason::wrong_process);
  auto close = hub.poll_close(conn);
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->code, 1008);

  // No event reaches the refused connection later either.
  Publish p;
  p.process_id = "job-1";
  p.percent = 50;
  ASSERT_TRUE(hub.publish(p, at(20)).ok());
  EXPECT_TRUE(drain(hub, conn).empty());
}

TEST(SubscriptionToken, PathFormWithoutATokenSaysSo) {
  Hub hub(checked_config(), at(0), 1);
  const ConnId conn = hub.open(target("/ws/progress/job-1"), at(10));
  const auto frames = drain(hub, conn);
  const Error* error = first_error(frames);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(error->message.find("no token"), std::string::npos) << error->message;
  EXPECT_EQ(error->reason, RefusalReason::missing);
}

TEST(SubscriptionToken, PathFormWithTheRightTokenGetsTheSnapshot) {
  Hub hub(checked_config(), at(0), 1);
  ASSERT_TRUE(hub.create_process(std::string("job-1"), at(0)).ok());
  const ConnId conn = hub.open(target("/ws/progress/job-1?token=ok:job-1"), at(10));
  auto frames = drain(hub, conn);
  EXPECT_EQ(count_of<Snapshot>(frames), 1u);
  EXPECT_EQ(first_error(frames), nullptr);
  EXPECT_FALSE(hub.poll_close(conn).has_value());
}

TEST(SubscriptionToken, SseIsCheckedLikeThePathForm) {
  Hub hub(checked_config(), at(0), 1);
  const ConnId conn = hub.open(target("/sse/progress/job-1?token=bad"), at(10));
  auto frames = drain(hub, conn);
  EXPECT_EQ(count_of<Pending>(frames), 0u);
  ASSERT_NE(first_error(frames), nullptr);
  EXPECT_EQ(first_error(frames)->code, ErrorCode::unauthorized);
  EXPECT_TRUE(hub.poll_close(conn).has_value());
}

TEST(SubscriptionToken, SubscribeFramesAreCheckedAndTheConnectionStays) {
  Hub hub(checked_config(), at(0), 1);
  const ConnId conn = hub.open(target("/ws/progress"), at(0));
  drain(hub, conn);  // hello

  hub.on_text(conn, R"({"type":"subscribe","process_id":"job-2","token":"ok:job-1"})", at(50));
  auto frames = drain(hub, conn);
  ASSERT_NE(first_error(frames), nullptr);
  EXPECT_EQ(first_error(frames)->process_id, "job-2");
  EXPECT_NE(first_error(frames)->message.find("another process"), std::string::npos);
  EXPECT_EQ(first_error(frames)->reason, RefusalReason::wrong_process);
  EXPECT_EQ(count_of<Pending>(frames), 0u);

  hub.on_text(conn, R"({"type":"subscribe","process_id":"job-1","token":"ok:job-1"})", at(100));
  frames = drain(hub, conn);
  EXPECT_EQ(first_error(frames), nullptr);
  EXPECT_EQ(count_of<Pending>(frames), 1u);
  EXPECT_FALSE(hub.poll_close(conn).has_value());

  // The refused subscription gets nothing when its process starts.
  Publish p;
  p.process_id = "job-2";
  p.percent = 5;
  ASSERT_TRUE(hub.publish(p, at(200)).ok());
  EXPECT_TRUE(drain(hub, conn).empty());
  p.process_id = "job-1";
  ASSERT_TRUE(hub.publish(p, at(300)).ok());
  EXPECT_EQ(count_of<Snapshot>(drain(hub, conn)), 1u);
}

TEST(SubscriptionToken, ExpiryUsesTheTimeTheHubIsGiven) {
  Hub hub(checked_config(), at(0), 1);
  const ConnId conn = hub.open(target("/ws/progress/job-1?token=ok:job-1"), at(6000));
  const auto frames = drain(hub, conn);
  const Error* error = first_error(frames);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(error->message.find("expired"), std::string::npos) << error->message;
  EXPECT_EQ(error->reason, RefusalReason::expired);
}

TEST(SubscriptionToken, WithoutACheckTokensAreNotNeeded) {
  Hub hub(HubConfig{}, at(0), 1);
  const ConnId conn = hub.open(target("/ws/progress/job-1"), at(10));
  auto frames = drain(hub, conn);
  EXPECT_EQ(count_of<Pending>(frames), 1u);
  EXPECT_EQ(first_error(frames), nullptr);
}

}  // namespace
}  // namespace progress
