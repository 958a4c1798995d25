#pragma once
// Record epochs and generated process ids from a seeded splitmix64 stream: deterministic for a
// given Hub seed, so vectors can bind them, yet distinct per record creation.
#include <cstdint>
#include <string>

namespace progress {

class EpochSource {
 public:
  explicit EpochSource(std::uint64_t seed) noexcept : state_(seed) {}
  std::string next_epoch();       // 8 lowercase hex chars
  std::string next_process_id();  // "proc_" + 16 lowercase hex chars

 private:
  std::uint64_t next() noexcept;
  std::uint64_t state_;
};

}  // namespace progress
