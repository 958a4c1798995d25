// Frames producers and subscribers send (subscribe, unsubscribe, ping, pong, publish) and the HTTP
// progress body, decoded from the members frame_fields reads in one pass.
#include <array>
#include <string>
#include <utility>

#include "frame_fields.hpp"
#include "progress/codec.hpp"
#include "progress/limits.hpp"

namespace progress::client_decoding {

using namespace frame_fields;

// A publish's fields first (with `data`, `result` and `error`, which are user JSON and have no
// slot): a publish refuses every other key, since a misspelt one (`progress`) would otherwise
// answer 200 and change nothing. The other frames ignore keys they do not know.
enum Field : std::size_t {
  kType, kId, kProcessId, kState, kStage, kPercent, kMessage, kLeaseMs, kIdempotencyKey,
  kAfterSeq, kEpoch, kToken, kTs, kFieldCount
};
constexpr std::array<std::string_view, kFieldCount> kNames{
    "type", "id", "process_id", "state", "stage", "percent", "message", "lease_ms", "idempotency_key",
    "after_seq", "epoch", "token", "ts"};
constexpr MemberTable kTable{kNames, true, kIdempotencyKey + 1};
constexpr const char* kAcceptedPublishFields =
    "accepted fields: id, process_id, state, stage, percent, message, data, result, error, lease_ms, "
    "idempotency_key";
constexpr std::size_t kMaxEchoedFieldLength = 64;

struct ClientMembers {
  std::array<Token, kFieldCount> slots{};
  FrameMembers members{slots};
  const Token& operator[](Field f) const { return slots[f]; }
};

// The field a near-miss name meant, or empty.
std::string_view meant_field(std::string_view key) {
  if (key == "progress" || key == "percentage") return "percent";
  if (key == "status") return "state";
  return {};
}

void refuse_unknown_field(const ClientMembers& f, const char* what) {
  if (!f.members.unknown) return;
  const std::string& key = *f.members.unknown;
  std::string message = "unknown field `" + first_chars(key, kMaxEchoedFieldLength) + "` in " + what;
  if (const auto meant = meant_field(key); !meant.empty()) message += ": use `" + std::string(meant) + "`";
  fail(ErrorCode::invalid_update, message + "; " + kAcceptedPublishFields);
}

// User JSON of a publish: null means absent.
std::optional<Json> take_set(std::optional<Json>& value) {
  if (!value || value->is_null()) return std::nullopt;
  return std::move(value);
}

// Fields of a publish frame / HTTP body. The caller has already read `id` and `process_id`, and
// attaches them to any error thrown from here.
void read_publish_fields(ClientMembers& f, const char* what, Publish& p) {
  refuse_unknown_field(f, what);
  if (const Token& v = f[kState]; set(v)) {
    auto state = state_from_string(as_string(v, what, "state"));
    if (!state) fail(ErrorCode::invalid_update, "`state` must be one of running, completed, failed, cancelled");
    p.state = *state;
  }
  if (set(f[kStage])) p.stage = std::string(as_string(f[kStage], what, "stage"));
  if (set(f[kPercent])) p.percent = as_number(f[kPercent], what, "percent");
  if (set(f[kMessage])) p.message = std::string(as_string(f[kMessage], what, "message"));
  p.data = take_set(f.members.data);
  p.result = take_set(f.members.result);
  p.error = take_set(f.members.error);
  if (set(f[kIdempotencyKey])) p.idempotency_key = std::string(as_string(f[kIdempotencyKey], what, "idempotency_key"));
  if (const Token& v = f[kLeaseMs]; set(v)) {
    if (v.type != Token::Type::number || v.number.kind == json_scan::Number::Kind::floating) {
      wrong_type(what, "lease_ms", "an integer");
    }
    if (v.number.kind == json_scan::Number::Kind::unsigned_int &&
        v.number.u > static_cast<std::uint64_t>(limits::kMaxLeaseMs)) {
      fail(ErrorCode::invalid_update, "`lease_ms` must be between 0 and " + std::to_string(limits::kMaxLeaseMs));
    }
    p.lease_ms = as_int(v, what, "lease_ms");
  }
}

// `id` first: every later error answers the publish, so it carries the id once that is known good.
Publish decode_publish(ClientMembers& f, const char* what, std::optional<std::string_view> path_id) {
  Publish p;
  if (set(f[kId])) {
    const std::string_view id = as_string(f[kId], what, "id");
    if (char_count(id) > limits::kMaxPublishIdLength) {
      fail(ErrorCode::invalid_update, "`id` must be at most 128 characters");
    }
    p.id = std::string(id);
  }
  try {
    if (path_id) {
      if (!is_valid_process_id(*path_id)) throw FrameError{invalid_process_id_error(*path_id)};
      p.process_id = std::string(*path_id);
      if (set(f[kProcessId])) {
        const std::string_view body_id = as_string(f[kProcessId], what, "process_id");
        if (body_id != *path_id) {
          Error e = invalid_process_id_error(body_id);
          e.message = "`process_id` in the body must equal the process id in the path";
          throw FrameError{std::move(e)};
        }
      }
    } else {
      p.process_id = read_process_id(f[kProcessId], what);
    }
    try {
      read_publish_fields(f, what, p);
    } catch (FrameError& e) {
      e.error.process_id = p.process_id;
      throw;
    }
  } catch (FrameError& e) {
    e.error.id = p.id;
    throw;
  }
  const bool data_fits = f.members.data_within_text && f.members.data_text_bytes <= limits::kMaxDataBytes;
  if (auto error = validate_publish(p, data_fits)) throw FrameError{std::move(*error)};
  return p;
}

Subscribe decode_subscribe(const ClientMembers& f) {
  Subscribe s;
  s.process_id = read_process_id(f[kProcessId], "subscribe");
  try {
    if (present(f[kAfterSeq])) s.after_seq = as_unsigned(f[kAfterSeq], "subscribe", "after_seq");
    s.epoch = opt_string(f[kEpoch], "subscribe", "epoch");
    if (s.epoch && char_count(*s.epoch) > limits::kMaxEpochLength) {
      fail(ErrorCode::bad_frame, "`epoch` in subscribe must be at most 64 characters");
    }
    s.token = opt_string(f[kToken], "subscribe", "token");
  } catch (FrameError& e) {
    e.error.process_id = s.process_id;  // lets the client tie the error to its watch
    throw;
  }
  return s;
}

ClientFrame decode_client(ClientMembers& f) {
  const std::string_view type = type_of(f[kType]);
  if (type == "publish") return decode_publish(f, "publish", std::nullopt);
  if (type == "subscribe") return decode_subscribe(f);
  if (type == "unsubscribe") return Unsubscribe{read_process_id(f[kProcessId], "unsubscribe")};
  if (type == "ping") return Ping{opt_int(f[kTs], "ping", "ts")};
  if (type == "pong") return Pong{opt_int(f[kTs], "pong", "ts")};
  unknown_type(type, "a client frame (expected subscribe, unsubscribe, ping, pong or publish)");
}

}  // namespace progress::client_decoding

namespace progress {

// Producer rules: a non-finite number is an invalid update rather than a syntax error, so the
// producer learns what to change.
Result<ClientFrame> decode_client_frame(std::string_view text) {
  try {
    client_decoding::ClientMembers f;
    frame_fields::read_frame(text, true, client_decoding::kTable, f.members);
    return client_decoding::decode_client(f);
  } catch (const json_scan::FrameError& e) {
    return e.error;
  }
}

Result<Publish> decode_publish_body(std::string_view text, std::string_view path_id) {
  try {
    client_decoding::ClientMembers f;
    frame_fields::read_frame(text, true, client_decoding::kTable, f.members);
    if (const json_scan::Token& type = f[client_decoding::kType];
        frame_fields::set(type) && !(type.type == json_scan::Token::Type::string && type.text == "publish")) {
      json_scan::fail(ErrorCode::bad_frame, "a progress body is a publish frame: `type` may only be \"publish\"");
    }
    return client_decoding::decode_publish(f, "publish body", path_id);
  } catch (const json_scan::FrameError& e) {
    return e.error;
  }
}

}  // namespace progress
