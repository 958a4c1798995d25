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

// What a string holds beyond its own object (short strings live inside it).
std::size_t heap_bytes(const std::string& text) noexcept {
  constexpr std::size_t kInline = 15;
  return text.capacity() > kInline ? text.capacity() + 1 : 0;
}

// nlohmann::json's node is one pointer-sized union plus its type; objects are std::map nodes.
std::size_t heap_bytes(const Json& json) noexcept {
  constexpr std::size_t kMapNode = 32;  // a red-black tree node's links and colour
  std::size_t bytes = 0;
  switch (json.type()) {
    case Json::value_t::object:
      bytes += sizeof(Json::object_t);
      for (const auto& [key, value] : json.get_ref<const Json::object_t&>()) {
        bytes += kMapNode + sizeof(std::string) + sizeof(Json) + heap_bytes(key) + heap_bytes(value);
      }
      break;
    case Json::value_t::array: {
      const auto& array = json.get_ref<const Json::array_t&>();
      bytes += sizeof(Json::array_t) + (array.capacity() - array.size()) * sizeof(Json);
      for (const auto& value : array) bytes += sizeof(Json) + heap_bytes(value);
      break;
    }
    case Json::value_t::string:
      bytes += sizeof(std::string) + heap_bytes(json.get_ref<const std::string&>());
      break;
    case Json::value_t::binary:
      bytes += sizeof(Json::binary_t) + json.get_binary().capacity();
      break;
    default:
      break;
  }
  return bytes;
}

std::size_t optional_bytes(const std::optional<Json>& json) noexcept { return json ? heap_bytes(*json) : 0; }

}  // namespace

std::size_t event_bytes(const RecordedEvent& recorded, const RecordedEvent* previous) noexcept {
  // The shared_ptr's block (count, object) and the history's slot for it.
  constexpr std::size_t kControlBlock = 16;
  constexpr std::size_t kSharedValue = 16 + kControlBlock;  // a SharedValue's block beside its value
  const ProgressEvent& event = recorded.event;
  std::size_t bytes = kControlBlock + sizeof(RecordedEvent) + sizeof(SharedEvent) + heap_bytes(event.process_id) +
                      heap_bytes(event.epoch) + heap_bytes(event.stage) + optional_bytes(event.result) +
                      optional_bytes(event.error);
  if (previous == nullptr || !event.message.shares(previous->event.message)) {
    bytes += kSharedValue + sizeof(std::string) + heap_bytes(event.message.get());
  }
  if (previous == nullptr || !event.data.shares(previous->event.data)) {
    bytes += kSharedValue + sizeof(Json) + heap_bytes(event.data.get());
  }
  return bytes;
}

ProcessRecord::ProcessRecord(std::string process_id, std::string epoch, Millis now, std::size_t history)
    : updated_at_(now), history_limit_(history) {
  view_.process_id = std::move(process_id);
  view_.epoch = std::move(epoch);
}

ProcessRecord::ProcessRecord(const StoredRecord& stored, std::string epoch, std::size_t history)
    : view_(stored.snapshot),
      updated_at_(stored.snapshot.updated_at),
      stages_(stored.snapshot.stages),
      lease_ms_(stored.lease_ms),
      lease_deadline_(stored.lease_ms ? stored.lease_deadline : std::nullopt),
      finished_at_(stored.finished_at),
      history_limit_(history) {
  view_.epoch = std::move(epoch);
  view_.result = stored.result;
  view_.error = stored.error;
}

