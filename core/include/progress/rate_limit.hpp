#pragma once
// Inbound frame rate per connection: a token bucket (rate per second, burst) plus a grace count,
// so a client that bursts once is told `rate_limited` and keeps its connection, while one that
// stays over the rate is closed. Time is the monotonic clock passed in (time.hpp).
#include <cstddef>
#include <cstdint>

#include "progress/time.hpp"

namespace progress {

class TokenBucket {
 public:
  // Starts full: a new connection may send `burst` frames at once (a page subscribing to many ids).
  TokenBucket(double rate_per_s, double burst, MonoMillis now) noexcept;

  // Takes one token when there is one.
  bool try_take(MonoMillis now) noexcept;
  double tokens(MonoMillis now) const noexcept;

 private:
  double refilled(MonoMillis now) const noexcept;

  double rate_per_ms_;
  double burst_;
  double tokens_;
  MonoMillis updated_at_;
};

enum class RateVerdict { admit, refuse, close };

class FrameRateLimit {
 public:
  // Refusals older than this no longer count towards the close.
  static constexpr Millis kRefusalWindowMs = 1000;

  // `grace`: refusals within kRefusalWindowMs that are still answered with an error; the next
  // one closes. 0 closes at the first refusal.
  FrameRateLimit(double rate_per_s, double burst, std::size_t grace, MonoMillis now) noexcept;

  RateVerdict on_frame(MonoMillis now) noexcept;

 private:
  TokenBucket bucket_;
  std::size_t grace_;
  std::size_t refusals_ = 0;
  MonoMillis window_start_;
};

}  // namespace progress
