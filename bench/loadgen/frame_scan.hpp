#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

// Field lookups in the server's JSON frames without a parser: the generator must not be the
// bottleneck, and it only needs a handful of top-level scalars whose spelling it controls
// (`"data":{"t":..` is written by the generator's own publisher, passed through unchanged).
namespace progress::bench {

// The unsigned integer after `key` (e.g. `"seq":`), or nullopt.
inline std::optional<std::uint64_t> scan_uint(std::string_view frame, std::string_view key) {
  const auto at = frame.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t i = at + key.size();
  if (i < frame.size() && frame[i] == '"') ++i;  // ids are sent as strings of digits
  std::uint64_t v = 0;
  bool any = false;
  for (; i < frame.size() && frame[i] >= '0' && frame[i] <= '9'; ++i) {
    v = v * 10 + static_cast<std::uint64_t>(frame[i] - '0');
    any = true;
  }
  if (!any) return std::nullopt;
  return v;
}

// The frame's `type` value, e.g. "progress"; empty when absent.
inline std::string_view scan_type(std::string_view frame) {
  constexpr std::string_view key = "\"type\":\"";
  const auto at = frame.find(key);
  if (at == std::string_view::npos) return {};
  const auto start = at + key.size();
  const auto end = frame.find('"', start);
  if (end == std::string_view::npos) return {};
  return frame.substr(start, end - start);
}

inline bool is_terminal(std::string_view frame) {
  return frame.find("\"state\":\"completed\"") != std::string_view::npos ||
         frame.find("\"state\":\"failed\"") != std::string_view::npos ||
         frame.find("\"state\":\"cancelled\"") != std::string_view::npos;
}

}  // namespace progress::bench
