#pragma once
// splitmix64 (Steele, Lea, Flood 2014) as a value type: the client session draws its backoff
// jitter from it, so a seed in ClientConfig makes every delay reproducible in tests and vectors.
#include <cstdint>

namespace progress {

class SplitMix64 {
 public:
  explicit constexpr SplitMix64(std::uint64_t seed) noexcept : state_(seed) {}

  constexpr std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, 1): the top 53 bits fill a double's mantissa exactly, so 1.0 is unreachable.
  constexpr double next_unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

}  // namespace progress
