#pragma once
// Which of a slow connection's queued, unsent frames may go. Only the newest state of a process
// matters to a viewer, but the stage list and the final state must be complete, so:
//   - an intermediate progress frame is dropped when a newer frame of the same process is queued;
//   - control, snapshot, stage-change and terminal frames are never dropped.
// Dropping keeps the order of what remains, so seq stays increasing per process.
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "progress/protocol.hpp"

namespace progress {

enum class FrameKind { control, snapshot, intermediate, stage_change, terminal };

struct FrameTag {
  std::string_view process_id;  // empty for control frames
  Seq seq = 0;
  FrameKind kind = FrameKind::control;
};

// Ascending indices into `queue` of the frames to drop.
std::vector<std::size_t> frames_to_drop(std::span<const FrameTag> queue);

// The kind of a progress event for conflation.
FrameKind event_kind(const ProgressEvent& event, bool stage_changed) noexcept;

}  // namespace progress
