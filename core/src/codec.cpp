// Decoding is strict: each field has one JSON type, a wrong type is `bad_frame` naming the field,
// so a producer bug shows up as a clear error frame instead of a half-applied update. Helpers
// throw FrameError internally; every public entry point catches it (and nlohmann's exceptions)
// and returns a Result, so nothing escapes the API.
#include "progress/codec.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <utility>

#include "codec_fast.hpp"
#include "progress/idempotency.hpp"
#include "progress/limits.hpp"

namespace progress {
namespace {

// A frame nested deeper than this is refused before parsing: nlohmann's dump() recurses per
// level, and no frame of the protocol needs more than a few levels (data/result are user JSON).
using codec_fast::kMaxNestingDepth;
// Unknown `type` values are echoed in the message, cut to this many characters.
constexpr std::size_t kMaxEchoedTypeLength = 64;

struct FrameError {
  Error error;
};

[[noreturn]] void fail(ErrorCode code, std::string message) {
  throw FrameError{Error{code, std::move(message), std::nullopt, std::nullopt}};
}

// Length in Unicode code points: the limits are stated in characters, and the parser has already
// rejected invalid UTF-8, so counting non-continuation bytes is exact.
std::size_t char_count(std::string_view text) noexcept {
  std::size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}


// Invalid UTF-8 can only come from strings set in C++ (a file name, say); replacing it keeps
// encoding total instead of throwing from the middle of a send.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

int nesting_depth(std::string_view text) noexcept {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) max_depth = depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return max_depth;
}

// After a parse failure: the NaN, Infinity or -Infinity that Python's json module writes for a
// float that is not finite, with the key it stands after when there is one.
struct NonFinite {
  std::string_view token;
  std::string_view key;
};

std::optional<NonFinite> non_finite_number(std::string_view text) noexcept {
  std::string_view last_string;
  std::size_t string_start = 0;
  bool in_string = false;
  bool escaped = false;
  char last_token = 0;  // the last character outside strings that is not whitespace
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
        last_string = text.substr(string_start, i - string_start);
        last_token = '"';
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      string_start = i + 1;
      continue;
    }
    for (std::string_view token : {"NaN", "Infinity", "-Infinity"}) {
      if (text.substr(i, token.size()) == token) {
        return NonFinite{token, last_token == ':' ? last_string : std::string_view{}};
      }
    }
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') last_token = c;
  }
  return std::nullopt;
}

// `publish_rules`: a client frame or publish body, where a non-finite number is an invalid update
// rather than a syntax error, so the producer learns what to change.
Json parse_object(std::string_view text, bool publish_rules = false) {
  if (nesting_depth(text) > kMaxNestingDepth) {
    fail(ErrorCode::bad_frame, "frame nests deeper than " + std::to_string(kMaxNestingDepth) + " levels");
  }
  Json j;
  try {
    j = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    if (publish_rules) {
      if (auto bad = non_finite_number(text)) {
        const std::string what = bad->key.empty() ? std::string("a number") : "`" + std::string(bad->key) + "`";
        fail(ErrorCode::invalid_update, what + " is " + std::string(bad->token) +
                                            ": numbers must be finite (JSON has no NaN or Infinity; leave the field "
                                            "out or send null)");
      }
    }
    fail(ErrorCode::bad_frame,
         "frame is not valid JSON (syntax error at byte " + std::to_string(e.byte) + ")");
  } catch (const Json::out_of_range&) {
    fail(ErrorCode::bad_frame, "frame holds a number too large for a 64-bit float");
  }
  if (!j.is_object()) fail(ErrorCode::bad_frame, "a frame must be a JSON object");
  return j;
}

// ---- field readers: `what` names the frame in messages ("subscribe", "publish body") ----------

