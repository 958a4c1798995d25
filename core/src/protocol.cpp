#include "progress/protocol.hpp"

#include <array>
#include <string>
#include <utility>

#include "progress/limits.hpp"

namespace progress {
namespace {

// One table per enum keeps the wire spelling, the enum and the HTTP status in a single place.
struct ErrorCodeInfo {
  ErrorCode code;
  std::string_view name;
  int status;
};

constexpr std::array<ErrorCodeInfo, 10> kErrorCodes{{
    {ErrorCode::invalid_process_id, "invalid_process_id", 400},
    {ErrorCode::bad_frame, "bad_frame", 400},
    {ErrorCode::unknown_type, "unknown_type", 400},
    {ErrorCode::not_found, "not_found", 404},
    {ErrorCode::unauthorized, "unauthorized", 401},
    {ErrorCode::rate_limited, "rate_limited", 429},
    {ErrorCode::too_large, "too_large", 413},
    {ErrorCode::process_finished, "process_finished", 409},
    {ErrorCode::invalid_update, "invalid_update", 400},
    {ErrorCode::unavailable, "unavailable", 503},
}};

constexpr std::array<std::pair<State, std::string_view>, 5> kStates{{
    {State::pending, "pending"},
    {State::running, "running"},
    {State::completed, "completed"},
    {State::failed, "failed"},
    {State::cancelled, "cancelled"},
}};

// A table rather than the ranges: every frame naming a process is checked, some twice.
constexpr std::array<bool, 256> kIdChars = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[static_cast<std::size_t>(c)] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                         c == '.' || c == '_' || c == ':' || c == '-';
  }
  return table;
}();

constexpr bool is_id_char(char c) noexcept { return kIdChars[static_cast<unsigned char>(c)]; }

// Checked before the grammar: `[object Object]` is outside it, yet deserves the clearer message.
constexpr std::array<std::string_view, 6> kUnsetValueIds{"", "undefined", "null", "NaN", "None", "[object Object]"};


}  // namespace

std::string_view to_string(RefusalReason reason) noexcept {
  switch (reason) {
    case RefusalReason::missing: return "missing";
    case RefusalReason::wrong_process: return "wrong_process";
    case RefusalReason::expired: return "expired";
    case RefusalReason::bad_signature: break;
  }
  return "bad_signature";
}

std::optional<RefusalReason> refusal_reason_from_string(std::string_view text) noexcept {
  for (const auto reason : {RefusalReason::missing, RefusalReason::bad_signature, RefusalReason::wrong_process,
                            RefusalReason::expired}) {
    if (to_string(reason) == text) return reason;
  }
  return std::nullopt;
}

std::string first_chars(std::string_view text, std::size_t max_chars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (chars == max_chars) return std::string(text.substr(0, i));
      ++chars;
    }
  }
  return std::string(text);
}

std::string_view to_string(ErrorCode code) noexcept {
  for (const auto& info : kErrorCodes) {
    if (info.code == code) return info.name;
  }
  return "bad_frame";  // unreachable for a valid enum value; keeps the function total
}

std::optional<ErrorCode> error_code_from_string(std::string_view text) noexcept {
  for (const auto& info : kErrorCodes) {
    if (info.name == text) return info.code;
  }
  return std::nullopt;
}

int http_status(ErrorCode code) noexcept {
  for (const auto& info : kErrorCodes) {
    if (info.code == code) return info.status;
  }
  return 400;
}

std::string_view to_string(State state) noexcept {
  for (const auto& [value, name] : kStates) {
    if (value == state) return name;
  }
  return "pending";
}

std::optional<State> state_from_string(std::string_view text) noexcept {
  for (const auto& [value, name] : kStates) {
    if (name == text) return value;
  }
  return std::nullopt;
}

bool is_unset_value_id(std::string_view id) noexcept {
  for (std::string_view unset : kUnsetValueIds) {
    if (id == unset) return true;
  }
  return false;
}

bool is_valid_process_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > limits::kMaxProcessIdLength) return false;
  for (char c : id) {
    if (!is_id_char(c)) return false;
  }
  return !is_unset_value_id(id);
}

Error invalid_process_id_error(std::string_view id) {
  std::string shown = first_chars(id, limits::kMaxProcessIdLength);
  std::string message =
      is_unset_value_id(id)
          ? "process id \"" + shown +
                "\" is not an id: the client passed an unset value (undefined, null, NaN, None, [object Object] "
                "or an empty string)"
          : std::string("process id must be 1 to 128 characters of A-Z a-z 0-9 . _ : -");
  return Error{ErrorCode::invalid_process_id, std::move(message), std::move(shown), std::nullopt};
}

}  // namespace progress
