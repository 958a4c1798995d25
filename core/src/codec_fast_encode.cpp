// The frames every publish produces (one progress event, one ack), written with string appends in
// the exact bytes nlohmann's dump() gives: keys in std::map order, its string escaping with
// ensure_ascii off, integral percents as integers; `data`, `result` and `error` (user JSON) too,
// except their floats, which nlohmann prints in its shortest form.
#include <charconv>
#include <cmath>
#include <cstdint>

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

// `"text"` escaped as nlohmann escapes it; false on invalid UTF-8 (nlohmann replaces it).
bool append_string(std::string& out, std::string_view s) {
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
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    ++i;
  }
  out += '"';
  return true;
}

template <class Int>
void append_int(std::string& out, Int value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;  // 24 bytes hold any 64-bit integer
  out.append(buf, end);
}

// As codec.cpp's number(): integral percents go out as integers, the rest as nlohmann prints doubles.
void append_number(std::string& out, double value) {
  if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < 9007199254740992.0) {
    append_int(out, static_cast<std::int64_t>(value));
  } else {
    out += Json(value).dump();
  }
}

// `j` as dump() writes it. Objects iterate in key order like nlohmann's std::map, so the bytes are
// the same; false where nlohmann would repair a string.
bool append_json(std::string& out, const Json& j) {
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
    case Json::value_t::boolean: out += j.get<bool>() ? "true" : "false"; return true;
    case Json::value_t::null: out += "null"; return true;
    default: out += dump(j); return true;  // floats (nlohmann's shortest form), binary, discarded
  }
}

}  // namespace

std::optional<std::string> encode_progress(const ProgressEvent& p) {
  std::string out;
  // The keys and numbers take about 130 bytes: with the strings and 64 for a small `data`, a typical
  // event is encoded without growing the buffer (each growth is a reallocation and a copy).
  out.reserve(192 + p.message.size() + p.stage.size() + p.process_id.size() + p.epoch.size());
  out += R"({"data":)";
  if (!append_json(out, p.data)) return std::nullopt;
  out += R"(,"epoch":)";
  if (!append_string(out, p.epoch)) return std::nullopt;
  if (p.error) {
    out += R"(,"error":)";
    if (!append_json(out, *p.error)) return std::nullopt;
  }
  out += R"(,"message":)";
  if (!append_string(out, p.message)) return std::nullopt;
  out += R"(,"percent":)";
  append_number(out, p.percent);
  out += R"(,"process_id":)";
  if (!append_string(out, p.process_id)) return std::nullopt;
  if (p.result) {
    out += R"(,"result":)";
    if (!append_json(out, *p.result)) return std::nullopt;
  }
  out += R"(,"seq":)";
  append_int(out, p.seq);
  out += R"(,"stage":)";
  if (!append_string(out, p.stage)) return std::nullopt;
  out += R"(,"state":")";
  out += to_string(p.state);
  out += R"(","ts":)";
  append_int(out, p.ts);
  out += R"(,"type":"progress"})";
  return out;
}

std::optional<std::string> encode_ack(const Ack& a) {
  std::string out;
  out.reserve(48 + a.id.size() + a.process_id.size());
  out += R"({"id":)";
  if (!append_string(out, a.id)) return std::nullopt;
  out += R"(,"process_id":)";
  if (!append_string(out, a.process_id)) return std::nullopt;
  out += R"(,"seq":)";
  append_int(out, a.seq);
  out += R"(,"type":"ack"})";
  return out;
}

}  // namespace progress::codec_fast
