// The pieces the client session's pacing is built from: the jitter source, the backoff windows
// and the ETA estimate.
#include <cstdint>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "progress/backoff.hpp"
#include "progress/eta.hpp"
#include "progress/splitmix.hpp"

namespace progress {
namespace {

TEST(SplitMix64, MatchesTheReferenceSequence) {
  // First outputs of the reference implementation for seed 0 (Vigna's splitmix64.c).
  SplitMix64 rng(0);
  EXPECT_EQ(rng.next(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(rng.next(), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(rng.next(), 0x06C45D188009454FULL);
}

TEST(SplitMix64, UnitDrawsStayInHalfOpenInterval) {
  SplitMix64 rng(42);
  for (int i = 0; i < 10'000; ++i) {
    const double r = rng.next_unit();
    ASSERT_GE(r, 0.0);
    ASSERT_LT(r, 1.0);
  }
}

std::vector<std::int64_t> delays(std::uint64_t seed, int count) {
  Backoff backoff(500, 20'000, seed);
  std::vector<std::int64_t> out;
  for (int i = 0; i < count; ++i) out.push_back(backoff.next_delay());
  return out;
}

TEST(Backoff, SameSeedSameDelays) { EXPECT_EQ(delays(7, 12), delays(7, 12)); }

TEST(Backoff, DifferentSeedsSpreadClients) {
  // The point of jitter: clients dropped together must not come back together.
  std::set<std::int64_t> first_delays;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) first_delays.insert(delays(seed, 1).front());
  EXPECT_GT(first_delays.size(), 40u);
}

TEST(Backoff, WindowDoublesUpToTheCap) {
  Backoff backoff(500, 20'000, 3);
  const std::vector<std::int64_t> windows = {500, 1000, 2000, 4000, 8000, 16000, 20000, 20000};
  for (std::int64_t window : windows) {
    EXPECT_EQ(backoff.window(), window);
    const std::int64_t delay = backoff.next_delay();
    EXPECT_GE(delay, 0);
    EXPECT_LT(delay, window);
  }
}

TEST(Backoff, LongOutageNeitherOverflowsNorLeavesTheWindow) {
  Backoff backoff(500, 20'000, 9);
  for (int i = 0; i < 5'000; ++i) {
    const std::int64_t delay = backoff.next_delay();
    ASSERT_GE(delay, 0);
    ASSERT_LT(delay, 20'000);
  }
  EXPECT_EQ(backoff.window(), 20'000);
}

TEST(Backoff, ResetReturnsToTheFirstWindow) {
  Backoff backoff(500, 20'000, 5);
  for (int i = 0; i < 6; ++i) backoff.next_delay();
  backoff.reset();
  EXPECT_EQ(backoff.attempt(), 0u);
  EXPECT_EQ(backoff.window(), 500);
}

TEST(Backoff, ZeroMinimumMeansImmediateRetries) {
  Backoff backoff(0, 1000, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(backoff.next_delay(), 0);
}

TEST(Eta, AbsentUntilTwoRisingObservations) {
  EtaEstimator eta;
  EXPECT_FALSE(eta.estimate(0));
  eta.observe(1000, 10);
  EXPECT_FALSE(eta.estimate(1000));
  eta.observe(1500, 10);  // no rise: no information about the rate
  EXPECT_FALSE(eta.estimate(1500));
  eta.observe(2000, 20);
  ASSERT_TRUE(eta.estimate(2000));
  EXPECT_EQ(*eta.estimate(2000), 8000);
}

TEST(Eta, TimeWithoutProgressCountsAndNeverGoesNegative) {
  EtaEstimator eta;
  eta.observe(0, 0);
  eta.observe(1000, 50);
  EXPECT_EQ(*eta.estimate(1400), 600);
  EXPECT_EQ(*eta.estimate(10'000), 0);
}

TEST(Eta, SameTimestampGivesNoRate) {
  EtaEstimator eta;
  eta.observe(1000, 10);
  eta.observe(1000, 30);
  EXPECT_FALSE(eta.estimate(1000));
}

TEST(Eta, FollowsTheRecentRateOfAJobThatSpedUp) {
  EtaEstimator eta;
  // Slow start: 1% per second for 10 s, then 10% per second.
  for (int s = 0; s <= 10; ++s) eta.observe(s * 1000, s);
  for (int s = 1; s <= 8; ++s) eta.observe(10'000 + s * 1000, 10 + 10 * s);
  // Only the window's fast observations remain: 10%/s with 10% left.
  EXPECT_EQ(*eta.estimate(18'000), 1000);
}

TEST(Eta, ClockGoingBackwardsRestartsTheWindow) {
  EtaEstimator eta;
  eta.observe(5000, 10);
  eta.observe(6000, 20);
  eta.observe(1000, 30);
  EXPECT_FALSE(eta.estimate(1000));
  eta.observe(2000, 40);
  EXPECT_EQ(*eta.estimate(2000), 6000);
}

TEST(Eta, ResetForgetsTheOldRate) {
  EtaEstimator eta;
  eta.observe(0, 10);
  eta.observe(1000, 20);
  eta.reset();
  eta.observe(2000, 30);
  EXPECT_FALSE(eta.estimate(2000));
}

}  // namespace
}  // namespace progress
