#include "progress/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace progress {

Backoff::Backoff(std::int64_t min_ms, std::int64_t max_ms, std::uint64_t seed) noexcept
    : min_ms_(std::max<std::int64_t>(min_ms, 0)), max_ms_(std::max(max_ms, min_ms_)), rng_(seed) {}

std::int64_t Backoff::window() const noexcept {
  // Doubling stops at the cap, so a long outage cannot overflow the shift.
  std::int64_t window = min_ms_;
  for (std::uint32_t i = 0; i < attempt_ && window > 0 && window < max_ms_; ++i) window *= 2;
  return std::min(window, max_ms_);
}

std::int64_t Backoff::next_delay() noexcept {
  const double r = rng_.next_unit();
  const auto delay = static_cast<std::int64_t>(std::floor(r * static_cast<double>(window())));
  if (attempt_ < UINT32_MAX) ++attempt_;
  return delay;
}

}  // namespace progress
