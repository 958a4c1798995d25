#include "access/auth_token.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <utility>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "progress/protocol.hpp"

namespace progress::server {
namespace {

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::optional<Json> decode_json_part(std::string_view part) {
  const auto bytes = base64url_decode(part);
  if (!bytes) return std::nullopt;
  Json json = Json::parse(*bytes, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  return json;
}

// What the refusal says about a wrong `alg`: a string is quoted up to a bound, anything else is
// named by its type only. Dumping it would recurse once per nesting level of whatever the token
// sent, and the message needs none of it.
std::string describe_alg(const Json& header) {
  constexpr std::size_t kMaxQuoted = 32;
  const auto alg = header.find("alg");
  if (alg == header.end()) return "none";
  if (alg->is_string()) {
    const auto& text = alg->get_ref<const std::string&>();
    Json shown = text.size() <= kMaxQuoted ? text : text.substr(0, kMaxQuoted) + "...";
    return shown.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  return std::string("a JSON ") + alg->type_name();
}

std::optional<TokenRefusal> refused(RefusalReason reason, std::string message) {
  return TokenRefusal{reason, std::move(message)};
}

// Whether `signature` is the HS256 MAC of `signed_part` under `secret`.
bool signed_by(const std::string& secret, std::string_view signed_part, const std::string& signature) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> expected{};
  unsigned int expected_size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), expected.data(),
           &expected_size) == nullptr) {
    return false;
  }
  // A wrong length is refused without comparing; the length of an HS256 signature is public.
  return signature.size() == expected_size && CRYPTO_memcmp(signature.data(), expected.data(), expected_size) == 0;
}

}  // namespace

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int held = 0;
  for (const char c : text) {
    const int value = base64url_value(c);
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out.push_back(static_cast<char>((bits >> held) & 0xFF));
    }
  }
  // Left-over bits must be zero, so every byte string has exactly one accepted spelling.
  if ((bits & ((1U << held) - 1)) != 0) return std::nullopt;
  return out;
}

token_verifier::token_verifier(std::string secret, std::string previous)
    : secret_(std::move(secret)), previous_(std::move(previous)) {}

std::optional<TokenRefusal> token_verifier::refusal(std::string_view process_id, std::string_view token,
                                                   Millis now) const {
  if (token.empty()) {
    return refused(RefusalReason::missing, "a token is required (?token= or the subscribe frame's token)");
  }
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return refused(RefusalReason::bad_signature, "the token is not a JWT (header.payload.signature)");
  }
  const std::string_view header_part = token.substr(0, first);
  const std::string_view payload_part = token.substr(first + 1, second - first - 1);
  const std::string_view signature_part = token.substr(second + 1);

  const auto header = decode_json_part(header_part);
  if (!header) return refused(RefusalReason::bad_signature, "the token header is not base64url-encoded JSON");
  const auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string() || alg->get<std::string>() != "HS256") {
    return refused(RefusalReason::bad_signature, "the token alg must be HS256, got " + describe_alg(*header));
  }

  const auto signature = base64url_decode(signature_part);
  if (!signature) return refused(RefusalReason::bad_signature, "the token signature is not base64url");
  const std::string_view signed_part = token.substr(0, second);
  if (!signed_by(secret_, signed_part, *signature) &&
      (previous_.empty() || !signed_by(previous_, signed_part, *signature))) {
    return refused(RefusalReason::bad_signature, "the token signature does not match");
  }

  const auto payload = decode_json_part(payload_part);
  if (!payload) {
    return refused(RefusalReason::bad_signature, "the token payload is not base64url-encoded JSON");
  }
  const auto sub = payload->find("sub");
  if (sub == payload->end() || !sub->is_string()) {
    return refused(RefusalReason::bad_signature, "the token has no sub claim");
  }
  if (sub->get<std::string>() != process_id) {
    return refused(RefusalReason::wrong_process, "the token is for another process");
  }
  const auto exp = payload->find("exp");
  if (exp == payload->end() || !exp->is_number()) {
    return refused(RefusalReason::bad_signature, "the token has no numeric exp claim");
  }
  const double exp_seconds = exp->get<double>();
  if (!std::isfinite(exp_seconds) || exp_seconds * 1000.0 <= static_cast<double>(now)) {
    return refused(RefusalReason::expired, "the token has expired");
  }
  // RFC 7519 4.1.5: before `nbf` the token must not be accepted. Optional, but if present a number.
  if (const auto nbf = payload->find("nbf"); nbf != payload->end()) {
    if (!nbf->is_number()) {
      return refused(RefusalReason::bad_signature, "the token's nbf claim is not a number");
    }
    const double nbf_seconds = nbf->get<double>();
    if (!std::isfinite(nbf_seconds) || nbf_seconds * 1000.0 > static_cast<double>(now)) {
      return refused(RefusalReason::expired, "the token is not valid yet (nbf is in the future)");
    }
  }
  return std::nullopt;
}

}  // namespace progress::server
