// The stored spelling of a record: the snapshot frame as the codec writes it, plus the few fields
// a snapshot does not carry. Decoding goes back through the codec, so a stored record obeys the
// same checks as one received over the wire.
#include "progress/record_store.hpp"

#include <utility>
#include <variant>

#include "progress/codec.hpp"

namespace progress {
namespace {

Error corrupt(std::string message) {
  return Error{ErrorCode::bad_frame, std::move(message), std::nullopt, std::nullopt};
}

// An absent or null field is nullopt; anything but an integer is an error.
bool read_int(const Json& j, const char* key, std::optional<std::int64_t>& out) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_number_integer()) return false;
  out = it->get<std::int64_t>();
  return true;
}

std::optional<Json> read_json(const Json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return *it;
}

}  // namespace

std::string encode_stored(const StoredRecord& record) {
  Json j = Json::object();
  if (record.result) j["result"] = *record.result;
  if (record.error) j["error"] = *record.error;
  if (record.lease_ms) j["lease_ms"] = *record.lease_ms;
  if (record.lease_deadline) j["lease_deadline"] = *record.lease_deadline;
  if (record.finished_at) j["finished_at"] = *record.finished_at;
  // `snapshot` sorts after every other key: the frame's text goes in last, as encoded.
  std::string text = encode_json(j);
  text.pop_back();
  text += j.empty() ? "\"snapshot\":" : ",\"snapshot\":";
  text += encode(ServerFrame{record.snapshot});
  text += '}';
  return text;
}

Result<StoredRecord> decode_stored(std::string_view text) {
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return corrupt("stored record is not a JSON object");
  const auto snapshot_it = j.find("snapshot");
  if (snapshot_it == j.end()) return corrupt("stored record has no snapshot");
  auto frame = decode_server_frame(snapshot_it->dump());
  if (!frame) return corrupt("stored snapshot: " + frame.error().message);
  auto* snapshot = std::get_if<Snapshot>(&frame.value());
  if (snapshot == nullptr) return corrupt("stored snapshot is not a snapshot frame");
  StoredRecord record;
  record.snapshot = std::move(*snapshot);
  record.result = read_json(j, "result");
  record.error = read_json(j, "error");
  if (!read_int(j, "lease_ms", record.lease_ms) || !read_int(j, "lease_deadline", record.lease_deadline) ||
      !read_int(j, "finished_at", record.finished_at)) {
    return corrupt("stored record has a non-integer lease_ms, lease_deadline or finished_at");
  }
  if (is_terminal(record.snapshot.state) != record.finished_at.has_value()) {
    return corrupt("stored record " + record.snapshot.process_id + ": finished_at does not match its state");
  }
  return record;
}

}  // namespace progress
