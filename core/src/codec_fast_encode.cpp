// The frames every publish produces (one progress event, one ack), written with string appends in
// the exact bytes nlohmann's dump() gives: keys in std::map order, its string escaping with
// ensure_ascii off, integral percents as integers; `data`, `result` and `error` (user JSON) too,
// except their floats, which nlohmann prints in its shortest form.
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "codec_fast.hpp"

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

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// The stack buffer of one encode: an event with a small `data` takes about 200 bytes.
constexpr std::size_t kStackFrameBytes = 1024;

// A fixed buffer on the stack: appends are an inline bounds check and a memcpy, where std::string's
// are an out-of-line call each (about 60 instructions, a few dozen of them per event). A frame that
// does not fit marks the buffer full and is written again into a std::string.
template <std::size_t Capacity>
class FixedOut {
 public:
  void append(const char* data, std::size_t n) {
    if (n > Capacity - size_) {
      full_ = true;
      return;
    }
    std::memcpy(buffer_.data() + size_, data, n);
    size_ += n;
  }
  template <std::size_t N>
  FixedOut& operator+=(const char (&literal)[N]) {
    append(literal, N - 1);
    return *this;
  }
  FixedOut& operator+=(char c) {
    append(&c, 1);
    return *this;
  }
  FixedOut& operator+=(std::string_view s) {
    append(s.data(), s.size());
    return *this;
  }
  bool full() const noexcept { return full_; }
  std::string str() const { return std::string(buffer_.data(), size_); }

 private:
  std::array<char, Capacity> buffer_;
  std::size_t size_ = 0;
  bool full_ = false;
};

// The same appends onto a std::string, for frames too large for the buffer.
class StringOut {
 public:
  explicit StringOut(std::size_t reserve) { text_.reserve(reserve); }
  void append(const char* data, std::size_t n) { text_.append(data, n); }
  StringOut& operator+=(std::string_view s) {
    text_.append(s);
    return *this;
  }
  StringOut& operator+=(char c) {
    text_ += c;
    return *this;
  }
  bool full() const noexcept { return false; }
  std::string str() { return std::move(text_); }

 private:
  std::string text_;
};

// `"text"` escaped as nlohmann escapes it; false on invalid UTF-8 (nlohmann replaces it).
template <class Out>
bool append_string(Out& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t run = i;
    while (i < s.size()) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++i;
    }
    out.append(s.data() + run, i - run);
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_length(s, i);
      if (n == 0) return false;
      out.append(s.data() + i, n);
      i += n;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default: {
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escaped, sizeof escaped);
      }
    }
    ++i;
  }
  out += '"';
  return true;
}

template <class Out, class Int>
void append_int(Out& out, Int value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;  // 24 bytes hold any 64-bit integer
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// As codec.cpp's number(): integral percents go out as integers, the rest as nlohmann prints doubles.
template <class Out>
void append_number(Out& out, double value) {
  if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < 9007199254740992.0) {
    append_int(out, static_cast<std::int64_t>(value));
  } else {
    out += std::string_view(Json(value).dump());
  }
}

// `j` as dump() writes it. Objects iterate in key order like nlohmann's std::map, so the bytes are
// the same; false where nlohmann would repair a string.
template <class Out>
bool append_json(Out& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out += ',';
        first = false;
        if (!append_string(out, it.key())) return false;
        out += ':';
        if (!append_json(out, it.value())) return false;
      }
      out += '}';
      return true;
    }
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const Json& item : j) {
        if (!first) out += ',';
        first = false;
        if (!append_json(out, item)) return false;
      }
      out += ']';
      return true;
    }
    case Json::value_t::string: return append_string(out, j.get_ref<const std::string&>());
    case Json::value_t::number_integer: append_int(out, j.get<std::int64_t>()); return true;
    case Json::value_t::number_unsigned: append_int(out, j.get<std::uint64_t>()); return true;
    case Json::value_t::boolean: out += std::string_view(j.get<bool>() ? "true" : "false"); return true;
    case Json::value_t::null: out += "null"; return true;
    default: out += std::string_view(dump(j)); return true;  // floats (nlohmann's shortest form), binary
  }
}

template <class Out>
bool write_progress(Out& out, const ProgressEvent& p) {
  out += R"({"data":)";
  if (!append_json(out, plain(p.data))) return false;
  out += R"(,"epoch":)";
  if (!append_string(out, p.epoch)) return false;
  if (p.error) {
    out += R"(,"error":)";
    if (!append_json(out, *p.error)) return false;
  }
  out += R"(,"message":)";
  if (!append_string(out, plain(p.message))) return false;
  out += R"(,"percent":)";
  append_number(out, p.percent);
  out += R"(,"process_id":)";
  if (!append_string(out, p.process_id)) return false;
  if (p.result) {
    out += R"(,"result":)";
    if (!append_json(out, *p.result)) return false;
  }
  out += R"(,"seq":)";
  append_int(out, p.seq);
  out += R"(,"stage":)";
  if (!append_string(out, p.stage)) return false;
  out += R"(,"state":")";
  out += to_string(p.state);
  out += R"(","ts":)";
  append_int(out, p.ts);
  out += R"(,"type":"progress"})";
  return true;
}

template <class Out>
bool write_ack(Out& out, const Ack& a) {
  out += R"({"id":)";
  if (!append_string(out, a.id)) return false;
  out += R"(,"process_id":)";
  if (!append_string(out, a.process_id)) return false;
  out += R"(,"seq":)";
  append_int(out, a.seq);
  out += R"(,"type":"ack"})";
  return true;
}

// Most frames fit the stack buffer; the rest (large `data`, `result` or `error`) are written again
// into a string.
template <class Frame, class Write>
std::optional<std::string> encode_with(const Frame& frame, Write write, std::size_t reserve) {
  FixedOut<kStackFrameBytes> fixed;
  if (!write(fixed, frame)) return std::nullopt;
  if (!fixed.full()) return fixed.str();
  StringOut text(reserve);
  if (!write(text, frame)) return std::nullopt;
  return text.str();
}

}  // namespace

std::optional<std::string> encode_progress(const ProgressEvent& p) {
  return encode_with(p, [](auto& out, const ProgressEvent& e) { return write_progress(out, e); },
                     kStackFrameBytes * 2);
}

std::optional<std::string> encode_ack(const Ack& a) {
  return encode_with(a, [](auto& out, const Ack& ack) { return write_ack(out, ack); }, 64 + a.id.size());
}

}  // namespace progress::codec_fast
