#pragma once
// Protocol v1: one struct per frame. Server -> client: Hello, Snapshot, ProgressEvent, Pending,
// Error, Ping, Pong, Ack, Health. Client/producer -> server: Subscribe, Unsubscribe, Ping, Pong,
// Publish. The wire form of each is described in docs/protocol.md; codec.hpp converts.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "progress/shared_value.hpp"
#include "progress/time.hpp"

namespace progress {

using Json = nlohmann::json;
using Seq = std::uint64_t;
using SharedString = SharedValue<std::string>;
using SharedJson = SharedValue<Json>;

enum class ErrorCode {
  invalid_process_id,
  bad_frame,
  unknown_type,
  not_found,
  unauthorized,
  rate_limited,
  too_large,
  process_finished,
  invalid_update,
  unavailable,
};

std::string_view to_string(ErrorCode code) noexcept;
std::optional<ErrorCode> error_code_from_string(std::string_view text) noexcept;
// The HTTP status that carries this code in a JSON error body (400, 401, 404, 409, 413, 429, 503).
int http_status(ErrorCode code) noexcept;

// Why a subscription token was refused: the `reason` of its `unauthorized` error, so a client
// knows whether a fresh token can help (only `expired`).
enum class RefusalReason { missing, bad_signature, wrong_process, expired };

std::string_view to_string(RefusalReason reason) noexcept;
std::optional<RefusalReason> refusal_reason_from_string(std::string_view text) noexcept;

struct TokenRefusal {
  RefusalReason reason = RefusalReason::bad_signature;
  std::string message;
};

enum class State { pending, running, completed, failed, cancelled };

std::string_view to_string(State state) noexcept;
std::optional<State> state_from_string(std::string_view text) noexcept;
constexpr bool is_terminal(State s) noexcept {
  return s == State::completed || s == State::failed || s == State::cancelled;
}

// ^[A-Za-z0-9._:-]{1,128}$ without std::regex (kept out of the wasm build for size), and not an
// unset value (is_unset_value_id).
bool is_valid_process_id(std::string_view id) noexcept;

// What a client sends when it built the id from a variable that was never set: `undefined`,
// `null`, `NaN`, `None`, `[object Object]` (exact, case-sensitive) and the empty string.
bool is_unset_value_id(std::string_view id) noexcept;

struct StageSpan {
  std::string name;
  Millis started_at = 0;
  std::optional<Millis> ended_at;
  bool operator==(const StageSpan&) const = default;
};

// ---- server -> client -------------------------------------------------------------------

struct Hello {
  int protocol = 1;
  std::int64_t heartbeat_ms = 0;
  std::string server;
  bool operator==(const Hello&) const = default;
};

// The process view, declared once and embedded (as a base) in the snapshot and progress frames,
// the record (ProcessRecord, StoredRecord: SQLite, Redis) and the client's ProcessView. A new field
// goes here, in write_process (codec_encode.cpp), read_view (decode_server.cpp), write_view
// (client_json.cpp) and the vectors; a publish setting it adds a Publish field, its slot and
// reader in decode_client.cpp and a rule in ProcessRecord::apply.
struct ProcessFields {
  std::string process_id;
  std::string epoch;
  Seq seq = 0;
  State state = State::pending;
  std::string stage;
  double percent = 0;
  // Shared with the event before when the publish left them unchanged, and with the record.
  SharedString message;
  SharedJson data = Json::object();
  std::optional<Json> result;  // shown once the process is terminal
  std::optional<Json> error;   // shown once the process is terminal: a string or {code, message}
  bool operator==(const ProcessFields&) const = default;
};

struct Snapshot : ProcessFields {
  Millis updated_at = 0;
  std::vector<StageSpan> stages;
  bool operator==(const Snapshot&) const = default;
};

struct ProgressEvent : ProcessFields {
  Millis ts = 0;
  bool operator==(const ProgressEvent&) const = default;
};

struct Pending {
  std::string process_id;
  bool operator==(const Pending&) const = default;
};

// Both the `error` frame and the error half of every fallible core call.
struct Error {
  ErrorCode code = ErrorCode::bad_frame;
  std::string message;
  std::optional<std::string> process_id;
  std::optional<std::string> id;  // the publish `id` this error answers
  std::optional<RefusalReason> reason = std::nullopt;  // why a subscription token was refused
  bool operator==(const Error&) const = default;
};

// The one `invalid_process_id` error for an id that failed is_valid_process_id: the message names
// an unset value when it is one, else the grammar; the id is echoed cut to 128 characters.
Error invalid_process_id_error(std::string_view id);

// The first `max_chars` code points of `text`, never splitting a UTF-8 sequence (ids and names
// echoed in error messages).
std::string first_chars(std::string_view text, std::size_t max_chars);

struct Ping {
  std::optional<std::int64_t> ts;
  bool operator==(const Ping&) const = default;
};

struct Pong {
  std::optional<std::int64_t> ts;
  bool operator==(const Pong&) const = default;
};

struct Ack {
  std::string id;
  std::string process_id;
  Seq seq = 0;
  bool operator==(const Ack&) const = default;
};

struct Health {
  std::uint64_t connections = 0;
  std::uint64_t processes = 0;
  std::int64_t uptime_s = 0;
  bool operator==(const Health&) const = default;
};

// ---- client / producer -> server ----------------------------------------------------------

struct Subscribe {
  std::string process_id;
  std::optional<Seq> after_seq;
  std::optional<std::string> epoch;
  std::optional<std::string> token;
  bool operator==(const Subscribe&) const = default;
};

struct Unsubscribe {
  std::string process_id;
  bool operator==(const Unsubscribe&) const = default;
};

struct Publish {
  std::optional<std::string> id;
  std::string process_id;
  std::optional<State> state;
  std::optional<std::string> stage;
  std::optional<double> percent;
  std::optional<std::string> message;
  std::optional<Json> data;    // object, at most limits::kMaxDataBytes serialized
  std::optional<Json> result;  // any JSON, terminal publishes
  std::optional<Json> error;   // string or object, terminal publishes
  std::optional<std::int64_t> lease_ms;
  // A retry of the same update carries the same key; the hub applies it once (idempotency.hpp).
  std::optional<std::string> idempotency_key;
  bool operator==(const Publish&) const = default;
};

using ServerFrame = std::variant<Hello, Snapshot, ProgressEvent, Pending, Error, Ping, Pong, Ack, Health>;
using ClientFrame = std::variant<Subscribe, Unsubscribe, Ping, Pong, Publish>;

// Value or protocol error; decoding and every fallible core call return this, never throw.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  // Builds T in place from one of its alternatives (T a variant): no moved-from T temporary, which
  // g++ 12 -O3 otherwise flags as maybe-uninitialized when T holds a vector.
  template <class U>
    requires(!std::is_same_v<std::decay_t<U>, T> && !std::is_same_v<std::decay_t<U>, Error> &&
             std::is_constructible_v<T, U &&>)
  Result(U&& alternative) : v_(std::in_place_index<0>, std::forward<U>(alternative)) {}  // NOLINT
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace progress
