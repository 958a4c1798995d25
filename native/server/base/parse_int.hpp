#pragma once
// Whole-string integer parsing within bounds, for flags and URLs: "12x", "", "-1" for an unsigned and
// values outside [min, max] are all refusals, never a partial read.
#include <charconv>
#include <string_view>
#include <system_error>

namespace progress::server {

template <class Int>
bool parse_int(std::string_view text, Int min, Int max, Int& out) {
  Int value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) return false;
  out = value;
  return true;
}

}  // namespace progress::server
