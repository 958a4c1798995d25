#include "client_watch.hpp"

#include <utility>

namespace progress::client {

Watch::Watch(std::string process_id) { view_.process_id = std::move(process_id); }

Subscribe Watch::subscribe_frame() const {
  Subscribe frame;
  frame.process_id = view_.process_id;
  if (!view_.epoch.empty() && !resyncing_) {
    frame.after_seq = view_.seq;
    frame.epoch = view_.epoch;
  }
  return frame;
}

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
  view_.status = is_terminal(snapshot.state) ? WatchStatus::done : WatchStatus::active;
  view_.epoch = snapshot.epoch;
  view_.seq = snapshot.seq;
  view_.state = snapshot.state;
  view_.stage = snapshot.stage;
  view_.percent = snapshot.percent;
  view_.message = snapshot.message;
  view_.data = snapshot.data;
  view_.updated_at = snapshot.updated_at;
  view_.stages = snapshot.stages;
  view_.result = snapshot.result;
  view_.error = snapshot.error;
  view_.failure.reset();
  update_eta(snapshot.updated_at);
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
  view_.status = is_terminal(event.state) ? WatchStatus::done : WatchStatus::active;
  view_.epoch = event.epoch;
  view_.seq = event.seq;
  view_.state = event.state;
  view_.stage = event.stage;
  view_.percent = event.percent;
  view_.message = event.message;
  view_.data = event.data;
  view_.updated_at = event.ts;
  if (event.result) view_.result = event.result;
  if (event.error) view_.error = event.error;
  update_eta(event.ts);
  return Applied::changed;
}

bool Watch::apply_pending() {
  if (finished() || view_.status == WatchStatus::pending) return false;
  view_.status = WatchStatus::pending;
  return true;
}

void Watch::fail(Error error, bool locally) {
  view_.status = WatchStatus::failed;
  view_.failure = std::move(error);
  view_.eta_ms.reset();
  rejected_locally_ = locally;
}

void Watch::restart() {
  ProcessView blank;
  blank.process_id = std::move(view_.process_id);
  view_ = std::move(blank);
  eta_.reset();
  resyncing_ = false;
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
