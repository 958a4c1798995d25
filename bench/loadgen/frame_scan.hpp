#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

// Field lookups in the server's JSON frames without a parser: the generator must not be the
// bottleneck, and it only needs a handful of scalars whose spelling it controls
// (`"data":{"bench_t":..` is written by the generator's own publisher, passed through unchanged).
// One pass over the frame from string to string finds them all, whatever order the server writes
// its keys in (the hub sorts them, the peers do not); a separate search per key cost several
// passes, each stopping at every quote.
namespace progress::bench {

struct frame_fields {
  std::string_view type;        // e.g. "progress"; empty when absent
  std::string_view state;       // empty when absent
  std::string_view process_id;  // empty when absent
  std::optional<std::uint64_t> seq;
  std::optional<std::uint64_t> bench_t;
};

namespace detail {

// The unsigned integer at `at` (a string of digits is read too: ids are sent as strings).
inline std::optional<std::uint64_t> digits_at(std::string_view frame, std::size_t at) {
  std::size_t i = at;
  if (i < frame.size() && frame[i] == '"') ++i;
  std::uint64_t v = 0;
  bool any = false;
  for (; i < frame.size() && frame[i] >= '0' && frame[i] <= '9'; ++i) {
    v = v * 10 + static_cast<std::uint64_t>(frame[i] - '0');
    any = true;
  }
  if (!any) return std::nullopt;
  return v;
}

// The string value at `at` (just past `"key":`), without its quotes; empty when it is no string.
inline std::string_view string_at(std::string_view frame, std::size_t at) {
  if (at >= frame.size() || frame[at] != '"') return {};
  const auto end = frame.find('"', at + 1);
  if (end == std::string_view::npos) return {};
  return frame.substr(at + 1, end - at - 1);
}

// Index of the first '"' at or after `from`, or npos: eight bytes per step (the classic "has a zero
// byte" test on the bytes xor '"'), since frames are mostly short strings and a memchr call per
// string cost more than the bytes it skipped.
inline std::size_t find_quote(std::string_view frame, std::size_t from) {
  static_assert(std::endian::native == std::endian::little, "the lowest set bit must be the first byte");
  constexpr std::uint64_t ones = 0x0101010101010101U;
  constexpr std::uint64_t highs = 0x8080808080808080U;
  constexpr std::uint64_t quotes = ones * static_cast<unsigned char>('"');
  std::size_t i = from;
  for (; i + 8 <= frame.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, frame.data() + i, sizeof word);
    const std::uint64_t x = word ^ quotes;
    // Exact for the lowest zero byte; only bytes above it can be false hits.
    const std::uint64_t hit = (x - ones) & ~x & highs;
    if (hit != 0) return i + static_cast<std::size_t>(std::countr_zero(hit) / 8);
  }
  for (; i < frame.size(); ++i) {
    if (frame[i] == '"') return i;
  }
  return std::string_view::npos;
}

// Index of the quote closing the string that opens at `open`, or npos. Escaped quotes (`\"`, in
// error messages) do not close it.
inline std::size_t string_end(std::string_view frame, std::size_t open) {
  std::size_t from = open + 1;
  for (;;) {
    const auto at = find_quote(frame, from);
    if (at == std::string_view::npos) return at;
    std::size_t backslashes = 0;
    while (at - backslashes > open + 1 && frame[at - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return at;
    from = at + 1;
  }
}

}  // namespace detail

// Every field the generator looks at, in one pass. The first occurrence of a key wins.
inline frame_fields scan_fields(std::string_view frame) {
  frame_fields f;
  std::size_t i = 0;
  while (i < frame.size()) {
    const auto open = detail::find_quote(frame, i);
    if (open == std::string_view::npos) break;
    const auto close = detail::string_end(frame, open);
    if (close == std::string_view::npos) break;
    const std::string_view name = frame.substr(open + 1, close - open - 1);
    i = close + 1;
    if (i >= frame.size() || frame[i] != ':') continue;  // a value, not a key
    const std::size_t value = i + 1;
    if (name == "type") {
      if (f.type.empty()) f.type = detail::string_at(frame, value);
    } else if (name == "seq") {
      if (!f.seq) f.seq = detail::digits_at(frame, value);
    } else if (name == "state") {
      if (f.state.empty()) f.state = detail::string_at(frame, value);
    } else if (name == "process_id") {
      if (f.process_id.empty()) f.process_id = detail::string_at(frame, value);
    } else if (name == "bench_t") {
      if (!f.bench_t) f.bench_t = detail::digits_at(frame, value);
    }
  }
  return f;
}

inline bool is_terminal_state(std::string_view state) {
  return state == "completed" || state == "failed" || state == "cancelled";
}

}  // namespace progress::bench
