#pragma once
// Time enters the core only as values passed in by the caller; nothing here reads a clock.
//
// Two clocks, two types, so that the compiler keeps them apart:
// - `MonoMillis`, the driver's monotonic clock, steady_clock or performance.now(): every countdown
//   inside one process (heartbeats, stale sockets, pending subscriptions, lease and retention
//   countdowns, rate buckets, backoff). Only differences mean something; it is never stored or sent.
// - wall `Millis`, milliseconds since the Unix epoch (system_clock, Date.now()): what is stored,
//   shared across nodes or signed (`updated_at`, stage times, deadlines kept on disk or in Redis,
//   JWT `exp`). An NTP step moves it; no countdown runs on it.
#include <compare>
#include <cstdint>

namespace progress {

// A duration, or a wall-clock instant in milliseconds since the Unix epoch.
using Millis = std::int64_t;

class MonoMillis {
 public:
  constexpr MonoMillis() noexcept = default;
  constexpr explicit MonoMillis(std::int64_t ms) noexcept : ms_(ms) {}
  constexpr std::int64_t count() const noexcept { return ms_; }

  friend constexpr MonoMillis operator+(MonoMillis at, Millis duration) noexcept {
    return MonoMillis(at.ms_ + duration);
  }
  friend constexpr MonoMillis operator-(MonoMillis at, Millis duration) noexcept {
    return MonoMillis(at.ms_ - duration);
  }
  friend constexpr Millis operator-(MonoMillis a, MonoMillis b) noexcept { return a.ms_ - b.ms_; }
  friend constexpr auto operator<=>(MonoMillis, MonoMillis) noexcept = default;

 private:
  std::int64_t ms_ = 0;
};

// Both clocks read once by the driver for one input.
struct Now {
  MonoMillis mono;
  Millis wall = 0;

  constexpr Now() noexcept = default;
  constexpr Now(MonoMillis mono_now, Millis wall_now) noexcept : mono(mono_now), wall(wall_now) {}
  // One number read as both clocks: a test or a vector script, where time is what the script
  // says. Named, never implicit, so that a wall Millis cannot pass for a monotonic time.
  static constexpr Now scripted(Millis both) noexcept { return Now{MonoMillis(both), both}; }

  // The wall time `mono_at` corresponds to now, and back: how a countdown is stored and restored.
  constexpr Millis wall_at(MonoMillis mono_at) const noexcept { return wall + (mono_at - mono); }
  constexpr MonoMillis mono_at(Millis wall_at) const noexcept { return mono + (wall_at - wall); }
};

}  // namespace progress
