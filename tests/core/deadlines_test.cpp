// The keyed deadline set behind poll_timeout(): re-arming moves a key's one deadline, never adds a
// second, and what falls due comes out earliest first.
#include "progress/deadlines.hpp"
#include "test_clock.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace progress {
namespace {

TEST(Deadlines, ReArmingMovesTheOneDeadlineOfAKey) {
  Deadlines<std::string> d;
  d.set("a", mono(50));
  d.set("b", mono(30));
  d.set("a", mono(50));  // unchanged
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d.next(), mono(30));
  d.set("b", mono(70));  // later: "a" is now first
  EXPECT_EQ(d.next(), mono(50));
  EXPECT_EQ(d.at("b"), mono(70));
  EXPECT_TRUE(d.poll_due(mono(69)) == std::vector<std::string>{"a"});
  d.set("b", mono(10));  // earlier
  EXPECT_EQ(d.next(), mono(10));
  EXPECT_TRUE(d.poll_due(mono(69)) == std::vector<std::string>{"b"});
  EXPECT_EQ(d.size(), 0u);
  EXPECT_FALSE(d.next().has_value());
}

TEST(Deadlines, DueKeysComeOutEarliestFirstAndClearedOnesNever) {
  Deadlines<int> d;
  for (int key = 0; key < 6; ++key) d.set(key, mono(100 - key * 10));  // 100, 90, ... 50
  d.clear(3);
  d.clear(42);  // not armed: nothing happens
  d.set(0, mono(55));
  EXPECT_TRUE(d.poll_due(mono(80)) == (std::vector<int>{5, 0, 4, 2}));
  EXPECT_FALSE(d.at(3).has_value());
  EXPECT_EQ(d.at(1), mono(90));
  EXPECT_EQ(d.size(), 1u);
}

}  // namespace
}  // namespace progress
