// Which queued frames a slow connection may lose.
#include <gtest/gtest.h>

#include "progress/conflation.hpp"

namespace progress {
namespace {

using K = FrameKind;

TEST(Conflation, DropsIntermediateProgressWithANewerFrameOfTheSameProcess) {
  std::vector<FrameTag> queue{
      {"a", 1, K::intermediate}, {"a", 2, K::intermediate}, {"a", 3, K::intermediate}};
  EXPECT_EQ(frames_to_drop(queue), (std::vector<std::size_t>{0, 1}));
}

TEST(Conflation, NeverDropsStageChangesTerminalSnapshotsOrControl) {
  std::vector<FrameTag> queue{{"", 0, K::control},       {"a", 0, K::snapshot},     {"a", 1, K::stage_change},
                              {"a", 2, K::intermediate}, {"a", 3, K::stage_change}, {"a", 4, K::intermediate},
                              {"a", 5, K::terminal},     {"", 0, K::control}};
  EXPECT_EQ(frames_to_drop(queue), (std::vector<std::size_t>{3, 5}));
}

TEST(Conflation, ProcessesAreIndependent) {
  std::vector<FrameTag> queue{
      {"a", 1, K::intermediate}, {"b", 1, K::intermediate}, {"a", 2, K::intermediate}};
  EXPECT_EQ(frames_to_drop(queue), (std::vector<std::size_t>{0}));
}

TEST(Conflation, TheNewestIntermediateSurvivesEvenBehindControlFrames) {
  std::vector<FrameTag> queue{{"a", 1, K::intermediate}, {"", 0, K::control}};
  EXPECT_TRUE(frames_to_drop(queue).empty());
}

TEST(Conflation, EventKindFollowsStateAndStage) {
  ProgressEvent e;
  e.state = State::running;
  EXPECT_EQ(event_kind(e, false), K::intermediate);
  EXPECT_EQ(event_kind(e, true), K::stage_change);
  e.state = State::failed;
  EXPECT_EQ(event_kind(e, false), K::terminal);
}

}  // namespace
}  // namespace progress
