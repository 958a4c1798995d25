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

// The fields a snapshot and a progress event share: the process as it is now.
template <class Frame>
void take_current(ProcessView& view, const Frame& frame) {
  view.status = is_terminal(frame.state) ? WatchStatus::done : WatchStatus::active;
  view.epoch = frame.epoch;
  view.seq = frame.seq;
  view.state = frame.state;
  view.stage = frame.stage;
  view.percent = frame.percent;
  view.message = plain(frame.message);
  view.data = plain(frame.data);
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
  take_current(view_, snapshot);
  view_.updated_at = snapshot.updated_at;
  view_.stages = snapshot.stages;
  view_.result = snapshot.result;
  view_.error = snapshot.error;
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
  take_current(view_, event);
  view_.updated_at = event.ts;
  if (event.result) view_.result = event.result;
  if (event.error) view_.error = event.error;
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
