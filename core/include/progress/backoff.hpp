#pragma once
// Reconnect delays: exponential with full jitter drawn after the cap (AWS "Exponential Backoff
// and Jitter"): delay = floor(r * min(max, min * 2^attempt)), r uniform in [0, 1). Spreading
// every delay over the whole window is what keeps a restarted server from being hit by all of
// its clients in the same millisecond.
#include <cstdint>

#include "progress/splitmix.hpp"

namespace progress {

class Backoff {
 public:
  Backoff(std::int64_t min_ms, std::int64_t max_ms, std::uint64_t seed) noexcept;

  // The delay before the next attempt; each call counts one more attempt.
  std::int64_t next_delay() noexcept;
  // The upper bound of the window the next call draws from.
  std::int64_t window() const noexcept;
  void reset() noexcept { attempt_ = 0; }
  std::uint32_t attempt() const noexcept { return attempt_; }

 private:
  std::int64_t min_ms_;
  std::int64_t max_ms_;
  std::uint32_t attempt_ = 0;
  SplitMix64 rng_;
};

}  // namespace progress
