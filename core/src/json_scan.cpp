// JSON as RFC 8259 and nlohmann define it (the same values, number types and rules: duplicate
// keys keep the last value, a byte order mark is skipped), read in one pass. Recursion is bounded
// by kMaxNestingDepth, checked as each object or array opens.
#include "json_scan.hpp"

#include "progress/codec.hpp"
#include "progress/json_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <system_error>
#include <utility>
#include <version>

namespace progress::json_scan {

void fail(ErrorCode code, std::string message) {
  throw FrameError{Error{code, std::move(message), std::nullopt, std::nullopt}};
}

std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  // The encoder's check (json_writer.hpp), so what one writes the other reads.
  const std::ptrdiff_t length = json_writer::utf8_sequence(s, i);
  return length > 0 ? static_cast<std::size_t>(length) : 0;
}

namespace {

bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
unsigned char byte(char c) noexcept { return static_cast<unsigned char>(c); }
// A byte that a string holds as itself: printable ASCII but the quote and the backslash.
bool plain_byte(char c) noexcept { return byte(c) >= 0x20 && byte(c) < 0x80 && c != '"' && c != '\\'; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
// Whether a number token that a double cannot hold (from_chars' out of range) is too large rather
// than too small: its decimal exponent is positive. Its digits are not all zero, or it would fit.
bool too_large(std::string_view token) noexcept {
  std::size_t i = token.front() == '-' ? 1 : 0;
  std::int64_t magnitude = 0;  // digits before the point, or minus the zeros after it
  if (token[i] != '0') {
    for (; i < token.size() && is_digit(token[i]); ++i) ++magnitude;
  } else {
    ++i;
    if (i < token.size() && token[i] == '.') {
      for (++i; i < token.size() && token[i] == '0'; ++i) --magnitude;
    }
  }
  const std::size_t e = token.find_first_of("eE");
  if (e == std::string_view::npos) return magnitude > 0;
  std::size_t k = e + 1;
  const bool negative = token[k] == '-';
  if (token[k] == '-' || token[k] == '+') ++k;
  std::int64_t exponent = 0;
  for (; k < token.size() && exponent < 100'000; ++k) exponent = exponent * 10 + (token[k] - '0');
  return magnitude + (negative ? -exponent : exponent) > 0;
}
#endif

// The double nlohmann makes of a number token (its strtod, correctly rounded; an underflow is zero
// or subnormal, an overflow infinite). libc++ in the wasm build has no floating-point from_chars;
// there strtod is the module's own (wasm/small_strtod.cpp), given a checked token as it expects.
double to_double(std::string_view token) {
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  double value = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec == std::errc{}) return value;
  const bool negative = token.front() == '-';
  const double magnitude = too_large(token) ? std::numeric_limits<double>::infinity() : 0.0;
  return negative ? -magnitude : magnitude;
#else
  const std::string terminated(token);
  return std::strtod(terminated.c_str(), nullptr);
#endif
}

}  // namespace

Scanner::Scanner(std::string_view text, bool producer_rules) noexcept
    : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), producer_rules_(producer_rules) {}

void Scanner::syntax_error() const {
  fail(ErrorCode::bad_frame, "frame is not valid JSON (syntax error at byte " + std::to_string(position() + 1) + ")");
}

void Scanner::non_finite(std::string_view token, std::string_view key) const {
  if (!producer_rules_) syntax_error();
  const std::string what = key.empty() ? std::string("a number") : "`" + first_chars(key, 64) + "`";
  fail(ErrorCode::invalid_update, what + " is " + std::string(token) +
                                      ": numbers must be finite (JSON has no NaN or Infinity; leave the field out "
                                      "or send null)");
}

void Scanner::skip_ws() noexcept {
  while (p_ != end_ && is_ws(*p_)) ++p_;
}

bool Scanner::eat(char c) noexcept {
  if (p_ == end_ || *p_ != c) return false;
  ++p_;
  return true;
}

void Scanner::expect(char c) {
  if (!eat(c)) syntax_error();
}

void Scanner::enter() {
  if (++depth_ > kMaxNestingDepth) {
    fail(ErrorCode::bad_frame, "frame nests deeper than " + std::to_string(kMaxNestingDepth) + " levels");
  }
}

bool Scanner::open_frame() {
  if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) p_ += 3;
  if (open_object()) return true;
  skip_value({});
  end_frame();
  return false;
}

void Scanner::end_frame() {
  skip_ws();
  if (p_ != end_) syntax_error();
}

