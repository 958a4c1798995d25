#include "progress/eta.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace progress {

void EtaEstimator::observe(Millis at, double percent) {
  if (!std::isfinite(percent)) return;
  if (count_ > 0) {
    const Point& last = points_[count_ - 1];
    if (percent <= last.percent) return;
    // A clock that went backwards would make the rate negative: restart the window from here.
    if (at < last.at) count_ = 0;
  }
  if (count_ == kWindow) {
    std::move(points_.begin() + 1, points_.end(), points_.begin());
    --count_;
  }
  points_[count_++] = {at, percent};
}

std::optional<std::int64_t> EtaEstimator::estimate(Millis at) const {
  if (count_ < 2) return std::nullopt;
  const Point& first = points_[0];
  const Point& last = points_[count_ - 1];
  if (last.at <= first.at) return std::nullopt;
  const double rate = (last.percent - first.percent) / static_cast<double>(last.at - first.at);
  if (!(rate > 0)) return std::nullopt;
  const double since = static_cast<double>(std::max<Millis>(0, at - last.at));
  const double left = std::max(0.0, (100.0 - last.percent) / rate - since);
  if (!std::isfinite(left) || left > 9.0e15) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(left));
}

}  // namespace progress
