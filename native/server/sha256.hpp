#pragma once
// Incremental SHA-256 (FIPS 180-4): the document job hashes uploads chunk by chunk.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace progress::server {

class sha256 {
 public:
  sha256();
  void update(std::string_view bytes);
  // Hex digest; the object is spent afterwards.
  std::string finish_hex();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

}  // namespace progress::server
