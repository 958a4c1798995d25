// Single-pass decoding of client frames without building a Json tree for the frame itself: the
// publish hot path spent more on nlohmann's tree than on everything else it does per publish.
// The rule that keeps it safe: any doubt is `nullopt`, and the caller asks the full decoder. Only
// `data`, `result` and `error` (arbitrary JSON) are handed to nlohmann, each as its own sub-span.
#include <array>
#include <charconv>
#include <cstdint>
#include <system_error>
#include <utility>

#include "codec_fast.hpp"
#include "progress/codec.hpp"
#include "progress/limits.hpp"

namespace progress::codec_fast {

std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t tail = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    tail = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    tail = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    tail = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() - i <= tail) return 0;
  for (std::size_t k = 1; k <= tail; ++k) {
    const auto t = static_cast<unsigned char>(s[i + k]);
    if (t < (k == 1 ? lo : 0x80) || t > (k == 1 ? hi : 0xBF)) return 0;
  }
  return tail + 1;
}

namespace {

enum class Key : std::uint8_t {
  type, id, process_id, state, stage, percent, message, data, result, error, lease_ms, idempotency_key,
  after_seq, epoch, token, ts, count
};

constexpr std::array<std::string_view, static_cast<std::size_t>(Key::count)> kKeys{
    "type", "id", "process_id", "state", "stage", "percent", "message", "data", "result", "error",
    "lease_ms", "idempotency_key", "after_seq", "epoch", "token", "ts"};

struct Field {
  enum class Kind : std::uint8_t { absent, string, number, json } kind = Kind::absent;
  std::string text;       // string: the decoded value
  std::string_view raw;   // number: the token; json: the value's span, parsed by nlohmann on use
};

using Fields = std::array<Field, static_cast<std::size_t>(Key::count)>;

// Integers of at most this many digits fit int64 whatever their sign: longer ones go the full way.
constexpr std::size_t kMaxPlainDigits = 18;

bool is_ws(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
unsigned char byte(char c) noexcept { return static_cast<unsigned char>(c); }

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
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  // The whole text as one flat object of known keys, each at most once.
  bool read_frame(Fields& fields) {
    skip_ws();
    if (!eat('{')) return false;
    skip_ws();
    if (eat('}')) return finish();
    std::string escaped_key;
    while (true) {
      std::string_view key;
      if (!eat('"') || !read_key(key, escaped_key)) return false;
      Field* field = lookup(fields, key);
      if (field == nullptr || field->kind != Field::Kind::absent) return false;  // unknown or duplicate
      skip_ws();
      if (!eat(':')) return false;
      skip_ws();
      if (!read_value(*field)) return false;
      skip_ws();
      if (eat(',')) {
        skip_ws();
        continue;
      }
      if (eat('}')) return finish();
      return false;
    }
  }

 private:
  bool finish() {
    skip_ws();
    return p_ == end_;
  }

  void skip_ws() {
    while (p_ != end_ && is_ws(*p_)) ++p_;
  }

  bool eat(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  static Field* lookup(Fields& fields, std::string_view key) {
    for (std::size_t i = 0; i < kKeys.size(); ++i) {
      if (kKeys[i] == key) return &fields[i];
    }
    return nullptr;
  }

  bool read_value(Field& field) {
    if (p_ == end_) return false;
    if (*p_ == '"') {
      ++p_;
      field.kind = Field::Kind::string;
      return read_string(field.text);
    }
    if (*p_ == '-' || is_digit(*p_)) {
      field.kind = Field::Kind::number;
      return read_number(field.raw);
    }
    field.kind = Field::Kind::json;
    return skip_json(field.raw);
  }

  // A key without escapes or non-ASCII bytes (every key the protocol has) is a view of the text;
  // any other is decoded into `scratch`.
  bool read_key(std::string_view& key, std::string& scratch) {
    const char* start = p_;
    while (p_ != end_ && byte(*p_) >= 0x20 && byte(*p_) < 0x80 && *p_ != '"' && *p_ != '\\') ++p_;
    if (p_ != end_ && *p_ == '"') {
      key = std::string_view(start, static_cast<std::size_t>(p_ - start));
      ++p_;
      return true;
    }
    scratch.assign(start, p_);
    if (!read_string(scratch)) return false;
    key = scratch;
    return true;
  }

  // After the opening quote. Accepts what nlohmann accepts except surrogate escapes; UTF-8 is
  // checked with the same table (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF).
  bool read_string(std::string& out) {
    while (p_ != end_) {
      const char* run = p_;
      while (p_ != end_ && byte(*p_) >= 0x20 && byte(*p_) < 0x80 && *p_ != '"' && *p_ != '\\') ++p_;
      out.append(run, p_);
      if (p_ == end_) return false;
      const unsigned char c = byte(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (!read_escape(out)) return false;
      } else if (!copy_utf8(out)) {
        return false;
      }
    }
    return false;
  }

  bool read_escape(std::string& out) {
    if (end_ - p_ < 2) return false;
    const char c = p_[1];
    p_ += 2;
    switch (c) {
      case '"': out += '"'; return true;
      case '\\': out += '\\'; return true;
      case '/': out += '/'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'u': break;
      default: return false;
    }
    if (end_ - p_ < 4) return false;
    unsigned cp = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex_value(p_[i]);
      if (h < 0) return false;
      cp = cp * 16 + static_cast<unsigned>(h);
    }
    p_ += 4;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // pairs are rare: the full decoder joins them
    append_utf8(out, cp);
    return true;
  }

  bool copy_utf8(std::string& out) {
    const std::size_t n = utf8_length(std::string_view(p_, static_cast<std::size_t>(end_ - p_)), 0);
    if (n == 0) return false;
    out.append(p_, p_ + n);
    p_ += n;
    return true;
  }

  bool read_scalar(Json& out) {
    if (p_ == end_) return false;
    if (*p_ == '"') {
      ++p_;
      std::string text;
      if (!read_string(text)) return false;
      out = std::move(text);
      return true;
    }
    if (*p_ == '-' || is_digit(*p_)) {
      std::string_view raw;
      if (!read_number(raw) || !plain_integer(raw)) return false;
      if (raw.front() == '-') return parse_int<std::int64_t>(raw, out);
      return parse_int<std::uint64_t>(raw, out);
    }
    for (std::string_view literal : {"true", "false", "null"}) {
      if (static_cast<std::size_t>(end_ - p_) >= literal.size() &&
          std::string_view(p_, literal.size()) == literal) {
        p_ += literal.size();
        out = literal == "null" ? Json(nullptr) : Json(literal == "true");
        return true;
      }
    }
    return false;
  }

  template <class Int>
  static bool parse_int(std::string_view raw, Json& out) {
    Int value = 0;
    auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
    if (ec != std::errc{} || end != raw.data() + raw.size()) return false;
    out = value;
    return true;
  }

  // JSON's number grammar exactly; whether the value is usable is the field's decision.
  bool read_number(std::string_view& raw) {
    const char* start = p_;
    eat('-');
    if (eat('0')) {
    } else if (p_ != end_ && is_digit(*p_)) {
      while (p_ != end_ && is_digit(*p_)) ++p_;
    } else {
      return false;
    }
    if (eat('.')) {
      if (p_ == end_ || !is_digit(*p_)) return false;
      while (p_ != end_ && is_digit(*p_)) ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (!eat('+')) eat('-');
      if (p_ == end_ || !is_digit(*p_)) return false;
      while (p_ != end_ && is_digit(*p_)) ++p_;
    }
    raw = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return plain_integer(raw) || as_double(raw).has_value();  // nlohmann refuses what overflows
  }

  // The extent of one JSON value (object, array, literal). Not validated here: nlohmann parses the
  // span on use, and a span it accepts is a complete value, so it is the extent nlohmann would see.
  bool skip_json(std::string_view& raw) {
    const char* start = p_;
    int depth = 0;
    while (p_ != end_) {
      const char c = *p_;
      if (c == '"') {
        ++p_;
        while (p_ != end_ && *p_ != '"') p_ += (*p_ == '\\' && end_ - p_ > 1) ? 2 : 1;
        if (p_ == end_) return false;
      } else if (c == '{' || c == '[') {
        if (++depth + 1 > kMaxNestingDepth) return false;  // + 1: the frame's own object
      } else if (c == '}' || c == ']') {
        if (depth == 0) break;
        --depth;
      } else if (depth == 0 && (c == ',' || is_ws(c))) {
        break;
      }
      ++p_;
      if (depth == 0 && (c == '}' || c == ']' || c == '"')) break;
    }
    raw = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return !raw.empty();
  }

 public:
  // `{"key": scalar, ...}` (strings, integers of up to 18 digits, true, false, null), built straight
  // into `out` as nlohmann builds it: non-negative integers unsigned, a repeated key's last value
  // wins. False for anything else, and the caller lets nlohmann parse the span.
  bool read_flat_object(Json& out) {
    out = Json::object();
    skip_ws();
    if (!eat('{')) return false;
    skip_ws();
    if (eat('}')) return finish();
    std::string key;
    while (true) {
      key.clear();
      if (!eat('"') || !read_string(key)) return false;
      skip_ws();
      if (!eat(':')) return false;
      skip_ws();
      if (!read_scalar(out[key])) return false;
      skip_ws();
      if (eat(',')) {
        skip_ws();
        continue;
      }
      if (eat('}')) return finish();
      return false;
    }
  }

  static bool plain_integer(std::string_view raw) {
    const std::size_t sign = raw.front() == '-' ? 1 : 0;
    if (raw.size() - sign > kMaxPlainDigits) return false;
    for (std::size_t i = sign; i < raw.size(); ++i) {
      if (!is_digit(raw[i])) return false;  // a fraction or an exponent
    }
    return true;
  }

  // The double nlohmann makes of a number token (a fraction or exponent goes through nlohmann
  // itself: its strtod rounding and overflow rule, and the wasm build's libc++ has no
  // floating-point from_chars).
  static std::optional<double> as_double(std::string_view raw) {
    if (plain_integer(raw)) {
      std::int64_t value = 0;
      auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
      if (ec != std::errc{} || end != raw.data() + raw.size()) return std::nullopt;
      return static_cast<double>(value);
    }
    try {
      const Json number = Json::parse(raw.begin(), raw.end());
      if (!number.is_number()) return std::nullopt;
      return number.get<double>();
    } catch (const Json::exception&) {
      return std::nullopt;
    }
  }

 private:
  const char* p_;
  const char* end_;
};

Field& get(Fields& fields, Key key) { return fields[static_cast<std::size_t>(key)]; }

bool is_string(const Field& f) { return f.kind == Field::Kind::string; }
bool absent(const Field& f) { return f.kind == Field::Kind::absent; }

// An optional string field, moved out of `f`: false when present with another type.
bool read_opt_string(Field& f, std::optional<std::string>& out) {
  if (absent(f)) return true;
  if (!is_string(f)) return false;
  out = std::move(f.text);
  return true;
}

// An optional integer field as nlohmann would hold it: signed, and non-negative when `unsigned_only`.
bool read_opt_int(const Field& f, std::optional<std::int64_t>& out, bool unsigned_only = false) {
  if (absent(f)) return true;
  if (f.kind != Field::Kind::number || !Scanner::plain_integer(f.raw)) return false;
  if (unsigned_only && f.raw.front() == '-') return false;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(f.raw.data(), f.raw.data() + f.raw.size(), value);
  if (ec != std::errc{} || end != f.raw.data() + f.raw.size()) return false;
  out = value;
  return true;
}

// `flat` is set when the value was a flat object: its serialized size is then at most the span's,
// since such values only lose bytes when dumped (whitespace, escapes like \u00e9 or \/, a repeated
// key, -0), which spares validate() a dump to measure `data`.
bool read_opt_json(const Field& f, std::optional<Json>& out, bool* flat = nullptr) {
  if (absent(f)) return true;
  if (f.kind == Field::Kind::string) {
    out = Json(f.text);
    return true;
  }
  if (f.kind == Field::Kind::json && f.raw.front() == '{') {
    Json object;
    if (Scanner(f.raw).read_flat_object(object)) {
      out = std::move(object);
      if (flat != nullptr) *flat = true;
      return true;
    }
  }
  try {
    out = Json::parse(f.raw.begin(), f.raw.end());
  } catch (const Json::exception&) {
    return false;
  }
  return true;
}

// Moved out of `f`. A publish's id is checked by validate() with the rest of the update.
bool read_process_id(Field& f, std::string& out, bool checked_later = false) {
  if (!is_string(f) || (!checked_later && !is_valid_process_id(f.text))) return false;
  out = std::move(f.text);
  return true;
}

std::size_t char_count(std::string_view text) noexcept {
  std::size_t n = 0;
  for (char c : text) n += (byte(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// `data`, `result` and `error`, parsed once whether or not the frame's type uses them.
struct Values {
  std::optional<Json> data, result, error;
  bool flat_data = false;
};

// A JSON null, which in a publish means absent: left to the full decoder, which says so.
bool is_null(const Field& f) { return f.kind == Field::Kind::json && f.raw == "null"; }

std::optional<ClientFrame> build_publish(Fields& f, Values&& values) {
  // Fields of other frames are unknown to a publish, which refuses them; nulls are the full way too.
  for (Key other : {Key::after_seq, Key::epoch, Key::token, Key::ts}) {
    if (!absent(get(f, other))) return std::nullopt;
  }
  for (Key user_json : {Key::data, Key::result, Key::error}) {
    if (is_null(get(f, user_json))) return std::nullopt;
  }
  Publish p;
  if (!read_opt_string(get(f, Key::id), p.id) || !read_process_id(get(f, Key::process_id), p.process_id, true) ||
      !read_opt_string(get(f, Key::idempotency_key), p.idempotency_key)) {
    return std::nullopt;
  }
  if (const Field& state = get(f, Key::state); !absent(state)) {
    if (!is_string(state)) return std::nullopt;
    p.state = state_from_string(state.text);
    if (!p.state) return std::nullopt;
  }
  if (!read_opt_string(get(f, Key::stage), p.stage) || !read_opt_string(get(f, Key::message), p.message) ||
      !read_opt_int(get(f, Key::lease_ms), p.lease_ms)) {
    return std::nullopt;
  }
  if (const Field& percent = get(f, Key::percent); !absent(percent)) {
    if (percent.kind != Field::Kind::number) return std::nullopt;
    auto value = Scanner::as_double(percent.raw);
    if (!value) return std::nullopt;
    p.percent = *value + 0.0;  // -0 is 0, as in the full decoder
  }
  p.data = std::move(values.data);
  p.result = std::move(values.result);
  p.error = std::move(values.error);
  const bool data_fits = values.flat_data && get(f, Key::data).raw.size() <= limits::kMaxDataBytes;
  if (data_fits ? validate_fitting_data(p) : validate(p)) return std::nullopt;
  return ClientFrame{std::move(p)};
}

std::optional<ClientFrame> build_subscribe(Fields& f) {
  Subscribe s;
  std::optional<std::int64_t> after_seq;
  if (!read_process_id(get(f, Key::process_id), s.process_id) ||
      !read_opt_int(get(f, Key::after_seq), after_seq, true) ||
      !read_opt_string(get(f, Key::epoch), s.epoch) || !read_opt_string(get(f, Key::token), s.token)) {
    return std::nullopt;
  }
  if (s.epoch && char_count(*s.epoch) > limits::kMaxEpochLength) return std::nullopt;
  if (after_seq) s.after_seq = static_cast<Seq>(*after_seq);
  return ClientFrame{std::move(s)};
}

}  // namespace

std::optional<ClientFrame> decode_client_frame(std::string_view text) {
  Fields f;
  if (!Scanner(text).read_frame(f)) return std::nullopt;
  // Objects, arrays and literals are only understood where user JSON goes; elsewhere they are a
  // wrong type or an ignored value that nlohmann still has to vouch for.
  for (std::size_t i = 0; i < f.size(); ++i) {
    const auto key = static_cast<Key>(i);
    const bool user_json = key == Key::data || key == Key::result || key == Key::error;
    if (f[i].kind == Field::Kind::json && !user_json) return std::nullopt;
  }
  // Parsed even when the type does not use them: the full decoder refuses the frame if they are bad.
  Values values;
  if (!read_opt_json(get(f, Key::data), values.data, &values.flat_data) ||
      !read_opt_json(get(f, Key::result), values.result) ||
      !read_opt_json(get(f, Key::error), values.error)) {
    return std::nullopt;
  }
  const Field& type = get(f, Key::type);
  if (!is_string(type)) return std::nullopt;
  if (type.text == "publish") return build_publish(f, std::move(values));
  if (type.text == "subscribe") return build_subscribe(f);
  if (type.text == "unsubscribe") {
    Unsubscribe u;
    if (!read_process_id(get(f, Key::process_id), u.process_id)) return std::nullopt;
    return ClientFrame{std::move(u)};
  }
  if (type.text == "ping" || type.text == "pong") {
    std::optional<std::int64_t> ts;
    if (!read_opt_int(get(f, Key::ts), ts)) return std::nullopt;
    if (type.text == "ping") return ClientFrame{Ping{ts}};
    return ClientFrame{Pong{ts}};
  }
  return std::nullopt;
}

}  // namespace progress::codec_fast
