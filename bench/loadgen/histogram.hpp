#pragma once

#include <array>
#include <bit>
#include <cstdint>

// Log-linear latency histogram over microseconds: 64 linear sub-buckets per power of two, so a
// quantile is within ~1.6% of the recorded value. Fixed storage: recording never allocates.
namespace progress::bench {

class histogram {
 public:
  void record(std::uint64_t micros) {
    ++counts_[index_of(micros)];
    ++total_;
    if (micros > max_) max_ = micros;
  }

  [[nodiscard]] std::uint64_t total() const { return total_; }
  [[nodiscard]] std::uint64_t max() const { return max_; }

  // Upper edge of the bucket holding quantile q (0..1); 0 when empty.
  [[nodiscard]] std::uint64_t quantile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_));
    if (rank >= total_) rank = total_ - 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen > rank) return upper_of(i);
    }
    return max_;
  }

 private:
  static constexpr std::size_t sub_bits = 6;
  static constexpr std::size_t sub = std::size_t{1} << sub_bits;

  static std::size_t index_of(std::uint64_t v) {
    if (v < sub) return static_cast<std::size_t>(v);
    const auto top = static_cast<std::size_t>(std::bit_width(v)) - 1;  // >= sub_bits
    const auto shift = top - sub_bits;
    const auto mantissa = static_cast<std::size_t>(v >> shift) - sub;
    return sub + shift * sub + mantissa;
  }

  static std::uint64_t upper_of(std::size_t i) {
    if (i < sub) return i;
    const auto shift = (i - sub) / sub;
    const auto mantissa = (i - sub) % sub;
    return ((std::uint64_t{sub + mantissa + 1}) << shift) - 1;
  }

  std::array<std::uint64_t, sub + 64 * sub> counts_{};
  std::uint64_t total_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace progress::bench
