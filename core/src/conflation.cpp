#include "progress/conflation.hpp"

#include <algorithm>
#include <unordered_set>

namespace progress {

std::vector<std::size_t> frames_to_drop(std::span<const FrameTag> queue) {
  std::vector<std::size_t> drop;
  std::unordered_set<std::string_view> newer;  // processes with a frame later in the queue
  for (std::size_t i = queue.size(); i-- > 0;) {
    const FrameTag& tag = queue[i];
    if (tag.kind == FrameKind::control) continue;
    if (tag.kind == FrameKind::intermediate && newer.contains(tag.process_id)) {
      drop.push_back(i);
    } else {
      newer.insert(tag.process_id);
    }
  }
  std::reverse(drop.begin(), drop.end());
  return drop;
}

FrameKind event_kind(const ProgressEvent& event, bool stage_changed) noexcept {
  if (is_terminal(event.state)) return FrameKind::terminal;
  return stage_changed ? FrameKind::stage_change : FrameKind::intermediate;
}

}  // namespace progress
