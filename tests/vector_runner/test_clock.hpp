#pragma once
// Time in the core's tests and runners: a script has one clock, so one number is read as both
// (Now::scripted), said at every call site; `mono` names a monotonic instant to compare with.
#include <optional>
#include <ostream>

#include "progress/time.hpp"

namespace progress {

inline Now at(Millis ms) { return Now::scripted(ms); }
inline MonoMillis mono(Millis ms) { return MonoMillis(ms); }
// A script's timer, back in its one clock.
inline std::optional<Millis> in_ms(std::optional<MonoMillis> time) {
  return time ? std::optional<Millis>(time->count()) : std::nullopt;
}

// gtest prints a MonoMillis in a failure message as its milliseconds.
inline void PrintTo(MonoMillis time, std::ostream* os) { *os << time.count() << " ms (monotonic)"; }

}  // namespace progress
