#include "progress/eta.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace progress {

void EtaEstimator::observe(Millis at, double percent) {
  if (!std::isfinite(percent)) return;
  if (!points_.empty()) {
    const Point& last = points_.back();
    if (percent <= last.percent) return;
    // A clock that went backwards would make the rate negative: restart the window from here.
    if (at < last.at) points_.clear();
  }
  points_.push_back({at, percent});
  if (points_.size() > kWindow) points_.pop_front();
}

std::optional<std::int64_t> EtaEstimator::estimate(Millis at) const {
  if (points_.size() < 2) return std::nullopt;
  const Point& first = points_.front();
  const Point& last = points_.back();
  if (last.at <= first.at) return std::nullopt;
  const double rate = (last.percent - first.percent) / static_cast<double>(last.at - first.at);
  if (!(rate > 0)) return std::nullopt;
  const double since = static_cast<double>(std::max<Millis>(0, at - last.at));
  const double left = std::max(0.0, (100.0 - last.percent) / rate - since);
  if (!std::isfinite(left) || left > 9.0e15) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(left));
}

}  // namespace progress
