#pragma once
// Time-to-completion from the observed progress rate. Observations are (server time, percent);
// server timestamps rather than arrival times, so a burst of replayed events after a reconnect
// still yields the rate at which the job really advanced.
#include <cstddef>
#include <cstdint>
#include <array>
#include <optional>

#include "progress/time.hpp"

namespace progress {

class EtaEstimator {
 public:
  // The rate is taken over the newest kWindow rising observations: long enough to smooth jitter
  // between updates, short enough to follow a job whose stages run at different speeds.
  static constexpr std::size_t kWindow = 8;

  // Only a rise in percent is an observation; a repeat (stage change, message only) says nothing
  // about the rate.
  void observe(Millis at, double percent);
  void reset() { count_ = 0; }
  // Milliseconds left as of `at` (the time of the latest update, which need not be a rise: time
  // spent without progress counts against the estimate); nullopt until two rising observations
  // with distinct times exist.
  std::optional<std::int64_t> estimate(Millis at) const;

 private:
  struct Point {
    Millis at;
    double percent;
  };
  // The newest kWindow observations, oldest first: a plain array shifted on overflow (a deque
  // cost the browser's module a kilobyte for eight entries).
  std::array<Point, kWindow> points_{};
  std::size_t count_ = 0;
};

}  // namespace progress
