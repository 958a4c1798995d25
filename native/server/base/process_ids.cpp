#include "base/process_ids.hpp"

#include <array>

#include <openssl/rand.h>

namespace progress::server {

std::string random_process_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return {};
  constexpr char kDigits[] = "0123456789abcdef";
  std::string id = "proc_";
  for (const unsigned char byte : bytes) {
    id += kDigits[byte >> 4];
    id += kDigits[byte & 0xF];
  }
  return id;
}

}  // namespace progress::server
