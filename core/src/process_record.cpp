#include "progress/process_record.hpp"

#include <cmath>
#include <utility>

namespace progress {
namespace {

// 40 -> "40", 12.5 -> "12.5": error messages quote what the producer sent.
std::string format_percent(double value) {
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  return Json(value).dump();
}

Error update_error(ErrorCode code, std::string message, const Publish& publish) {
  return Error{code, std::move(message), publish.process_id, publish.id};
}

}  // namespace

ProcessRecord::ProcessRecord(std::string process_id, std::string epoch, Millis now, std::size_t history)
    : process_id_(std::move(process_id)),
      epoch_(std::move(epoch)),
      updated_at_(now),
      history_limit_(history) {}

ProcessRecord::ProcessRecord(const StoredRecord& stored, std::string epoch, std::size_t history)
    : process_id_(stored.snapshot.process_id),
      epoch_(std::move(epoch)),
      seq_(stored.snapshot.seq),
      state_(stored.snapshot.state),
      stage_(stored.snapshot.stage),
      percent_(stored.snapshot.percent),
      message_(stored.snapshot.message),
      data_(stored.snapshot.data),
      updated_at_(stored.snapshot.updated_at),
      stages_(stored.snapshot.stages),
      result_(stored.result),
      error_(stored.error),
      lease_ms_(stored.lease_ms),
      lease_deadline_(stored.lease_ms ? stored.lease_deadline : std::nullopt),
      finished_at_(stored.finished_at),
      history_limit_(history) {}

Result<SharedEvent> ProcessRecord::apply(Publish&& publish, Millis now) {
  if (finished()) {  // R1
    return update_error(
        ErrorCode::process_finished,
        "process " + process_id_ + " already finished (" + std::string(to_string(state_)) + ")", publish);
  }
  if (publish.state == State::pending) {  // R2
    return update_error(ErrorCode::invalid_update, "state pending cannot be published", publish);
  }
  const State next_state = publish.state.value_or(State::running);
  double next_percent = publish.percent.value_or(percent_);
  if (next_percent < percent_) {  // R3
    return update_error(
        ErrorCode::invalid_update,
        "percent " + format_percent(next_percent) + " is below the current " + format_percent(percent_),
        publish);
  }
  if (next_state == State::completed) next_percent = 100;
  const bool new_stage = publish.stage && *publish.stage != stage_;
  if (new_stage && stages_.size() >= kMaxStageSpans) {  // R9
    return update_error(ErrorCode::invalid_update,
                        "a process has at most " + std::to_string(kMaxStageSpans) + " stages", publish);
  }

  // Accepted: from here on nothing fails.
  if (new_stage) enter_stage(*publish.stage, now);  // R5
  state_ = next_state;
  percent_ = next_percent;
  if (publish.message) message_ = std::move(*publish.message);  // R4
  // The update's `data` goes into the event and nowhere else: the record reads it from there.
  Json data;
  if (publish.data) {
    data = std::move(*publish.data);
  } else {
    data = this->data();
  }
  if (publish.result) result_ = std::move(*publish.result);
  if (publish.error) error_ = std::move(*publish.error);
  if (publish.lease_ms) lease_ms_ = *publish.lease_ms > 0 ? publish.lease_ms : std::nullopt;  // R7
  lease_deadline_ = lease_ms_ ? std::optional<Millis>(now + *lease_ms_) : std::nullopt;
  if (is_terminal(state_)) finish(now);
  return record_event(new_stage, now, std::move(data));
}

SharedEvent ProcessRecord::expire_lease(Millis now) {
  if (!lease_deadline_ || *lease_deadline_ > now || finished()) return nullptr;
  state_ = State::failed;
  error_ = Json{{"code", "stalled"},
                {"message", "no update within the lease of " + std::to_string(*lease_ms_) + " ms"}};
  finish(now);
  return record_event(false, now, data());
}

Snapshot ProcessRecord::snapshot() const {
  Snapshot s{process_id_, epoch_, seq_,        state_,  stage_,       percent_,
             message_,    data(), updated_at_, stages_, std::nullopt, std::nullopt};
  if (finished()) {
    s.result = result_;
    s.error = error_;
  }
  return s;
}

StoredRecord ProcessRecord::stored() const {
  return StoredRecord{snapshot(), result_, error_, lease_ms_, lease_deadline_, finished_at_};
}

std::optional<std::vector<SharedEvent>> ProcessRecord::events_after(Seq after_seq) const {
  if (after_seq > seq_) return std::nullopt;
  const Seq oldest = history_.empty() ? seq_ + 1 : history_.front()->event.seq;
  if (after_seq + 1 < oldest) return std::nullopt;  // R8: the history no longer reaches back
  std::vector<SharedEvent> events;
  for (const auto& entry : history_) {
    if (entry->event.seq > after_seq) events.push_back(entry);
  }
  return events;
}

SharedEvent ProcessRecord::record_event(bool stage_changed, Millis now, Json data) {  // R6
  ++seq_;
  updated_at_ = now;
  auto recorded = std::make_shared<RecordedEvent>(
      RecordedEvent{ProgressEvent{process_id_, epoch_, seq_, state_, stage_, percent_, message_, std::move(data),
                                  now, std::nullopt, std::nullopt},
                    stage_changed});
  if (finished()) {
    recorded->event.result = result_;
    recorded->event.error = error_;
  }
  last_ = recorded;
  remember(recorded);
  return recorded;
}

void ProcessRecord::remember(SharedEvent recorded) {
  if (history_limit_ == 0) return;  // R8
  history_.push_back(std::move(recorded));
  while (history_.size() > history_limit_) history_.pop_front();
}

void ProcessRecord::continue_history(ProcessRecord&& previous, SharedEvent event) {
  history_ = std::move(previous.history_);
  remember(std::move(event));
}

void ProcessRecord::absorb_history(const ProcessRecord& other) {
  if (other.epoch_ != epoch_ || history_limit_ == 0) return;
  const Seq first = history_.empty() ? seq_ + 1 : history_.front()->event.seq;
  std::deque<SharedEvent> merged;
  for (const auto& recorded : other.history_) {
    if (recorded->event.seq < first) merged.push_back(recorded);
  }
  if (merged.empty() || merged.back()->event.seq + 1 != first) return;  // would leave a hole
  merged.insert(merged.end(), history_.begin(), history_.end());
  history_ = std::move(merged);
  while (history_.size() > history_limit_) history_.pop_front();
}

void ProcessRecord::start_history(const std::vector<SharedEvent>& events) {
  history_.clear();
  for (const auto& recorded : events) {
    if (recorded && recorded->event.seq <= seq_ && recorded->event.epoch == epoch_) remember(recorded);
  }
  // events_after trusts the history to be contiguous up to seq_: anything else is no history.
  for (std::size_t i = 1; i < history_.size(); ++i) {
    if (history_[i]->event.seq != history_[i - 1]->event.seq + 1) history_.clear();
  }
  if (!history_.empty() && history_.back()->event.seq != seq_) history_.clear();
}

void ProcessRecord::enter_stage(const std::string& stage, Millis now) {
  if (!stages_.empty() && !stages_.back().ended_at) stages_.back().ended_at = now;
  stage_ = stage;
  stages_.push_back(StageSpan{stage, now, std::nullopt});
}

void ProcessRecord::finish(Millis now) {
  if (!stages_.empty() && !stages_.back().ended_at) stages_.back().ended_at = now;
  lease_ms_.reset();
  lease_deadline_.reset();
  finished_at_ = now;
}

}  // namespace progress
