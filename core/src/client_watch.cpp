#include "client_watch.hpp"

#include <utility>

namespace progress::client {

Watch::Watch(std::string process_id) {
  view_.process_id = std::move(process_id);
  changed();
}

void Watch::changed() { view_.display = make_display(view_); }

Subscribe Watch::subscribe_frame() const {
  Subscribe frame;
  frame.process_id = view_.process_id;
  if (!view_.epoch.empty() && !resyncing_) {
    frame.after_seq = view_.seq;
    frame.epoch = view_.epoch;
  }
  return frame;
}

namespace {

// The process as the frame shows it now (every field of ProcessFields comes along); a progress
// event without result or error leaves the ones shown before.
void take_current(ProcessView& view, const ProcessFields& frame, bool keep_result) {
  std::optional<Json> result = keep_result ? std::move(view.result) : std::nullopt;
  std::optional<Json> error = keep_result ? std::move(view.error) : std::nullopt;
  static_cast<ProcessFields&>(view) = frame;
  if (!view.result) view.result = std::move(result);
  if (!view.error) view.error = std::move(error);
  view.status = is_terminal(frame.state) ? WatchStatus::done : WatchStatus::active;
}

}  // namespace

Applied Watch::apply(const Snapshot& snapshot) {
  if (finished()) return Applied::ignored;
  const bool same_epoch = !view_.epoch.empty() && snapshot.epoch == view_.epoch;
  if (same_epoch && snapshot.seq <= view_.seq) {
    // Asked to resync but the record is the one shown: live progress of it is welcome again.
    resyncing_ = false;
    return Applied::ignored;
  }
  if (!same_epoch) eta_.reset();
  resyncing_ = false;
  take_current(view_, snapshot, false);
  view_.updated_at = snapshot.updated_at;
  view_.stages = snapshot.stages;
  view_.failure.reset();
  update_eta(snapshot.updated_at);
  changed();
  return Applied::changed;
}

Applied Watch::apply(const ProgressEvent& event) {
  if (finished() || resyncing_) return Applied::ignored;
  if (!view_.epoch.empty()) {
    if (event.epoch != view_.epoch) {
      resyncing_ = true;
      return Applied::resync;
    }
    if (event.seq <= view_.seq) return Applied::ignored;
  }
  if (event.stage != view_.stage) {
    if (!view_.stages.empty() && !view_.stages.back().ended_at) view_.stages.back().ended_at = event.ts;
    if (!event.stage.empty()) view_.stages.push_back({event.stage, event.ts, std::nullopt});
  }
  if (is_terminal(event.state) && !view_.stages.empty() && !view_.stages.back().ended_at) {
    view_.stages.back().ended_at = event.ts;
  }
  take_current(view_, event, true);
  view_.updated_at = event.ts;
  update_eta(event.ts);
  changed();
  return Applied::changed;
}

bool Watch::apply_pending() {
  if (finished() || view_.status == WatchStatus::pending) return false;
  view_.status = WatchStatus::pending;
  changed();
  return true;
}

void Watch::fail(Error error, bool locally) {
  view_.status = WatchStatus::failed;
  view_.failure = std::move(error);
  view_.eta_ms.reset();
  rejected_locally_ = locally;
  changed();
}

void Watch::restart() {
  ProcessView blank;
  blank.process_id = std::move(view_.process_id);
  view_ = std::move(blank);
  eta_.reset();
  resyncing_ = false;
  token_deadline.reset();
  refreshed = false;
  changed();
}

void Watch::update_eta(Millis at) {
  eta_.observe(at, view_.percent);
  if (view_.state == State::completed) {
    view_.eta_ms = 0;
  } else if (is_terminal(view_.state)) {
    view_.eta_ms.reset();
  } else {
    view_.eta_ms = eta_.estimate(at);
  }
}

}  // namespace progress::client
