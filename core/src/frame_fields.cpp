#include "frame_fields.hpp"

#include <limits>
#include <utility>

namespace progress::frame_fields {
namespace {

using json_scan::Number;
using json_scan::Scanner;

// Unknown `type` values and field names are echoed in messages, cut to this many characters.
constexpr std::size_t kMaxEchoedLength = 64;

std::optional<Json>* user_json(FrameMembers& out, std::string_view key) noexcept {
  if (key == "data") return &out.data;
  if (key == "result") return &out.result;
  if (key == "error") return &out.error;
  return nullptr;
}

std::size_t slot_of(const MemberTable& table, std::string_view key) noexcept {
  for (std::size_t i = 0; i < table.names.size(); ++i) {
    if (table.names[i] == key) return i;
  }
  return table.names.size();
}

}  // namespace

void read_frame(std::string_view text, bool producer_rules, const MemberTable& table, FrameMembers& out) {
  Scanner scanner(text, producer_rules);
  if (!scanner.open_frame()) fail(ErrorCode::bad_frame, "a frame must be a JSON object");
  bool first = true;
  std::string_view key;
  std::string scratch;
  while (scanner.next_member(first, key, scratch)) {
    if (std::optional<Json>* user = user_json(out, key)) {
      bool may_grow = false;
      const std::size_t start = scanner.position();
      scanner.read_json(user->emplace(), key, may_grow);
      if (user == &out.data) {
        out.data_within_text = !may_grow;
        out.data_text_bytes = scanner.position() - start;
      }
      continue;
    }
    const std::size_t slot = slot_of(table, key);
    if (table.strict && slot >= table.strict_fields && (!out.unknown || key < std::string_view(*out.unknown))) {
      out.unknown = std::string(key);
    }
    if (slot < table.names.size()) {
      out.tokens[slot] = Token{};
      scanner.read_token(out.tokens[slot], out.decoded, key);
    } else {
      scanner.skip_value(key);
    }
  }
  scanner.end_frame();
}

void wrong_type(const char* what, const char* key, const char* expected) {
  fail(ErrorCode::bad_frame, std::string("`") + key + "` in " + what + " must be " + expected);
}

const Token& require(const Token& t, const char* what, const char* key, const char* expected) {
  if (!present(t)) fail(ErrorCode::bad_frame, std::string(what) + " needs `" + key + "` (" + expected + ")");
  return t;
}

std::string_view as_string(const Token& t, const char* what, const char* key) {
  if (t.type != Token::Type::string) wrong_type(what, key, "a string");
  return t.text;
}

std::int64_t as_int(const Token& t, const char* what, const char* key) {
  if (t.type != Token::Type::number || t.number.kind == Number::Kind::floating) wrong_type(what, key, "an integer");
  if (t.number.kind == Number::Kind::signed_int) return t.number.i;
  if (t.number.u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    wrong_type(what, key, "an integer that fits in 64 signed bits");
  }
  return static_cast<std::int64_t>(t.number.u);
}

std::uint64_t as_unsigned(const Token& t, const char* what, const char* key) {
  if (t.type != Token::Type::number || t.number.kind != Number::Kind::unsigned_int) {
    wrong_type(what, key, "a non-negative integer");
  }
  return t.number.u;
}

double as_number(const Token& t, const char* what, const char* key) {
  if (t.type != Token::Type::number) wrong_type(what, key, "a number");
  switch (t.number.kind) {
    case Number::Kind::unsigned_int: return static_cast<double>(t.number.u);
    case Number::Kind::signed_int: return static_cast<double>(t.number.i) + 0.0;  // -0 is 0
    case Number::Kind::floating: break;
  }
  return t.number.d + 0.0;  // + 0.0 turns -0 into 0 so it encodes as 0
}

std::optional<std::string> opt_string(const Token& t, const char* what, const char* key) {
  if (!present(t)) return std::nullopt;
  return std::string(as_string(t, what, key));
}

std::optional<std::int64_t> opt_int(const Token& t, const char* what, const char* key) {
  if (!present(t)) return std::nullopt;
  return as_int(t, what, key);
}

std::string read_process_id(const Token& t, const char* what) {
  const std::string_view id = as_string(require(t, what, "process_id", "a string"), what, "process_id");
  if (!is_valid_process_id(id)) throw FrameError{invalid_process_id_error(id)};
  return std::string(id);
}

std::string_view type_of(const Token& t) {
  if (t.type != Token::Type::string) fail(ErrorCode::bad_frame, "a frame needs a string `type`");
  return t.text;
}

void unknown_type(std::string_view type, const char* direction) {
  fail(ErrorCode::unknown_type,
       "unknown frame type \"" + first_chars(type, kMaxEchoedLength) + "\" for " + direction);
}

std::size_t char_count(std::string_view text) noexcept {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

}  // namespace progress::frame_fields
