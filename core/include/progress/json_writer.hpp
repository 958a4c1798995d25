#pragma once
// JSON text written with appends, no Json tree in between: the frames' encoder (codec_encode.cpp)
// and the client's values for its hosts (client_json.cpp) share it. The bytes are those of
// nlohmann's dump(): ensure_ascii off, invalid UTF-8 replaced by U+FFFD, floats in its shortest
// round-trip form. A writer is anything with append(data, n) and += for a string_view, a C
// string and a char: std::string, or the encoder's stack buffer.
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "progress/protocol.hpp"

namespace progress::json_writer {

// How many bytes at `s[i]` (>= 0x80) form one valid UTF-8 sequence (RFC 3629), returned as a
// positive length; when they do not, minus the bytes nlohmann's replacement drops before reading
// on: the lead and the continuation bytes that fitted, or everything left at the end of the text.
inline std::ptrdiff_t utf8_sequence(std::string_view s, std::size_t i) noexcept {
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
    return -1;
  }
  std::size_t k = 1;
  for (; k <= tail && i + k < s.size(); ++k) {
    const auto t = static_cast<unsigned char>(s[i + k]);
    if (t < (k == 1 ? lo : 0x80) || t > (k == 1 ? hi : 0xBF)) return -static_cast<std::ptrdiff_t>(k);
  }
  if (k <= tail) return -static_cast<std::ptrdiff_t>(s.size() - i);  // cut short by the end
  return static_cast<std::ptrdiff_t>(tail + 1);
}

template <class Out>
void append_string(Out& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  static constexpr char kReplacement[] = "\xEF\xBF\xBD";
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
      const std::ptrdiff_t n = utf8_sequence(s, i);
      if (n > 0) {
        out.append(s.data() + i, static_cast<std::size_t>(n));
      } else {
        out.append(kReplacement, 3);
      }
      i += static_cast<std::size_t>(n > 0 ? n : -n);
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
}

template <class Out, class Int>
void append_int(Out& out, Int value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;  // 24 bytes hold any 64-bit integer
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// A float in nlohmann's shortest round-trip form ("1.5", "100.0", "1e+300"); JSON has no NaN.
template <class Out>
void append_float(Out& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buf[64];
  const char* end = nlohmann::detail::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// Integral percents go out as integers ("percent":50): what producers send and browsers show.
template <class Out>
void append_number(Out& out, double value) {
  if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < 9007199254740992.0) {
    append_int(out, static_cast<std::int64_t>(value));
  } else {
    append_float(out, value);
  }
}

// User JSON, as dump() writes it: nlohmann's objects iterate in key order.
template <class Out>
void append_json(Out& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) out += ',';
        first = false;
        append_string(out, it.key());
        out += ':';
        append_json(out, it.value());
      }
      out += '}';
      return;
    }
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const Json& item : j) {
        if (!first) out += ',';
        first = false;
        append_json(out, item);
      }
      out += ']';
      return;
    }
    case Json::value_t::string: append_string(out, j.get_ref<const std::string&>()); return;
    case Json::value_t::number_integer: append_int(out, j.get<std::int64_t>()); return;
    case Json::value_t::number_unsigned: append_int(out, j.get<std::uint64_t>()); return;
    case Json::value_t::number_float: append_float(out, j.get<double>()); return;
    case Json::value_t::boolean: out += j.get<bool>() ? "true" : "false"; return;
    case Json::value_t::null:
    case Json::value_t::discarded: out += "null"; return;
    case Json::value_t::binary: {  // never parsed from JSON text; written as dump() would
      const auto& bytes = j.get_binary();
      out += "{\"bytes\":[";
      for (std::size_t k = 0; k < bytes.size(); ++k) {
        if (k != 0) out += ',';
        append_int(out, bytes[k]);
      }
      out += "],\"subtype\":";
      if (bytes.has_subtype()) {
        append_int(out, bytes.subtype());
      } else {
        out += "null";
      }
      out += '}';
      return;
    }
  }
}

// Writes `"key":` with the comma before it when the object has a field already; `key` needs no
// escaping (every key is a literal of ours).
template <class Out>
class ObjectWriter {
 public:
  explicit ObjectWriter(Out& out) : out_(out) { out_ += '{'; }
  Out& key(std::string_view name) {
    out_ += first_ ? "\"" : ",\"";
    first_ = false;
    out_ += name;
    out_ += "\":";
    return out_;
  }
  void string(std::string_view name, std::string_view value) { append_string(key(name), value); }
  template <class Int>
  void integer(std::string_view name, Int value) {
    append_int(key(name), value);
  }
  void json(std::string_view name, const Json& value) { append_json(key(name), value); }
  void close() { out_ += '}'; }

 private:
  Out& out_;
  bool first_ = true;
};

}  // namespace progress::json_writer
