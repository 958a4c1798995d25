#pragma once
// A frame's own members, read in one pass (json_scan.hpp) into one slot per field its direction
// knows, and the readers that turn a slot into a typed value or a `bad_frame` naming the field.
// Decoding is strict: each field has one JSON type, so a producer bug shows up as a clear error
// frame instead of a half-applied update. Private to the core.
#include <array>
#include <cstdint>
#include <forward_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "json_scan.hpp"
#include "progress/protocol.hpp"

namespace progress::frame_fields {

using json_scan::fail;
using json_scan::FrameError;
using json_scan::Token;

// The fields a direction reads, one slot each. `data`, `result` and `error` are user JSON in both
// directions and have no slot: they are built as Json. Any other key is dropped once checked, or,
// when `strict`, the least such key (byte order) outside names[0, strict_fields) is remembered.
struct MemberTable {
  std::span<const std::string_view> names;
  bool strict = false;
  std::size_t strict_fields = 0;
};

struct FrameMembers {
  explicit FrameMembers(std::span<Token> slots) : tokens(slots) {}
  std::span<Token> tokens;  // parallel to the table's names
  std::optional<Json> data, result, error;  // JSON null included: what null means is the frame's call
  // Whether dump(*data) is at most `data_text_bytes` long (no float in it), so a size limit can be
  // checked on the text instead of serializing the value.
  bool data_within_text = false;
  std::size_t data_text_bytes = 0;
  std::optional<std::string> unknown;
  std::forward_list<std::string> decoded;  // the strings with escapes, which the tokens view
  const Token& operator[](std::size_t i) const { return tokens[i]; }
};

// Reads a whole frame: syntax errors, depth, non-finite numbers (invalid_update under
// `producer_rules`) and a JSON value that is not an object are thrown as FrameError.
void read_frame(std::string_view text, bool producer_rules, const MemberTable& table, FrameMembers& out);

// ---- field readers: `what` names the frame in messages ("subscribe", "publish body") ----------

inline bool present(const Token& t) noexcept { return t.type != Token::Type::absent; }
// An optional publish field: JSON null means absent (Python's None, JavaScript's null).
inline bool set(const Token& t) noexcept { return present(t) && t.type != Token::Type::null; }

[[noreturn]] void wrong_type(const char* what, const char* key, const char* expected);
const Token& require(const Token& t, const char* what, const char* key, const char* expected);
std::string_view as_string(const Token& t, const char* what, const char* key);
std::int64_t as_int(const Token& t, const char* what, const char* key);
std::uint64_t as_unsigned(const Token& t, const char* what, const char* key);
double as_number(const Token& t, const char* what, const char* key);
std::optional<std::string> opt_string(const Token& t, const char* what, const char* key);
std::optional<std::int64_t> opt_int(const Token& t, const char* what, const char* key);
// A required, valid process id; an invalid one is `invalid_process_id`.
std::string read_process_id(const Token& t, const char* what);
// The frame's `type`, which every frame needs as a string.
std::string_view type_of(const Token& t);
[[noreturn]] void unknown_type(std::string_view type, const char* direction);

// Length in Unicode code points: the limits are stated in characters, and the scanner has already
// refused invalid UTF-8, so counting non-continuation bytes is exact.
std::size_t char_count(std::string_view text) noexcept;

// validate(), which a decoded publish whose `data` is known to fit (data_within_text, text within
// the limit) passes without serializing `data` to measure it.
std::optional<Error> validate_publish(const Publish& publish, bool data_fits);

}  // namespace progress::frame_fields
