#pragma once

#include <sys/resource.h>
#include <time.h>

#include <cstdint>

namespace progress::bench {

// Monotonic nanoseconds; the publisher stamps `data.bench_t` with it and the subscribers of the
// same process subtract, so latency needs no clock agreement between machines.
inline std::uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000U + static_cast<std::uint64_t>(ts.tv_nsec);
}

// User + system CPU of this process in nanoseconds.
inline std::uint64_t cpu_ns() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& tv) {
    return static_cast<std::uint64_t>(tv.tv_sec) * 1'000'000'000U +
           static_cast<std::uint64_t>(tv.tv_usec) * 1000U;
  };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

}  // namespace progress::bench
