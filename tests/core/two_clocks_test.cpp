// The hub under a wall clock that steps (NTP, a VM resumed with a corrected clock) while the
// monotonic one runs on: countdowns follow the monotonic clock, stamps and stored deadlines the
// wall clock.
#include <optional>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "progress/hub.hpp"
#include "progress/target.hpp"
#include "hub_test_support.hpp"
#include "test_clock.hpp"

namespace progress {
namespace {

using namespace test;  // hub_test_support.hpp

constexpr Millis kWall = 1'700'000'000'000;
constexpr Millis kHour = 3'600'000;

Now clocks(Millis mono_ms, Millis wall_ms) { return Now{MonoMillis(mono_ms), wall_ms}; }

TEST(TwoClocks, AWallClockStepClosesNoSocketAndSkipsNoPing) {
  for (const Millis step : {kHour, -kHour}) {
    SCOPED_TRACE("wall clock stepped by " + std::to_string(step) + " ms");
    HubConfig config;
    config.heartbeat_ms = 1000;
    config.stale_grace_ms = 500;
    Hub hub(config, clocks(0, kWall), 1);
    const ConnId conn = hub.open(target("/ws/progress"), clocks(0, kWall));
    drain(hub, conn);  // hello
    hub.handle_timeout(clocks(1000, kWall + 1000 + step));
    auto frames = drain(hub, conn);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(std::get<Ping>(frames[0]).ts, kWall + 1000 + step);  // the ping carries the wall clock
    EXPECT_FALSE(hub.poll_close(conn).has_value());
    hub.on_control(conn, clocks(1010, kWall + 1010 + step));  // the browser's pong
    EXPECT_EQ(hub.poll_timeout(), mono(2000));                 // the next ping, one heartbeat on
    hub.handle_timeout(clocks(2000, kWall + 2000 + step));
    frames = drain(hub, conn);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<Ping>(frames[0]));
    EXPECT_FALSE(hub.poll_close(conn).has_value());
  }
}

TEST(TwoClocks, ALeaseRunsItsLengthOnTheMonotonicClockAndIsStampedOnTheWallClock) {
  Hub hub(HubConfig{}, clocks(0, kWall), 1);
  Publish leased = test::update("job", 10, "work");
  leased.lease_ms = 600'000;
  ASSERT_TRUE(hub.publish(leased, clocks(0, kWall)).ok());

  hub.handle_timeout(clocks(1000, kWall + 1000 + kHour));  // an hour ahead: the lease has 599 s left
  EXPECT_EQ(hub.snapshot("job")->state, State::running);
  EXPECT_EQ(hub.poll_timeout(), mono(600'000));

  hub.handle_timeout(clocks(600'000, kWall + 600'000 - kHour));  // an hour back: it runs out on time
  const auto failed = hub.snapshot("job").value();
  EXPECT_EQ(failed.state, State::failed);
  EXPECT_EQ(failed.updated_at, kWall + 600'000 - kHour);
}

TEST(TwoClocks, RestoreTurnsAStoredWallDeadlineIntoAMonotonicCountdown) {
  HubConfig config;
  config.record_changes = true;
  Hub before(config, clocks(0, kWall), 1);
  Publish leased = test::update("job", 10, "work");
  leased.lease_ms = 10'000;
  ASSERT_TRUE(before.publish(leased, clocks(0, kWall)).ok());
  std::vector<RecordChange> changes;
  before.poll_changes(changes);
  ASSERT_EQ(changes.size(), 1u);
  ASSERT_TRUE(changes[0].record.has_value());
  EXPECT_EQ(changes[0].record->lease_deadline, kWall + 10'000);  // stored on the wall clock

  // The next process starts 4 s later by the wall clock; its monotonic clock has its own origin.
  Hub after(config, clocks(777, kWall + 4000), 2);
  after.restore({*changes[0].record}, true, clocks(777, kWall + 4000));
  EXPECT_EQ(after.poll_timeout(), mono(777 + 6000));
}

}  // namespace
}  // namespace progress