const Json* find(const Json& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

// An optional publish field: JSON null means absent (Python's None, JavaScript's null).
const Json* find_set(const Json& o, const char* key) {
  const Json* v = find(o, key);
  return v == nullptr || v->is_null() ? nullptr : v;
}

[[noreturn]] void wrong_type(const char* what, const char* key, const char* expected) {
  fail(ErrorCode::bad_frame, std::string("`") + key + "` in " + what + " must be " + expected);
}

const Json& require(const Json& o, const char* what, const char* key, const char* expected) {
  const Json* v = find(o, key);
  if (v == nullptr) fail(ErrorCode::bad_frame, std::string(what) + " needs `" + key + "` (" + expected + ")");
  return *v;
}

std::string as_string(const Json& v, const char* what, const char* key) {
  if (!v.is_string()) wrong_type(what, key, "a string");
  return v.get<std::string>();
}

std::int64_t as_int(const Json& v, const char* what, const char* key) {
  if (!v.is_number_integer()) wrong_type(what, key, "an integer");
  if (v.is_number_unsigned() &&
      v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    wrong_type(what, key, "an integer that fits in 64 signed bits");
  }
  return v.get<std::int64_t>();
}

std::uint64_t as_unsigned(const Json& v, const char* what, const char* key) {
  if (!v.is_number_unsigned()) wrong_type(what, key, "a non-negative integer");
  return v.get<std::uint64_t>();
}

double as_number(const Json& v, const char* what, const char* key) {
  if (!v.is_number()) wrong_type(what, key, "a number");
  return v.get<double>() + 0.0;  // + 0.0 turns -0 into 0 so it encodes as 0
}

State as_state(const Json& v, const char* what) {
  auto state = state_from_string(as_string(v, what, "state"));
  if (!state) wrong_type(what, "state", "one of pending, running, completed, failed, cancelled");
  return *state;
}

Json as_object(const Json& v, const char* what, const char* key) {
  if (!v.is_object()) wrong_type(what, key, "an object");
  return v;
}

std::optional<std::string> opt_string(const Json& o, const char* what, const char* key) {
  const Json* v = find(o, key);
  if (v == nullptr) return std::nullopt;
  return as_string(*v, what, key);
}

std::optional<std::int64_t> opt_int(const Json& o, const char* what, const char* key) {
  const Json* v = find(o, key);
  if (v == nullptr) return std::nullopt;
  return as_int(*v, what, key);
}

std::optional<Json> opt_any(const Json& o, const char* key) {
  const Json* v = find(o, key);
  if (v == nullptr) return std::nullopt;
  return *v;
}

Error invalid_id_error(std::string_view id) { return invalid_process_id_error(id); }

std::string read_process_id(const Json& o, const char* what) {
  std::string id = as_string(require(o, what, "process_id", "a string"), what, "process_id");
  if (!is_valid_process_id(id)) throw FrameError{invalid_id_error(id)};
  return id;
}

// ---- client / producer frames -----------------------------------------------------------------

Subscribe decode_subscribe(const Json& o) {
  Subscribe s;
  s.process_id = read_process_id(o, "subscribe");
  try {
    if (const Json* v = find(o, "after_seq")) s.after_seq = as_unsigned(*v, "subscribe", "after_seq");
    s.epoch = opt_string(o, "subscribe", "epoch");
    if (s.epoch && char_count(*s.epoch) > limits::kMaxEpochLength) {
      fail(ErrorCode::bad_frame, "`epoch` in subscribe must be at most 64 characters");
    }
    s.token = opt_string(o, "subscribe", "token");
  } catch (FrameError& e) {
    e.error.process_id = s.process_id;  // lets the client tie the error to its watch
    throw;
  }
  return s;
}

Unsubscribe decode_unsubscribe(const Json& o) { return Unsubscribe{read_process_id(o, "unsubscribe")}; }

// Publishes are strict: a field the protocol does not define is refused rather than ignored, since
// a misspelt one (`progress`) would otherwise answer 200 and change nothing.
constexpr std::string_view kPublishFields[] = {"type",  "id",     "process_id", "state",   "stage",
                                               "percent", "message", "data", "result", "error",
                                               "lease_ms", "idempotency_key"};
constexpr const char* kAcceptedPublishFields =
    "accepted fields: id, process_id, state, stage, percent, message, data, result, error, lease_ms, "
    "idempotency_key";

// The field a near-miss name meant, or empty.
std::string_view meant_field(std::string_view key) {
  if (key == "progress" || key == "percentage") return "percent";
  if (key == "status") return "state";
  return {};
}

void refuse_unknown_fields(const Json& o, const char* what) {
  for (const auto& item : o.items()) {
    const std::string& key = item.key();
    if (std::find(std::begin(kPublishFields), std::end(kPublishFields), key) != std::end(kPublishFields)) continue;
    std::string message = "unknown field `" + first_chars(key, kMaxEchoedTypeLength) + "` in " + what;
    if (const auto meant = meant_field(key); !meant.empty()) message += ": use `" + std::string(meant) + "`";
    fail(ErrorCode::invalid_update, message + "; " + kAcceptedPublishFields);
  }
}

// Fields of a publish frame / HTTP body. `what` names it in messages. The caller has already
// read `id` and `process_id`, and attaches them to any error thrown from here.
void read_publish_fields(const Json& o, const char* what, Publish& p) {
  refuse_unknown_fields(o, what);
  if (const Json* v = find_set(o, "state")) {
    if (!v->is_string()) wrong_type(what, "state", "a string");
    auto state = state_from_string(v->get<std::string>());
    if (!state)
      fail(ErrorCode::invalid_update, "`state` must be one of running, completed, failed, cancelled");
    p.state = *state;
  }
  if (const Json* v = find_set(o, "stage")) p.stage = as_string(*v, what, "stage");
  if (const Json* v = find_set(o, "percent")) p.percent = as_number(*v, what, "percent");
  if (const Json* v = find_set(o, "message")) p.message = as_string(*v, what, "message");
  if (const Json* v = find_set(o, "data")) p.data = *v;
  if (const Json* v = find_set(o, "result")) p.result = *v;
  if (const Json* v = find_set(o, "error")) p.error = *v;
  if (const Json* v = find_set(o, "idempotency_key")) p.idempotency_key = as_string(*v, what, "idempotency_key");
  if (const Json* v = find_set(o, "lease_ms")) {
    if (!v->is_number_integer()) wrong_type(what, "lease_ms", "an integer");
    if (v->is_number_unsigned() &&
        v->get<std::uint64_t>() > static_cast<std::uint64_t>(limits::kMaxLeaseMs)) {
      fail(ErrorCode::invalid_update,
           "`lease_ms` must be between 0 and " + std::to_string(limits::kMaxLeaseMs));
    }
    p.lease_ms = v->get<std::int64_t>();
  }
}

// `id` first: every later error answers the publish, so it carries the id once that is known good.
Publish decode_publish(const Json& o, const char* what, std::optional<std::string_view> path_id) {
  Publish p;
  if (const Json* v = find_set(o, "id")) {
    std::string id = as_string(*v, what, "id");
    if (char_count(id) > limits::kMaxPublishIdLength) {
      fail(ErrorCode::invalid_update, "`id` must be at most 128 characters");
    }
    p.id = std::move(id);
  }
  try {
    if (path_id) {
      if (!is_valid_process_id(*path_id)) throw FrameError{invalid_id_error(*path_id)};
      p.process_id = std::string(*path_id);
      if (const Json* v = find_set(o, "process_id")) {
        if (as_string(*v, what, "process_id") != *path_id) {
          Error e = invalid_id_error(v->get<std::string>());
          e.message = "`process_id` in the body must equal the process id in the path";
          throw FrameError{std::move(e)};
        }
      }
    } else {
      p.process_id = read_process_id(o, what);
    }
    try {
      read_publish_fields(o, what, p);
    } catch (FrameError& e) {
      e.error.process_id = p.process_id;
      throw;
    }
  } catch (FrameError& e) {
    e.error.id = p.id;
    throw;
  }
  if (auto error = validate(p)) throw FrameError{std::move(*error)};
  return p;
}

std::string type_of(const Json& o) {
  const Json* v = find(o, "type");
  if (v == nullptr || !v->is_string()) fail(ErrorCode::bad_frame, "a frame needs a string `type`");
  return v->get<std::string>();
}

[[noreturn]] void unknown_type(const std::string& type, const char* direction) {
  fail(ErrorCode::unknown_type,
       "unknown frame type \"" + first_chars(type, kMaxEchoedTypeLength) + "\" for " + direction);
}

ClientFrame decode_client(const Json& o) {
  const std::string type = type_of(o);
  if (type == "subscribe") return decode_subscribe(o);
  if (type == "unsubscribe") return decode_unsubscribe(o);
  if (type == "ping") return Ping{opt_int(o, "ping", "ts")};
  if (type == "pong") return Pong{opt_int(o, "pong", "ts")};
  if (type == "publish") return decode_publish(o, "publish", std::nullopt);
  unknown_type(type, "a client frame (expected subscribe, unsubscribe, ping, pong or publish)");
}

// ---- server frames ----------------------------------------------------------------------------

std::vector<StageSpan> decode_stages(const Json& v, const char* what) {
  if (!v.is_array()) wrong_type(what, "stages", "an array");
  std::vector<StageSpan> stages;
  stages.reserve(v.size());
  for (const Json& item : v) {
    if (!item.is_object()) wrong_type(what, "stages", "an array of {name, started_at, ended_at?} objects");
    StageSpan span;
    span.name = as_string(require(item, "a stage", "name", "a string"), "a stage", "name");
    span.started_at = as_int(require(item, "a stage", "started_at", "an integer"), "a stage", "started_at");
    span.ended_at = opt_int(item, "a stage", "ended_at");
    stages.push_back(std::move(span));
  }
  return stages;
}

// The fields snapshot and progress share.
template <class Frame>
void read_view(const Json& o, const char* what, Frame& f) {
  f.process_id = read_process_id(o, what);
  f.epoch = as_string(require(o, what, "epoch", "a string"), what, "epoch");
  f.seq = as_unsigned(require(o, what, "seq", "a non-negative integer"), what, "seq");
  f.state = as_state(require(o, what, "state", "a string"), what);
  f.stage = as_string(require(o, what, "stage", "a string"), what, "stage");
  f.percent = as_number(require(o, what, "percent", "a number"), what, "percent");
  f.message = as_string(require(o, what, "message", "a string"), what, "message");
  f.data = as_object(require(o, what, "data", "an object"), what, "data");
  f.result = opt_any(o, "result");
  f.error = opt_any(o, "error");
}

ServerFrame decode_server(const Json& o) {
  const std::string type = type_of(o);
  if (type == "hello") {
    Hello h;
    std::int64_t protocol = as_int(require(o, "hello", "protocol", "an integer"), "hello", "protocol");
    if (protocol < std::numeric_limits<int>::min() || protocol > std::numeric_limits<int>::max())
      wrong_type("hello", "protocol", "a small integer");
    h.protocol = static_cast<int>(protocol);
    h.heartbeat_ms = as_int(require(o, "hello", "heartbeat_ms", "an integer"), "hello", "heartbeat_ms");
    h.server = opt_string(o, "hello", "server").value_or("");
    return h;
  }
  if (type == "snapshot") {
    Snapshot s;
    read_view(o, "snapshot", s);
    s.updated_at = as_int(require(o, "snapshot", "updated_at", "an integer"), "snapshot", "updated_at");
    s.stages = decode_stages(require(o, "snapshot", "stages", "an array"), "snapshot");
    return s;
  }
  if (type == "progress") {
    ProgressEvent p;
    read_view(o, "progress", p);
    p.ts = as_int(require(o, "progress", "ts", "an integer"), "progress", "ts");
    return p;
  }
  if (type == "pending") return Pending{read_process_id(o, "pending")};
  if (type == "error") {
    Error e;
    auto code = error_code_from_string(as_string(require(o, "error", "code", "a string"), "error", "code"));
    if (!code) wrong_type("error", "code", "a known error code");
    e.code = *code;
    e.message = as_string(require(o, "error", "message", "a string"), "error", "message");
    // Not validated: an invalid_process_id error echoes the invalid id.
    e.process_id = opt_string(o, "error", "process_id");
    e.id = opt_string(o, "error", "id");
    // A reason this version does not know reads as none: the client then treats it as final.
    if (const auto reason = opt_string(o, "error", "reason")) e.reason = refusal_reason_from_string(*reason);
    return e;
  }
  if (type == "ping") return Ping{opt_int(o, "ping", "ts")};
  if (type == "pong") return Pong{opt_int(o, "pong", "ts")};
  if (type == "ack") {
    Ack a;
    a.id = as_string(require(o, "ack", "id", "a string"), "ack", "id");
    a.process_id = read_process_id(o, "ack");
    a.seq = as_unsigned(require(o, "ack", "seq", "a non-negative integer"), "ack", "seq");
    return a;
  }
  if (type == "health") {
    Health h;
    h.connections =
        as_unsigned(require(o, "health", "connections", "a non-negative integer"), "health", "connections");
    h.processes =
        as_unsigned(require(o, "health", "processes", "a non-negative integer"), "health", "processes");
    h.uptime_s = as_int(require(o, "health", "uptime_s", "an integer"), "health", "uptime_s");
    return h;
  }
  unknown_type(type, "a server frame");
}

// Runs a decoder, turning every failure into an Error value.
template <class T, class F>
Result<T> guarded(F&& decode) {
  try {
    return T{decode()};
  } catch (const FrameError& e) {
    return e.error;
  } catch (const Json::exception& e) {
    // A field reader should have caught every type mismatch; this keeps a missed one an error frame.
    return Error{ErrorCode::bad_frame, std::string("frame could not be decoded: ") + e.what(), std::nullopt,
                 std::nullopt};
  }
}

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

// validate(), minus the serialization of `data` to measure it when the caller knows it fits.
std::optional<Error> validate_publish(const Publish& p, bool data_fits);

}  // namespace

