#include "progress/epoch.hpp"

namespace progress {
namespace {

std::string to_hex(std::uint64_t value, int digits) {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kDigits[value & 0xF];
    value >>= 4;
  }
  return out;
}

}  // namespace

// splitmix64 (Steele, Lea, Flood 2014): tiny state, good output for non-cryptographic ids.
std::uint64_t EpochSource::next() noexcept {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::string EpochSource::next_epoch() { return to_hex(next() >> 32, 8); }

std::string EpochSource::next_process_id() { return "proc_" + to_hex(next(), 16); }

}  // namespace progress
