#pragma once
// Subscription tokens: HS256 JWTs (RFC 7519) whose `sub` is the process id and whose `exp` (Unix
// seconds) is in the future, so any backend can mint one with a standard JWT library. Only HS256
// is accepted: `alg: none` and every other algorithm are refused before anything else is read.
#include <optional>
#include <string>
#include <string_view>

#include "progress/protocol.hpp"
#include "progress/time.hpp"

namespace progress::server {

// RFC 4648 section 5 without padding, as JWTs use it; nullopt on any other character, a '=', an
// impossible length or non-zero trailing bits.
std::optional<std::string> base64url_decode(std::string_view text);

class token_verifier {
 public:
  // `previous`, when not empty, signs valid tokens too: the secret a rotation is retiring.
  explicit token_verifier(std::string secret, std::string previous = {});

  // Why `token` does not grant `process_id` at `now` (ms since the Unix epoch); nullopt: it does.
  // `expired` also covers a token not valid yet (`nbf`); a token that is not an HS256 JWT with
  // `sub` and a numeric `exp`, signed with this secret, is `bad_signature`.
  std::optional<TokenRefusal> refusal(std::string_view process_id, std::string_view token, Millis now) const;

 private:
  std::string secret_;
  std::string previous_;
};

}  // namespace progress::server