Result<ClientFrame> decode_client_frame(std::string_view text) {
  if (auto frame = codec_fast::decode_client_frame(text)) return std::move(*frame);
  return codec_fast::decode_client_frame_full(text);
}

Result<ClientFrame> codec_fast::decode_client_frame_full(std::string_view text) {
  return guarded<ClientFrame>([&] { return decode_client(parse_object(text, true)); });
}

Result<ServerFrame> decode_server_frame(std::string_view text) {
  return guarded<ServerFrame>([&] { return decode_server(parse_object(text)); });
}

Result<Publish> decode_publish_body(std::string_view text, std::string_view path_id) {
  return guarded<Publish>([&] {
    Json o = parse_object(text, true);
    if (const Json* type = find_set(o, "type"); type != nullptr && *type != "publish") {
      fail(ErrorCode::bad_frame, "a progress body is a publish frame: `type` may only be \"publish\"");
    }
    return decode_publish(o, "publish body", path_id);
  });
}

std::optional<Error> validate(const Publish& p) { return validate_publish(p, false); }

std::optional<Error> codec_fast::validate_fitting_data(const Publish& p) { return validate_publish(p, true); }

namespace {

std::optional<Error> validate_publish(const Publish& p, bool data_fits) {
  using namespace limits;
  if (p.id && char_count(*p.id) > kMaxPublishIdLength) {
    Error e{ErrorCode::invalid_update, "`id` must be at most 128 characters", std::nullopt, std::nullopt};
    if (is_valid_process_id(p.process_id)) e.process_id = p.process_id;
    return e;
  }
  if (!is_valid_process_id(p.process_id)) {
    Error e = invalid_id_error(p.process_id);
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

}  // namespace

}  // namespace progress
