// The shared forms reuse the stored record (record_store.hpp) and the wire codec for the progress
// frame, so nothing a node writes can drift from what subscribers are sent or SQLite keeps.
#include "progress/shared_record.hpp"

#include <memory>
#include <utility>

#include "progress/codec.hpp"
#include "progress/record_store.hpp"

namespace progress {
namespace {

Error shared_error(std::string message) {
  return Error{ErrorCode::bad_frame, "shared record: " + std::move(message), std::nullopt, std::nullopt};
}

Json parse(std::string_view text) { return Json::parse(text.begin(), text.end(), nullptr, false); }


Result<RecordedEvent> event_from_json(const Json& j) {
  if (!j.is_object() || !j.contains("event")) return shared_error("an event needs {event, stage_changed}");
  auto frame = decode_server_frame(j["event"].dump());
  if (!frame) return frame.error();
  auto* event = std::get_if<ProgressEvent>(&frame.value());
  if (event == nullptr) return shared_error("the event is not a progress frame");
  const auto flag = j.find("stage_changed");
  return RecordedEvent{std::move(*event), flag != j.end() && flag->is_boolean() && flag->get<bool>()};
}

}  // namespace

std::string encode_record(const ProcessRecord& record) { return encode_stored(record.stored()); }

Result<ProcessRecord> decode_record(std::string_view text, std::size_t history) {
  auto stored = decode_stored(text);
  if (!stored) return stored.error();
  const std::string epoch = stored.value().snapshot.epoch;
  return ProcessRecord(stored.value(), epoch, history);
}

std::string encode_shared_event(const RecordedEvent& recorded) {
  return "{\"event\":" + encode_event(recorded.event) +
         (recorded.stage_changed ? ",\"stage_changed\":true}" : ",\"stage_changed\":false}");
}

Result<RecordedEvent> decode_shared_event(std::string_view text) { return event_from_json(parse(text)); }

std::string encode_change(const ProcessRecord& record, const RecordedEvent* event) {
  // encode_stored gives a JSON object's text: spliced in, not parsed and dumped again.
  std::string text = "{\"record\":" + encode_record(record);
  if (event != nullptr) text += ",\"event\":" + encode_shared_event(*event);
  return text + "}";
}

Result<SharedChange> decode_change(std::string_view text, std::size_t history) {
  const Json j = parse(text);
  if (!j.is_object() || !j.contains("record")) return shared_error("a change needs {record, event?}");
  auto record = decode_record(j["record"].dump(), history);
  if (!record) return record.error();
  SharedEvent event;
  if (j.contains("event")) {
    auto decoded = event_from_json(j["event"]);
    if (!decoded) return decoded.error();
    if (decoded.value().event.seq != record.value().seq() || decoded.value().event.epoch != record.value().epoch()) {
      return shared_error("the event does not match the record it made");
    }
    event = std::make_shared<const RecordedEvent>(std::move(decoded.value()));
  }
  return SharedChange{std::move(record.value()), std::move(event)};
}

}  // namespace progress