bool Scanner::open_object() {
  skip_ws();
  if (p_ == end_ || *p_ != '{') return false;
  ++p_;
  enter();
  return true;
}

bool Scanner::open_array() {
  skip_ws();
  if (p_ == end_ || *p_ != '[') return false;
  ++p_;
  enter();
  return true;
}

bool Scanner::next_member(bool& first, std::string_view& key, std::string& scratch) {
  skip_ws();
  if (eat('}')) {
    leave();
    return false;
  }
  if (!first) {
    expect(',');
    skip_ws();
  }
  first = false;
  expect('"');
  if (!plain_string(key)) {
    scratch.clear();
    read_string(scratch);
    key = scratch;
  }
  skip_ws();
  expect(':');
  return true;
}

bool Scanner::next_element(bool& first) {
  skip_ws();
  if (eat(']')) {
    leave();
    return false;
  }
  if (!first) expect(',');
  first = false;
  return true;
}

bool Scanner::plain_string(std::string_view& out) noexcept {
  const char* start = p_;
  const char* q = p_;
  while (q != end_) {
    if (plain_byte(*q)) {
      ++q;
    } else if (*q == '"') {
      out = std::string_view(start, static_cast<std::size_t>(q - start));
      p_ = q + 1;
      return true;
    } else if (byte(*q) >= 0x80) {
      const std::size_t n = utf8_length(std::string_view(q, static_cast<std::size_t>(end_ - q)), 0);
      if (n == 0) return false;  // read_string reports it where it is
      q += n;
    } else {
      return false;
    }
  }
  return false;
}

void Scanner::read_string(std::string& out) {
  while (true) {
    const char* run = p_;
    while (p_ != end_ && plain_byte(*p_)) ++p_;
    out.append(run, p_);
    if (p_ == end_) syntax_error();
    const unsigned char c = byte(*p_);
    if (c == '"') {
      ++p_;
      return;
    }
    if (c < 0x20) syntax_error();
    if (c == '\\') {
      read_escape(out);
      continue;
    }
    const std::size_t n = utf8_length(std::string_view(p_, static_cast<std::size_t>(end_ - p_)), 0);
    if (n == 0) syntax_error();
    out.append(p_, n);
    p_ += n;
  }
}

unsigned Scanner::read_hex4() {
  unsigned cp = 0;
  for (int i = 0; i < 4; ++i) {
    const int h = p_ == end_ ? -1 : hex_value(*p_);
    if (h < 0) syntax_error();
    cp = cp * 16 + static_cast<unsigned>(h);
    ++p_;
  }
  return cp;
}

void Scanner::read_escape(std::string& out) {
  ++p_;  // the backslash
  if (p_ == end_) syntax_error();
  const char c = *p_;
  switch (c) {
    case '"': out += '"'; break;
    case '\\': out += '\\'; break;
    case '/': out += '/'; break;
    case 'b': out += '\b'; break;
    case 'f': out += '\f'; break;
    case 'n': out += '\n'; break;
    case 'r': out += '\r'; break;
    case 't': out += '\t'; break;
    case 'u': {
      ++p_;
      unsigned cp = read_hex4();
      if (cp >= 0xDC00 && cp <= 0xDFFF) syntax_error();  // a low surrogate without its high half
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (!eat('\\') || !eat('u')) syntax_error();
        const unsigned low = read_hex4();
        if (low < 0xDC00 || low > 0xDFFF) syntax_error();
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      }
      append_utf8(out, cp);
      return;
    }
    default: syntax_error();
  }
  ++p_;
}

void Scanner::read_literal(std::string_view literal) {
  for (char c : literal) {
    if (p_ == end_ || *p_ != c) syntax_error();
    ++p_;
  }
}

Number Scanner::read_number() {
  const char* start = p_;
  const bool negative = eat('-');
  if (eat('0')) {
  } else if (p_ != end_ && is_digit(*p_)) {
    while (p_ != end_ && is_digit(*p_)) ++p_;
  } else {
    syntax_error();
  }
  bool integral = true;
  if (eat('.')) {
    integral = false;
    if (p_ == end_ || !is_digit(*p_)) syntax_error();
    while (p_ != end_ && is_digit(*p_)) ++p_;
  }
  if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
    integral = false;
    ++p_;
    if (!eat('+')) eat('-');
    if (p_ == end_ || !is_digit(*p_)) syntax_error();
    while (p_ != end_ && is_digit(*p_)) ++p_;
  }
  const char* end = p_;
  Number n;
  if (integral) {
    // An integer beyond 64 bits is a double, as nlohmann reads it.
    if (negative) {
      const auto [last, ec] = std::from_chars(start, end, n.i);
      if (ec == std::errc{} && last == end) {
        n.kind = Number::Kind::signed_int;
        return n;
      }
    } else {
      const auto [last, ec] = std::from_chars(start, end, n.u);
      if (ec == std::errc{} && last == end) return n;
    }
  }
  n.kind = Number::Kind::floating;
  n.d = to_double(std::string_view(start, static_cast<std::size_t>(end - start)));
  if (!std::isfinite(n.d)) fail(ErrorCode::bad_frame, "frame holds a number too large for a 64-bit float");
  return n;
}

