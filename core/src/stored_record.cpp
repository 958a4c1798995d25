// The stored forms of records and events. They reuse the wire codec for the snapshot and the
// progress frame, so a stored record can never drift from what subscribers are sent.
#include "progress/stored_record.hpp"

#include <utility>

#include "progress/codec.hpp"

namespace progress {
namespace {

Error stored_error(std::string message) {
  return Error{ErrorCode::bad_frame, "stored record: " + std::move(message), std::nullopt, std::nullopt};
}

Json parse(std::string_view text) {
  return Json::parse(text.begin(), text.end(), nullptr, false);
}

// Json::get throws type_error for a non-integer, which from_stored turns into an error.
std::optional<Millis> opt_millis(const Json& o, const char* key) {
  const auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::nullopt;
  return it->get<Millis>();
}

std::optional<Json> opt_json(const Json& o, const char* key) {
  const auto it = o.find(key);
  if (it == o.end()) return std::nullopt;
  return *it;
}

Json stored_event_json(const RecordedEvent& recorded) {
  return Json{{"event", to_json(ServerFrame{recorded.event})}, {"stage_changed", recorded.stage_changed}};
}

Result<RecordedEvent> event_from_json(const Json& j) {
  if (!j.is_object() || !j.contains("event")) return stored_error("an event needs {event, stage_changed}");
  auto frame = decode_server_frame(j["event"].dump());
  if (!frame) return frame.error();
  auto* event = std::get_if<ProgressEvent>(&frame.value());
  if (event == nullptr) return stored_error("the event is not a progress frame");
  return RecordedEvent{std::move(*event), j.value("stage_changed", false)};
}

}  // namespace

Json ProcessRecord::to_stored() const {
  Json j{{"snapshot", to_json(ServerFrame{snapshot()})}};
  if (result_) j["result"] = *result_;
  if (error_) j["error"] = *error_;
  if (lease_ms_) j["lease_ms"] = *lease_ms_;
  if (lease_deadline_) j["lease_deadline"] = *lease_deadline_;
  if (finished_at_) j["finished_at"] = *finished_at_;
  return j;
}

Result<ProcessRecord> ProcessRecord::from_stored(const Json& stored, std::size_t history) {
  if (!stored.is_object() || !stored.contains("snapshot")) return stored_error("expected {snapshot, ...}");
  auto frame = decode_server_frame(stored["snapshot"].dump());
  if (!frame) return frame.error();
  auto* s = std::get_if<Snapshot>(&frame.value());
  if (s == nullptr) return stored_error("the snapshot is not a snapshot frame");
  ProcessRecord record(s->process_id, s->epoch, s->updated_at, history);
  try {
    record.seq_ = s->seq;
    record.state_ = s->state;
    record.stage_ = std::move(s->stage);
    record.percent_ = s->percent;
    record.message_ = std::move(s->message);
    record.data_ = std::move(s->data);
    record.stages_ = std::move(s->stages);
    record.result_ = opt_json(stored, "result");
    record.error_ = opt_json(stored, "error");
    for (const char* key : {"lease_ms", "lease_deadline", "finished_at"}) {
      if (stored.contains(key) && !stored[key].is_number_integer()) return stored_error(std::string(key) + " must be an integer");
    }
    record.lease_ms_ = opt_millis(stored, "lease_ms");
    record.lease_deadline_ = opt_millis(stored, "lease_deadline");
    record.finished_at_ = opt_millis(stored, "finished_at");
  } catch (const Json::exception& e) {
    return stored_error(e.what());
  }
  if (record.finished() && !record.finished_at_) return stored_error("a finished record needs finished_at");
  return record;
}

std::string encode_stored_event(const RecordedEvent& recorded) { return stored_event_json(recorded).dump(); }

Result<RecordedEvent> decode_stored_event(std::string_view text) { return event_from_json(parse(text)); }

std::string encode_change(const ProcessRecord& record, const RecordedEvent* event) {
  Json j{{"record", record.to_stored()}};
  if (event != nullptr) j["event"] = stored_event_json(*event);
  return j.dump();
}

Result<Change> decode_change(std::string_view text, std::size_t history) {
  const Json j = parse(text);
  if (!j.is_object() || !j.contains("record")) return stored_error("a change needs {record, event?}");
  auto record = ProcessRecord::from_stored(j["record"], history);
  if (!record) return record.error();
  std::optional<RecordedEvent> event;
  if (j.contains("event")) {
    auto decoded = event_from_json(j["event"]);
    if (!decoded) return decoded.error();
    if (decoded.value().event.seq != record.value().seq() || decoded.value().event.epoch != record.value().epoch()) {
      return stored_error("the event does not match the record it made");
    }
    event = std::move(decoded.value());
  }
  return Change{std::move(record.value()), std::move(event)};
}

}  // namespace progress
