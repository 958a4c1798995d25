// The static rules of a publish (codec.hpp's validate), shared by the decoders and by callers that
// build a Publish themselves.
#include <cmath>
#include <string>

#include "frame_fields.hpp"
#include "progress/codec.hpp"
#include "progress/idempotency.hpp"
#include "progress/limits.hpp"

namespace progress {
namespace {

// Invalid UTF-8 can only come from strings set in C++; replacing it keeps measuring total.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// A stage spelt like a terminal state (ASCII case aside) means the producer wanted that state.
std::optional<State> final_state_named_by(std::string_view stage) {
  std::string lower(stage.size() <= 16 ? stage : std::string_view{});
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "completed" || lower == "complete" || lower == "done") return State::completed;
  if (lower == "failed" || lower == "error") return State::failed;
  if (lower == "cancelled") return State::cancelled;
  return std::nullopt;
}

Error update_error(const Publish& p, std::string message) {
  return Error{ErrorCode::invalid_update, std::move(message), p.process_id, p.id};
}

}  // namespace

std::optional<Error> validate(const Publish& p) { return frame_fields::validate_publish(p, false); }

std::optional<Error> frame_fields::validate_publish(const Publish& p, bool data_fits) {
  using namespace limits;
  if (p.id && char_count(*p.id) > kMaxPublishIdLength) {
    Error e{ErrorCode::invalid_update, "`id` must be at most 128 characters", std::nullopt, std::nullopt};
    if (is_valid_process_id(p.process_id)) e.process_id = p.process_id;
    return e;
  }
  if (!is_valid_process_id(p.process_id)) {
    Error e = invalid_process_id_error(p.process_id);
    e.id = p.id;
    return e;
  }
  if (p.state == State::pending) {
    return update_error(p, "`state` may not be pending: use running, completed, failed or cancelled");
  }
  if (p.percent && !(std::isfinite(*p.percent) && *p.percent >= 0 && *p.percent <= 100)) {
    return update_error(p, "`percent` must be a finite number between 0 and 100");
  }
  if (p.stage && (p.stage->empty() || char_count(*p.stage) > kMaxStageLength)) {
    return update_error(p, "`stage` must be 1 to " + std::to_string(kMaxStageLength) + " characters");
  }
  if (!p.state && p.stage) {
    if (auto final_state = final_state_named_by(*p.stage)) {
      return update_error(p, "stage `" + *p.stage + "` is named like a final state: send `\"state\": \"" +
                                 std::string(to_string(*final_state)) +
                                 "\"` to end the process (a stage only names a step, and the process would "
                                 "stay running)");
    }
  }
  if (p.message && char_count(*p.message) > kMaxMessageLength) {
    return update_error(p, "`message` must be at most " + std::to_string(kMaxMessageLength) + " characters");
  }
  if (p.data) {
    if (!p.data->is_object()) return update_error(p, "`data` must be a JSON object");
    if (!data_fits && dump(*p.data).size() > kMaxDataBytes) {
      return update_error(p, "`data` must be at most " + std::to_string(kMaxDataBytes) + " bytes serialized");
    }
  }
  if (p.result && dump(*p.result).size() > kMaxResultBytes) {
    return update_error(p,
                        "`result` must be at most " + std::to_string(kMaxResultBytes) + " bytes serialized");
  }
  if (p.error) {
    if (!p.error->is_string() && !p.error->is_object()) {
      return update_error(p, "`error` must be a string or an object");
    }
    if (dump(*p.error).size() > kMaxResultBytes) {
      return update_error(p,
                          "`error` must be at most " + std::to_string(kMaxResultBytes) + " bytes serialized");
    }
  }
  if (p.lease_ms && (*p.lease_ms < 0 || *p.lease_ms > kMaxLeaseMs)) {
    return update_error(p, "`lease_ms` must be between 0 and " + std::to_string(kMaxLeaseMs));
  }
  if (p.idempotency_key && !is_valid_idempotency_key(*p.idempotency_key)) {
    return update_error(p, "`idempotency_key` must be 1 to " + std::to_string(kMaxIdempotencyKeyLength) +
                               " visible ASCII characters (no spaces)");
  }
  return std::nullopt;
}

}  // namespace progress