void Scanner::read_token(Token& out, std::forward_list<std::string>& decoded, std::string_view key) {
  skip_ws();
  if (p_ == end_) syntax_error();
  const char c = *p_;
  if (c == '"') {
    ++p_;
    out.type = Token::Type::string;
    if (!plain_string(out.text)) {
      std::string& text = decoded.emplace_front();
      read_string(text);
      out.text = text;
    }
    return;
  }
  if (c == '{' || c == '[') {
    const char* start = p_;
    skip_value(key);
    out.type = c == '{' ? Token::Type::object : Token::Type::array;
    out.text = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return;
  }
  if (c == 't' || c == 'f') {
    read_literal(c == 't' ? "true" : "false");
    out.type = Token::Type::boolean;
    out.boolean = c == 't';
    return;
  }
  if (c == 'n') {
    read_literal("null");
    out.type = Token::Type::null;
    return;
  }
  check_finite(key);
  out.type = Token::Type::number;
  out.number = read_number();
}

void Scanner::check_finite(std::string_view key) const {
  const std::string_view rest(p_, static_cast<std::size_t>(end_ - p_));
  const std::size_t sign = rest.starts_with('-') ? 1 : 0;
  if (rest.substr(sign).starts_with("Infinity")) non_finite(rest.substr(0, sign + 8), key);
  if (sign == 0 && rest.starts_with("NaN")) non_finite("NaN", key);
}

void Scanner::read_json(Json& out, std::string_view key, bool& may_grow) { value(&out, key, may_grow); }

void Scanner::skip_value(std::string_view key) {
  bool may_grow = false;
  value(nullptr, key, may_grow);
}

// One function for building and for checking alone (`out` null): the wasm module carries one copy.
void Scanner::value(Json* out, std::string_view key, bool& may_grow) {
  skip_ws();
  if (p_ == end_) syntax_error();
  switch (*p_) {
    case '{': {
      open_object();
      if (out != nullptr) *out = Json::object();
      bool first = true;
      std::string_view member;
      std::string scratch;
      while (next_member(first, member, scratch)) {
        value(out != nullptr ? &(*out)[std::string(member)] : nullptr, member, may_grow);
      }
      return;
    }
    case '[': {
      open_array();
      if (out != nullptr) *out = Json::array();
      bool first = true;
      while (next_element(first)) {
        Json* element = nullptr;
        if (out != nullptr) {
          out->push_back(Json());
          element = &out->back();
        }
        value(element, {}, may_grow);
      }
      return;
    }
    case '"': {
      ++p_;
      std::string_view plain;
      if (plain_string(plain)) {
        if (out != nullptr) *out = std::string(plain);
        return;
      }
      std::string text;
      read_string(text);
      if (out != nullptr) *out = std::move(text);
      return;
    }
    case 't':
    case 'f': {
      const bool literal = *p_ == 't';
      read_literal(literal ? "true" : "false");
      if (out != nullptr) *out = literal;
      return;
    }
    case 'n':
      read_literal("null");
      if (out != nullptr) *out = nullptr;
      return;
    default: {
      check_finite(key);
      const Number n = read_number();
      if (n.kind == Number::Kind::floating) may_grow = true;
      if (out == nullptr) return;
      if (n.kind == Number::Kind::unsigned_int) {
        *out = n.u;
      } else if (n.kind == Number::Kind::signed_int) {
        *out = n.i;
      } else {
        *out = n.d;
      }
    }
  }
}

}  // namespace progress::json_scan

namespace progress {

Result<Json> decode_json(std::string_view text) {
  try {
    json_scan::Scanner scanner(text, false);
    Json out;
    bool may_grow = false;
    scanner.read_json(out, {}, may_grow);
    scanner.end_frame();
    return out;
  } catch (const json_scan::FrameError& e) {
    return e.error;
  }
}

}  // namespace progress
