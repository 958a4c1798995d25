// Frames the server sends (hello, snapshot, progress, pending, error, ping, pong, ack, health),
// which the client session decodes natively and in the wasm module, from the members frame_fields
// reads in one pass. Fields a newer server adds are ignored.
#include <array>
#include <forward_list>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "frame_fields.hpp"
#include "progress/codec.hpp"

namespace progress::server_decoding {

using namespace frame_fields;

enum Field : std::size_t {
  kType, kProcessId, kEpoch, kSeq, kState, kStage, kPercent, kMessage, kUpdatedAt, kStages, kTs,
  kProtocol, kHeartbeatMs, kServer, kCode, kId, kReason, kConnections, kProcesses, kUptimeS, kFieldCount
};
constexpr std::array<std::string_view, kFieldCount> kNames{
    "type", "process_id", "epoch", "seq", "state", "stage", "percent", "message", "updated_at", "stages", "ts",
    "protocol", "heartbeat_ms", "server", "code", "id", "reason", "connections", "processes", "uptime_s"};
constexpr MemberTable kTable{kNames};

struct ServerMembers {
  std::array<Token, kFieldCount> slots{};
  FrameMembers members{slots};
  const Token& operator[](Field f) const { return slots[f]; }
};

std::string string_field(const ServerMembers& f, Field field, const char* what, const char* expected = "a string") {
  return std::string(as_string(require(f[field], what, kNames[field].data(), expected), what, kNames[field].data()));
}

std::int64_t int_field(const ServerMembers& f, Field field, const char* what) {
  return as_int(require(f[field], what, kNames[field].data(), "an integer"), what, kNames[field].data());
}

std::uint64_t unsigned_field(const ServerMembers& f, Field field, const char* what) {
  return as_unsigned(require(f[field], what, kNames[field].data(), "a non-negative integer"), what,
                     kNames[field].data());
}

// A stage span's fields: `stages` was checked as JSON with the frame and is read again from its text.
enum StageField : std::size_t { kName, kStartedAt, kEndedAt, kStageFieldCount };
constexpr std::array<std::string_view, kStageFieldCount> kStageNames{"name", "started_at", "ended_at"};

std::vector<StageSpan> decode_stages(const Token& t, const char* what) {
  if (t.type != Token::Type::array) wrong_type(what, "stages", "an array");
  json_scan::Scanner scanner(t.text, false);
  scanner.open_array();
  std::vector<StageSpan> stages;
  bool first = true;
  while (scanner.next_element(first)) {
    if (!scanner.open_object()) wrong_type(what, "stages", "an array of {name, started_at, ended_at?} objects");
    std::array<Token, kStageFieldCount> item{};
    std::forward_list<std::string> decoded;
    bool first_member = true;
    std::string_view key;
    std::string scratch;
    while (scanner.next_member(first_member, key, scratch)) {
      std::size_t slot = 0;
      while (slot < kStageFieldCount && kStageNames[slot] != key) ++slot;
      if (slot == kStageFieldCount) {
        scanner.skip_value(key);
        continue;
      }
      item[slot] = Token{};
      scanner.read_token(item[slot], decoded, key);
    }
    StageSpan span;
    span.name = std::string(as_string(require(item[kName], "a stage", "name", "a string"), "a stage", "name"));
    span.started_at =
        as_int(require(item[kStartedAt], "a stage", "started_at", "an integer"), "a stage", "started_at");
    span.ended_at = opt_int(item[kEndedAt], "a stage", "ended_at");
    stages.push_back(std::move(span));
  }
  return stages;
}

// The fields snapshot and progress share.
void read_view(ServerMembers& f, const char* what, ProcessFields& v) {
  v.process_id = read_process_id(f[kProcessId], what);
  v.epoch = string_field(f, kEpoch, what);
  v.seq = unsigned_field(f, kSeq, what);
  const std::string_view state = as_string(require(f[kState], what, "state", "a string"), what, "state");
  const auto known = state_from_string(state);
  if (!known) wrong_type(what, "state", "one of pending, running, completed, failed, cancelled");
  v.state = *known;
  v.stage = string_field(f, kStage, what);
  v.percent = as_number(require(f[kPercent], what, "percent", "a number"), what, "percent");
  v.message = string_field(f, kMessage, what);
  if (!f.members.data) fail(ErrorCode::bad_frame, std::string(what) + " needs `data` (an object)");
  if (!f.members.data->is_object()) wrong_type(what, "data", "an object");
  v.data = std::move(*f.members.data);
  v.result = std::move(f.members.result);
  v.error = std::move(f.members.error);
}

Error decode_error(const ServerMembers& f) {
  Error e;
  const auto code = error_code_from_string(string_field(f, kCode, "error"));
  if (!code) wrong_type("error", "code", "a known error code");
  e.code = *code;
  e.message = string_field(f, kMessage, "error");
  // Not validated: an invalid_process_id error echoes the invalid id.
  e.process_id = opt_string(f[kProcessId], "error", "process_id");
  e.id = opt_string(f[kId], "error", "id");
  // A reason this version does not know reads as none: the client then treats it as final.
  if (const auto reason = opt_string(f[kReason], "error", "reason")) e.reason = refusal_reason_from_string(*reason);
  return e;
}

ServerFrame decode_server(ServerMembers& f) {
  const std::string_view type = type_of(f[kType]);
  if (type == "progress") {
    ProgressEvent p;
    read_view(f, "progress", p);
    p.ts = int_field(f, kTs, "progress");
    return p;
  }
  if (type == "snapshot") {
    Snapshot s;
    read_view(f, "snapshot", s);
    s.updated_at = int_field(f, kUpdatedAt, "snapshot");
    s.stages = decode_stages(require(f[kStages], "snapshot", "stages", "an array"), "snapshot");
    return s;
  }
  if (type == "hello") {
    Hello h;
    const std::int64_t protocol = int_field(f, kProtocol, "hello");
    if (protocol < std::numeric_limits<int>::min() || protocol > std::numeric_limits<int>::max()) {
      wrong_type("hello", "protocol", "a small integer");
    }
    h.protocol = static_cast<int>(protocol);
    h.heartbeat_ms = int_field(f, kHeartbeatMs, "hello");
    h.server = opt_string(f[kServer], "hello", "server").value_or("");
    return h;
  }
  if (type == "pending") return Pending{read_process_id(f[kProcessId], "pending")};
  if (type == "error") return decode_error(f);
  if (type == "ping") return Ping{opt_int(f[kTs], "ping", "ts")};
  if (type == "pong") return Pong{opt_int(f[kTs], "pong", "ts")};
  if (type == "ack") {
    Ack a;
    a.id = string_field(f, kId, "ack");
    a.process_id = read_process_id(f[kProcessId], "ack");
    a.seq = unsigned_field(f, kSeq, "ack");
    return a;
  }
  if (type == "health") {
    Health h;
    h.connections = unsigned_field(f, kConnections, "health");
    h.processes = unsigned_field(f, kProcesses, "health");
    h.uptime_s = int_field(f, kUptimeS, "health");
    return h;
  }
  unknown_type(type, "a server frame");
}

}  // namespace progress::server_decoding

namespace progress {

Result<ServerFrame> decode_server_frame(std::string_view text) {
  try {
    server_decoding::ServerMembers f;
    frame_fields::read_frame(text, false, server_decoding::kTable, f.members);
    return server_decoding::decode_server(f);
  } catch (const json_scan::FrameError& e) {
    return e.error;
  }
}

}  // namespace progress