Result<SharedEvent> ProcessRecord::apply(Publish&& publish, Millis now) {
  if (finished()) {  // R1
    return update_error(
        ErrorCode::process_finished,
        "process " + view_.process_id + " already finished (" + std::string(to_string(view_.state)) + ")", publish);
  }
  if (publish.state == State::pending) {  // R2
    return update_error(ErrorCode::invalid_update, "state pending cannot be published", publish);
  }
  const State next_state = publish.state.value_or(State::running);
  double next_percent = publish.percent.value_or(view_.percent);
  if (next_percent < view_.percent) {  // R3
    return update_error(
        ErrorCode::invalid_update,
        "percent " + format_percent(next_percent) + " is below the current " + format_percent(view_.percent),
        publish);
  }
  if (next_state == State::completed) next_percent = 100;
  const bool new_stage = publish.stage && *publish.stage != view_.stage;
  if (new_stage && stages_.size() >= kMaxStageSpans) {  // R9
    return update_error(ErrorCode::invalid_update,
                        "a process has at most " + std::to_string(kMaxStageSpans) + " stages", publish);
  }

  // Accepted: from here on nothing fails.
  if (new_stage) enter_stage(*publish.stage, now);  // R5
  view_.state = next_state;
  view_.percent = next_percent;
  if (publish.message) view_.message = SharedString(std::move(*publish.message));  // R4
  if (publish.data) view_.data = SharedJson(std::move(*publish.data));
  if (publish.result) view_.result = std::move(*publish.result);
  if (publish.error) view_.error = std::move(*publish.error);
  if (publish.lease_ms) lease_ms_ = *publish.lease_ms > 0 ? publish.lease_ms : std::nullopt;  // R7
  lease_deadline_ = lease_ms_ ? std::optional<Millis>(now + *lease_ms_) : std::nullopt;
  if (is_terminal(view_.state)) finish(now);
  return record_event(new_stage, now);
}

SharedEvent ProcessRecord::expire_lease(Millis now, bool due) {
  if (!lease_deadline_ || (!due && *lease_deadline_ > now) || finished()) return nullptr;
  view_.state = State::failed;
  view_.error = Json{{"code", "stalled"},
                {"message", "no update within the lease of " + std::to_string(*lease_ms_) + " ms"}};
  finish(now);
  return record_event(false, now);
}

std::optional<Millis> ProcessRecord::idle_deadline(std::int64_t idle_ms) const noexcept {
  if (idle_ms <= 0 || finished() || lease_deadline_) return std::nullopt;
  return updated_at_ + idle_ms;
}

SharedEvent ProcessRecord::expire_idle(Millis now, std::int64_t idle_ms, bool due) {
  const auto at = idle_deadline(idle_ms);
  if (!at || (!due && *at > now)) return nullptr;
  view_.state = State::failed;
  view_.error = Json{{"code", "stalled"}, {"message", "no update for " + std::to_string(idle_ms) + " ms"}};
  finish(now);
  return record_event(false, now);
}

void ProcessRecord::bound_history_bytes(std::size_t bytes) {
  history_bytes_limit_ = bytes;
  while (history_bytes_ > history_bytes_limit_) trim_oldest();
}

std::optional<Seq> ProcessRecord::oldest_seq() const noexcept {
  if (history_.empty()) return std::nullopt;
  return history_.front()->event.seq;
}

std::size_t ProcessRecord::trim_oldest() {
  if (history_.empty()) return 0;
  const std::size_t before = history_bytes_;
  const SharedEvent oldest = std::move(history_.front());
  history_.pop_front();
  history_bytes_ -= event_bytes(*oldest, nullptr);
  if (!history_.empty()) {  // the new oldest now holds alone what it shared with the one forgotten
    history_bytes_ -= event_bytes(*history_.front(), oldest.get());
    history_bytes_ += event_bytes(*history_.front(), nullptr);
  }
  return before - history_bytes_;
}

void ProcessRecord::recount_history() {
  history_bytes_ = 0;
  const RecordedEvent* previous = nullptr;
  for (const auto& recorded : history_) {
    history_bytes_ += event_bytes(*recorded, previous);
    previous = recorded.get();
  }
  while (!history_.empty() && (history_.size() > history_limit_ || history_bytes_ > history_bytes_limit_)) {
    trim_oldest();
  }
}

