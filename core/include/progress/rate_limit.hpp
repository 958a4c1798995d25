#pragma once
// Inbound frame rate per connection: a token bucket (rate per second, burst) plus a grace count,
// so a client that bursts once is told `rate_limited` and keeps its connection, while one that
// stays over the rate is closed. Time is passed in; a clock that goes backwards refills nothing.
#include <cstddef>
#include <cstdint>

#include "progress/time.hpp"

namespace progress {

class TokenBucket {
 public:
  // Starts full: a new connection may send `burst` frames at once (a page subscribing to many ids).
  TokenBucket(double rate_per_s, double burst, Millis now) noexcept;

  // Takes one token when there is one.
  bool try_take(Millis now) noexcept;
  double tokens(Millis now) const noexcept;

 private:
  double refilled(Millis now) const noexcept;

  double rate_per_ms_;
  double burst_;
  double tokens_;
  Millis updated_at_;
};

enum class RateVerdict { admit, refuse, close };

class FrameRateLimit {
 public:
  // Refusals older than this no longer count towards the close.
  static constexpr Millis kRefusalWindowMs = 1000;

  // `grace`: refusals within kRefusalWindowMs that are still answered with an error; the next
  // one closes. 0 closes at the first refusal.
  FrameRateLimit(double rate_per_s, double burst, std::size_t grace, Millis now) noexcept;

  RateVerdict on_frame(Millis now) noexcept;

 private:
  TokenBucket bucket_;
  std::size_t grace_;
  std::size_t refusals_ = 0;
  Millis window_start_ = 0;
};

}  // namespace progress
