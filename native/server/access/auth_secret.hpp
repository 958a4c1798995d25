#pragma once
// Secrets presented by clients: the bearer value of an Authorization header and a comparison
// with the configured secret that takes the same time whatever the value (SHA-256 of both
// sides compared with CRYPTO_memcmp, so neither the content nor the length leaks).
#include <optional>
#include <string_view>

namespace progress::server {

bool same_secret(std::string_view expected, std::string_view presented);

// The credentials of `Authorization: Bearer <value>` (scheme case-insensitive); nullopt otherwise.
std::optional<std::string_view> bearer_credentials(std::string_view authorization);

}  // namespace progress::server
