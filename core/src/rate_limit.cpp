#include "progress/rate_limit.hpp"

#include <algorithm>

namespace progress {

TokenBucket::TokenBucket(double rate_per_s, double burst, MonoMillis now) noexcept
    : rate_per_ms_(rate_per_s / 1000.0), burst_(std::max(burst, 1.0)), tokens_(burst_), updated_at_(now) {}

double TokenBucket::refilled(MonoMillis now) const noexcept {
  const Millis elapsed = std::max<Millis>(now - updated_at_, 0);
  return std::min(burst_, tokens_ + static_cast<double>(elapsed) * rate_per_ms_);
}

double TokenBucket::tokens(MonoMillis now) const noexcept { return refilled(now); }

bool TokenBucket::try_take(MonoMillis now) noexcept {
  tokens_ = refilled(now);
  updated_at_ = std::max(updated_at_, now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

FrameRateLimit::FrameRateLimit(double rate_per_s, double burst, std::size_t grace, MonoMillis now) noexcept
    : bucket_(rate_per_s, burst, now), grace_(grace) {}

RateVerdict FrameRateLimit::on_frame(MonoMillis now) noexcept {
  if (bucket_.try_take(now)) return RateVerdict::admit;
  if (refusals_ == 0 || now - window_start_ >= kRefusalWindowMs) {
    refusals_ = 0;
    window_start_ = now;
  }
  ++refusals_;
  return refusals_ > grace_ ? RateVerdict::close : RateVerdict::refuse;
}

}  // namespace progress
