#include "access/auth_secret.hpp"

#include <array>
#include <cctype>

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace progress::server {
namespace {

using digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

digest sha256_of(std::string_view text) {
  digest out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool same_secret(std::string_view expected, std::string_view presented) {
  const digest a = sha256_of(expected);
  const digest b = sha256_of(presented);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string_view> bearer_credentials(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || !iequals(authorization.substr(0, kScheme.size()), kScheme) ||
      authorization[kScheme.size()] != ' ') {
    return std::nullopt;
  }
  std::string_view value = authorization.substr(kScheme.size() + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  return value;
}

}  // namespace progress::server