Snapshot ProcessRecord::snapshot() const {
  Snapshot s{view_, updated_at_, stages_};
  if (!finished()) {  // result and error are shown once the process is terminal
    s.result.reset();
    s.error.reset();
  }
  return s;
}

StoredRecord ProcessRecord::stored() const {
  return StoredRecord{snapshot(), view_.result, view_.error, lease_ms_, lease_deadline_, finished_at_};
}

std::optional<std::vector<SharedEvent>> ProcessRecord::events_after(Seq after_seq) const {
  if (after_seq > view_.seq) return std::nullopt;
  const Seq oldest = history_.empty() ? view_.seq + 1 : history_.front()->event.seq;
  if (after_seq + 1 < oldest) return std::nullopt;  // R8: the history no longer reaches back
  std::vector<SharedEvent> events;
  for (const auto& entry : history_) {
    if (entry->event.seq > after_seq) events.push_back(entry);
  }
  return events;
}

SharedEvent ProcessRecord::record_event(bool stage_changed, Millis now) {  // R6
  ++view_.seq;
  updated_at_ = now;
  // Result and error stay out of the event until shown, without a copy made to be dropped.
  std::optional<Json> result;
  std::optional<Json> error;
  if (!finished()) {
    result.swap(view_.result);
    error.swap(view_.error);
  }
  auto recorded = std::make_shared<RecordedEvent>(RecordedEvent{ProgressEvent{view_, now}, stage_changed});
  if (!finished()) {
    result.swap(view_.result);
    error.swap(view_.error);
  }
  remember(recorded);
  return recorded;
}

void ProcessRecord::remember(SharedEvent recorded) {
  if (history_limit_ == 0) return;  // R8
  history_bytes_ += event_bytes(*recorded, history_.empty() ? nullptr : history_.back().get());
  history_.push_back(std::move(recorded));
  while (!history_.empty() && (history_.size() > history_limit_ || history_bytes_ > history_bytes_limit_)) {
    trim_oldest();
  }
}

void ProcessRecord::continue_history(ProcessRecord&& previous, SharedEvent event) {
  history_ = std::move(previous.history_);
  history_bytes_ = previous.history_bytes_;
  previous.history_bytes_ = 0;
  remember(std::move(event));
}

void ProcessRecord::absorb_history(const ProcessRecord& other) {
  if (other.view_.epoch != view_.epoch || history_limit_ == 0) return;
  const Seq first = history_.empty() ? view_.seq + 1 : history_.front()->event.seq;
  std::deque<SharedEvent> merged;
  for (const auto& recorded : other.history_) {
    if (recorded->event.seq < first) merged.push_back(recorded);
  }
  if (merged.empty() || merged.back()->event.seq + 1 != first) return;  // would leave a hole
  merged.insert(merged.end(), history_.begin(), history_.end());
  history_ = std::move(merged);
  recount_history();
}

void ProcessRecord::start_history(const std::vector<SharedEvent>& events) {
  history_.clear();
  history_bytes_ = 0;
  for (const auto& recorded : events) {
    if (recorded && recorded->event.seq <= view_.seq && recorded->event.epoch == view_.epoch) remember(recorded);
  }
  // events_after trusts the history to be contiguous up to the record's seq: anything else is no history.
  for (std::size_t i = 1; i < history_.size(); ++i) {
    if (history_[i]->event.seq != history_[i - 1]->event.seq + 1) history_.clear();
  }
  if (!history_.empty() && history_.back()->event.seq != view_.seq) history_.clear();
  recount_history();
}

void ProcessRecord::enter_stage(const std::string& stage, Millis now) {
  if (!stages_.empty() && !stages_.back().ended_at) stages_.back().ended_at = now;
  view_.stage = stage;
  stages_.push_back(StageSpan{stage, now, std::nullopt});
}

void ProcessRecord::finish(Millis now) {
  if (!stages_.empty() && !stages_.back().ended_at) stages_.back().ended_at = now;
  lease_ms_.reset();
  lease_deadline_.reset();
  finished_at_ = now;
}

}  // namespace progress
