#pragma once
// The one JSON reader of the frame decoders: a single pass over the text that decides every input
// itself (syntax, UTF-8, surrogate escapes, number ranges, nesting depth) without building a tree
// of the frame. Only user JSON (`data`, `result`, `error`) becomes nlohmann Json, built as it is
// read. Private to the core (tests reach it through core/src); codec.hpp is the public face.
#include <cstddef>
#include <cstdint>
#include <forward_list>
#include <string>
#include <string_view>

#include "progress/protocol.hpp"

namespace progress::json_scan {

// A frame nested deeper than this is refused: the encoder walks user JSON recursively, and no frame
// of the protocol needs more than a few levels. The frame's own object is the first level.
inline constexpr int kMaxNestingDepth = 64;

// What a decoder throws to answer a frame with an error; every public entry point catches it.
struct FrameError {
  Error error;
};

[[noreturn]] void fail(ErrorCode code, std::string message);

// Length of the valid UTF-8 sequence at `s[i]` (a byte >= 0x80), or 0 when it is not one
// (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF).
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept;

// A number typed as nlohmann types it, so user JSON and frame fields agree with what it would
// hold: a non-negative integer is unsigned, a negative one signed, and a fraction, an exponent or
// an integer beyond 64 bits is a double.
struct Number {
  enum class Kind : std::uint8_t { unsigned_int, signed_int, floating };
  Kind kind = Kind::unsigned_int;
  std::uint64_t u = 0;
  std::int64_t i = 0;
  double d = 0;
};

// One value of a frame field, as read: strings decoded, numbers typed, objects and arrays checked
// and kept as their text (the decoders read structured fields such as `stages` from it again).
struct Token {
  enum class Type : std::uint8_t { absent, string, number, boolean, null, object, array };
  Type type = Type::absent;
  bool boolean = false;
  Number number;
  std::string_view text;  // a string's decoded value, or an object's or array's span
};

class Scanner {
 public:
  // `producer_rules`: the text comes from a producer, for whom NaN and Infinity (Python's json
  // writes them) are an invalid update naming the field, not a syntax error.
  Scanner(std::string_view text, bool producer_rules) noexcept;

  // Opens the top-level object (after a UTF-8 byte order mark, as nlohmann skips it). False when
  // the whole text is one JSON value of another kind; a syntax error throws.
  bool open_frame();
  // After the frame's closing brace: only whitespace may follow.
  void end_frame();

  // Members of the object just opened: `first` starts true. Returns false at its closing brace.
  // `key` views the text, or `scratch` when the key has escapes.
  bool next_member(bool& first, std::string_view& key, std::string& scratch);
  // Elements of the array just opened, alike.
  bool next_element(bool& first);
  bool open_object();  // false, consuming nothing, when the next value is not an object
  bool open_array();   // alike for an array

  // The next value as a token. A string views the text, or its decoded copy in `decoded` when it
  // has escapes. `key` names the member in messages.
  void read_token(Token& out, std::forward_list<std::string>& decoded, std::string_view key);
  // The next value built as nlohmann Json. `may_grow` is set when a number in it could be longer
  // once dumped (a float): without one, dump() is never longer than the value's text.
  void read_json(Json& out, std::string_view key, bool& may_grow);
  // The next value checked and dropped (a field the frame does not use).
  void skip_value(std::string_view key);

  std::size_t position() const noexcept { return static_cast<std::size_t>(p_ - begin_); }

 private:
  void value(Json* out, std::string_view key, bool& may_grow);
  void skip_ws() noexcept;
  bool eat(char c) noexcept;
  void expect(char c);
  void enter();
  void leave() noexcept { --depth_; }
  void read_string(std::string& out);
  // A string without escapes or control bytes, as a view of the text; false (nothing consumed
  // beyond the quote) when it needs decoding.
  bool plain_string(std::string_view& out) noexcept;
  void read_escape(std::string& out);
  unsigned read_hex4();
  Number read_number();
  // NaN, Infinity or -Infinity where a value starts: refused, as non_finite says.
  void check_finite(std::string_view key) const;
  void read_literal(std::string_view literal);
  [[noreturn]] void syntax_error() const;
  [[noreturn]] void non_finite(std::string_view token, std::string_view key) const;

  const char* begin_;
  const char* p_;
  const char* end_;
  int depth_ = 0;
  bool producer_rules_;
};

}  // namespace progress::json_scan
